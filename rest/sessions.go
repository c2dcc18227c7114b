package rest

import (
	"net/http"
	"strings"

	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/session"
	"github.com/leadron/leadron/internal/viewer"
)

// loginPerAccount bounds sign-in attempts per email, whoever makes them, so
// a password cannot be guessed from many IPs.
var loginPerAccount = ratelimit.Limit{PerMinute: 10, Burst: 5}

// tokenPair is a session's tokens as the API shows them.
type tokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"`
	TokenType    string `json:"tokenType"`
}

func pair(t session.Tokens) tokenPair {
	return tokenPair{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresIn: int(t.ExpiresIn.Seconds()), TokenType: "Bearer"}
}

// login is POST /auth/login. Attempts are limited per client IP and per
// account before the password is checked; a wrong password and an unknown
// email look the same.
func (a *api) login(w http.ResponseWriter, r *http.Request) {
	o, err := readObject(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	defer o.release()
	o.only("email", "password")
	email := notNull(o, "email", member[string](o, "email", "a string"))
	pw := notNull(o, "password", member[string](o, "password", "a string"))
	o.require("email", "password")
	if err := o.err(); err != nil {
		fail(w, r, err)
		return
	}
	ip := a.gate.auth.clientIP(r)
	ipRes, admitted := a.gate.take(w, r, ratelimit.Key{Kind: "login:ip", Name: ip}, a.gate.limits.AuthFailure)
	if !admitted {
		return
	}
	// The sign-in bucket is the tighter one: its headers replace the IP's.
	ratelimit.WriteHeaders(w.Header(), ipRes)
	if _, ok := a.gate.take(w, r, ratelimit.Key{Kind: "login:account", Name: strings.ToLower(strings.TrimSpace(email.V))}, loginPerAccount); !ok {
		return
	}
	t, err := a.sessions.Login(r.Context(), email.V, pw.V)
	if err != nil {
		fail(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, pair(t))
}

// refresh is POST /auth/refresh: a spent token for a new pair.
func (a *api) refresh(w http.ResponseWriter, r *http.Request) {
	token, err := a.readRefreshToken(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	ipRes, admitted := a.gate.take(w, r, ratelimit.Key{Kind: "login:ip", Name: a.gate.auth.clientIP(r)}, a.gate.limits.AuthFailure)
	if !admitted {
		return
	}
	ratelimit.WriteHeaders(w.Header(), ipRes)
	t, err := a.sessions.Refresh(r.Context(), token)
	if err != nil {
		fail(w, r, err)
		return
	}
	ok(w, r, http.StatusOK, pair(t))
}

// logout is POST /auth/logout: it ends the signed-in user's session.
func (a *api) logout(w http.ResponseWriter, r *http.Request) {
	token, err := a.readRefreshToken(r)
	if err != nil {
		fail(w, r, err)
		return
	}
	if err := a.sessions.Logout(r.Context(), viewer.FromContext(r.Context()).UserID, token); err != nil {
		fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) readRefreshToken(r *http.Request) (string, error) {
	o, err := readObject(r)
	if err != nil {
		return "", err
	}
	defer o.release()
	o.only("refreshToken")
	t := notNull(o, "refreshToken", member[string](o, "refreshToken", "a string"))
	o.require("refreshToken")
	if err := o.err(); err != nil {
		return "", err
	}
	return t.V, nil
}

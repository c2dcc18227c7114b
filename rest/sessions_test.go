package rest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/session"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/rest"
)

func login(t *testing.T, w *world, email, pw string) apitest.Response {
	t.Helper()
	return w.Do(t, apitest.Request{Method: "POST", Path: "/v1/auth/login",
		Body: fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)})
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func TestLoginRefreshLogout(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		res := login(t, w, "owner@acme.test", testutil.Password)
		if res.Status != 200 {
			t.Fatalf("login: %d %s", res.Status, res.Body)
		}
		d := res.Data(t)
		access, refresh := d["accessToken"].(string), d["refreshToken"].(string)
		if d["expiresIn"] != 900.0 || d["tokenType"] != "Bearer" {
			t.Errorf("token pair: %v", d)
		}
		// The token names its user and tenant by their public IDs only.
		var claims jwt.MapClaims
		if _, _, err := jwt.NewParser().ParseUnverified(access, &claims); err != nil {
			t.Fatal(err)
		}
		if claims["sub"] != w.Codec.Encode(w.acme.OwnerID) || claims["tid"] != w.Codec.Encode(w.acme.ID) {
			t.Errorf("sub, tid = %v, %v; want the public IDs %s, %s", claims["sub"], claims["tid"], w.Codec.Encode(w.acme.OwnerID), w.Codec.Encode(w.acme.ID))
		}
		refreshReq := func(tok string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/auth/refresh", Body: fmt.Sprintf(`{"refreshToken":%q}`, tok)}
		}
		invalid := []string{`"code":"invalid_credentials"`}
		w.Run(t, []apitest.Scenario{
			{Name: "the access token works on REST", Request: apitest.Request{Method: "GET", Path: "/v1/leads", Headers: bearer(access)}, Status: 200,
				Contains: []string{"mine@acme.test"}, NotContains: []string{"sandbox@acme.test"}},
			{Name: "the sandbox via X-Leadron-Environment", Request: apitest.Request{Method: "GET", Path: "/v1/leads",
				Headers: map[string]string{"Authorization": "Bearer " + access, "X-Leadron-Environment": "sandbox"}}, Status: 200,
				Contains: []string{"sandbox@acme.test"}, NotContains: []string{"mine@acme.test"}},
			{Name: "a bad environment", Request: apitest.Request{Method: "GET", Path: "/v1/leads",
				Headers: map[string]string{"Authorization": "Bearer " + access, "X-Leadron-Environment": "prod"}}, Status: 422,
				Check: hasFields("X-Leadron-Environment")},
			{Name: "writes are audited as the user", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Headers: bearer(access),
				Body: `{"email":"jwt@acme.test","firstName":"J","lastName":"W"}`}, Status: 201},
			{Name: "garbage", Request: refreshReq("nope"), Status: 401, Contains: invalid},
			{Name: "missing token", Request: apitest.Request{Method: "POST", Path: "/v1/auth/refresh", Body: `{}`}, Status: 422, Check: hasFields("refreshToken")},
		})
		// Rotation: each token works once; replaying a spent one revokes
		// the whole family, even its newest token.
		res = w.Do(t, refreshReq(refresh))
		if res.Status != 200 {
			t.Fatalf("refresh: %d %s", res.Status, res.Body)
		}
		second := res.Data(t)["refreshToken"].(string)
		if second == refresh {
			t.Error("the refresh token was not rotated")
		}
		res = w.Do(t, refreshReq(second))
		if res.Status != 200 {
			t.Fatalf("refreshing the new token: %d %s", res.Status, res.Body)
		}
		third := res.Data(t)["refreshToken"].(string)
		w.Run(t, []apitest.Scenario{
			{Name: "reusing a spent token is refused", Request: refreshReq(refresh), Status: 401, Contains: invalid},
			{Name: "and revokes the family, even the newest token", Request: refreshReq(third), Status: 401, Contains: invalid},
		})
		// Logout ends a fresh session.
		d = login(t, w, "owner@acme.test", testutil.Password).Data(t)
		access, refresh = d["accessToken"].(string), d["refreshToken"].(string)
		memberTokens := login(t, w, "member@acme.test", testutil.Password).Data(t)
		w.Run(t, []apitest.Scenario{
			{Name: "another user cannot end the session", Request: apitest.Request{Method: "POST", Path: "/v1/auth/logout",
				Headers: bearer(memberTokens["accessToken"].(string)), Body: fmt.Sprintf(`{"refreshToken":%q}`, refresh)}, Status: 401},
			{Name: "logout", Request: apitest.Request{Method: "POST", Path: "/v1/auth/logout", Headers: bearer(access),
				Body: fmt.Sprintf(`{"refreshToken":%q}`, refresh)}, Status: 204},
			{Name: "the refresh token is dead", Request: refreshReq(refresh), Status: 401, Contains: invalid},
		})
		ev := db.Client.AuditEvent.Query().Where().AllX(w.acme.System(live))
		found := false
		for _, e := range ev {
			if e.Changes["email"].New == "jwt@acme.test" {
				found = e.ActorID != nil && *e.ActorID == w.acme.OwnerID && e.APIKeyID == nil
			}
		}
		if !found {
			t.Error("the JWT write was not audited as the owner without a key")
		}
	})
}

func TestLoginFailures(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		var bodies []string
		collect := func(t *testing.T, res apitest.Response) { bodies = append(bodies, withoutMeta(t, res)) }
		post := func(b string) apitest.Request {
			return apitest.Request{Method: "POST", Path: "/v1/auth/login", Body: b}
		}
		w.Run(t, []apitest.Scenario{
			{Name: "wrong password", Request: post(`{"email":"owner@acme.test","password":"wrong password!"}`), Status: 401,
				Contains: []string{`"code":"invalid_credentials"`}, Check: collect},
			{Name: "unknown email", Request: post(`{"email":"nobody@acme.test","password":"wrong password!"}`), Status: 401, Check: collect},
			{Name: "missing fields", Request: post(`{}`), Status: 422, Check: hasFields("email", "password")},
			{Name: "unknown field", Request: post(`{"email":"a@b.c","password":"x","tenant":"acme"}`), Status: 422, Check: hasFields("tenant")},
		})
		if bodies[0] != bodies[1] {
			t.Errorf("unknown email and wrong password differ:\n%s\n%s", bodies[0], bodies[1])
		}
		// Guessing one account's password runs into its limit, whatever the
		// passwords tried.
		var last apitest.Response
		for i := range 6 {
			last = w.Do(t, post(fmt.Sprintf(`{"email":"member@acme.test","password":"guess number %d"}`, i)))
		}
		if last.Status != 429 || last.Header.Get("Retry-After") == "" {
			t.Errorf("6th guess: %d, want 429", last.Status)
		}
	})
}

// Forged and stale tokens all get the same 401.
func TestJWTAttacks(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		// More attacks than the failed-auth burst allows.
		w := newWorld(t, db, func(d *server.Deps) {
			d.RateLimits = rest.RateLimits{IP: rest.DefaultRateLimits.IP, AuthFailure: ratelimit.Limit{PerMinute: 600, Burst: 100}}
		})
		now := time.Now()
		claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
			c := jwt.MapClaims{"sub": w.Codec.Encode(w.acme.OwnerID), "tid": w.Codec.Encode(w.acme.ID), "tv": 1,
				"iss": session.Issuer, "aud": session.Audience, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
			if edit != nil {
				edit(c)
			}
			return c
		}
		hs := func(c jwt.MapClaims, secret string) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		good := hs(claims(nil), apitest.TestJWTSecret)
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		rs, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(nil)).SignedString(rsaKey)
		pub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
		pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
		seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		none := seg(`{"alg":"none","typ":"JWT"}`) + "." + strings.Split(good, ".")[1] + "."
		noneSigned := seg(`{"alg":"none","typ":"JWT"}`) + "." + strings.Split(good, ".")[1] + ".c2ln"
		parts := strings.Split(good, ".")
		sig := []byte(parts[2])
		sig[5] ^= 1
		tampered := parts[0] + "." + parts[1] + "." + string(sig)

		var bodies []string
		collect := func(t *testing.T, res apitest.Response) { bodies = append(bodies, withoutMeta(t, res)) }
		attacks := map[string]string{
			"alg none":              none,
			"alg none with a sig":   noneSigned,
			"RS256":                 rs,
			"HS256 keyed with RSA":  hs(claims(nil), pubPEM),
			"expired":               hs(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), apitest.TestJWTSecret),
			"not yet valid":         hs(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), apitest.TestJWTSecret),
			"wrong audience":        hs(claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), apitest.TestJWTSecret),
			"wrong issuer":          hs(claims(func(c jwt.MapClaims) { c["iss"] = "evil" }), apitest.TestJWTSecret),
			"bad signature":         tampered,
			"another secret":        hs(claims(nil), "another-secret-that-is-32-bytes-long!!"),
			"another tenant's user": hs(claims(func(c jwt.MapClaims) { c["sub"] = w.Codec.Encode(w.globex.OwnerID) }), apitest.TestJWTSecret),
			"another tenant's tid":  hs(claims(func(c jwt.MapClaims) { c["tid"] = w.Codec.Encode(w.globex.ID) }), apitest.TestJWTSecret),
			"row numbers for IDs": hs(claims(func(c jwt.MapClaims) {
				c["sub"], c["tid"] = fmt.Sprint(w.acme.OwnerID), w.acme.ID
			}), apitest.TestJWTSecret),
			"a lead's ID as sub":  hs(claims(func(c jwt.MapClaims) { c["sub"] = w.mine }), apitest.TestJWTSecret),
			"stale token version": hs(claims(func(c jwt.MapClaims) { c["tv"] = 0 }), apitest.TestJWTSecret),
		}
		var scenarios []apitest.Scenario
		for name, tok := range attacks {
			scenarios = append(scenarios, apitest.Scenario{Name: name, Request: apitest.Request{Method: "GET", Path: "/v1/leads", Headers: bearer(tok)},
				Status: 401, Contains: []string{`"code":"invalid_api_key"`}, Check: collect})
		}
		scenarios = append(scenarios, apitest.Scenario{Name: "the untampered token works",
			Request: apitest.Request{Method: "GET", Path: "/v1/leads", Headers: bearer(good)}, Status: 200})
		w.Run(t, scenarios)
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("401 bodies differ:\n%s\n%s", bodies[0], b)
			}
		}
		// A password or role change ends the sessions from before it.
		ctx := w.acme.System(live)
		for name, change := range map[string]func(u *ent.UserUpdateOne){
			"password": func(u *ent.UserUpdateOne) { u.SetPasswordHash("$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA") },
			"role":     func(u *ent.UserUpdateOne) { u.SetRole("viewer") },
		} {
			email := name + "@acme.test"
			w.User(t, w.acme, email, "member")
			fresh := login(t, w, email, testutil.Password).Data(t)["accessToken"].(string)
			u := db.Client.User.Query().Where(user.Email(email)).OnlyX(ctx)
			if err := store.InTx(ctx, db.Client, func(c *ent.Client) error {
				up := c.User.UpdateOne(u)
				change(up)
				return up.Exec(ctx)
			}); err != nil {
				t.Fatal(err)
			}
			if res := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads", Headers: bearer(fresh)}); res.Status != 401 {
				t.Errorf("token from before the %s change: %d, want 401", name, res.Status)
			}
		}
	})
}

// A viewer signed in has the viewer role's rights.
func TestJWTUsesTheRole(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		tok := login(t, w, "viewer@acme.test", testutil.Password).Data(t)["accessToken"].(string)
		w.Run(t, []apitest.Scenario{
			{Name: "read", Request: apitest.Request{Method: "GET", Path: "/v1/leads", Headers: bearer(tok)}, Status: 200},
			{Name: "write", Request: apitest.Request{Method: "POST", Path: "/v1/leads", Headers: bearer(tok), Body: `{"email":"v@acme.test","firstName":"V","lastName":"W"}`},
				Status: 403, Contains: []string{"leads:write"}},
		})
	})
}

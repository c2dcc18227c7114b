// Package session signs dashboard users in and out: password login, short
// JWT access tokens, and single-use refresh tokens with reuse detection.
// Presenting a spent refresh token revokes its whole family, since it means
// the token was stolen or replayed.
package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/refreshtoken"
	"github.com/leadron/leadron/ent/user"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/jwtauth"
	"github.com/leadron/leadron/internal/password"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/viewer"
)

// The JWT issuer and audience of dashboard access tokens.
const (
	Issuer   = "leadron"
	Audience = "leadron-dashboard"
)

// RefreshTTL is how long a refresh token lives if unused.
const RefreshTTL = 30 * 24 * time.Hour

// Tokens are what a login or refresh returns.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

// Service issues and checks sessions.
type Service struct {
	client *ent.Client
	issuer *jwtauth.Issuer
	// dummyHash is verified against when the email is unknown, so a login
	// takes as long whether or not the account exists.
	dummyHash string
}

// New returns a Service signing with issuer.
func New(client *ent.Client, issuer *jwtauth.Issuer) (*Service, error) {
	dummy, err := password.Hash(rand.Text())
	if err != nil {
		return nil, err
	}
	return &Service{client: client, issuer: issuer, dummyHash: dummy}, nil
}

// Issuer is the JWT issuer, for verifying access tokens.
func (s *Service) Issuer() *jwtauth.Issuer { return s.issuer }

func invalidCredentials() *apperr.Error {
	return apperr.New(apperr.InvalidCredentials, "Invalid email or password")
}

func invalidRefresh() *apperr.Error {
	return apperr.New(apperr.InvalidCredentials, "Invalid or expired refresh token")
}

// Login checks the password and starts a session. Unknown emails and wrong
// passwords get the same error after the same work.
func (s *Service) Login(ctx context.Context, email, pw string) (Tokens, error) {
	pctx := viewer.NewContext(ctx, viewer.Platform())
	u, err := s.client.User.Query().Where(user.Email(strings.ToLower(strings.TrimSpace(email)))).Only(pctx)
	if err != nil && !ent.IsNotFound(err) {
		return Tokens{}, err
	}
	hash := s.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	if perr := password.Verify(pw, hash); perr != nil || u == nil {
		return Tokens{}, invalidCredentials()
	}
	return s.start(ctx, s.client, u, newFamily())
}

// start issues an access token and a refresh token in family.
func (s *Service) start(ctx context.Context, client *ent.Client, u *ent.User, family string) (Tokens, error) {
	access, expiresIn, err := s.issuer.Issue(u.ID, u.TenantID, u.TokenVersion)
	if err != nil {
		return Tokens{}, err
	}
	plain, hash, err := jwtauth.NewRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	sctx := viewer.NewContext(ctx, viewer.System(u.TenantID, viewer.Live))
	err = client.RefreshToken.Create().SetUserID(u.ID).SetFamily(family).SetTokenHash(hash).
		SetExpiresAt(time.Now().Add(RefreshTTL).UTC()).Exec(sctx)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, RefreshToken: plain, ExpiresIn: expiresIn}, nil
}

// Refresh spends a refresh token for a new pair. A spent, revoked or
// expired token is refused; a spent one also revokes its family.
func (s *Service) Refresh(ctx context.Context, plain string) (Tokens, error) {
	rt, err := s.lookup(ctx, plain)
	if err != nil {
		return Tokens{}, err
	}
	sctx := viewer.NewContext(ctx, viewer.System(rt.TenantID, viewer.Live))
	now := time.Now()
	switch {
	case rt.UsedAt != nil:
		if err := s.revokeFamily(sctx, rt.Family); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, invalidRefresh()
	case rt.RevokedAt != nil, !now.Before(rt.ExpiresAt):
		return Tokens{}, invalidRefresh()
	}
	var tokens Tokens
	err = store.InTx(sctx, s.client, func(c *ent.Client) error {
		// Only one of two concurrent refreshes with the same token wins.
		n, err := c.RefreshToken.Update().
			Where(refreshtoken.ID(rt.ID), refreshtoken.UsedAtIsNil()).
			SetUsedAt(now.UTC()).Save(sctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return invalidRefresh()
		}
		u, err := c.User.Get(sctx, rt.UserID)
		if err != nil {
			return err
		}
		tokens, err = s.start(ctx, c, u, rt.Family)
		return err
	})
	return tokens, err
}

// Logout revokes the session the refresh token belongs to. userID must own
// it: nobody can end another user's session.
func (s *Service) Logout(ctx context.Context, userID int, plain string) error {
	rt, err := s.lookup(ctx, plain)
	if err != nil {
		return err
	}
	if rt.UserID != userID {
		return invalidRefresh()
	}
	return s.revokeFamily(viewer.NewContext(ctx, viewer.System(rt.TenantID, viewer.Live)), rt.Family)
}

func (s *Service) lookup(ctx context.Context, plain string) (*ent.RefreshToken, error) {
	if plain == "" || len(plain) > 200 {
		return nil, invalidRefresh()
	}
	pctx := viewer.NewContext(ctx, viewer.Platform())
	rt, err := s.client.RefreshToken.Query().Where(refreshtoken.TokenHash(jwtauth.HashRefreshToken(plain))).Only(pctx)
	if ent.IsNotFound(err) {
		return nil, invalidRefresh()
	}
	return rt, err
}

func (s *Service) revokeFamily(ctx context.Context, family string) error {
	return s.client.RefreshToken.Update().
		Where(refreshtoken.Family(family), refreshtoken.RevokedAtIsNil()).
		SetRevokedAt(time.Now().UTC()).Exec(ctx)
}

func newFamily() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secretSetting holds the development JWT secret, generated on first start.
const secretSetting = "jwt.secret"

// Secret returns the JWT signing secret: from LEADRON_JWT_SECRET, from the
// file LEADRON_JWT_SECRET_FILE names, or in development one generated and
// kept in the database so sessions survive restarts. Production requires
// one of the first two (config.Load enforces it).
func Secret(ctx context.Context, client *ent.Client, fromEnv, file string, production bool) ([]byte, error) {
	switch {
	case fromEnv != "":
		if len(fromEnv) < 32 {
			return nil, errors.New("LEADRON_JWT_SECRET must be at least 32 characters")
		}
		return []byte(fromEnv), nil
	case file != "":
		b, err := jwtauth.LoadSecret(file)
		if err != nil {
			return nil, fmt.Errorf("LEADRON_JWT_SECRET_FILE: %w", err)
		}
		return b, nil
	case production:
		return nil, errors.New("LEADRON_JWT_SECRET or LEADRON_JWT_SECRET_FILE is required when LEADRON_ENV=production")
	}
	v, err := store.DeploymentSetting(ctx, client, secretSetting, func() (string, error) {
		b := make([]byte, 48)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return base64.RawStdEncoding.EncodeToString(b), nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading the development JWT secret: %w", err)
	}
	return []byte(v), nil
}

// UserCache remembers signed-in users briefly, so a JWT request costs no
// extra query; a password or role change reaches every instance within
// UserCacheTTL.
type UserCache struct {
	client *ent.Client
	users  *expirable.LRU[int, *ent.User]
}

// UserCacheTTL bounds how long a changed role or password takes to apply to
// outstanding tokens.
const UserCacheTTL = 5 * time.Second

// NewUserCache returns an empty cache.
func NewUserCache(client *ent.Client) *UserCache {
	return &UserCache{client: client, users: expirable.NewLRU[int, *ent.User](10_000, nil, UserCacheTTL)}
}

// Get returns the user with its tenant loaded.
func (c *UserCache) Get(ctx context.Context, id int) (*ent.User, error) {
	if u, ok := c.users.Get(id); ok {
		return u, nil
	}
	u, err := c.client.User.Query().Where(user.ID(id)).WithTenant().Only(viewer.NewContext(ctx, viewer.Platform()))
	if err != nil {
		return nil, err
	}
	c.users.Add(id, u)
	return u, nil
}

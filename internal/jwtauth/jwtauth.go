// Package jwtauth issues and verifies the short-lived HS256 access tokens that
// dashboard users present as "Authorization: Bearer <jwt>", and generates and
// hashes the opaque refresh tokens that are exchanged for new access tokens.
// Storing and rotating refresh tokens is the caller's job.
//
// A token names its user and tenant by their public IDs (internal/ids), the
// same strings the APIs show, so a decoded token leaks no row numbers.
//
// Nothing here logs: tokens and secrets are credentials, and errors returned
// by Verify describe why a token failed without repeating the token.
package jwtauth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadron/leadron/internal/ids"
)

// The tables whose public IDs the sub and tid claims carry.
const (
	usersTable   = "users"
	tenantsTable = "tenants"
)

// minSecretLen is the shortest HMAC key accepted: HS256 is only as strong as
// its key, and RFC 7518 §3.2 asks for at least the hash size (256 bits).
const minSecretLen = 32

const (
	defaultTTL    = 15 * time.Minute
	defaultLeeway = 30 * time.Second

	// maxTokenLen bounds the work Verify does for unauthenticated input. Our
	// tokens are about 300 bytes; anything this long is not one of them.
	maxTokenLen = 4096

	// refreshTokenBytes gives refresh tokens 256 random bits, so a fast hash
	// (SHA-256) is enough to store them.
	refreshTokenBytes = 32
)

// ErrInvalidToken is returned, possibly wrapped with the reason, for every
// verification failure. Callers answer 401 without telling the client why.
var ErrInvalidToken = errors.New("invalid token")

// Claims are what an access token asserts.
type Claims struct {
	UserID   int // "sub", as the user's public ID
	TenantID int // "tid", as the tenant's public ID
	// TokenVersion ("tv") is bumped on password or role change, so older
	// tokens stop working; the caller compares it to the user's current one.
	TokenVersion int
	ExpiresAt    time.Time
}

// Config configures an Issuer.
type Config struct {
	Secret   []byte           // HMAC key, at least 32 bytes
	IDs      *ids.Codec       // encodes sub and tid as public IDs
	Issuer   string           // "iss", e.g. "leadron"
	Audience string           // "aud", e.g. "leadron-dashboard"
	TTL      time.Duration    // access token lifetime, whole seconds; 15m when zero
	Leeway   time.Duration    // clock skew allowed on exp, nbf and iat; 30s when zero
	Now      func() time.Time // for tests; time.Now when nil
}

// Issuer issues and verifies access tokens. It is safe for concurrent use.
type Issuer struct {
	secret   []byte
	issuer   string
	audience string
	ids      *ids.Codec
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
}

// tokenClaims is the wire form of an access token's payload. tv is a pointer
// so that a missing claim can be told apart from zero. ids is set before
// parsing, so that Validate can decode sub and tid into userID and tenantID.
type tokenClaims struct {
	jwt.RegisteredClaims
	TenantID     string `json:"tid,omitempty"`
	TokenVersion *int   `json:"tv,omitempty"`

	ids      *ids.Codec
	userID   int
	tenantID int
}

// Validate is called by the jwt parser after the registered claims have been
// checked; it covers the claims the library knows nothing about. DecodeAs
// accepts only the canonical ID of a row of the named table, so one user has
// exactly one valid "sub" spelling and a lead's ID cannot pose as a user's.
func (c *tokenClaims) Validate() error {
	var err error
	if c.userID, err = c.ids.DecodeAs(c.Subject, usersTable); err != nil {
		return errors.New("missing or invalid sub")
	}
	// The library checks iat when present but cannot require it; we always
	// set it, so a token without it was not made by us.
	if c.IssuedAt == nil {
		return errors.New("missing iat")
	}
	if c.tenantID, err = c.ids.DecodeAs(c.TenantID, tenantsTable); err != nil {
		return errors.New("missing or invalid tid")
	}
	if c.TokenVersion == nil || *c.TokenVersion < 0 {
		return errors.New("missing or invalid tv")
	}
	return nil
}

// New returns an Issuer for cfg, filling in defaults.
func New(cfg Config) (*Issuer, error) {
	if len(cfg.Secret) < minSecretLen {
		return nil, fmt.Errorf("jwtauth: secret is %d bytes, need at least %d", len(cfg.Secret), minSecretLen)
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("jwtauth: issuer and audience are required")
	}
	if cfg.IDs == nil {
		return nil, errors.New("jwtauth: an ID codec is required")
	}
	if cfg.TTL == 0 {
		cfg.TTL = defaultTTL
	}
	// exp is stored in whole seconds; a fractional TTL would make the
	// expiresIn we report disagree with the token.
	if cfg.TTL < time.Second || cfg.TTL%time.Second != 0 {
		return nil, fmt.Errorf("jwtauth: TTL %v must be a positive whole number of seconds", cfg.TTL)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = defaultLeeway
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("jwtauth: negative leeway %v", cfg.Leeway)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	i := &Issuer{
		// Copied so a caller reusing its buffer cannot change our key.
		secret:   bytes.Clone(cfg.Secret),
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		ids:      cfg.IDs,
		ttl:      cfg.TTL,
		now:      cfg.Now,
	}
	i.parser = jwt.NewParser(
		// Pinning the algorithm defeats "alg: none" and HS/RS key confusion,
		// and rejects other HMAC sizes we never issue.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		// Reject non-canonical base64 so a token has exactly one valid
		// spelling (otherwise the last signature character has slack bits).
		jwt.WithStrictDecoding(),
	)
	return i, nil
}

// Issue returns a signed access token for the user, and how long it is valid.
func (i *Issuer) Issue(userID, tenantID, tokenVersion int) (token string, expiresIn time.Duration, err error) {
	if userID <= 0 || tenantID <= 0 || tokenVersion < 0 ||
		i.ids.TableOf(userID) != usersTable || i.ids.TableOf(tenantID) != tenantsTable {
		return "", 0, fmt.Errorf("jwtauth: invalid claims user=%d tenant=%d version=%d", userID, tenantID, tokenVersion)
	}
	jti, err := randomString(16)
	if err != nil {
		return "", 0, fmt.Errorf("jwtauth: token id: %w", err)
	}
	// Truncated so exp - iat is exactly the TTL despite second precision.
	now := i.now().Truncate(time.Second)
	exp := now.Add(i.ttl)
	claims := &tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   i.ids.Encode(userID),
			Audience:  jwt.ClaimStrings{i.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		TenantID:     i.ids.Encode(tenantID),
		TokenVersion: &tokenVersion,
	}
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.secret)
	if err != nil {
		return "", 0, fmt.Errorf("jwtauth: sign: %w", err)
	}
	return token, i.ttl, nil
}

// Verify checks token's signature, algorithm, issuer, audience and times, and
// returns its claims. Every failure is ErrInvalidToken (errors.Is); the
// wrapped reason is for server-side diagnostics only.
func (i *Issuer) Verify(token string) (Claims, error) {
	if token == "" || len(token) > maxTokenLen {
		return Claims{}, ErrInvalidToken
	}
	tc := tokenClaims{ids: i.ids}
	_, err := i.parser.ParseWithClaims(token, &tc, i.key)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return Claims{
		UserID:       tc.userID,
		TenantID:     tc.tenantID,
		TokenVersion: *tc.TokenVersion,
		ExpiresAt:    tc.ExpiresAt.Time,
	}, nil
}

// key is the jwt.Keyfunc. WithValidMethods already pins HS256; checking the
// method type here as well means a future change to the parser options
// cannot turn the HMAC secret into, say, an RSA "public key".
func (i *Issuer) key(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok || t.Method.Alg() != jwt.SigningMethodHS256.Alg() {
		return nil, fmt.Errorf("unexpected signing method %q", t.Method.Alg())
	}
	return i.secret, nil
}

// NewRefreshToken returns a new random refresh token and its SHA-256 hash.
// Only the hash should be stored; plain is given to the client once.
func NewRefreshToken() (plain string, hash []byte, err error) {
	plain, err = randomString(refreshTokenBytes)
	if err != nil {
		return "", nil, fmt.Errorf("jwtauth: refresh token: %w", err)
	}
	return plain, HashRefreshToken(plain), nil
}

// HashRefreshToken returns the SHA-256 of plain, the form refresh tokens are
// stored and looked up in. A slow hash is unnecessary: the token carries 256
// random bits, so it cannot be guessed from its hash.
func HashRefreshToken(plain string) []byte {
	sum := sha256.Sum256([]byte(plain))
	return sum[:]
}

// LooksLikeJWT reports whether s has the shape of a compact JWS: three
// non-empty, dot-separated base64url segments. It tells JWTs apart from
// "ldr_..." API keys in a Bearer header; it says nothing about validity.
func LooksLikeJWT(s string) bool {
	if len(s) > maxTokenLen {
		return false
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || !isBase64URL(p) {
			return false
		}
	}
	return true
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// LoadSecret reads an HMAC key from a file, trimming surrounding whitespace
// (editors add trailing newlines). The error never includes the key.
func LoadSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: read secret: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < minSecretLen {
		return nil, fmt.Errorf("jwtauth: secret in %s is %d bytes, need at least %d", path, len(b), minSecretLen)
	}
	return b, nil
}

// randomString returns n random bytes as unpadded base64url.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

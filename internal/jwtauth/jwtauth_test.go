package jwtauth

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/leadron/leadron/internal/ids"
)

const (
	testIssuer   = "leadron"
	testAudience = "leadron-dashboard"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
	// Sub-second part checks that exp is still exactly iat + TTL.
	testNow = time.Date(2026, 3, 4, 5, 6, 7, 500_000_000, time.UTC)
)

// testIDs has ranges like ent's global ID ranges: tenants from 1<<32, users
// from 2<<32 and leads from 3<<32.
var testIDs = func() *ids.Codec {
	c, err := ids.NewCodec("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
		`{"tenants":4294967296,"users":8589934592,"leads":12884901888}`)
	if err != nil {
		panic(err)
	}
	return c
}()

const (
	testTenant = 1<<32 + 7
	testUser   = 2<<32 + 42
	testLead   = 3<<32 + 42
)

// clock is a settable Config.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestIssuer(t testing.TB, c *clock) *Issuer {
	t.Helper()
	iss, err := New(Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, IDs: testIDs, Now: c.now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return iss
}

// validClaims are the claims Issue would produce at testNow, as a map so that
// cases can remove or alter single claims.
func validClaims() jwt.MapClaims {
	now := testNow.Unix()
	return jwt.MapClaims{
		"sub": testIDs.Encode(testUser),
		"tid": testIDs.Encode(testTenant),
		"tv":  3,
		"iss": testIssuer,
		"aud": []string{testAudience},
		"iat": now,
		"nbf": now,
		"exp": now + 900,
		"jti": "test",
	}
}

func with(mod func(jwt.MapClaims)) jwt.MapClaims {
	c := validClaims()
	mod(c)
	return c
}

func sign(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

func b64(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// flipSigChar changes the character fromEnd places before the end of tok,
// which lies in the signature for small values.
func flipSigChar(tok string, fromEnd int) string {
	b := []byte(tok)
	j := len(b) - 1 - fromEnd
	if b[j] == 'A' {
		b[j] = 'B'
	} else {
		b[j] = 'A'
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	c := &clock{t: testNow}
	iss := newTestIssuer(t, c)

	tests := []struct{ user, tenant, version int }{
		{testUser, testTenant, 0},
		{2<<32 + 1, 1<<32 + 1, 3},
		{3<<32 - 1, 2<<32 - 1, 1 << 20},
	}
	for _, tt := range tests {
		tok, expiresIn, err := iss.Issue(tt.user, tt.tenant, tt.version)
		if err != nil {
			t.Fatalf("Issue(%d, %d, %d): %v", tt.user, tt.tenant, tt.version, err)
		}
		if expiresIn != defaultTTL {
			t.Errorf("expiresIn = %v, want %v", expiresIn, defaultTTL)
		}
		if !LooksLikeJWT(tok) {
			t.Errorf("LooksLikeJWT(issued token) = false")
		}
		got, err := iss.Verify(tok)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		want := Claims{
			UserID:       tt.user,
			TenantID:     tt.tenant,
			TokenVersion: tt.version,
			ExpiresAt:    testNow.Truncate(time.Second).Add(defaultTTL),
		}
		if !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
		}
		got.ExpiresAt = want.ExpiresAt
		if got != want {
			t.Errorf("Verify = %+v, want %+v", got, want)
		}
	}
}

func TestIssueSetsRegisteredClaims(t *testing.T) {
	iss := newTestIssuer(t, &clock{t: testNow})
	tok1, _, err := iss.Issue(testUser, testTenant, 3)
	if err != nil {
		t.Fatal(err)
	}
	tok2, _, err := iss.Issue(testUser, testTenant, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tok1 == tok2 {
		t.Error("two tokens issued at the same instant are identical; jti is not random")
	}

	var m jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok1, &m); err != nil {
		t.Fatal(err)
	}
	now := float64(testNow.Unix())
	for k, want := range map[string]any{
		"sub": testIDs.Encode(testUser), "tid": testIDs.Encode(testTenant), "tv": 3.0, "iss": testIssuer,
		"iat": now, "nbf": now, "exp": now + 900,
	} {
		if m[k] != want {
			t.Errorf("claim %s = %v, want %v", k, m[k], want)
		}
	}
	if aud, _ := m.GetAudience(); len(aud) != 1 || aud[0] != testAudience {
		t.Errorf("aud = %v", aud)
	}
	if jti, _ := m["jti"].(string); len(jti) < 20 {
		t.Errorf("jti = %q, want a random id", jti)
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	iss := newTestIssuer(t, &clock{t: testNow})
	for _, in := range [][3]int{
		{0, testTenant, 0}, {testUser, 0, 0}, {testUser, testTenant, -1}, {-5, testTenant, 0},
		{testLead, testTenant, 0}, {testUser, testUser, 0}, {testTenant, testUser, 0},
	} {
		if _, _, err := iss.Issue(in[0], in[1], in[2]); err == nil {
			t.Errorf("Issue(%v) succeeded", in)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	c := &clock{t: testNow}
	iss := newTestIssuer(t, c)
	good, _, err := iss.Issue(testUser, testTenant, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(good); err != nil {
		t.Fatalf("sanity: Verify(good): %v", err)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	noneHeader := b64(t, map[string]string{"alg": "none", "typ": "JWT"})
	noneHeaderCaps := b64(t, map[string]string{"alg": "None", "typ": "JWT"})
	claimsSeg := b64(t, validClaims())
	goodParts := strings.Split(good, ".")

	tests := []struct {
		name  string
		token string
	}{
		{"alg none crafted by hand", noneHeader + "." + claimsSeg + "."},
		{"alg None crafted by hand", noneHeaderCaps + "." + claimsSeg + "."},
		{"alg none with original signature", noneHeader + "." + claimsSeg + "." + goodParts[2]},
		{"alg none via library", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims())},
		{"RS256 with fresh RSA key", sign(t, jwt.SigningMethodRS256, rsaKey, validClaims())},
		{"HS256 keyed with RSA public key PEM", sign(t, jwt.SigningMethodHS256, pubPEM, validClaims())},
		{"HS384 with correct secret", sign(t, jwt.SigningMethodHS384, testSecret, validClaims())},
		{"HS512 with correct secret", sign(t, jwt.SigningMethodHS512, testSecret, validClaims())},
		{"signed with another secret", sign(t, jwt.SigningMethodHS256, otherSecret, validClaims())},
		{"flipped char in signature", flipSigChar(good, 10)},
		{"flipped last char of signature", flipSigChar(good, 0)},
		{"signature removed", goodParts[0] + "." + goodParts[1] + "."},
		{"claims swapped under good signature", goodParts[0] + "." + b64(t, with(func(c jwt.MapClaims) { c["sub"] = testIDs.Encode(testUser + 1) })) + "." + goodParts[2]},
		{"padded segments", goodParts[0] + "." + goodParts[1] + "." + goodParts[2] + "="},

		{"expired beyond leeway", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) {
			c["exp"] = testNow.Add(-31 * time.Second).Unix()
		}))},
		{"nbf in the future beyond leeway", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) {
			c["nbf"] = testNow.Add(time.Minute).Unix()
		}))},
		{"iat in the future beyond leeway", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) {
			c["iat"] = testNow.Add(time.Minute).Unix()
		}))},
		{"missing exp", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"missing nbf", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "nbf") }))},
		{"missing iat", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "iat") }))},
		{"exp not a number", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }))},
		{"wrong iss", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["iss"] = "evil" }))},
		{"missing iss", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "iss") }))},
		{"wrong aud", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["aud"] = []string{"leadron-api"} }))},
		{"missing aud", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "aud") }))},
		{"empty aud", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["aud"] = []string{} }))},
		{"missing sub", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "sub") }))},
		{"sub not an ID", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["sub"] = "alice" }))},
		{"sub as a number", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["sub"] = testUser }))},
		{"sub as the row number", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["sub"] = strconv.Itoa(testUser) }))},
		{"sub is a lead's ID", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["sub"] = testIDs.Encode(testLead) }))},
		{"sub is the tenant's ID", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["sub"] = testIDs.Encode(testTenant) }))},
		{"empty sub", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["sub"] = "" }))},
		{"missing tid", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "tid") }))},
		{"tid as a number", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["tid"] = testTenant }))},
		{"tid as the row number", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["tid"] = strconv.Itoa(testTenant) }))},
		{"tid is the user's ID", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["tid"] = testIDs.Encode(testUser) }))},
		{"tid is the tenant's slug", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["tid"] = "acme-corp" }))},
		{"missing tv", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { delete(c, "tv") }))},
		{"negative tv", sign(t, jwt.SigningMethodHS256, testSecret, with(func(c jwt.MapClaims) { c["tv"] = -1 }))},

		{"empty string", ""},
		{"a.b.c", "a.b.c"},
		{"not a token", "not a token"},
		{"two segments", goodParts[0] + "." + goodParts[1]},
		{"four segments", good + ".x"},
		{"API key", "ldr_live_sk_abcdefghijklmnopqrstuvwxyz0123456789ABCD"},
		{"oversized", good + strings.Repeat("A", maxTokenLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := iss.Verify(tt.token)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", got, err)
			}
			t.Logf("rejected: %v", err)
			if got != (Claims{}) {
				t.Errorf("Verify returned claims %+v with an error", got)
			}
			// The reason may be logged by callers; it must not carry the token.
			if len(tt.token) > 8 && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func TestVerifyTime(t *testing.T) {
	c := &clock{t: testNow}
	iss := newTestIssuer(t, c)
	tok, ttl, err := iss.Issue(testUser, testTenant, 3)
	if err != nil {
		t.Fatal(err)
	}
	exp := testNow.Truncate(time.Second).Add(ttl)

	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"just issued", testNow, true},
		{"expired 10s ago, within 30s leeway", exp.Add(10 * time.Second), true},
		{"just inside exp + leeway", exp.Add(defaultLeeway - time.Nanosecond), true},
		{"past exp + leeway", exp.Add(defaultLeeway + time.Second), false},
		{"clock 10s behind issuer, within leeway", testNow.Add(-10 * time.Second), true},
		{"clock 1m behind issuer, beyond leeway", testNow.Add(-time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = tt.now
			_, err := iss.Verify(tok)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, IDs: testIDs}, true},
		{"short secret", Config{Secret: testSecret[:31], Issuer: testIssuer, Audience: testAudience, IDs: testIDs}, false},
		{"nil secret", Config{Issuer: testIssuer, Audience: testAudience, IDs: testIDs}, false},
		{"no issuer", Config{Secret: testSecret, Audience: testAudience, IDs: testIDs}, false},
		{"no audience", Config{Secret: testSecret, Issuer: testIssuer, IDs: testIDs}, false},
		{"custom TTL", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, IDs: testIDs, TTL: 5 * time.Minute}, true},
		{"negative TTL", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, IDs: testIDs, TTL: -time.Minute}, false},
		{"fractional TTL", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, IDs: testIDs, TTL: 1500 * time.Millisecond}, false},
		{"no ID codec", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience}, false},
		{"negative leeway", Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience, IDs: testIDs, Leeway: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss, err := New(tt.cfg)
			if tt.ok != (err == nil) {
				t.Fatalf("New err = %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				return
			}
			tok, expiresIn, err := iss.Issue(testUser, testTenant, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.cfg.TTL
			if want == 0 {
				want = defaultTTL
			}
			if expiresIn != want {
				t.Errorf("expiresIn = %v, want %v", expiresIn, want)
			}
			if _, err := iss.Verify(tok); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestNewCopiesSecret(t *testing.T) {
	secret := bytes.Clone(testSecret)
	iss, err := New(Config{Secret: secret, Issuer: testIssuer, Audience: testAudience, IDs: testIDs})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := iss.Issue(testUser, testTenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	clear(secret)
	if _, err := iss.Verify(tok); err != nil {
		t.Errorf("Verify after caller cleared its secret buffer: %v", err)
	}
}

func TestRefreshToken(t *testing.T) {
	p1, h1, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	p2, h2, err := NewRefreshToken()
	if err != nil {
		t.Fatal(err)
	}
	if p1 == p2 || bytes.Equal(h1, h2) {
		t.Error("two refresh tokens are equal")
	}
	for _, p := range []string{p1, p2} {
		if len(p) < 43 {
			t.Errorf("len(%q) = %d, want >= 43", p, len(p))
		}
		raw, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil || len(raw) < 32 {
			t.Errorf("refresh token is not 32+ bytes of unpadded base64url: %v", err)
		}
	}
	if !bytes.Equal(h1, HashRefreshToken(p1)) {
		t.Error("hash does not match HashRefreshToken(plain)")
	}
	if len(h1) != 32 {
		t.Errorf("len(hash) = %d, want 32 (SHA-256)", len(h1))
	}
	if bytes.Equal(HashRefreshToken(p1), HashRefreshToken(p1+"x")) {
		t.Error("HashRefreshToken ignores input")
	}
}

func TestLooksLikeJWT(t *testing.T) {
	iss := newTestIssuer(t, &clock{t: testNow})
	tok, _, err := iss.Issue(testUser, testTenant, 3)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want bool
	}{
		{tok, true},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", true},
		{"ldr_live_sk_abc", false},
		{"ldr_sandbox_sk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd", false},
		{"", false},
		{"..", false},
		{"a.b", false},
		{"a.b.c.d", false},
		{"a.b.", false},
		{"a b.c.d", false},
		{"a.b.c=", false},
		{"a+b.c/d.e", false},
		{"Bearer " + tok, false},
	}
	for _, tt := range tests {
		if got := LooksLikeJWT(tt.in); got != tt.want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		want string // "" means an error is expected
	}{
		{"trailing newline trimmed", write("ok", string(testSecret)+"\n"), string(testSecret)},
		{"surrounding whitespace trimmed", write("ws", "  \t"+string(testSecret)+" \r\n"), string(testSecret)},
		{"too short", write("short", "tooshort\n"), ""},
		{"short after trimming", write("padded", strings.Repeat(" ", 40)+"abc\n"), ""},
		{"missing file", filepath.Join(dir, "nope"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadSecret(tt.path)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("LoadSecret = %q, want error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("LoadSecret = %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	iss := newTestIssuer(b, &clock{t: testNow})
	tok, _, err := iss.Issue(testUser, testTenant, 3)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadron/leadron/internal/cli"
	"github.com/leadron/leadron/internal/testutil"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(ctx context.Context, environ map[string]string, args ...string) result {
	var out, errOut bytes.Buffer
	code := cli.Run(ctx, args, environ, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

var keyPattern = regexp.MustCompile(`^ldr_(live|sandbox)_sk_[A-Za-z0-9]{32,}$`)

func TestAdminCommands(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			environ := map[string]string{"LEADRON_DATABASE_URL": testutil.NewEmptyDatabaseURL(t, d)}
			ctx := context.Background()
			mustRun := func(args ...string) result {
				t.Helper()
				r := run(ctx, environ, args...)
				if r.code != 0 {
					t.Fatalf("leadron %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
				}
				return r
			}
			r := mustRun("tenant", "create", "--slug", "acme-corp", "--name", "Acme", "--plan", "pro",
				"--owner-email", "Owner@Acme.test", "--owner-password", "s3cret-pass", "--json")
			var tenant struct {
				ID, Slug, Plan string
				Owner          struct{ ID, Email, Role string }
			}
			decode(t, r.stdout, &tenant)
			if tenant.Slug != "acme-corp" || tenant.Plan != "pro" || tenant.Owner.Email != "owner@acme.test" || tenant.Owner.Role != "owner" || len(tenant.ID) < 16 {
				t.Errorf("tenant create: %+v", tenant)
			}

			r = mustRun("user", "create", "--tenant", "acme-corp", "--email", "rep@acme.test", "--password", "s3cret-pass",
				"--role", "member", "--first-name", "Rep", "--last-name", "One", "--json")
			var user struct{ ID, TenantID, Email, Role, FirstName string }
			decode(t, r.stdout, &user)
			if user.TenantID != "acme-corp" || user.Role != "member" || user.FirstName != "Rep" {
				t.Errorf("user create: %+v", user)
			}

			for _, env := range []string{"live", "sandbox"} {
				r = mustRun("apikey", "create", "--tenant", "acme-corp", "--user", "owner@acme.test", "--env", env,
					"--scopes", "leads:read,leads:write", "--name", "ci", "--json")
				var key struct {
					ID, Key string
					Scopes  []string
				}
				decode(t, r.stdout, &key)
				if !keyPattern.MatchString(key.Key) || !strings.HasPrefix(key.Key, "ldr_"+env+"_sk_") {
					t.Errorf("apikey create --env %s printed key %q", env, key.Key)
				}
				if fmt.Sprint(key.Scopes) != "[leads:read leads:write]" || len(key.ID) < 16 {
					t.Errorf("apikey create: %+v", key)
				}
				if strings.Contains(r.stderr, key.Key) {
					t.Error("the key was written to the log")
				}
			}
			mustRun("migrate") // idempotent on a migrated database
		})
	}
}

func TestCommandErrors(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			environ := map[string]string{"LEADRON_DATABASE_URL": testutil.NewEmptyDatabaseURL(t, d)}
			ctx := context.Background()
			if r := run(ctx, environ, "tenant", "create", "--slug", "acme", "--name", "Acme", "--owner-email", "o@acme.test", "--owner-password", "s3cret-pass"); r.code != 0 {
				t.Fatalf("setup: %s", r.stderr)
			}
			cases := []struct {
				name string
				args []string
				want string
			}{
				{"duplicate slug", []string{"tenant", "create", "--slug", "acme", "--name", "X", "--owner-email", "x@x.test", "--owner-password", "s3cret-pass"}, `a tenant with slug "acme" already exists`},
				{"unknown plan", []string{"tenant", "create", "--slug", "bb", "--name", "X", "--plan", "gold", "--owner-email", "x@x.test", "--owner-password", "s3cret-pass"}, "plan must be one of: free, starter, pro, team, enterprise"},
				{"bad slug", []string{"tenant", "create", "--slug", "Bad Slug", "--name", "X", "--owner-email", "x@x.test", "--owner-password", "s3cret-pass"}, "slug has an invalid format"},
				{"bad owner email", []string{"tenant", "create", "--slug", "bb", "--name", "X", "--owner-email", "nope", "--owner-password", "s3cret-pass"}, "email: Invalid email format"},
				{"short password", []string{"tenant", "create", "--slug", "b", "--name", "X", "--owner-email", "x@x.test", "--owner-password", "short"}, "password must be at least 8 characters"},
				{"one-letter slug", []string{"tenant", "create", "--slug", "b", "--name", "X", "--owner-email", "x@x.test", "--owner-password", "s3cret-pass"}, "slug is too short"},
				{"missing flags", []string{"tenant", "create", "--slug", "b"}, "missing required flag(s): --name, --owner-email, --owner-password"},
				{"bad email", []string{"user", "create", "--tenant", "acme", "--email", "bad-email", "--password", "s3cret-pass", "--role", "member"}, "email: Invalid email format"},
				{"duplicate email", []string{"user", "create", "--tenant", "acme", "--email", "O@acme.test", "--password", "s3cret-pass", "--role", "member"}, `a user with email "O@acme.test" already exists`},
				{"unknown role", []string{"user", "create", "--tenant", "acme", "--email", "r@acme.test", "--password", "s3cret-pass", "--role", "god"}, "role must be one of: owner, admin, member, viewer"},
				{"unknown tenant", []string{"user", "create", "--tenant", "nope", "--email", "r@acme.test", "--password", "s3cret-pass", "--role", "member"}, `no tenant with slug "nope"`},
				{"unknown scope", []string{"apikey", "create", "--tenant", "acme", "--user", "o@acme.test", "--scopes", "leads:fly", "--name", "k"}, `unknown scope "leads:fly"`},
				{"unknown env", []string{"apikey", "create", "--tenant", "acme", "--user", "o@acme.test", "--env", "prod", "--scopes", "full_access", "--name", "k"}, `--env must be live or sandbox, not "prod"`},
				{"unknown user", []string{"apikey", "create", "--tenant", "acme", "--user", "ghost@acme.test", "--scopes", "full_access", "--name", "k"}, `no user with email "ghost@acme.test"`},
				{"unknown command", []string{"bogus"}, `unknown command "bogus"`},
				{"unknown flag", []string{"tenant", "create", "--bogus"}, "unknown flag: --bogus"},
			}
			for _, tc := range cases {
				r := run(ctx, environ, tc.args...)
				lines := strings.Split(strings.TrimSpace(lastLine(r.stderr)), "\n")
				if r.code == 0 || !strings.Contains(lines[0], tc.want) || r.stdout != "" {
					t.Errorf("%s: exit %d, stdout %q, last stderr line %q; want non-zero and %q", tc.name, r.code, r.stdout, lines[0], tc.want)
				}
			}
		})
	}
}

// A taken address is reported as such, not as the database's outage.
func TestServeOnATakenAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	environ := map[string]string{
		"LEADRON_DATABASE_URL": testutil.NewEmptyDatabaseURL(t, "sqlite3"),
		"LEADRON_ADDR":         taken.Addr().String(),
	}
	r := run(context.Background(), environ, "serve")
	if last := lastLine(r.stderr); r.code == 0 || !strings.Contains(last, "listening on "+taken.Addr().String()) || !strings.Contains(last, "address already in use") {
		t.Errorf("exit %d, last stderr line %q; want the taken address and its cause", r.code, last)
	}
}

func TestServeAnswersHealthAndStopsOnCancel(t *testing.T) {
	addr := freeAddr(t)
	environ := map[string]string{
		"LEADRON_DATABASE_URL": testutil.NewEmptyDatabaseURL(t, "sqlite3"),
		"LEADRON_ADDR":         addr,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- run(ctx, environ, "serve", "--demo") }()

	var resp *http.Response
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
	}
	if err != nil {
		cancel()
		t.Fatalf("server never answered /healthz: %v (%+v)", err, <-done)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + addr + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %v %v", resp, err)
	}
	cancel()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Errorf("serve exited %d: %s", r.code, r.stderr)
		}
		for _, want := range []string{"owner@demo.leadron.dev", "ldr_live_sk_", "ldr_sandbox_sk_"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
			}
		}
		if strings.Contains(r.stderr, "ldr_live_sk_") {
			t.Error("a key reached the log")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
}

// Production refuses to start without the settings it must not guess.
func TestProductionRequiresSettings(t *testing.T) {
	secret := strings.Repeat("s", 32)
	for _, tc := range []struct {
		name    string
		environ map[string]string
		want    string
	}{
		{"no database", map[string]string{"LEADRON_ENV": "production", "LEADRON_JWT_SECRET": secret}, "LEADRON_DATABASE_URL is required"},
		{"no JWT secret", map[string]string{"LEADRON_ENV": "production", "LEADRON_DATABASE_URL": "postgres://x@127.0.0.1:1/x"}, "LEADRON_JWT_SECRET or LEADRON_JWT_SECRET_FILE is required"},
		{"bad rate limit", map[string]string{"LEADRON_IP_RATE_LIMIT": "0"}, "LEADRON_IP_RATE_LIMIT must be a positive number"},
		{"negative log flush interval", map[string]string{"LEADRON_LOG_FLUSH_INTERVAL": "-1s"}, "LEADRON_LOG_FLUSH_INTERVAL must be between 0 and 10s, not -1s"},
		{"log flush interval too long", map[string]string{"LEADRON_LOG_FLUSH_INTERVAL": "1m"}, "LEADRON_LOG_FLUSH_INTERVAL must be between 0 and 10s, not 1m0s"},
	} {
		r := run(context.Background(), tc.environ, "migrate")
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%s: got %+v, want one line with %q", tc.name, r, tc.want)
		}
	}
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

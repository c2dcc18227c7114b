package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

func TestJobsFailed(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			url := testutil.NewEmptyDatabaseURL(t, d)
			environ := map[string]string{"LEADRON_DATABASE_URL": url}
			if r := run(ctx, environ, "migrate"); r.code != 0 {
				t.Fatalf("migrate: %s", r.stderr)
			}
			if r := run(ctx, environ, "jobs", "failed"); r.code != 0 || strings.TrimSpace(r.stdout) != "No failed jobs." {
				t.Errorf("no failed jobs: %+v", r)
			}
			if r := run(ctx, environ, "jobs", "failed", "--json"); r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
				t.Errorf("no failed jobs, JSON: %+v", r)
			}

			// A check that fails on every attempt is discarded.
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tn, _, err := account.CreateTenant(ctx, db.Client, account.TenantInput{Slug: "acme", Name: "Acme", Plan: "free",
				Owner: account.UserInput{Email: "o@acme.test", Password: testutil.Password}})
			if err != nil {
				t.Fatal(err)
			}
			sys := viewer.NewContext(ctx, viewer.System(tn.ID, viewer.Live))
			var l *ent.Lead
			if err := store.InTx(sys, db.Client, func(c *ent.Client) (err error) {
				l, err = c.Lead.Create().SetEmail("jane@acme.test").SetFirstName("J").SetLastName("D").Save(sys)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			job, err := db.Jobs.Insert(ctx, jobs.DuplicateCheckArgs{LeadID: l.ID, TenantID: tn.ID, Environment: "live"}, &river.InsertOpts{MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			testutil.StartJobs(t, db, jobs.Config{Intercept: func(_ context.Context, j *river.Job[jobs.DuplicateCheckArgs]) error {
				if j.ID == job.ID {
					return errors.New("disk\nfull")
				}
				return nil
			}})
			testutil.WaitForJobState(t, db, job.ID, rivertype.JobStateDiscarded)

			r := run(ctx, environ, "jobs", "failed", "--json")
			if r.code != 0 {
				t.Fatalf("jobs failed --json: %s", r.stderr)
			}
			var out []struct {
				ID                     int64
				Kind, LeadID, Tenant   string
				Environment, LastError string
				Attempt, MaxAttempts   int
				State                  string
				Errors                 []struct{ Attempt int }
				FinalizedAt            *time.Time
				Args                   map[string]any
				CreatedAt              time.Time
				Queue                  string
			}
			decode(t, r.stdout, &out)
			if len(out) != 1 {
				t.Fatalf("failed jobs: %s", r.stdout)
			}
			f := out[0]
			if f.ID != job.ID || f.Kind != jobs.DuplicateCheckKind || f.Tenant != "acme" || f.Environment != "live" ||
				len(f.LeadID) < 16 || f.LastError != "disk\nfull" || f.Attempt != 1 || f.MaxAttempts != 1 ||
				f.State != "discarded" || len(f.Errors) != 1 || f.FinalizedAt == nil || f.Queue != "default" {
				t.Errorf("failed job %+v", f)
			}
			r = run(ctx, environ, "jobs", "failed")
			if r.code != 0 || !strings.Contains(r.stdout, jobs.DuplicateCheckKind+" of lead "+f.LeadID+" (acme, live)") ||
				!strings.Contains(r.stdout, "after 1/1 attempts: disk full") {
				t.Errorf("jobs failed: %+v", r)
			}
			if r := run(ctx, environ, "jobs", "failed", "--limit", "0"); r.code == 0 || !strings.Contains(r.stderr, "--limit must be between 1 and 10000") {
				t.Errorf("--limit 0: %+v", r)
			}
		})
	}
}

// serve starts the job workers with the server: a duplicate created over
// the API is detected while it runs, and it stops cleanly.
func TestServeRunsDuplicateChecks(t *testing.T) {
	for _, d := range testutil.Dialects {
		t.Run(d, func(t *testing.T) {
			addr := freeAddr(t)
			environ := map[string]string{"LEADRON_DATABASE_URL": testutil.NewEmptyDatabaseURL(t, d), "LEADRON_ADDR": addr}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for _, args := range [][]string{
				{"tenant", "create", "--slug", "acme", "--name", "Acme", "--plan", "team", "--owner-email", "o@acme.test", "--owner-password", "s3cret-pass"},
			} {
				if r := run(ctx, environ, args...); r.code != 0 {
					t.Fatalf("%v: %s", args, r.stderr)
				}
			}
			r := run(ctx, environ, "apikey", "create", "--tenant", "acme", "--user", "o@acme.test", "--scopes", "full_access", "--name", "t", "--json")
			var key struct{ Key string }
			decode(t, r.stdout, &key)

			done := make(chan result, 1)
			go func() { done <- run(ctx, environ, "serve") }()
			call := func(method, path, body string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(method, "http://"+addr+"/v1"+path, strings.NewReader(body))
				req.Header.Set("X-API-Key", key.Key)
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return 0, err.Error()
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				if status, _ := call("GET", "/leads", ""); status == 200 {
					break
				}
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("serve never answered: %+v", <-done)
				}
				time.Sleep(50 * time.Millisecond)
			}
			var ids []string
			for _, email := range []string{"jane@acme.test", " JANE@acme.test"} {
				status, body := call("POST", "/leads", `{"email":"`+email+`","firstName":"J","lastName":"D"}`)
				if status != 201 {
					t.Fatalf("create: %d %s", status, body)
				}
				var res struct{ Data struct{ ID string } }
				if err := json.Unmarshal([]byte(body), &res); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, res.Data.ID)
			}
			for {
				_, body := call("GET", "/leads/"+ids[0]+"/duplicates", "")
				if strings.Contains(body, ids[1]) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the duplicate was never detected: %s", body)
				}
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			select {
			case r := <-done:
				if r.code != 0 || !strings.Contains(r.stderr, "job runner stopped") {
					t.Errorf("serve exited %d:\n%s", r.code, r.stderr)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
		})
	}
}

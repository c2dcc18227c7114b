package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/internal/viewer"
)

const live, sandbox = viewer.Live, viewer.Sandbox

func countJobs(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow("SELECT COUNT(*) FROM river_job").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func jobArgs(t *testing.T, db *store.DB) []jobs.DuplicateCheckArgs {
	t.Helper()
	all, err := db.Jobs.Jobs(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []jobs.DuplicateCheckArgs
	for i := len(all) - 1; i >= 0; i-- { // oldest first
		var a jobs.DuplicateCheckArgs
		if all[i].Kind != jobs.DuplicateCheckKind || json.Unmarshal(all[i].EncodedArgs, &a) != nil {
			t.Fatalf("unexpected job %+v", all[i])
		}
		out = append(out, a)
	}
	return out
}

// A duplicate check is enqueued in the transaction of the write: a commit
// brings exactly one job per lead that needs one, a rollback none.
func TestEnqueueFollowsTheTransaction(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		acme := testutil.NewTenant(t, db, "acme")
		ctx := acme.System(live)
		boom := errors.New("boom")

		steps := []struct {
			name    string
			write   func(c *ent.Client) error
			wantErr error
			jobs    int // new jobs
		}{
			{"create then roll back", func(c *ent.Client) error {
				if err := c.Lead.Create().SetEmail("gone@acme.test").SetFirstName("G").SetLastName("One").Exec(ctx); err != nil {
					return err
				}
				return boom
			}, boom, 0},
			{"create", func(c *ent.Client) error {
				return c.Lead.Create().SetEmail("jane@acme.test").SetFirstName("Jane").SetLastName("Doe").Exec(ctx)
			}, nil, 1},
			{"bulk create", func(c *ent.Client) error {
				return c.Lead.CreateBulk(
					c.Lead.Create().SetEmail("a@acme.test").SetFirstName("A").SetLastName("A"),
					c.Lead.Create().SetEmail("b@acme.test").SetFirstName("B").SetLastName("B"),
				).Exec(ctx)
			}, nil, 2},
			{"score change", func(c *ent.Client) error {
				return c.Lead.Update().SetScore(10).Exec(ctx)
			}, nil, 0},
			{"email change", func(c *ent.Client) error {
				id := c.Lead.Query().FirstIDX(ctx)
				return c.Lead.UpdateOneID(id).SetEmail("JANE@acme.test").Exec(ctx)
			}, nil, 1},
			{"phone change on every lead", func(c *ent.Client) error {
				return c.Lead.Update().SetPhone("555 0100").Exec(ctx)
			}, nil, 3},
			{"phone change rolled back", func(c *ent.Client) error {
				if err := c.Lead.Update().SetPhone("555 0101").Exec(ctx); err != nil {
					return err
				}
				return boom
			}, boom, 0},
		}
		for _, s := range steps {
			before := countJobs(t, db)
			err := store.InTx(ctx, db.Client, s.write)
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("%s: error %v, want %v", s.name, err, s.wantErr)
			}
			if got := countJobs(t, db) - before; got != s.jobs {
				t.Errorf("%s: %d new jobs, want %d", s.name, got, s.jobs)
			}
		}
		if n := db.Client.Lead.Query().CountX(ctx); n != 3 {
			t.Fatalf("%d leads, want 3", n)
		}
		args := jobArgs(t, db)
		ids := db.Client.Lead.Query().IDsX(ctx)
		for _, a := range args {
			if a.TenantID != acme.ID || a.Environment != "live" {
				t.Errorf("job args %+v, want tenant %d live", a, acme.ID)
			}
			found := false
			for _, id := range ids {
				found = found || id == a.LeadID
			}
			if !found {
				t.Errorf("job for lead %d, which does not exist", a.LeadID)
			}
		}
	})
}

// newLead creates a lead in its own transaction as the system viewer.
func newLead(t *testing.T, db *store.DB, tn testutil.Tenant, env viewer.Environment, email, phone string) *ent.Lead {
	t.Helper()
	ctx := tn.System(env)
	var l *ent.Lead
	err := store.InTx(ctx, db.Client, func(c *ent.Client) (err error) {
		b := c.Lead.Create().SetEmail(email).SetFirstName("Jane").SetLastName("Doe")
		if phone != "" {
			b.SetPhone(phone)
		}
		l, err = b.Save(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("creating %s: %v", email, err)
	}
	return l
}

type pair struct {
	a, b  int
	field string
}

func candidates(t *testing.T, db *store.DB, tn testutil.Tenant, env viewer.Environment) map[pair]bool {
	t.Helper()
	out := map[pair]bool{}
	for _, c := range db.Client.DuplicateCandidate.Query().AllX(tn.System(env)) {
		out[pair{c.LeadID, c.DuplicateID, c.MatchedField.String()}] = true
	}
	return out
}

// The worker finds duplicates by normalized email and phone, within one
// tenant and environment, ignoring archived leads; each finding is audited.
func TestDuplicateDetection(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		acme := testutil.NewTenant(t, db, "acme")
		globex := testutil.NewTenant(t, db, "globex")
		testutil.StartJobs(t, db, jobs.Config{})

		jane := newLead(t, db, acme, live, "jane@acme.test", "+1 555 0199")
		archived := newLead(t, db, acme, live, "old@acme.test", "+1 555 0177")
		if err := store.InTx(acme.System(live), db.Client, func(c *ent.Client) error {
			return c.Lead.UpdateOneID(archived.ID).SetArchivedAt(time.Now()).Exec(acme.System(live))
		}); err != nil {
			t.Fatal(err)
		}
		// Leads elsewhere with the same email and phone never match.
		theirs := newLead(t, db, globex, live, "jane@acme.test", "+1 555 0199")
		sandboxed := newLead(t, db, acme, sandbox, "jane@acme.test", "+1 555 0199")

		cases := []struct {
			name, email, phone string
			want               []string // fields matched with jane
		}{
			{"email differing in case and spaces", "  JANE@Acme.Test ", "", []string{"email"}},
			{"phone in national format", "other@acme.test", "(555) 0199", []string{"phone"}},
			{"phone with dots and country code", "third@acme.test", "+1.555.0199", []string{"phone"}},
			{"both", "Jane@acme.test", "555-0199", []string{"email", "phone"}},
			{"neither", "nobody@acme.test", "+44 20 7946 0958", nil},
			{"same as an archived lead only", "OLD@acme.test", "555 0177", nil},
		}
		created := map[string]*ent.Lead{}
		for _, tc := range cases {
			created[tc.name] = newLead(t, db, acme, live, tc.email, tc.phone)
		}
		testutil.WaitForJobs(t, db)

		got := candidates(t, db, acme, live)
		for _, tc := range cases {
			l := created[tc.name]
			for _, f := range []string{"email", "phone"} {
				want := false
				for _, w := range tc.want {
					want = want || w == f
				}
				if got[pair{jane.ID, l.ID, f}] != want {
					t.Errorf("%s: candidate (jane, %s) on %s = %v, want %v", tc.name, l.Email, f, !want, want)
				}
				if got[pair{archived.ID, l.ID, f}] {
					t.Errorf("%s: matched the archived lead on %s", tc.name, f)
				}
			}
		}
		for p := range got {
			for _, id := range []int{theirs.ID, sandboxed.ID} {
				if p.a == id || p.b == id {
					t.Errorf("candidate %+v crosses a tenant or environment", p)
				}
			}
		}
		if n := len(candidates(t, db, globex, live)) + len(candidates(t, db, acme, sandbox)); n != 0 {
			t.Errorf("%d candidates in the other tenant or environment", n)
		}
		// Every candidate's creation is audited, by the system.
		events := db.Client.AuditEvent.Query().AllX(acme.System(live))
		audited := 0
		for _, e := range events {
			if e.Action == "duplicate_candidate.created" {
				audited++
				if e.ActorID != nil || e.RequestID == "" {
					t.Errorf("detection event %+v: want the system as actor and the job as request", e)
				}
			}
		}
		if audited != len(got) {
			t.Errorf("%d detection events for %d candidates", audited, len(got))
		}
		// The checks are idempotent: running them all again adds nothing.
		for _, l := range created {
			if _, err := db.Jobs.Insert(context.Background(), jobs.DuplicateCheckArgs{LeadID: l.ID, TenantID: acme.ID, Environment: "live"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		testutil.WaitForJobs(t, db)
		if again := candidates(t, db, acme, live); len(again) != len(got) {
			t.Errorf("re-running the checks changed %d candidates into %d", len(got), len(again))
		}
	})
}

// A job whose worker is stopped while it runs is not lost: after a restart
// it completes.
func TestStoppedJobCompletesAfterRestart(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		acme := testutil.NewTenant(t, db, "acme")
		first := newLead(t, db, acme, live, "jane@acme.test", "")
		second := newLead(t, db, acme, live, "JANE@acme.test", "")

		started := make(chan int64, 10)
		runner := testutil.StartJobs(t, db, jobs.Config{Intercept: func(ctx context.Context, job *river.Job[jobs.DuplicateCheckArgs]) error {
			started <- job.ID
			<-ctx.Done() // the worker hangs until it is stopped
			return ctx.Err()
		}})
		var id int64
		select {
		case id = <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("no job started")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := runner.StopAndCancel(ctx); err != nil {
			t.Fatalf("stopping: %v", err)
		}
		if n := len(candidates(t, db, acme, live)); n != 0 {
			t.Fatalf("%d candidates before any check completed", n)
		}
		if j, _ := db.Jobs.Job(context.Background(), id); j.State == rivertype.JobStateCompleted {
			t.Fatalf("job %d completed although its worker was stopped", id)
		}

		testutil.StartJobs(t, db, jobs.Config{})
		testutil.WaitForJobState(t, db, id, rivertype.JobStateCompleted)
		testutil.WaitForJobs(t, db)
		if got := candidates(t, db, acme, live); !got[pair{first.ID, second.ID, "email"}] || len(got) != 1 {
			t.Errorf("candidates after the restart: %v", got)
		}
	})
}

// A job left running by a worker that died (the process killed mid-job) is
// rescued and completed by the next runner.
func TestJobOfDeadWorkerIsRescued(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		acme := testutil.NewTenant(t, db, "acme")
		first := newLead(t, db, acme, live, "jane@acme.test", "")
		second := newLead(t, db, acme, live, "jane@ACME.test", "")
		// As a killed worker leaves them: running, attempted long ago.
		hourAgo := time.Now().Add(-time.Hour).UTC()
		var err error
		if db.Dialect == "postgres" {
			_, err = db.SQL.Exec("UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $1, attempted_by = ARRAY['dead-worker']", hourAgo)
		} else {
			// River's SQLite format for times.
			_, err = db.SQL.Exec("UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ?, attempted_by = ?",
				hourAgo.Format("2006-01-02 15:04:05.000"), `["dead-worker"]`)
		}
		if err != nil {
			t.Fatal(err)
		}
		testutil.StartJobs(t, db, jobs.Config{RescueStuckJobsAfter: time.Second})
		all := testutil.WaitForJobs(t, db)
		for _, j := range all {
			if j.State != rivertype.JobStateCompleted {
				t.Errorf("job %d: %s", j.ID, j.State)
			}
		}
		if got := candidates(t, db, acme, live); !got[pair{first.ID, second.ID, "email"}] {
			t.Errorf("candidates after the rescue: %v", got)
		}
	})
}

// A job that keeps failing is retried, then discarded, and listed as
// failed.
func TestFailingJobIsRetriedThenDiscarded(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		acme := testutil.NewTenant(t, db, "acme")
		l := newLead(t, db, acme, live, "jane@acme.test", "")
		var attempts atomic.Int32
		testutil.StartJobs(t, db, jobs.Config{Intercept: func(ctx context.Context, job *river.Job[jobs.DuplicateCheckArgs]) error {
			if job.Args.LeadID == l.ID && job.MaxAttempts == 2 {
				attempts.Add(1)
				return errors.New("the database is on fire")
			}
			return nil
		}})
		j, err := db.Jobs.Insert(context.Background(), jobs.DuplicateCheckArgs{LeadID: l.ID, TenantID: acme.ID, Environment: "live"},
			&river.InsertOpts{MaxAttempts: 2})
		if err != nil {
			t.Fatal(err)
		}
		done := testutil.WaitForJobState(t, db, j.ID, rivertype.JobStateDiscarded)
		if attempts.Load() != 2 || len(done.Errors) != 2 || done.Errors[1].Error != "the database is on fire" {
			t.Errorf("attempts %d, errors %+v", attempts.Load(), done.Errors)
		}
		failed, err := db.Jobs.Failed(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 1 || failed[0].ID != j.ID {
			t.Errorf("failed jobs: %+v", failed)
		}
		if n, err := db.Jobs.FailedCount(context.Background()); err != nil || n != 1 {
			t.Errorf("FailedCount: %d, %v; want 1", n, err)
		}
	})
}

// With RetryDelay, a failed job is tried again after that delay rather than
// River's backoff (a second at the first retry, 16 s at the second).
func TestRetryDelay(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		acme := testutil.NewTenant(t, db, "acme")
		l := newLead(t, db, acme, live, "jane@acme.test", "")
		var attempts atomic.Int32
		testutil.StartJobs(t, db, jobs.Config{RetryDelay: 50 * time.Millisecond, Intercept: func(ctx context.Context, job *river.Job[jobs.DuplicateCheckArgs]) error {
			if job.Args.LeadID == l.ID && attempts.Add(1) == 1 {
				return errors.New("a cut connection")
			}
			return nil
		}})
		all := testutil.WaitForJobs(t, db)
		var done *rivertype.JobRow
		for _, j := range all {
			var args jobs.DuplicateCheckArgs
			if json.Unmarshal(j.EncodedArgs, &args) == nil && args.LeadID == l.ID {
				done = j
			}
		}
		if done == nil || done.State != rivertype.JobStateCompleted || len(done.Errors) != 1 || done.AttemptedAt == nil {
			t.Fatalf("the lead's job: %+v", done)
		}
		if gap := done.AttemptedAt.Sub(done.Errors[0].At); gap > 500*time.Millisecond {
			t.Errorf("the retry came %s after the failure; want about 50ms", gap)
		}
	})
}

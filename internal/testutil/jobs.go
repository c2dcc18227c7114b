package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/store"
)

// StartJobs starts a job runner over db that polls often, so tests do not
// wait; it stops when the test ends. cfg may set Intercept and the like.
func StartJobs(t testing.TB, db *store.DB, cfg jobs.Config) *jobs.Runner {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = Logger(t)
	}
	r, err := db.NewRunner(cfg)
	if err != nil {
		t.Fatalf("job runner: %v", err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("starting the job runner: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	return r
}

// WaitForJobs waits until every job of db is finished (completed,
// discarded or cancelled) and returns them all; it fails the test after
// 30 s. It polls the jobs' states: tests wait on the jobs, never on
// a fixed sleep.
func WaitForJobs(t testing.TB, db *store.DB) []*rivertype.JobRow {
	t.Helper()
	return WaitForJobsWithin(t, db, 30*time.Second)
}

// WaitForJobsWithin is WaitForJobs with its own deadline, for tests whose
// jobs may need River's rescuer, which looks for stuck jobs every 30 s.
func WaitForJobsWithin(t testing.TB, db *store.DB, within time.Duration) []*rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		all, err := db.Jobs.Jobs(context.Background(), 10_000)
		if err != nil {
			t.Fatalf("listing jobs: %v", err)
		}
		pending := 0
		for _, j := range all {
			switch j.State {
			case rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
			default:
				pending++
			}
		}
		if pending == 0 {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs still unfinished after %s", pending, len(all), within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitForJobState waits until the job reaches the state, and returns it.
func WaitForJobState(t testing.TB, db *store.DB, id int64, state rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := db.Jobs.Job(context.Background(), id)
		if err != nil {
			t.Fatalf("job %d: %v", id, err)
		}
		if j.State == state {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s after 30s, want %s (errors: %+v)", id, j.State, state, j.Errors)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

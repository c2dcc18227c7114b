package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	gen "github.com/leadron/leadron/ent"
)

// Config tunes a Runner. The zero value is the production setting.
type Config struct {
	Logger *slog.Logger
	// Workers is how many jobs run at once (default 4).
	Workers int
	// PollInterval is how often the queue is polled for new jobs (default
	// 1s). PostgreSQL is also notified of new jobs, so there it is only the
	// fallback; SQLite is polled only.
	PollInterval time.Duration
	// RescueStuckJobsAfter is how long a job may run before River assumes
	// its worker died and schedules it again (default River's, 1 hour).
	RescueStuckJobsAfter time.Duration
	// RetryDelay, when set, is the wait before each retry of a failed job
	// instead of River's exponential backoff (about attempt⁴ seconds).
	// Tests that fail jobs on purpose set it, so as not to wait.
	RetryDelay time.Duration
	// Intercept, when set, runs before each duplicate check; an error fails
	// that attempt. Tests use it to fail or block a job.
	Intercept func(context.Context, *river.Job[DuplicateCheckArgs]) error
}

// Runner works the queue: the duplicate-check worker on River, started by
// `leadron serve`.
type Runner struct {
	client riverClient
}

// NewRunner returns a runner over the database b, whose checks use client
// (the ent client of the same database). It does not start.
func NewRunner(b Backend, client *gen.Client, cfg Config) (*Runner, error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &duplicateWorker{client: client, intercept: cfg.Intercept}); err != nil {
		return nil, err
	}
	n := cfg.Workers
	if n <= 0 {
		n = 4
	}
	rc := &river.Config{
		Logger:               logger(cfg.Logger),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}},
		Workers:              workers,
		FetchPollInterval:    cfg.PollInterval,
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
	}
	if cfg.PollInterval > 0 && cfg.PollInterval < river.FetchCooldownDefault {
		rc.FetchCooldown = cfg.PollInterval
	}
	if cfg.RetryDelay > 0 {
		rc.RetryPolicy = fixedRetry(cfg.RetryDelay)
	}
	if cfg.RescueStuckJobsAfter > 0 && cfg.RescueStuckJobsAfter < river.JobTimeoutDefault {
		// River refuses to rescue a job before it can have timed out.
		rc.JobTimeout = cfg.RescueStuckJobsAfter
	}
	q, err := newQueue(b, rc)
	if err != nil {
		return nil, err
	}
	return &Runner{client: q.client}, nil
}

// fixedRetry retries a failed job after the same delay each time.
type fixedRetry time.Duration

func (d fixedRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(d)) }

// Start starts working jobs in the background. It runs until Stop; ctx only
// carries values (cancelling it does not stop the runner: shutdown is
// explicit, after the HTTP server's).
func (r *Runner) Start(ctx context.Context) error {
	return r.client.Start(context.WithoutCancel(ctx))
}

// Stop stops fetching jobs and waits for the running ones to finish until
// ctx ends; then it cancels them. A job cancelled by shutdown is not lost:
// River makes it available again, and the next start runs it.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if err == nil || !errors.Is(err, ctx.Err()) {
		return err
	}
	hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.client.StopAndCancel(hard)
}

// StopAndCancel stops at once, cancelling running jobs (which River makes
// available again).
func (r *Runner) StopAndCancel(ctx context.Context) error {
	return r.client.StopAndCancel(ctx)
}

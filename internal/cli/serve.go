package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/jwtauth"
	"github.com/leadron/leadron/internal/ratelimit"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/session"
	"github.com/leadron/leadron/internal/viewer"
	"github.com/leadron/leadron/rest"
)

func (e *env) serveCmd() *cobra.Command {
	var demo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Apply migrations, then serve the API until SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			gcPercent := tuneGC(e.environ)
			a, err := e.open(ctx)
			if err != nil {
				return err
			}
			log, flush := e.serveLogger(a.cfg)
			defer flush() // last: after the server and the database are done
			a.log = log
			a.log.Info("garbage collection", "gogc", gcPercent)
			defer a.db.Close()
			if demo {
				if err := e.seedDemo(ctx, a); err != nil {
					return fmt.Errorf("creating demo data: %w", err)
				}
			}
			return e.serve(ctx, a)
		},
	}
	cmd.Flags().BoolVar(&demo, "demo", false, "on an empty database, create a demo tenant, owner and keys and print them once")
	return cmd
}

// serve runs the HTTP server until ctx ends, then drains in-flight requests
// within the shutdown timeout.
func (e *env) serve(ctx context.Context, a *app) error {
	limiter, err := e.limiter(a)
	if err != nil {
		return err
	}
	sessions, err := newSessions(ctx, a)
	if err != nil {
		return err
	}
	handler := server.New(server.Deps{
		DB: a.db, Codec: a.codec, Logger: a.log, ClientIPHeader: a.cfg.ClientIPHeader, Limiter: limiter, Sessions: sessions,
		RequestTimeout:       a.cfg.RequestTimeout,
		GraphQLIntrospection: a.cfg.GraphQLIntrospectionEnabled(),
		Playground:           a.cfg.PlaygroundEnabled(),
		RateLimits: rest.RateLimits{
			IP:          ratelimit.Limit{PerMinute: a.cfg.IPRateLimit, Burst: a.cfg.IPRateBurst},
			AuthFailure: ratelimit.Limit{PerMinute: a.cfg.AuthFailureRateLimit, Burst: a.cfg.AuthFailureRateBurst},
		},
	})
	defer handler.Close()
	srv := &http.Server{
		Addr:              a.cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if a.cfg.PprofAddr != "" {
		stopPprof, err := servePprof(a.cfg.PprofAddr, a.log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		// %v, not %w: a listen error is not the database's outage, which
		// describe would report for a wrapped net.Error.
		return fmt.Errorf("listening on %s: %v", a.cfg.Addr, err)
	}
	// The background workers (duplicate checks) run beside the server and
	// stop after it: requests in flight may still enqueue jobs.
	runner, err := a.db.NewRunner(jobs.Config{Logger: a.log})
	if err != nil {
		ln.Close()
		return fmt.Errorf("job runner: %w", err)
	}
	if err := runner.Start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("starting the job runner: %w", err)
	}
	a.log.Info("serving", "addr", ln.Addr().String(), "dialect", a.db.Dialect, "env", a.cfg.Env)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return errors.Join(err, e.stopJobs(a, runner))
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return errors.Join(fmt.Errorf("shutting down: %w", err), e.stopJobs(a, runner))
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(err, e.stopJobs(a, runner))
	}
	if err := e.stopJobs(a, runner); err != nil {
		return err
	}
	a.log.Info("stopped")
	return nil
}

// stopJobs stops the workers gracefully: running jobs get the shutdown
// timeout to finish, then are cancelled; River makes a cancelled job
// available again, so the next start runs it and nothing is lost.
func (e *env) stopJobs(a *app, runner *jobs.Runner) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := runner.Stop(ctx); err != nil {
		return fmt.Errorf("stopping the job runner: %w", err)
	}
	a.log.Info("job runner stopped")
	return nil
}

// newSessions signs dashboard tokens with the configured secret (or, in
// development, one generated and kept in the database).
func newSessions(ctx context.Context, a *app) (*session.Service, error) {
	secret, err := session.Secret(ctx, a.db.Client, a.cfg.JWTSecret, a.cfg.JWTSecretFile, a.cfg.Production())
	if err != nil {
		return nil, err
	}
	issuer, err := jwtauth.New(jwtauth.Config{Secret: secret, Issuer: session.Issuer, Audience: session.Audience, IDs: a.codec})
	if err != nil {
		return nil, err
	}
	return session.New(a.db.Client, issuer)
}

// limiter keeps rate-limit state in memory, or in Redis when
// LEADRON_REDIS_URL is set so that instances share one limit. A Redis outage
// falls back to per-process memory limits.
func (e *env) limiter(a *app) (ratelimit.Limiter, error) {
	memory := ratelimit.NewMemory()
	if a.cfg.RedisURL == "" {
		return memory, nil
	}
	opts, err := redis.ParseURL(a.cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("LEADRON_REDIS_URL: %w", err)
	}
	// Short timeouts and one retry: a Redis outage must cost requests
	// little before the limiter falls back to memory.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 250*time.Millisecond, 250*time.Millisecond, 250*time.Millisecond
	opts.MaxRetries, opts.DialerRetries = 1, 1
	redis.SetLogger(redisLogger{a.log})
	a.log.Info("rate limits shared through Redis", "addr", opts.Addr)
	return ratelimit.NewRedis(redis.NewClient(opts), memory, a.log), nil
}

// redisLogger sends go-redis's own messages to slog at debug level; the
// limiter already reports outages, rate-limited.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// seedDemo creates the demo tenant on an empty database and prints its
// credentials once. On a database with any tenant it does nothing.
func (e *env) seedDemo(ctx context.Context, a *app) error {
	n, err := a.db.Client.Tenant.Query().Count(viewer.NewContext(ctx, viewer.Platform()))
	if err != nil {
		return err
	}
	if n > 0 {
		a.log.Info("demo data not created: the database already has tenants")
		return nil
	}
	pw, err := randomPassword()
	if err != nil {
		return err
	}
	const email = "owner@demo.leadron.dev"
	t, owner, err := account.CreateTenant(ctx, a.db.Client, account.TenantInput{
		Slug: "demo", Name: "Demo", Plan: "pro",
		Owner: account.UserInput{Email: email, Password: pw, FirstName: "Demo", LastName: "Owner"},
	})
	if err != nil {
		return err
	}
	keys := map[viewer.Environment]string{}
	for _, env := range []viewer.Environment{viewer.Live, viewer.Sandbox} {
		vctx := viewer.NewContext(ctx, viewer.System(t.ID, env))
		_, plain, err := account.CreateAPIKey(vctx, a.db.Client, account.KeyInput{Name: "demo " + string(env), OwnerID: owner.ID, Scopes: []string{"full_access"}})
		if err != nil {
			return err
		}
		keys[env] = plain
	}
	fmt.Fprintf(e.stdout, `
Demo tenant created. These secrets are shown only once:

  tenant         demo
  owner login    %s
  password       %s
  live key       %s
  sandbox key    %s

Try: curl -H "X-API-Key: %s" http://localhost%s/v1/leads

`, email, pw, keys[viewer.Live], keys[viewer.Sandbox], keys[viewer.Live], portOf(a.cfg.Addr))
	return nil
}

func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return ":" + port
	}
	return addr
}

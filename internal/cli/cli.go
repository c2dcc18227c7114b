// Package cli is the leadron command line: serve, migrate, and the admin
// commands that create tenants, users and API keys. Scripts depend on its
// command names, flags and --json output, so they change only with care.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/config"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/store"
)

// env is what every command gets from the process: its configuration and
// where to write.
type env struct {
	environ        map[string]string
	stdout, stderr io.Writer
}

// Run executes the command line args (without the program name) and returns
// the exit code. Errors are printed as one line on stderr.
func Run(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	e := &env{environ: environ, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "leadron",
		Short:         "Leadron: a multi-tenant lead-management API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	root.AddCommand(e.serveCmd(), e.migrateCmd(), e.tenantCmd(), e.userCmd(), e.apikeyCmd())
	root.AddCommand(e.seedCmd())
	root.AddCommand(e.jobsCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "leadron: "+describe(err))
		return 1
	}
	return 0
}

// describe renders an error as one line for people.
func describe(err error) string {
	if e, ok := errmap.Classify(err); ok {
		if len(e.Fields) > 0 {
			parts := make([]string, len(e.Fields))
			for i, f := range e.Fields {
				parts[i] = f.Message
				if !strings.HasPrefix(f.Message, f.Field) {
					parts[i] = f.Field + ": " + f.Message
				}
			}
			return "invalid input: " + strings.Join(parts, "; ")
		}
		return e.Message
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// usageError is a command-line mistake, reported like invalid input.
func usageError(format string, args ...any) error {
	return &apperr.Error{Code: apperr.Validation, Message: fmt.Sprintf(format, args...)}
}

// logger writes structured logs to stderr: text in development, JSON in
// production.
func (e *env) logger(cfg config.Config) *slog.Logger {
	return slog.New(e.logHandler(cfg, e.stderr))
}

func (e *env) logHandler(cfg config.Config, w io.Writer) slog.Handler {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Production() {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// serveLogger is the server's logger. Its lines gather in memory and are
// written every LEADRON_LOG_FLUSH_INTERVAL (or at 256 KiB), so the access
// log does not cost a write to stderr per request; a warning or an error
// is written at once, with the lines before it, and flush writes the rest
// at shutdown. A crash can lose the last interval's info lines.
func (e *env) serveLogger(cfg config.Config) (log *slog.Logger, flush func()) {
	if cfg.LogFlushInterval == 0 {
		return e.logger(cfg), func() {}
	}
	// Only the Write of stderr: BufferedWriteSyncer also calls Sync, which
	// fails on a pipe and has nothing to do on a terminal.
	out := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(struct{ io.Writer }{e.stderr}), FlushInterval: cfg.LogFlushInterval}
	return slog.New(syncOnWarning{e.logHandler(cfg, out), out}), func() { _ = out.Stop() }
}

// syncOnWarning writes out its buffered lines after each record at warning
// level or above.
type syncOnWarning struct {
	slog.Handler
	out zapcore.WriteSyncer
}

func (h syncOnWarning) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.out.Sync()
	}
	return err
}

func (h syncOnWarning) WithAttrs(attrs []slog.Attr) slog.Handler {
	return syncOnWarning{h.Handler.WithAttrs(attrs), h.out}
}

func (h syncOnWarning) WithGroup(name string) slog.Handler {
	return syncOnWarning{h.Handler.WithGroup(name), h.out}
}

// app is an opened, migrated database with the deployment's ID codec.
type app struct {
	cfg   config.Config
	log   *slog.Logger
	db    *store.DB
	codec *ids.Codec
}

// open loads the configuration, opens the database, applies pending
// migrations, proves the privacy layer is active and loads the ID codec.
func (e *env) open(ctx context.Context) (*app, error) {
	cfg, err := config.Load(e.environ)
	if err != nil {
		return nil, err
	}
	log := e.logger(cfg)
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, log); err != nil {
		db.Close()
		return nil, err
	}
	if err := store.SelfCheck(ctx, db.Client); err != nil {
		db.Close()
		return nil, err
	}
	codec, err := store.LoadCodec(ctx, db.Client)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &app{cfg: cfg, log: log, db: db, codec: codec}, nil
}

// printJSON writes v as indented JSON on stdout.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

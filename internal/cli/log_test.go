package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/leadron/leadron/internal/config"
	"github.com/leadron/leadron/internal/testutil"
)

// The server's log lines wait in memory until the interval passes, a
// warning or an error arrives, or the server stops; none is lost or
// reordered on the way.
func TestServeLoggerBuffersInfoLines(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		// then is what happens after one info line; wantAfter is whether
		// the line is written by then.
		then      func(t *testing.T, e *env, flush func(), log func(level string))
		wantAfter bool
	}{
		{"nothing yet", config.MaxLogFlushInterval, func(*testing.T, *env, func(), func(string)) {}, false},
		{"a warning writes it, first", config.MaxLogFlushInterval, func(_ *testing.T, _ *env, _ func(), log func(string)) { log("warn") }, true},
		{"an error writes it, first", config.MaxLogFlushInterval, func(_ *testing.T, _ *env, _ func(), log func(string)) { log("error") }, true},
		{"shutdown writes it", config.MaxLogFlushInterval, func(_ *testing.T, _ *env, flush func(), _ func(string)) { flush() }, true},
		{"the interval writes it", 20 * time.Millisecond, func(t *testing.T, e *env, _ func(), _ func(string)) {
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(e.stderr.(*testutil.SyncBuffer).String(), "first") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}, true},
		{"unbuffered with 0", 0, func(*testing.T, *env, func(), func(string)) {}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &testutil.SyncBuffer{}
			e := &env{stderr: out}
			logger, flush := e.serveLogger(config.Config{Env: "production", LogLevel: "info", LogFlushInterval: tc.interval})
			defer flush()
			loggedSecond := false
			log := func(level string) {
				loggedSecond = true
				switch level {
				case "warn":
					logger.With("part", "test").Warn("second")
				case "error":
					logger.WithGroup("g").Error("second")
				}
			}
			logger.Info("first")
			tc.then(t, e, flush, log)
			got := out.String()
			if written := strings.Contains(got, `"msg":"first"`); written != tc.wantAfter {
				t.Fatalf("first line written: %v, want %v; log: %q", written, tc.wantAfter, got)
			}
			second := strings.Index(got, `"msg":"second"`)
			if loggedSecond && second < 0 {
				t.Errorf("the warning or error is not written: %q", got)
			}
			if second >= 0 && second < strings.Index(got, `"msg":"first"`) {
				t.Errorf("lines out of order: %q", got)
			}
		})
	}
}

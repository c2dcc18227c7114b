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
		// then is what happens after one info line: "", "warn", "error",
		// "flush" or "wait" (for the interval); wantFirst is whether the
		// info line is written by then.
		then      string
		wantFirst bool
	}{
		{"nothing yet", config.MaxLogFlushInterval, "", false},
		{"a warning writes it, first", config.MaxLogFlushInterval, "warn", true},
		{"an error writes it, first", config.MaxLogFlushInterval, "error", true},
		{"shutdown writes it", config.MaxLogFlushInterval, "flush", true},
		{"the interval writes it", 20 * time.Millisecond, "wait", true},
		{"unbuffered with 0", 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := &testutil.SyncBuffer{}
			logger, flush := (&env{stderr: out}).serveLogger(config.Config{Env: "production", LogLevel: "info", LogFlushInterval: tc.interval})
			defer flush()
			logger.Info("first")
			switch tc.then {
			case "warn":
				logger.With("part", "test").Warn("second")
			case "error":
				logger.WithGroup("g").Error("second")
			case "flush":
				flush()
			case "wait":
				for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "first") && time.Now().Before(deadline); {
					time.Sleep(10 * time.Millisecond)
				}
			}
			got := out.String()
			first, second := strings.Index(got, `"msg":"first"`), strings.Index(got, `"msg":"second"`)
			if written := first >= 0; written != tc.wantFirst {
				t.Fatalf("first line written: %v, want %v; log: %q", written, tc.wantFirst, got)
			}
			if loggedSecond := tc.then == "warn" || tc.then == "error"; loggedSecond && second < 0 {
				t.Errorf("the warning or error is not written: %q", got)
			}
			if second >= 0 && second < first {
				t.Errorf("lines out of order: %q", got)
			}
		})
	}
}

package rest_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/leadron/leadron/internal/testutil"
	"github.com/leadron/leadron/rest"
)

// Observe writes one access log line per request, with the request's ID,
// method, path, status and duration, and no line when info is below the
// logger's level.
func TestAccessLogLine(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		level      slog.Level
		status     int
		want       bool
	}{
		{"a response", "/made", slog.LevelInfo, http.StatusCreated, true},
		{"a response without a status written", "/silent", slog.LevelInfo, http.StatusOK, true},
		{"a panic", "/boom", slog.LevelInfo, http.StatusInternalServerError, true},
		{"info below the level", "/made", slog.LevelWarn, http.StatusCreated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out testutil.SyncBuffer
			root := chi.NewRouter()
			root.Use(rest.RequestID, rest.Observe(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: tc.level}))))
			root.Get("/made", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
			root.Get("/silent", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
			root.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
			srv := httptest.NewServer(root)
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			req.Header.Set("X-Request-Id", "req_access_log_test")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" {
					if line != nil {
						t.Fatalf("two access log lines: %s", out.String())
					}
					line = m
				}
			}
			if !tc.want {
				if line != nil {
					t.Errorf("an access log line below its level: %v", line)
				}
				return
			}
			if line == nil {
				t.Fatalf("no access log line in %q", out.String())
			}
			for k, want := range map[string]any{"level": "INFO", "request_id": "req_access_log_test", "method": "GET",
				"path": tc.path, "status": float64(tc.status)} {
				if line[k] != want {
					t.Errorf("%s = %v, want %v (line %v)", k, line[k], want, line)
				}
			}
			if d, ok := line["duration_ms"].(float64); !ok || d < 0 {
				t.Errorf("duration_ms = %v, want a number of milliseconds", line["duration_ms"])
			}
			if _, ok := line["time"].(string); !ok {
				t.Errorf("no time in %v", line)
			}
		})
	}
}

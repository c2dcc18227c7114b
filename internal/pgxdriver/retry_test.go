package pgxdriver

import (
	"context"
	"errors"
	"testing"
)

// unsent is a failure before anything reached the server: pgconn.SafeToRetry
// reports such errors by this method.
type unsent struct{}

func (unsent) Error() string     { return "connection found dead before sending" }
func (unsent) SafeToRetry() bool { return true }

func TestRetry(t *testing.T) {
	sent := errors.New("connection lost after sending")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		failures  []error // returned by the attempts, in order; then success
		wantCalls int
		wantErr   error
	}{
		{"success", context.Background(), nil, 1, nil},
		{"dead connections, then one that works", context.Background(), []error{unsent{}, unsent{}}, 3, nil},
		{"only dead connections", context.Background(), []error{unsent{}, unsent{}, unsent{}, unsent{}}, maxAttempts, unsent{}},
		{"a statement that may have run is never repeated", context.Background(), []error{sent}, 1, sent},
		{"no retry once the request has ended", cancelled, []error{unsent{}}, 1, unsent{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retry(tt.ctx, func() error {
				calls++
				if calls <= len(tt.failures) {
					return tt.failures[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls || !errors.Is(err, tt.wantErr) {
				t.Errorf("%d calls, %v; want %d, %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
}

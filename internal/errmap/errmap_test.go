package errmap_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/pgxdriver"
)

// A constraint violation of an insert pgxdriver queued is the same 409 as
// ent's ConstraintError; the same code from anywhere else stays unexpected.
func TestClassifyQueuedConstraintViolations(t *testing.T) {
	queued := func(code string) error {
		return fmt.Errorf("committing: %w", &pgxdriver.QueuedError{SQL: "INSERT …", Err: &pgconn.PgError{Code: code}})
	}
	tests := []struct {
		name string
		err  error
		want apperr.Code // "" when unexpected
	}{
		{"a queued insert's unique violation", queued("23505"), apperr.Conflict},
		{"a queued insert's foreign key violation", queued("23503"), apperr.Conflict},
		{"a queued insert's check violation", queued("23514"), apperr.Conflict},
		{"a queued insert's not-null violation", queued("23502"), ""},
		{"a unique violation from elsewhere", &pgconn.PgError{Code: "23505"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := errmap.Classify(tt.err)
			switch {
			case tt.want == "" && ok:
				t.Errorf("classified as %s, want unexpected", e.Code)
			case tt.want != "" && (!ok || e.Code != tt.want):
				t.Errorf("classified %v (%v), want %s", e, ok, tt.want)
			}
		})
	}
}

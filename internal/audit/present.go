package audit

import (
	"slices"
	"strings"
	"time"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/diff"
)

// Presenter shows a logged change as an API shows the field elsewhere. The
// log stores raw values, and raw IDs must never reach clients.
type Presenter struct {
	EncodeID   func(int) string // the public ID codec's Encode
	TenantSlug string           // the tenant ID is shown as the slug
	Time       func(time.Time) any
}

// refFields are the stored fields that hold a row's ID.
var refFields = []string{"assigned_to", "merged_into", "owner_id", "lead_id", "duplicate_id"}

// Changes returns an event's changes keyed by the API's field names, with
// IDs encoded, the tenant by its slug and times in the API's form. It is
// never nil, so an event without changes shows {}.
func (p Presenter) Changes(changes map[string]diff.Change) map[string]diff.Change {
	out := make(map[string]diff.Change, len(changes))
	for field, c := range changes {
		out[apperr.CamelCase(field)] = diff.Change{Old: p.value(field, c.Old), New: p.value(field, c.New)}
	}
	return out
}

func (p Presenter) value(field string, v any) any {
	switch x := v.(type) {
	case float64: // JSON numbers; IDs are far below 2^53
		switch {
		case field == "tenant_id":
			return p.TenantSlug
		case slices.Contains(refFields, field) && x == float64(int(x)):
			return p.EncodeID(int(x))
		}
	case string:
		if strings.HasSuffix(field, "_at") {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return p.Time(t)
			}
		}
	}
	return v
}

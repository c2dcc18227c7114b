package ent

import (
	"reflect"
	"testing"

	"github.com/leadron/leadron/ent/apikey"
	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/ent/lead"
	"github.com/leadron/leadron/ent/tenant"
	"github.com/leadron/leadron/ent/user"
)

// The batched scan destinations (ent/template/scanvalues.tmpl) have the
// types ent's scanValues gives each column, an unknown one included, and
// each column its own: a column that shared another's would take its
// value.
func TestScanValuesMatchEnts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		columns []string
		batched func([]string) ([]any, error)
		ents    func([]string) ([]any, error)
	}{
		{"lead", lead.Columns, scanLeadValues, (*Lead)(nil).scanValues},
		{"lead, a selection", []string{lead.FieldEmail, lead.FieldID, lead.FieldStatus, "count"}, scanLeadValues, (*Lead)(nil).scanValues},
		{"api key", apikey.Columns, scanAPIKeyValues, (*APIKey)(nil).scanValues},
		{"audit event", auditevent.Columns, scanAuditEventValues, (*AuditEvent)(nil).scanValues},
		{"tenant", tenant.Columns, scanTenantValues, (*Tenant)(nil).scanValues},
		{"user", user.Columns, scanUserValues, (*User)(nil).scanValues},
	} {
		got, err := tc.batched(tc.columns)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tc.ents(tc.columns)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.columns) || len(want) != len(tc.columns) {
			t.Fatalf("%s: %d and %d destinations for %d columns", tc.name, len(got), len(want), len(tc.columns))
		}
		seen := map[uintptr]string{}
		for i, c := range tc.columns {
			if g, w := reflect.TypeOf(got[i]), reflect.TypeOf(want[i]); g != w {
				t.Errorf("%s.%s: scanned into %v, ent scans into %v", tc.name, c, g, w)
			}
			p := reflect.ValueOf(got[i]).Pointer()
			if other, ok := seen[p]; ok {
				t.Errorf("%s: %s and %s share a destination", tc.name, other, c)
			}
			seen[p] = c
		}
	}
}

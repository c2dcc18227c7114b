package customfields_test

import (
	"testing"

	"github.com/leadron/leadron/internal/customfields"
)

// BenchmarkUnmarshalJSON is the read of a lead's custom fields from the
// database: a check of the stored text, and a copy of it.
func BenchmarkUnmarshalJSON(b *testing.B) {
	stored := []byte(`{"company":"Globex Corporation","country":"DE","employees":1200,"jobTitle":"VP Sales","newsletter":true}`)
	b.ReportAllocs()
	for b.Loop() {
		var f customfields.Fields
		if err := f.UnmarshalJSON(stored); err != nil {
			b.Fatal(err)
		}
	}
}

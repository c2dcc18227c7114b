package graph

import (
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// object writes a resolved object's fields as gqlgen's FieldSet.MarshalGQL
// does. The generated object marshalers return one instead of their
// FieldSet when none of the object's fields is deferred (see
// graph/generate.go).
//
// gqlgen's writer copies each field to the heap (it yields a pointer to
// its loop variable) and fills a map of the names written so far to skip a
// repeated one: 700 allocations for a page of 50 leads. This one writes
// from the fields as they are and looks back through the names before it,
// which for an object's dozen fields costs less than hashing them.
type object struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

// lookBackLimit is the number of fields up to which object looks back
// through the earlier names for a repeat; beyond it, a map is cheaper.
const lookBackLimit = 32

func (o object) MarshalGQL(w io.Writer) {
	var written map[string]struct{}
	if len(o.fields) > lookBackLimit {
		written = make(map[string]struct{}, len(o.fields))
	}
	_, _ = io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if o.writtenBefore(i, alias, written) {
			continue
		}
		if !first {
			_, _ = io.WriteString(w, ",")
		}
		first = false
		// A GraphQL name ([_A-Za-z][_0-9A-Za-z]*) needs no escaping.
		_, _ = io.WriteString(w, `"`)
		_, _ = io.WriteString(w, alias)
		_, _ = io.WriteString(w, `":`)
		o.values[i].MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "}")
}

// writtenBefore reports whether a field before the i-th has its name,
// recording the name in written when there is a map.
func (o object) writtenBefore(i int, alias string, written map[string]struct{}) bool {
	if written != nil {
		if _, ok := written[alias]; ok {
			return true
		}
		written[alias] = struct{}{}
		return false
	}
	for j := range i {
		if o.fields[j].Alias == alias {
			return true
		}
	}
	return false
}

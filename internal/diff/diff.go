// Package diff holds the shape of one changed field in an audit event. It is
// its own package because the generated ent code stores it, while the audit
// hook that fills it imports the generated code.
package diff

// Change is one changed field of an audited write, as JSON values.
type Change struct {
	Old any `json:"old"`
	New any `json:"new"`
}

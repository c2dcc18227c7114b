package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
)

// object is a request body: one JSON object, read strictly. Field decoding
// collects every problem, so a client learns of all bad fields at once.
type object struct {
	raw  map[string]json.RawMessage
	errs []apperr.FieldError
}

// readObject reads the body as a JSON object of at most MaxBodyBytes.
func readObject(r *http.Request) (*object, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !(len(mt) > 5 && mt[len(mt)-5:] == "+json")) {
			return nil, apperr.New(apperr.UnsupportedMediaType, "Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(r.Body)
	if isTooLarge(err) {
		return nil, tooLarge()
	}
	if err != nil {
		return nil, apperr.New(apperr.BadRequest, "The request body could not be read")
	}
	if len(body) == 0 {
		return nil, apperr.New(apperr.InvalidJSON, "The request body must be a JSON object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, apperr.New(apperr.InvalidJSON, fmt.Sprintf("The request body is not valid JSON (at byte %d)", syn.Offset))
		case errors.As(err, &typ):
			return nil, apperr.New(apperr.InvalidJSON, "The request body must be a JSON object")
		}
		return nil, apperr.New(apperr.InvalidJSON, "The request body is not valid JSON")
	}
	if raw == nil {
		return nil, apperr.New(apperr.InvalidJSON, "The request body must be a JSON object")
	}
	return &object{raw: raw}, nil
}

// only reports every member not in allowed as an unknown field.
func (o *object) only(allowed ...string) {
	var unknown []string
	for k := range o.raw {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		o.errs = append(o.errs, apperr.FieldError{Field: k, Message: "Unknown field '" + k + "'", Code: apperr.FieldUnknown})
	}
}

// require reports each named member that is absent.
func (o *object) require(names ...string) {
	for _, name := range names {
		if _, ok := o.raw[name]; !ok {
			o.errs = append(o.errs, apperr.FieldError{Field: name, Message: name + " is required", Code: apperr.FieldRequired})
		}
	}
}

func (o *object) invalid(name, msg string) {
	o.errs = append(o.errs, apperr.FieldError{Field: name, Message: msg, Code: apperr.FieldInvalid})
}

// err returns the collected field errors as one validation error.
func (o *object) err() *apperr.Error {
	if len(o.errs) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Validation, Message: "Validation failed", Fields: o.errs}
}

// opt is one optional member of a body: whether it was sent, and whether as
// null.
type opt[T any] struct {
	Set, Null bool
	V         T
}

// member decodes the named member. what describes the expected type for the
// error message ("a string").
func member[T any](o *object, name, what string) opt[T] {
	raw, ok := o.raw[name]
	if !ok {
		return opt[T]{}
	}
	if string(raw) == "null" {
		return opt[T]{Set: true, Null: true}
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		o.invalid(name, name+" must be "+what)
		return opt[T]{}
	}
	return opt[T]{Set: true, V: v}
}

// notNull reports a member sent as null that may not be.
func notNull[T any](o *object, name string, v opt[T]) opt[T] {
	if v.Null {
		o.errs = append(o.errs, apperr.FieldError{Field: name, Message: name + " cannot be null", Code: apperr.FieldRequired})
		return opt[T]{}
	}
	return v
}

// withPending completes a write whose body already had field errors
// (pending): the write still runs, so the data layer reports its own field
// errors too and the client learns of every bad field at once, but it is
// always rolled back, since returning an error aborts the transaction.
func withPending(pending *apperr.Error, err error) error {
	if pending == nil {
		return err
	}
	if e, ok := errmap.Classify(err); ok && e.Code == apperr.Validation {
		merged := *pending
		merged.Fields = slices.Clone(pending.Fields)
		for _, f := range e.Fields {
			if !slices.ContainsFunc(merged.Fields, func(p apperr.FieldError) bool { return p.Field == f.Field }) {
				merged.Fields = append(merged.Fields, f)
			}
		}
		return &merged
	}
	return pending
}

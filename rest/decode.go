package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/text"
)

// object is a request body: one JSON object, read strictly. Field decoding
// collects every problem, so a client learns of all bad fields at once.
// Members are kept as slices of the body, not copied: a body is read once
// and nothing is allocated per member but the values a handler keeps.
type object struct {
	members []bodyMember
	errs    []apperr.FieldError
	inline  [16]bodyMember // members' storage for the usual body
	body    bytes.Buffer
}

// objects are reused between requests, with their body buffers: a handler
// calls release once it has decoded what it needs. Decoding copies every
// value out of the body, so nothing it returns points into the buffer.
var objects = sync.Pool{New: func() any { return new(object) }}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 64 << 10

// release clears o (a body can hold a password) and returns it for reuse.
// o must not be used afterwards.
func (o *object) release() {
	clear(o.body.Bytes())
	clear(o.inline[:])
	o.members, o.errs = nil, nil
	if o.body.Cap() > maxPooledBody {
		return
	}
	o.body.Reset()
	objects.Put(o)
}

// bodyMember is one member of the body: its name, unquoted, and its raw
// JSON value, both pointing into the body.
type bodyMember struct {
	name  []byte
	value []byte
}

// bodyDecoder is a jsontext.Decoder and the buffer it reads, reused between
// requests: the decoder holds state worth a few allocations. Given a
// bytes.Buffer, jsontext parses the body where it is instead of copying it
// into a buffer of its own, which would keep the body (and any password in
// it) in the pool.
type bodyDecoder struct {
	dec *jsontext.Decoder
	in  bytes.Buffer
}

var decoders = sync.Pool{New: func() any { return &bodyDecoder{dec: jsontext.NewDecoder(new(bytes.Buffer))} }}

// readObject reads the body as a JSON object of at most MaxBodyBytes. The
// body must be valid JSON and valid UTF-8 (an escaped lone surrogate, such
// as "\udc00", is not), and name each member once.
func readObject(r *http.Request) (*object, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONMediaType(ct) {
		return nil, apperr.New(apperr.UnsupportedMediaType, "Content-Type must be application/json")
	}
	o := objects.Get().(*object)
	o.members = o.inline[:0]
	_, err := o.body.ReadFrom(r.Body)
	body := o.body.Bytes()
	switch {
	case isTooLarge(err):
		o.release()
		return nil, tooLarge()
	case err != nil:
		o.release()
		return nil, apperr.New(apperr.BadRequest, "The request body could not be read")
	case len(bytes.Trim(body, " \t\r\n")) == 0: // JSON's whitespace only
		o.release()
		return nil, apperr.New(apperr.InvalidJSON, "The request body must be a JSON object")
	}
	d := decoders.Get().(*bodyDecoder)
	d.in = *bytes.NewBuffer(body)
	d.dec.Reset(&d.in)
	err = o.split(d.dec, body)
	d.in = bytes.Buffer{} // keep no reference to the body in the pool,
	d.dec.Reset(&d.in)    // in the buffer or in the decoder
	decoders.Put(d)
	if err != nil {
		o.release()
		return nil, bodyError(err)
	}
	return o, nil
}

var errNotAnObject = errors.New("not an object")

// split reads the top-level object's members. A value the decoder returns
// is the body's bytes ending at the input offset, so each member is sliced
// from the body itself, which outlives the decoder.
func (o *object) split(dec *jsontext.Decoder, body []byte) error {
	if dec.PeekKind() != '{' {
		if _, err := dec.ReadValue(); err != nil {
			return err
		}
		return errNotAnObject
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return err
		}
		raw := body[dec.InputOffset()-int64(len(name)) : dec.InputOffset()]
		if bytes.IndexByte(raw, '\\') < 0 {
			raw = raw[1 : len(raw)-1] // the usual name, with nothing escaped
		} else if raw, err = jsontext.AppendUnquote(nil, raw); err != nil {
			return err
		}
		value, err := dec.ReadValue()
		if err != nil {
			return err
		}
		o.members = append(o.members, bodyMember{name: raw, value: body[dec.InputOffset()-int64(len(value)) : dec.InputOffset()]})
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if dec.PeekKind() == 0 { // the end, or something that is not JSON
		if _, err := dec.ReadToken(); err != io.EOF {
			return err
		}
		return nil
	}
	rest := body[dec.InputOffset():]
	at := dec.InputOffset() + int64(len(rest)-len(bytes.TrimLeft(rest, " \t\r\n")))
	return &jsontext.SyntacticError{ByteOffset: at, Err: errors.New("data after the top-level value")}
}

// bodyError turns a decoding error into the client's error.
func bodyError(err error) *apperr.Error {
	var syn *jsontext.SyntacticError
	switch {
	case errors.Is(err, errNotAnObject):
		return apperr.New(apperr.InvalidJSON, "The request body must be a JSON object")
	case errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &syn):
		return apperr.New(apperr.InvalidJSON, fmt.Sprintf("The request body names the member '%s' more than once (at byte %d)", syn.JSONPointer.LastToken(), syn.ByteOffset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.InvalidJSON, "The request body is not valid JSON (it ends early)")
	case errors.As(err, &syn):
		return apperr.New(apperr.InvalidJSON, fmt.Sprintf("The request body is not valid JSON (at byte %d)", syn.ByteOffset))
	}
	return apperr.New(apperr.InvalidJSON, "The request body is not valid JSON")
}

func isJSONMediaType(ct string) bool {
	if ct == "application/json" {
		return true // what nearly every client sends, without parsing it
	}
	mt, params, err := mime.ParseMediaType(ct)
	if !text.UTF8Charset(params["charset"]) {
		return false // a body in another charset is not JSON
	}
	return err == nil && (mt == "application/json" || (len(mt) > 5 && mt[len(mt)-5:] == "+json"))
}

// lookup returns the named member's raw value.
func (o *object) lookup(name string) ([]byte, bool) {
	for i := range o.members {
		if string(o.members[i].name) == name {
			return o.members[i].value, true
		}
	}
	return nil, false
}

// only reports every member not in allowed as an unknown field.
func (o *object) only(allowed ...string) {
	var unknown []string
	for i := range o.members {
		if k := o.members[i].name; !slices.ContainsFunc(allowed, func(a string) bool { return a == string(k) }) {
			unknown = append(unknown, string(k))
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
		if _, ok := o.lookup(name); !ok {
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
	raw, ok := o.lookup(name)
	if !ok {
		return opt[T]{}
	}
	if string(raw) == "null" {
		return opt[T]{Set: true, Null: true}
	}
	v, fits := decodeValue[T](raw)
	if !fits {
		o.invalid(name, name+" must be "+what)
		return opt[T]{}
	}
	if !text.ValidValue(v) {
		// JSON may escape a NUL (\u0000); no stored text may hold one.
		o.invalid(name, name+" must be UTF-8 text without NUL characters")
		return opt[T]{}
	}
	return opt[T]{Set: true, V: v}
}

// decodeValue decodes one valid JSON value as encoding/json would into a
// T, reporting whether its type fits. Strings and integers are decoded
// directly; custom-field objects with encoding/json v2's decoder
// (the same values as v1's: float64 numbers, []any and map[string]any);
// the rest with encoding/json.
func decodeValue[T any](raw []byte) (T, bool) {
	var v T
	fits := false
	switch p := any(&v).(type) {
	case *string:
		if raw[0] != '"' {
			break
		}
		if bytes.IndexByte(raw, '\\') < 0 {
			*p, fits = string(raw[1:len(raw)-1]), true
			break
		}
		s, err := jsontext.AppendUnquote(nil, raw)
		*p, fits = string(s), err == nil
	case *int:
		n, err := strconv.ParseInt(string(raw), 10, 0)
		if err != nil {
			n, err = integral(raw)
		}
		*p, fits = int(n), err == nil
	case *map[string]any:
		if raw[0] != '{' {
			break
		}
		m := map[string]any{}
		fits = jsonv2.Unmarshal(raw, &m) == nil
		*p = m
	default:
		q := new(T) // not &v: that would move every v to the heap
		fits = json.Unmarshal(raw, q) == nil
		return *q, fits
	}
	return v, fits
}

// integral reads a JSON number written with a fraction or an exponent
// (50.0, 5e1) that is exactly a whole number, as the spec's "number" fields
// are sent by clients whose JSON has no integers. It refuses any fraction,
// however small, a number beyond 2^53, and, to bound the work, numbers
// longer than 64 characters or with an exponent beyond ±30.
func integral(raw []byte) (int64, error) {
	s := string(raw)
	notWhole := errors.New("not a whole number")
	if len(s) > 64 {
		return 0, notWhole
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); err != nil || exp < -30 || exp > 30 {
			return 0, notWhole
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, notWhole
	}
	n := r.Num().Int64()
	if n > 1<<53 || n < -(1<<53) {
		return 0, notWhole
	}
	return n, nil
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

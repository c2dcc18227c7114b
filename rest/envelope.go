package rest

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/jsonenc"
)

// Version is the API version every envelope reports.
const Version = "v1"

// TimeFormat is how the API writes times: RFC 3339, UTC, milliseconds.
const TimeFormat = jsonenc.MillisLayout

// Time is a timestamp in the API's format.
type Time time.Time

// MarshalJSON writes t as TimeFormat.
func (t Time) MarshalJSON() ([]byte, error) { return appendTime(nil, t), nil }

// timePtr converts an optional stored time.
func timePtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

func appendTime(dst []byte, t Time) []byte { return jsonenc.TimeMillis(dst, time.Time(t)) }

type meta struct {
	Timestamp  Time        `json:"timestamp"`
	Version    string      `json:"version"`
	RequestID  string      `json:"requestId"`
	Pagination *Pagination `json:"pagination,omitempty"`
}

func (m *meta) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"timestamp":`...)
	dst = appendTime(dst, m.Timestamp)
	dst = append(dst, `,"version":`...)
	dst = jsonenc.String(dst, m.Version)
	dst = append(dst, `,"requestId":`...)
	dst = jsonenc.String(dst, m.RequestID)
	if p := m.Pagination; p != nil {
		dst = append(dst, `,"pagination":{"limit":`...)
		dst = jsonenc.Int(dst, p.Limit)
		dst = append(dst, `,"hasMore":`...)
		dst = jsonenc.Bool(dst, p.HasMore)
		dst = append(dst, `,"nextCursor":`...)
		dst = jsonenc.StringPtr(dst, p.NextCursor)
		dst = append(dst, `,"prevCursor":`...)
		dst = jsonenc.StringPtr(dst, p.PrevCursor)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// Pagination describes one page of a list. NextCursor is the next page's
// `after`; PrevCursor the previous page's `before`.
type Pagination struct {
	Limit      int     `json:"limit"`
	HasMore    bool    `json:"hasMore"`
	NextCursor *string `json:"nextCursor"`
	PrevCursor *string `json:"prevCursor"`
}

// success is the envelope of a successful response. The OpenAPI tests and
// the fuzz target marshal it with encoding/json; the server writes it with
// appendJSON, byte for byte the same.
type success struct {
	Success bool   `json:"success"`
	Status  int    `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
	Meta    meta   `json:"meta"`
}

func (s *success) appendJSON(dst []byte) ([]byte, error) {
	return appendSuccess(dst, s.Status, s.Message, &s.Meta, func(dst []byte) ([]byte, error) { return appendData(dst, s.Data) })
}

// appendSuccess appends the success envelope, with data appending its data
// member. The data is passed as a function so that a typed caller (okLead,
// pageLeads) boxes nothing.
func appendSuccess(dst []byte, status int, message string, m *meta, data func([]byte) ([]byte, error)) ([]byte, error) {
	dst = append(dst, `{"success":true,"status":`...)
	dst = jsonenc.Int(dst, status)
	dst = append(dst, `,"message":`...)
	dst = jsonenc.String(dst, message)
	dst = append(dst, `,"data":`...)
	dst, err := data(dst)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `,"meta":`...)
	dst = m.appendJSON(dst)
	return append(dst, '}'), nil
}

// appendData appends a response's data: the lead types by hand, any other
// (the colder endpoints') through goccy/go-json.
func appendData(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case Lead:
		return v.appendJSON(dst)
	case *Lead:
		return v.appendJSON(dst)
	case []Lead:
		return appendLeads(dst, v)
	}
	b, err := gojson.Marshal(v)
	return append(dst, b...), err
}

type failure struct {
	Success bool         `json:"success"`
	Status  int          `json:"status"`
	Code    apperr.Code  `json:"code"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors"`
	Meta    meta         `json:"meta"`
}

func (f *failure) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"success":false,"status":`...)
	dst = jsonenc.Int(dst, f.Status)
	dst = append(dst, `,"code":`...)
	dst = jsonenc.String(dst, string(f.Code))
	dst = append(dst, `,"message":`...)
	dst = jsonenc.String(dst, f.Message)
	dst = append(dst, `,"errors":`...)
	if f.Errors == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, e := range f.Errors {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"field":`...)
			dst = jsonenc.StringPtr(dst, e.Field)
			dst = append(dst, `,"message":`...)
			dst = jsonenc.String(dst, e.Message)
			dst = append(dst, `,"code":`...)
			dst = jsonenc.String(dst, e.Code)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"meta":`...)
	dst = f.Meta.appendJSON(dst)
	return append(dst, '}')
}

// fieldError is apperr.FieldError with a null field for errors that are not
// about one field.
type fieldError struct {
	Field   *string `json:"field"`
	Message string  `json:"message"`
	Code    string  `json:"code"`
}

func newMeta(r *http.Request) meta {
	return meta{Timestamp: Time(time.Now()), Version: Version, RequestID: RequestIDFrom(r.Context())}
}

// internalErrorBody is written when a response cannot be encoded, which
// only a custom-field value JSON cannot hold (NaN) could cause.
const internalErrorBody = `{"success":false,"status":500,"code":"internal_error","message":"Internal server error","errors":[{"field":null,"message":"Internal server error","code":"internal_error"}]}` + "\n"

// buffers holds response buffers between requests, so that writing a
// response allocates nothing. Buffers grown past maxPooledBuffer (a large
// page) are dropped rather than kept.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const maxPooledBuffer = 1 << 20

// writeSuccess writes the success envelope through a pooled buffer.
func writeSuccess(w http.ResponseWriter, r *http.Request, status int, p *Pagination, data func([]byte) ([]byte, error)) {
	m := newMeta(r)
	m.Pagination = p
	buf := buffers.Get().(*[]byte)
	body, err := appendSuccess((*buf)[:0], status, successMessage(status), &m, data)
	if err != nil {
		slog.ErrorContext(r.Context(), "encoding response", "request_id", RequestIDFrom(r.Context()), "err", err)
		status, body = http.StatusInternalServerError, append(body[:0], internalErrorBody...)
	} else {
		body = append(body, '\n')
	}
	writeRaw(w, status, body)
	release(buf, body)
}

func release(buf *[]byte, used []byte) {
	if cap(used) <= maxPooledBuffer {
		*buf = used[:0]
		buffers.Put(buf)
	}
}

// encodeSuccess returns the encoded success envelope, in its own memory: a
// response that is stored (for Idempotency-Key replays) as well as sent.
func encodeSuccess(r *http.Request, status int, data any) ([]byte, error) {
	s := successEnvelope(r, status, data)
	return s.appendJSON(make([]byte, 0, 1024))
}

// Header values shared by every response. net/http only reads them, and a
// later Set or Add replaces or copies the slice, so sharing is safe, and it
// saves an allocation per header per response.
var (
	jsonContentTypeValue = []string{jsonContentType}
	noStoreValue         = []string{"no-store"}
	nosniffValue         = []string{"nosniff"}
)

const jsonContentType = "application/json; charset=utf-8"

// writeRaw sends an encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentTypeValue
	writeBody(w, status, body)
}

// writeRawAs sends a body of contentType (a stored response, replayed) with
// the headers every response carries.
func writeRawAs(w http.ResponseWriter, contentType string, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	writeBody(w, status, body)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Cache-Control"] = noStoreValue
	h["X-Content-Type-Options"] = nosniffValue
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ok writes data in the success envelope.
func ok(w http.ResponseWriter, r *http.Request, status int, data any) {
	writeSuccess(w, r, status, nil, func(dst []byte) ([]byte, error) { return appendData(dst, data) })
}

// okLead writes one lead in the success envelope (GET, the hot path).
func okLead(w http.ResponseWriter, r *http.Request, status int, l *Lead) {
	writeSuccess(w, r, status, nil, l.appendJSON)
}

func successMessage(status int) string {
	if status == http.StatusCreated {
		return "Resource created successfully"
	}
	return "Success"
}

func successEnvelope(r *http.Request, status int, data any) success {
	return success{Success: true, Status: status, Message: successMessage(status), Data: data, Meta: newMeta(r)}
}

// page writes one page of a list.
func page(w http.ResponseWriter, r *http.Request, data any, p Pagination) {
	writeSuccess(w, r, http.StatusOK, &p, func(dst []byte) ([]byte, error) { return appendData(dst, data) })
}

// pageLeads writes one page of leads (the list, a hot path).
func pageLeads(w http.ResponseWriter, r *http.Request, leads []Lead, p Pagination) {
	writeSuccess(w, r, http.StatusOK, &p, func(dst []byte) ([]byte, error) { return appendLeads(dst, leads) })
}

// fail writes err in the error envelope. Errors that are not client-facing
// are logged with the request ID and shown as a bare internal error.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	status, e := classify(r, err)
	writeFailure(w, r, status, e)
}

// classify gives err's status and client-facing form. Errors that are not
// client-facing are logged with the request ID and become a bare internal
// error.
func classify(r *http.Request, err error) (int, *apperr.Error) {
	e, known := errmap.Classify(err)
	if !known {
		slog.ErrorContext(r.Context(), "request failed", "request_id", RequestIDFrom(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
		e = apperr.New(apperr.Internal, "Internal server error")
	}
	return apperr.HTTPStatus(e.Code), e
}

// writeFailure writes e in the error envelope through a pooled buffer.
// Each field error is one entry; an error about no field is one entry with
// a null field.
func writeFailure(w http.ResponseWriter, r *http.Request, status int, e *apperr.Error) {
	var one [1]fieldError
	errs := one[:0]
	if len(e.Fields) > 0 {
		errs = make([]fieldError, 0, len(e.Fields))
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		errs = append(errs, fieldError{Field: &f.Field, Message: f.Message, Code: f.Code})
	}
	if len(errs) == 0 {
		errs = append(errs, fieldError{Message: e.Message, Code: string(e.Code)})
	}
	f := failure{Status: status, Code: e.Code, Message: e.Message, Errors: errs, Meta: newMeta(r)}
	buf := buffers.Get().(*[]byte)
	body := append(f.appendJSON((*buf)[:0]), '\n')
	writeRaw(w, status, body)
	release(buf, body)
}

func itoa(n int) string { return strconv.Itoa(n) }

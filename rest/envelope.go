package rest

import (
	"encoding/json"

	gojson "github.com/goccy/go-json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
)

// Version is the API version every envelope reports.
const Version = "v1"

// TimeFormat is how the API writes times: RFC 3339, UTC, milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Time is a timestamp in the API's format.
type Time time.Time

// MarshalJSON writes t as TimeFormat.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeFormat)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, TimeFormat)
	return append(b, '"'), nil
}

// timePtr converts an optional stored time.
func timePtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

type meta struct {
	Timestamp  Time        `json:"timestamp"`
	Version    string      `json:"version"`
	RequestID  string      `json:"requestId"`
	Pagination *Pagination `json:"pagination,omitempty"`
}

// Pagination describes one page of a list. NextCursor is the next page's
// `after`; PrevCursor the previous page's `before`.
type Pagination struct {
	Limit      int     `json:"limit"`
	HasMore    bool    `json:"hasMore"`
	NextCursor *string `json:"nextCursor"`
	PrevCursor *string `json:"prevCursor"`
}

type success struct {
	Success bool   `json:"success"`
	Status  int    `json:"status"`
	Message string `json:"message"`
	Data    any    `json:"data"`
	Meta    meta   `json:"meta"`
}

type failure struct {
	Success bool         `json:"success"`
	Status  int          `json:"status"`
	Code    apperr.Code  `json:"code"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors"`
	Meta    meta         `json:"meta"`
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

// writeJSON writes v with the status; the envelope is built by the callers.
// It encodes with goccy/go-json, which writes what encoding/json writes (the
// differential tests hold it to that) in half the time and a third of the
// allocations, without reflection on every call.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		// Only our own response types reach here; they always marshal.
		slog.Error("encoding response", "err", err)
		status, body = http.StatusInternalServerError, []byte(`{"success":false,"status":500,"code":"internal_error","message":"Internal server error","errors":[{"field":null,"message":"Internal server error","code":"internal_error"}]}`)
	}
	writeRaw(w, status, append(body, '\n'))
}

// encodeJSON encodes one of our response types.
func encodeJSON(v any) ([]byte, error) { return gojson.Marshal(v) }

const jsonContentType = "application/json; charset=utf-8"

// writeRaw sends an encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ok writes data in the success envelope.
func ok(w http.ResponseWriter, r *http.Request, status int, data any) {
	writeJSON(w, status, successEnvelope(r, status, data))
}

func successEnvelope(r *http.Request, status int, data any) success {
	msg := "Success"
	if status == http.StatusCreated {
		msg = "Resource created successfully"
	}
	return success{Success: true, Status: status, Message: msg, Data: data, Meta: newMeta(r)}
}

// page writes one page of a list.
func page(w http.ResponseWriter, r *http.Request, data any, p Pagination) {
	m := newMeta(r)
	m.Pagination = &p
	writeJSON(w, http.StatusOK, success{Success: true, Status: http.StatusOK, Message: "Success", Data: data, Meta: m})
}

// statusOf maps each error code to its HTTP status: the one table of it.
var statusOf = map[apperr.Code]int{
	apperr.Validation:           http.StatusUnprocessableEntity,
	apperr.IdempotencyReused:    http.StatusUnprocessableEntity,
	apperr.NotFound:             http.StatusNotFound,
	apperr.Conflict:             http.StatusConflict,
	apperr.Forbidden:            http.StatusForbidden,
	apperr.InsufficientScope:    http.StatusForbidden,
	apperr.InvalidOnBehalfOf:    http.StatusForbidden,
	apperr.InvalidAPIKey:        http.StatusUnauthorized,
	apperr.InvalidCredentials:   http.StatusUnauthorized,
	apperr.InvalidJSON:          http.StatusBadRequest,
	apperr.BadRequest:           http.StatusBadRequest,
	apperr.MethodNotAllowed:     http.StatusMethodNotAllowed,
	apperr.PayloadTooLarge:      http.StatusRequestEntityTooLarge,
	apperr.UnsupportedMediaType: http.StatusUnsupportedMediaType,
	apperr.RateLimited:          http.StatusTooManyRequests,
	apperr.PreconditionFailed:   http.StatusPreconditionFailed,
	apperr.ServiceUnavailable:   http.StatusServiceUnavailable,
	apperr.Internal:             http.StatusInternalServerError,
}

// fail writes err in the error envelope. Errors that are not client-facing
// are logged with the request ID and shown as a bare internal error.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	e, known := errmap.Classify(err)
	if !known {
		slog.ErrorContext(r.Context(), "request failed", "request_id", RequestIDFrom(r.Context()),
			"method", r.Method, "path", r.URL.Path, "err", err)
		e = apperr.New(apperr.Internal, "Internal server error")
	}
	status, found := statusOf[e.Code]
	if !found {
		status = http.StatusInternalServerError
	}
	errs := make([]fieldError, 0, max(1, len(e.Fields)))
	for _, f := range e.Fields {
		errs = append(errs, fieldError{Field: &f.Field, Message: f.Message, Code: f.Code})
	}
	if len(errs) == 0 {
		errs = append(errs, fieldError{Message: e.Message, Code: string(e.Code)})
	}
	writeJSON(w, status, failure{Status: status, Code: e.Code, Message: e.Message, Errors: errs, Meta: newMeta(r)})
}

func itoa(n int) string { return strconv.Itoa(n) }

// mustJSON encodes one of our own response types, which always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

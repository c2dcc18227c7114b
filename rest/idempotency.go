package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/idempotencykey"
	"github.com/leadron/leadron/internal/apperr"
)

// IdempotencyTTL is how long a stored response is replayed.
const IdempotencyTTL = 24 * time.Hour

// maxIdempotencyKeyLen bounds the Idempotency-Key header.
const maxIdempotencyKeyLen = 255

// idempotent makes a POST or PATCH with an Idempotency-Key safe to retry: the
// first response is stored per tenant, environment and key, and replayed
// byte for byte to later requests with the same key and the same request.
// The same key with another request is refused, and a duplicate arriving
// while the first is in flight gets 409 instead of a second write.
func (a *api) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || (r.Method != http.MethodPost && r.Method != http.MethodPatch) {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > maxIdempotencyKeyLen || strings.IndexFunc(key, unicode.IsControl) >= 0 {
			fail(w, r, apperr.Invalid("Idempotency-Key", apperr.FieldInvalid, "Idempotency-Key must be at most 255 printable characters"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if isTooLarge(err) {
			fail(w, r, tooLarge())
			return
		}
		if err != nil {
			fail(w, r, apperr.New(apperr.BadRequest, "The request body could not be read"))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256([]byte(r.Method + " " + r.URL.RequestURI() + "\n" + string(body)))

		rec, claimed, err := a.claimIdempotencyKey(r, key, sum[:])
		r = r.WithContext(context.WithValue(r.Context(), secretKey{}, new(bool)))
		switch {
		case err != nil:
			fail(w, r, err)
		case claimed:
			a.runAndStore(w, r, next, rec)
		case !bytes.Equal(rec.RequestHash, sum[:]):
			fail(w, r, apperr.New(apperr.IdempotencyReused, "This Idempotency-Key was used with a different request"))
		case rec.Status == 0:
			fail(w, r, apperr.New(apperr.Conflict, "A request with this Idempotency-Key is still in progress; retry later"))
		case string(rec.ResponseHeaders) == secretWithheld:
			fail(w, r, apperr.New(apperr.Conflict, "The first request with this Idempotency-Key succeeded; its response held a secret, which is shown only once and not kept. Roll the key for a new secret."))
		default:
			h := w.Header()
			h.Set("Content-Type", string(rec.ResponseHeaders))
			h.Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.Status)
			_, _ = w.Write(rec.ResponseBody)
		}
	})
}

// claimIdempotencyKey records the key as in flight, or returns the record
// that holds it. An expired record is dropped and the key claimed anew.
func (a *api) claimIdempotencyKey(r *http.Request, key string, hash []byte) (*ent.IdempotencyKey, bool, error) {
	ctx := r.Context()
	for range 2 {
		rec, err := a.client.IdempotencyKey.Create().SetKey(key).SetRequestHash(hash).
			SetExpiresAt(time.Now().Add(IdempotencyTTL).UTC()).Save(ctx)
		if err == nil {
			return rec, true, nil
		}
		if !ent.IsConstraintError(err) {
			return nil, false, err
		}
		rec, err = a.client.IdempotencyKey.Query().Where(idempotencykey.Key(key)).Only(ctx)
		if ent.IsNotFound(err) {
			continue // the holder just gave it up; claim again
		}
		if err != nil {
			return nil, false, err
		}
		if time.Now().Before(rec.ExpiresAt) {
			return rec, false, nil
		}
		if err := a.client.IdempotencyKey.DeleteOne(rec).Exec(ctx); err != nil && !ent.IsNotFound(err) {
			return nil, false, err
		}
	}
	return nil, false, apperr.New(apperr.Conflict, "A request with this Idempotency-Key is still in progress; retry later")
}

// runAndStore serves the request and stores its response for replay. A
// server error or a rate limit is not stored, so the client may retry.
func (a *api) runAndStore(w http.ResponseWriter, r *http.Request, next http.Handler, rec *ent.IdempotencyKey) {
	cw := &captureWriter{ResponseWriter: w}
	next.ServeHTTP(cw, r)
	// The request's own context may be done; the record must still settle.
	ctx, cancel := contextWithoutCancel(r)
	defer cancel()
	status := cw.status
	if status == 0 {
		status = http.StatusOK
	}
	var err error
	switch {
	case status >= 500 || status == http.StatusTooManyRequests:
		err = a.client.IdempotencyKey.DeleteOne(rec).Exec(ctx)
	case *r.Context().Value(secretKey{}).(*bool):
		// A plaintext key must never be stored: keep only that it happened.
		err = a.client.IdempotencyKey.UpdateOne(rec).SetStatus(status).
			SetResponseHeaders([]byte(secretWithheld)).SetResponseBody(nil).Exec(ctx)
	default:
		err = a.client.IdempotencyKey.UpdateOne(rec).SetStatus(status).
			SetResponseHeaders([]byte(cw.Header().Get("Content-Type"))).SetResponseBody(cw.body.Bytes()).Exec(ctx)
	}
	if err != nil {
		a.log.Error("settling an idempotency key", "request_id", RequestIDFrom(r.Context()), "err", err)
	}
}

// secretWithheld marks a stored response whose body held a secret and was
// therefore not kept.
const secretWithheld = "secret-withheld"

type secretKey struct{}

// withholdFromReplay marks the response as carrying a secret (a plaintext
// API key), so the idempotency store keeps only that it happened.
func withholdFromReplay(r *http.Request) {
	if flag, ok := r.Context().Value(secretKey{}).(*bool); ok {
		*flag = true
	}
}

// captureWriter copies what a handler writes.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}

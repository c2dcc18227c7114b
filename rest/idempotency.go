package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/idempotencykey"
	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/errmap"
	"github.com/leadron/leadron/internal/text"
	"github.com/leadron/leadron/internal/viewer"
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
		if len(key) > maxIdempotencyKeyLen || !text.Valid(key) || strings.IndexFunc(key, unicode.IsControl) >= 0 {
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
		// The caller is part of the request: a replay answers only the
		// key (and the user it acts as) that made the first request, whose
		// rights were checked then. Another caller's reuse of the key is a
		// different request (422), never a replay of someone else's answer.
		caller := ""
		if v := viewer.FromContext(r.Context()); v != nil {
			caller = strconv.Itoa(v.APIKeyID) + "/" + strconv.Itoa(v.UserID) + "/" + strconv.Itoa(v.KeyOwnerID)
		}
		sum := sha256.Sum256([]byte(caller + "\n" + r.Method + " " + r.URL.RequestURI() + "\n" + string(body)))

		rec, claimed, err := a.claimIdempotencyKey(r, key, sum[:])
		r = r.WithContext(context.WithValue(r.Context(), idempotencyKey{}, &idempotency{rec: rec}))
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
			contentType, etag := readStoredHeaders(rec.ResponseHeaders)
			h := w.Header()
			if etag != "" {
				h["Etag"] = []string{etag}
			}
			h.Set("Idempotent-Replayed", "true")
			writeRawAs(w, contentType, rec.Status, rec.ResponseBody)
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
		// A record still in flight long after any request could have
		// finished was abandoned (its settlement failed): its write never
		// committed, since a committed write stores its response in the
		// same transaction, so the key may be claimed again.
		abandoned := rec.Status == 0 && time.Since(rec.CreatedAt) > a.requestTimeout+settleTimeout
		if time.Now().Before(rec.ExpiresAt) && !abandoned {
			return rec, false, nil
		}
		// Only the record as read is dropped, so two retries cannot both
		// take the key over.
		if _, err := a.client.IdempotencyKey.Delete().
			Where(idempotencykey.ID(rec.ID), idempotencykey.Status(rec.Status)).Exec(ctx); err != nil {
			return nil, false, err
		}
	}
	return nil, false, apperr.New(apperr.Conflict, "A request with this Idempotency-Key is still in progress; retry later")
}

// runAndStore serves the request and stores its response for replay. A
// server error or a rate limit is not stored, so the client may retry.
func (a *api) runAndStore(w http.ResponseWriter, r *http.Request, next http.Handler, rec *ent.IdempotencyKey) {
	cw := &captureWriter{statusRecorder: statusRecorder{ResponseWriter: w}}
	next.ServeHTTP(cw, r)
	// The request's own context may be done; the record must still settle.
	ctx, cancel := contextWithoutCancel(r)
	defer cancel()
	status := cw.status
	if status == 0 {
		status = http.StatusOK
	}
	st := r.Context().Value(idempotencyKey{}).(*idempotency)
	// Every settlement applies only to a record still in flight: one whose
	// response was stored inside the write's own transaction (respondInTx)
	// is final, even when that commit's acknowledgement was lost and the
	// handler answered 503.
	if st.storedStatus != 0 && status == st.storedStatus {
		return // committed with the write: nothing is left to settle
	}
	inFlight := a.client.IdempotencyKey.Update().Where(idempotencykey.ID(rec.ID), idempotencykey.Status(0))
	settle := func() error {
		switch {
		case status >= 500 || status == http.StatusTooManyRequests:
			_, err := a.client.IdempotencyKey.Delete().Where(idempotencykey.ID(rec.ID), idempotencykey.Status(0)).Exec(ctx)
			return err
		case st.secret && status < 300:
			// A plaintext key must never be stored: keep only that it happened.
			return inFlight.SetStatus(status).SetResponseHeaders([]byte(secretWithheld)).ClearResponseBody().Exec(ctx)
		default:
			return inFlight.SetStatus(status).
				SetResponseHeaders(storedHeaders(cw.Header().Get("Content-Type"), cw.Header().Get("Etag"))).
				SetResponseBody(cw.body.Bytes()).Exec(ctx)
		}
	}
	// A record left in flight would answer 409 to every retry, so a
	// database blip at this point is waited out (within settleTimeout).
	err := settle()
	for err != nil && errmap.Unavailable(err) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		err = settle()
	}
	if err != nil {
		a.log.Error("settling an idempotency key", "request_id", RequestIDFrom(r.Context()), "err", err)
	}
}

// secretWithheld marks a stored response whose body held a secret and was
// therefore not kept.
const secretWithheld = "secret-withheld"

// storedHeaders is how a record keeps the response's headers that a replay
// repeats: its Content-Type and, for a lead, its ETag, one "Name: value"
// line each.
func storedHeaders(contentType, etag string) []byte {
	b := []byte("Content-Type: " + contentType)
	if etag != "" {
		b = append(b, "\nEtag: "+etag...)
	}
	return b
}

// readStoredHeaders reads storedHeaders' lines. Records made before the
// ETag was kept hold the bare content type.
func readStoredHeaders(b []byte) (contentType, etag string) {
	s := string(b)
	if !strings.HasPrefix(s, "Content-Type: ") {
		return s, ""
	}
	for line := range strings.SplitSeq(s, "\n") {
		if v, ok := strings.CutPrefix(line, "Content-Type: "); ok {
			contentType = v
		} else if v, ok := strings.CutPrefix(line, "Etag: "); ok {
			etag = v
		}
	}
	return contentType, etag
}

// idempotency is the state of a request that carries an Idempotency-Key.
type idempotency struct {
	rec *ent.IdempotencyKey
	// secret marks a response holding a secret (a plaintext API key).
	secret bool
	// storedStatus is the status of the response respondInTx stored in the
	// write's transaction (0: none). The handler answers with it only when
	// that transaction committed, and then the record is settled already.
	storedStatus int
}

type idempotencyKey struct{}

// withholdFromReplay marks the response as carrying a secret, so the
// idempotency store keeps only that it happened.
func withholdFromReplay(r *http.Request) {
	if st, ok := r.Context().Value(idempotencyKey{}).(*idempotency); ok {
		st.secret = true
	}
}

// response is an encoded success envelope.
type response struct {
	status int
	body   []byte
}

// respondInTx encodes a write's response inside the write's transaction
// and, for a request with an Idempotency-Key, stores it there too, so the
// stored response commits or rolls back with the write itself: a retry
// after a lost acknowledgement replays it instead of writing twice. A
// response holding a secret (withholdFromReplay) is stored as having
// happened, without its body.
//
// etag is the response's ETag header ("" for none), kept for the replay.
func respondInTx(ctx context.Context, c *ent.Client, r *http.Request, status int, etag string, data any) (response, error) {
	body, err := encodeSuccess(r, status, data)
	if err != nil {
		return response{}, err
	}
	if st, ok := ctx.Value(idempotencyKey{}).(*idempotency); ok {
		store := c.IdempotencyKey.UpdateOneID(st.rec.ID).SetStatus(status)
		if st.secret {
			store.SetResponseHeaders([]byte(secretWithheld)).ClearResponseBody()
		} else {
			store.SetResponseHeaders(storedHeaders(jsonContentType, etag)).SetResponseBody(body)
		}
		if err := store.Exec(ctx); err != nil {
			return response{}, err
		}
		st.storedStatus = status
	}
	return response{status: status, body: body}, nil
}

// write sends the response.
func (res response) write(w http.ResponseWriter) { writeRaw(w, res.status, res.body) }

// captureWriter copies what a handler writes, and its status.
type captureWriter struct {
	statusRecorder
	body bytes.Buffer
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.statusRecorder.Write(b)
}

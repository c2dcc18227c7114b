package openapi

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A host and port like an httptest server's: the validator ignores them.
const base = "http://127.0.0.1:54321"

const (
	leadID = "Ab12Cd34Ef56Gh78"
	userID = "Us3rJane0Doe0001"
	reqID  = "req_7KQ2X9M4ZB3JH6TP"
	ts     = "2026-02-08T14:30:00.000Z"
)

func lead() map[string]any {
	return map[string]any{
		"id": leadID, "tenantId": "acme-corp", "email": "jane.doe@example.com",
		"firstName": "Jane", "lastName": "Doe", "phone": "+1-555-0100", "source": "web",
		"status": "new", "score": 42, "assignedTo": userID,
		"customFields": map[string]any{"company": "Acme Inc.", "seats": 25, "vip": true},
		"createdAt":    ts, "updatedAt": ts,
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	m = maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func without(m map[string]any, keys ...string) map[string]any {
	m = maps.Clone(m)
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

func meta() map[string]any {
	return map[string]any{"timestamp": ts, "version": "v1", "requestId": reqID}
}

func pagination() map[string]any {
	return map[string]any{"limit": 20, "hasMore": true, "nextCursor": "eyJzIjoiLWNyZWF0ZWRBdCJ9", "prevCursor": nil}
}

func ok(status int, data any) map[string]any {
	msg := "Success"
	if status == http.StatusCreated {
		msg = "Resource created successfully"
	}
	return map[string]any{"success": true, "status": status, "message": msg, "data": data, "meta": meta()}
}

func list(data ...any) map[string]any {
	if data == nil {
		data = []any{} // as the API writes an empty page
	}
	env := ok(http.StatusOK, data)
	env["meta"] = with(meta(), "pagination", pagination())
	return env
}

func failure(status int, code string, errs ...map[string]any) map[string]any {
	list := make([]any, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return map[string]any{"success": false, "status": status, "code": code, "message": "Something failed",
		"errors": list, "meta": meta()}
}

func fieldErr(field any, code string) map[string]any {
	return map[string]any{"field": field, "message": "Problem", "code": code}
}

func hdr(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, "X-Request-Id": {reqID}}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			h.Del(kv[i])
		} else {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

func TestValidateResponse(t *testing.T) {
	v := newValidator(t)
	archived := with(lead(), "archivedAt", "2026-02-09T09:15:42.123Z")
	nulls := with(lead(), "phone", nil, "source", nil, "assignedTo", nil,
		"customFields", map[string]any{"note": nil, "x": "y"})
	apiKey := map[string]any{
		"id": "K3yAb12Cd34Ef56G", "name": "Zapier", "environment": "live", "prefix": "ldr_live_sk_EXAM",
		"last4": "Lkey", "scopes": []string{"leads:read"}, "createdBy": userID, "createdAt": ts,
		"lastUsedAt": nil, "expiresAt": nil, "revokedAt": nil,
	}
	audit := map[string]any{
		"id": "Ev3nt0Ab12Cd34Ef", "environment": "sandbox", "action": "lead.created", "resourceType": "lead",
		"resourceId": leadID, "actorId": userID, "onBehalfOfId": nil, "apiKeyId": nil, "requestId": reqID,
		"ip": "127.0.0.1", "userAgent": "Go-http-client/1.1",
		"changes":   map[string]any{"email": map[string]any{"old": nil, "new": "jane.doe@example.com"}},
		"createdAt": ts,
	}
	user := map[string]any{"id": userID, "tenantId": "acme-corp", "email": "jane.doe@example.com",
		"firstName": nil, "lastName": "Doe", "role": "owner", "createdAt": ts, "updatedAt": ts}

	tests := []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         any // marshaled unless a string
		wantErr      string
	}{
		// Accepted.
		{name: "created lead", method: "POST", path: "/v1/leads", status: 201, body: ok(201, lead())},
		{name: "replayed created lead", method: "POST", path: "/v1/leads", status: 201,
			header: hdr("Idempotent-Replayed", "true"), body: ok(201, lead())},
		{name: "lead list", method: "GET", path: "/v1/leads?limit=2&sort=-score", status: 200, body: list(lead(), archived)},
		{name: "empty list", method: "GET", path: "/v1/leads", status: 200, body: list()},
		{name: "lead with nulls", method: "GET", path: "/v1/leads/" + leadID, status: 200, body: ok(200, nulls)},
		{name: "archived lead", method: "POST", path: "/v1/leads/" + leadID + "/restore", status: 200, body: ok(200, archived)},
		{name: "validation error", method: "PATCH", path: "/v1/leads/" + leadID, status: 422,
			body: failure(422, "validation_failed", fieldErr("email", "invalid"), fieldErr("bogus", "unknown_field"))},
		{name: "error not about a field", method: "GET", path: "/v1/leads/Zz", status: 404,
			body: failure(404, "not_found", fieldErr(nil, "not_found"))},
		{name: "archive", method: "DELETE", path: "/v1/leads/" + leadID, status: 204, header: hdr("Content-Type", "")},
		{name: "rate limited", method: "GET", path: "/v1/leads", status: 429,
			header: hdr("Retry-After", "12", "X-RateLimit-Limit", "600", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1770561060"),
			body:   failure(429, "rate_limited", fieldErr(nil, "rate_limited"))},
		{name: "unauthenticated", method: "GET", path: "/v1/users/me", status: 401,
			header: hdr("WWW-Authenticate", `Bearer realm="leadron"`), body: failure(401, "invalid_api_key", fieldErr(nil, "invalid_api_key"))},
		{name: "current user", method: "GET", path: "/v1/users/me", status: 200, body: ok(200, user)},
		{name: "new api key", method: "POST", path: "/v1/api-keys", status: 201,
			body: ok(201, with(apiKey, "key", "ldr_live_sk_EXAMPLEnotAREALkey"))},
		{name: "audit events", method: "GET", path: "/v1/audit-events?action=lead.created", status: 200, body: list(audit)},
		{name: "bad login", method: "POST", path: "/v1/auth/login", status: 401,
			body: failure(401, "invalid_credentials", fieldErr(nil, "invalid_credentials"))},
		{name: "tokens", method: "POST", path: "/v1/auth/refresh", status: 200, body: ok(200, map[string]any{
			"accessToken": "a.b.c", "refreshToken": "rt", "expiresIn": 900, "tokenType": "Bearer"})},
		{name: "health at the root", method: "GET", path: "/healthz", status: 200,
			header: hdr("Content-Type", "application/json"), body: map[string]any{"status": "ok"}},

		// Rejected.
		{name: "missing X-Request-Id", method: "POST", path: "/v1/leads", status: 201,
			header: hdr("X-Request-Id", ""), body: ok(201, lead()), wantErr: `"X-Request-Id" missing`},
		{name: "204 missing X-Request-Id", method: "DELETE", path: "/v1/leads/" + leadID, status: 204,
			header: http.Header{}, wantErr: `"X-Request-Id" missing`},
		{name: "lead missing phone", method: "POST", path: "/v1/leads", status: 201,
			body: ok(201, without(lead(), "phone")), wantErr: "phone"},
		{name: "score as a string", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "score", "42")), wantErr: "score"},
		{name: "score out of range", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "score", 101)), wantErr: "score"},
		{name: "unknown lead field", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "company", "Acme")), wantErr: "company"},
		{name: "null in a non-nullable field", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "firstName", nil)), wantErr: "firstName"},
		{name: "nullable field of the wrong type", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "phone", 5550100)), wantErr: "phone"},
		{name: "source outside its enum", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "source", "pigeon")), wantErr: "source"},
		{name: "assignedTo not an ID", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "assignedTo", "42")), wantErr: "assignedTo"},
		{name: "custom field value an object", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "customFields", map[string]any{"a": map[string]any{}})), wantErr: "customFields"},
		{name: "custom field value too long", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "customFields", map[string]any{"a": strings.Repeat("x", 501)})), wantErr: "customFields"},
		{name: "time without milliseconds", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: ok(200, with(lead(), "createdAt", "2026-02-08T14:30:00Z")), wantErr: "createdAt"},
		{name: "undocumented status", method: "GET", path: "/v1/leads/" + leadID, status: 418,
			body: failure(418, "bad_request", fieldErr(nil, "bad_request")), wantErr: "status not documented"},
		{name: "201 where 200 is documented", method: "GET", path: "/v1/leads/" + leadID, status: 201,
			body: ok(201, lead()), wantErr: "status not documented"},
		{name: "unknown route", method: "GET", path: "/v1/widgets", status: 200, body: ok(200, lead()), wantErr: "no such route"},
		{name: "unknown method", method: "PUT", path: "/v1/leads/" + leadID, status: 200, body: ok(200, lead()), wantErr: "no such route"},
		{name: "route outside /v1", method: "GET", path: "/leads", status: 200, body: list(), wantErr: "no such route"},
		{name: "201 with the 200 message", method: "POST", path: "/v1/leads", status: 201,
			body: with(ok(201, lead()), "message", "Success"), wantErr: "message"},
		{name: "envelope status differs", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: with(ok(200, lead()), "status", 201), wantErr: "status"},
		{name: "list without pagination", method: "GET", path: "/v1/leads", status: 200,
			body: ok(200, []any{lead()}), wantErr: "pagination"},
		{name: "pagination on a single resource", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: with(ok(200, lead()), "meta", with(meta(), "pagination", pagination())), wantErr: "pagination"},
		{name: "empty errors", method: "PATCH", path: "/v1/leads/" + leadID, status: 422,
			body: failure(422, "validation_failed"), wantErr: "errors"},
		{name: "code of another status", method: "GET", path: "/v1/leads/" + leadID, status: 404,
			body: failure(404, "validation_failed", fieldErr(nil, "x")), wantErr: "code"},
		{name: "unknown error code", method: "GET", path: "/v1/leads", status: 422,
			body: failure(422, "oops", fieldErr("q", "too_long")), wantErr: "code"},
		{name: "204 with a body", method: "DELETE", path: "/v1/leads/" + leadID, status: 204,
			body: ok(200, lead()), wantErr: "without a body"},
		{name: "body that is not JSON", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			body: "<html></html>", wantErr: "decode"},
		{name: "rate limit header not an integer", method: "GET", path: "/v1/leads/" + leadID, status: 200,
			header: hdr("X-RateLimit-Remaining", "lots"), body: ok(200, lead()), wantErr: "X-RateLimit-Remaining"},
		{name: "429 without Retry-After", method: "GET", path: "/v1/leads", status: 429,
			body: failure(429, "rate_limited", fieldErr(nil, "rate_limited")), wantErr: "Retry-After"},
		{name: "api key without its secret", method: "POST", path: "/v1/api-keys", status: 201,
			body: ok(201, apiKey), wantErr: "key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			switch b := tt.body.(type) {
			case nil:
			case string:
				body = []byte(b)
			default:
				var err error
				if body, err = json.Marshal(b); err != nil {
					t.Fatal(err)
				}
			}
			h := tt.header
			if h == nil {
				h = hdr()
			}
			req := httptest.NewRequest(tt.method, base+tt.path, nil)
			err := v.ValidateResponse(req, tt.status, h, body)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("rejected: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("accepted, want an error about %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error does not mention %q: %v", tt.wantErr, err)
			case err != nil:
				t.Logf("rejected as expected: %.300s", err)
			}
		})
	}
}

// Real requests through a real server: the host is a random port and the
// body comes off the wire.
func TestValidateResponseOverHTTP(t *testing.T) {
	v := newValidator(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", reqID)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(ok(http.StatusCreated, lead()))
	}))
	defer srv.Close()
	res, err := http.Post(srv.URL+"/v1/leads", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateResponse(res.Request, res.StatusCode, res.Header, body); err != nil {
		t.Error(err)
	}
}

// One Validator serves parallel tests.
func TestValidatorConcurrentUse(t *testing.T) {
	v := newValidator(t)
	body, err := json.Marshal(list(lead(), lead()))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 5 {
				req := httptest.NewRequest(http.MethodGet, base+"/v1/leads", nil)
				if err = v.ValidateResponse(req, http.StatusOK, hdr(), body); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

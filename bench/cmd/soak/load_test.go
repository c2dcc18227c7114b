package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// do classifies answers: a 5xx, no response, another status than the
// request expects, GraphQL errors or a null result.
func TestDoClassifies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		op     int // index in mix()
		want   outcome
	}{
		{"GET 200", 200, `{"data":{}}`, 0, ok},
		{"GET 503", 503, `{"error":{}}`, 0, serverErr},
		{"GET 429", 429, `{"error":{}}`, 0, unexpected},
		{"POST 201", 201, `{}`, 2, ok},
		{"POST 200", 200, `{}`, 2, unexpected},
		{"GraphQL data", 200, `{"data":{"node":{"id":"x","email":null}}}`, 5, ok},
		{"GraphQL errors", 200, `{"errors":[{"message":"no"}],"data":null}`, 4, unexpected},
		{"GraphQL null node", 200, `{"data":{"node":null}}`, 5, unexpected},
		{"GraphQL 500", 500, `{}`, 4, serverErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-API-Key") != "key" {
					w.WriteHeader(401)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			l := newLoad(srv.URL, 1, []tenant{{slug: "a", key: "key", ids: []string{"x"}}})
			got, problem := l.do(context.Background(), &l.tenants[0], &l.ops[tc.op], rand.New(rand.NewPCG(1, 1)), "n")
			if got != tc.want || (got == ok) != (problem == "") {
				t.Errorf("%v %q, want %v", got, problem, tc.want)
			}
		})
	}
	l := newLoad("http://127.0.0.1:1", 1, []tenant{{slug: "a", key: "key", ids: []string{"x"}}})
	if got, _ := l.do(context.Background(), &l.tenants[0], &l.ops[0], rand.New(rand.NewPCG(1, 1)), "n"); got != transport {
		t.Errorf("a refused connection: %v, want transport", got)
	}
}

// Requests cut off by the end of the run are not counted as failures.
func TestWorkStopsQuietly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(50 * time.Millisecond):
		}
		w.WriteHeader(map[bool]int{true: 201, false: 200}[r.URL.Path == "/v1/leads" && r.Method == "POST"])
		_, _ = w.Write([]byte(`{"data":{"x":1}}`))
	}))
	defer srv.Close()
	l := newLoad(srv.URL, 4, []tenant{{slug: "a", key: "key", ids: []string{"x"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 175*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { l.work(ctx, 0); close(done) }()
	<-done
	w := l.take()
	if w.Requests == 0 || w.TransportErrors+w.Status5xx+w.Unexpected != 0 {
		t.Errorf("%+v, problems %q", w, l.examples)
	}
	if w.P50ms < 50 {
		t.Errorf("p50 %.1f ms, want at least the handler's 50 ms", w.P50ms)
	}
}

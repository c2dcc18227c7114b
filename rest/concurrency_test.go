package rest_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/leadron/leadron/ent/auditevent"
	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/testutil"
)

// Concurrent PATCHes without If-Match each apply: none is lost, and the
// activity log shows every one.
func TestConcurrentPatchesLoseNothing(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		const n = 12
		var wg sync.WaitGroup
		statuses := make([]int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := w.Do(t, apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full,
					Body: fmt.Sprintf(`{"customFields":{"k%d":%d}}`, i, i)})
				statuses[i] = res.Status
			}()
		}
		wg.Wait()
		applied := 0
		for _, s := range statuses {
			switch s {
			case 200:
				applied++
			case 409: // raced past every retry: reported, not lost
			default:
				t.Errorf("status %d", s)
			}
		}
		l := db.Client.Lead.GetX(w.acme.System(live), mustDecode(t, w, w.mine))
		if m, err := l.CustomFields.Map(); err != nil || len(m) != applied {
			t.Errorf("%d custom fields survive from %d applied PATCHes: %v (%v)", len(m), applied, l.CustomFields, err)
		}
		events := db.Client.AuditEvent.Query().Where(auditevent.ResourceID(l.ID), auditevent.Action("lead.updated")).CountX(w.acme.System(live))
		if events != applied {
			t.Errorf("%d update events for %d applied PATCHes", events, applied)
		}
	})
}

// With If-Match, of several writers holding the same version exactly one
// wins; the others get 412 and nothing of theirs is written.
func TestIfMatch(t *testing.T) {
	testutil.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		get := w.Do(t, apitest.Request{Method: "GET", Path: "/v1/leads/" + w.mine, Key: w.keys.full})
		tag := get.Header.Get("ETag")
		if tag != `"1"` {
			t.Fatalf("ETag %q, want \"1\"", tag)
		}
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		count := map[int]int{}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := w.Do(t, apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full,
					Headers: map[string]string{"If-Match": tag}, Body: `{"score":` + strconv.Itoa(10+i) + `}`})
				mu.Lock()
				count[res.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if count[200] != 1 || count[412] != n-1 {
			t.Errorf("statuses %v, want one 200 and %d 412s", count, n-1)
		}
		w.Run(t, []apitest.Scenario{
			{Name: "stale version", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full,
				Headers: map[string]string{"If-Match": tag}, Body: `{"score":1}`}, Status: 412, Contains: []string{`"code":"precondition_failed"`}},
			{Name: "current version", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full,
				Headers: map[string]string{"If-Match": `"2"`}, Body: `{"score":2}`}, Status: 200, Check: func(t *testing.T, res apitest.Response) {
				if res.Header.Get("ETag") != `"3"` {
					t.Errorf("ETag after the write: %q", res.Header.Get("ETag"))
				}
			}},
			{Name: "any version", Request: apitest.Request{Method: "PATCH", Path: "/v1/leads/" + w.mine, Key: w.keys.full,
				Headers: map[string]string{"If-Match": "*"}, Body: `{"score":3}`}, Status: 200},
		})
	})
}

package rest

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/leadron/leadron/internal/customfields"
)

// FuzzEncodingMatchesEncodingJSON holds the response encoders (the
// appenders, and goccy/go-json for the colder data types) to encoding/json's
// output, byte for byte, for the envelopes the API writes: a lead whose
// strings and custom fields come from the input, in a success envelope, a
// page, another endpoint's data, and an error envelope.
func FuzzEncodingMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"company":"Acme Inc","seats":25,"vip":true,"note":null}`,
		`{"html":"<b>&</b>","quote":"\"","nl":"a\nb\tc","u":"\u2028\u2029","emoji":"🙂","bad":"\udc00"}`,
		`{"small":1e-7,"big":1e21,"neg":-0.5,"int":12345678901234567890,"zero":0,"frac":0.1}`,
		`{"zz":1,"aa":2,"Ab":3,"é":4,"":5}`,
		`{"nested":{"a":[1,"x",null]}}`,
	} {
		f.Add(seed)
	}
	when := time.Date(2026, 2, 8, 14, 30, 0, 123456789, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		var custom map[string]any
		if json.Unmarshal([]byte(in), &custom) != nil {
			custom = map[string]any{"raw": in}
		}
		text := in
		l := Lead{
			ID: "kOOetE8ATEmxMdpV", TenantID: text, Email: text, FirstName: text, LastName: "Doe",
			Phone: &text, Status: "new", Score: 42, CustomFields: customfields.MustFromMap(custom),
			CreatedAt: Time(when), UpdatedAt: Time(when.Add(time.Hour)), ArchivedAt: (*Time)(&when),
		}
		next := text
		m := meta{Timestamp: Time(when), Version: Version, RequestID: text}
		paged := m
		paged.Pagination = &Pagination{Limit: 50, HasMore: true, NextCursor: &next}
		merged := l
		merged.MergedInto, merged.ArchivedAt, merged.Source = &text, nil, &text
		merged.AssignedTo = optionalID{id: text, set: true}
		for name, v := range map[string]any{
			"lead":   &success{Success: true, Status: 200, Message: "Success", Data: l, Meta: m},
			"merged": &success{Success: true, Status: 201, Message: text, Data: &merged, Meta: m},
			"page":   &success{Success: true, Status: 200, Message: "Success", Data: []Lead{l, merged}, Meta: paged},
			"other":  &success{Success: true, Status: 200, Message: "Success", Data: map[string]any{"lead": l, "n": text}, Meta: paged},
			"error":  &failure{Status: 422, Code: "validation_failed", Message: text, Errors: []fieldError{{Field: &text, Message: text, Code: "invalid"}, {Message: text, Code: text}}, Meta: m},
		} {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%s: encoding/json: %v", name, err)
			}
			var got []byte
			switch v := v.(type) {
			case *success:
				got, err = v.appendJSON(nil)
			case *failure:
				got = v.appendJSON(nil)
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: the encoders differ for %q\n ours: %s\n json: %s", name, in, got, want)
			}
		}
	})
}

func TestSetETag(t *testing.T) {
	for _, version := range []int{0, 1, 63, 64, 1000} {
		w := httptest.NewRecorder()
		setETag(w, version)
		if got, want := w.Header().Get("ETag"), `"`+strconv.Itoa(version)+`"`; got != want {
			t.Errorf("version %d: ETag %s, want %s", version, got, want)
		}
	}
}

// TestUnencodableResponseIsAnInternalError: a value JSON cannot hold (NaN)
// gives the bare 500 envelope, and the pooled buffer it used serves the
// next response cleanly.
func TestUnencodableResponseIsAnInternalError(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/leads/x", nil)
	w := httptest.NewRecorder()
	ok(w, r, http.StatusOK, map[string]any{"x": math.NaN()})
	if w.Code != http.StatusInternalServerError || w.Body.String() != internalErrorBody {
		t.Errorf("NaN: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	okLead(w, r, http.StatusOK, &Lead{ID: "good"})
	var env map[string]any
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &env) != nil || env["success"] != true {
		t.Errorf("the next response: %d %s", w.Code, w.Body)
	}
}

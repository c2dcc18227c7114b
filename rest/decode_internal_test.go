package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/leadron/leadron/internal/apperr"
)

// FuzzDecodeValueMatchesEncodingJSON holds the body decoder's direct paths
// to encoding/json: for every value readObject accepts (valid JSON and
// UTF-8, no name twice), a member decodes to what json.Unmarshal gives, and
// fits exactly when json.Unmarshal succeeds; except that an int also reads
// a whole number written as a float (50.0, 5e1) up to 2^53, which
// json.Unmarshal reads only into a float64.
func FuzzDecodeValueMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`"jane"`, `"J\u00e9r\u00f4me \"Q\" \\ \/ \n"`, `"\ud83d\ude42"`, `""`, `42`, `-0`, `1e2`, `50.0`, `10.5`, `9007199254740993.0`, `-1e300`, `99.9999999999999999`, `50.000000000000001`, `1e-400`, `5000e-2`, `0.5e1`, `1E+2`, `99999999999999999999`,
		`-9223372036854775808`, `true`, `null`, `{"a":{"b":[1,"x",null,true]},"c":1.5e-7}`, `{}`, `[]`, `[1]`, `"\udc00"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v := jsontext.Value(raw)
		if !v.IsValid() || v.Compact() != nil || string(v) == "null" {
			return // readObject refuses it, or member handles it before decoding
		}
		// v is compact, as a member's value is sliced: no surrounding space
		checkDecode(t, v, unmarshal[string])
		checkDecode(t, v, wholeNumber)
		checkDecode(t, v, unmarshal[map[string]any])
	})
}

func unmarshal[T any](raw []byte) (T, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}

// wholeNumber is json.Unmarshal into an int, or else a number that
// big.Float reads, at 512 bits, as exactly a whole number of at most 2^53:
// a check of integral's big.Rat by other means. Both refuse numbers longer
// than 64 characters or with an exponent beyond ±30, to bound the work.
func wholeNumber(raw []byte) (int, error) {
	n, err := unmarshal[int](raw)
	if err == nil {
		return n, nil
	}
	s := string(raw)
	if len(s) > 64 {
		return 0, err
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if exp, xerr := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+")); xerr != nil || exp < -30 || exp > 30 {
			return 0, err
		}
	}
	f, _, ferr := big.ParseFloat(s, 10, 512, big.ToNearestEven)
	if ferr != nil || !f.IsInt() {
		return 0, err
	}
	i, acc := f.Int64()
	if acc != big.Exact || i > 1<<53 || i < -(1<<53) {
		return 0, err
	}
	return int(i), nil
}

func checkDecode[T any](t *testing.T, raw []byte, reference func([]byte) (T, error)) {
	t.Helper()
	got, fits := decodeValue[T](raw)
	want, err := reference(raw)
	if fits != (err == nil) {
		t.Fatalf("%T from %s: fits %v, encoding/json: %v", want, raw, fits, err)
	}
	if fits && !reflect.DeepEqual(got, want) {
		t.Fatalf("%T from %s: %#v, encoding/json gives %#v", want, raw, got, want)
	}
}

// TestReleasedBodiesLeaveNothingBehind reuses one pooled body for a second
// request: what was decoded from the first stays as it was (decoding
// copies everything out), and the released buffer is cleared, since a body
// can hold a password.
func TestReleasedBodiesLeaveNothingBehind(t *testing.T) {
	read := func(body string) *object {
		t.Helper()
		r := httptest.NewRequest("POST", "/v1/auth/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		o, err := readObject(r)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	first := read(`{"email":"jane@example.com","password":"correct horse","customFields":{"k":"v"}}`)
	email := member[string](first, "email", "a string").V
	custom := member[map[string]any](first, "customFields", "an object").V
	buf := first.body.Bytes()
	first.release()
	if strings.Trim(string(buf), "\x00") != "" {
		t.Errorf("the released body still holds %q", buf)
	}
	d := decoders.Get().(*bodyDecoder) // most likely the one the first body used
	if holds(reflect.ValueOf(d), []byte("correct horse"), map[uintptr]bool{}) {
		t.Error("the pooled decoder still holds the released body")
	}
	decoders.Put(d)
	second := read(`{"email":"mark@example.org","password":"battery staple","customFields":{"x":"y"}}`)
	defer second.release()
	if email != "jane@example.com" || custom["k"] != "v" || len(custom) != 1 {
		t.Errorf("the first body's values changed: %q, %v", email, custom)
	}
	if got := member[string](second, "email", "a string").V; got != "mark@example.org" {
		t.Errorf("second body: %q", got)
	}
}

// holds reports whether any bytes or string reachable from v contain needle.
func holds(v reflect.Value, needle []byte, seen map[uintptr]bool) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return false
		}
		if v.Kind() == reflect.Pointer {
			if seen[v.Pointer()] {
				return false
			}
			seen[v.Pointer()] = true
		}
		return holds(v.Elem(), needle, seen)
	case reflect.Struct:
		for i := range v.NumField() {
			if holds(v.Field(i), needle, seen) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			if v.Kind() == reflect.Slice {
				b = v.Slice(0, v.Cap()).Bytes() // what the backing array still holds
			} else {
				reflect.Copy(reflect.ValueOf(b), v)
			}
			return bytes.Contains(b, needle)
		}
		for i := range v.Len() {
			if holds(v.Index(i), needle, seen) {
				return true
			}
		}
	case reflect.String:
		return strings.Contains(v.String(), string(needle))
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if holds(it.Key(), needle, seen) || holds(it.Value(), needle, seen) {
				return true
			}
		}
	}
	return false
}

// TestBodyThatCannotBeRead: a body that fails part way (a client that
// went away) is a 400 bad_request, and the half-read object is released.
func TestBodyThatCannotBeRead(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/leads", io.MultiReader(strings.NewReader(`{"email":`), failingReader{}))
	_, err := readObject(r)
	if e, ok := apperr.As(err); !ok || e.Code != apperr.BadRequest {
		t.Fatalf("got %v, want bad_request", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

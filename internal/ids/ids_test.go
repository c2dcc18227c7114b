package ids_test

import (
	mrand "math/rand/v2"

	"errors"
	"github.com/sqids/sqids-go"
	"strings"
	"testing"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/internal/ids"
)

func newCodec(t testing.TB) *ids.Codec {
	t.Helper()
	alphabet, err := ids.NewAlphabet()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ids.NewCodec(alphabet, ent.IDRangeStarts())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Real IDs: the first and a late row of each type's global ID range.
var sampleIDs = []struct {
	table string
	id    int
}{
	{"api_keys", 1},
	{"api_keys", 1<<32 - 1},
	{"audit_events", 1<<32 + 1},
	{"leads", 2<<32 + 1},
	{"leads", 2<<32 + 123_456_789},
	{"tenants", 4<<32 + 1},
	{"users", 5<<32 + 7},
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t)
	for _, tc := range sampleIDs {
		s := c.Encode(tc.id)
		if n := len(s); n < 16 || n > 17 {
			t.Errorf("Encode(%d) = %q: %d characters, want 16-17", tc.id, s, n)
		}
		got, err := c.DecodeAs(s, tc.table)
		if err != nil || got != tc.id {
			t.Errorf("DecodeAs(%q, %s) = %d, %v; want %d", s, tc.table, got, err, tc.id)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	c := newCodec(t)
	lead := c.Encode(2<<32 + 5)
	cases := map[string]string{
		"empty":          "",
		"too short":      lead[:15],
		"too long":       lead + "aa",
		"punctuation":    lead[:15] + "-",
		"space":          " " + lead[1:],
		"unicode":        lead[:14] + "é",
		"sql":            "1' OR '1'='1----",
		"changed char":   flip(lead),
		"another lead's": strings.ToUpper(lead),
	}
	for name, s := range cases {
		if id, err := c.DecodeAs(s, "leads"); err == nil {
			// A different string may decode to some other lead only if
			// it is that lead's canonical ID.
			if c.Encode(id) != s {
				t.Errorf("%s: %q decoded to %d but is not canonical", name, s, id)
			}
		} else if !errors.Is(err, ids.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
	if _, err := c.DecodeAs(lead, "users"); !errors.Is(err, ids.ErrInvalid) {
		t.Errorf("a lead ID decoded as a user: %v", err)
	}
}

// Only the canonical spelling of an ID decodes: sqids decodes some strings
// it would never produce, and those must be refused.
func TestDecodeIsCanonical(t *testing.T) {
	c := newCodec(t)
	id := 2<<32 + 42
	s := c.Encode(id)
	accepted := 0
	for i := 0; i < len(s); i++ {
		for _, r := range "abcXYZ019" {
			v := s[:i] + string(r) + s[i+1:]
			if v == s {
				continue
			}
			if got, err := c.Decode(v); err == nil {
				accepted++
				if c.Encode(got) != v {
					t.Fatalf("%q decoded to %d, whose ID is %q", v, got, c.Encode(got))
				}
			}
		}
	}
	t.Logf("%d single-character variants were other canonical IDs", accepted)
}

func TestAlphabetsDiffer(t *testing.T) {
	a, b := newCodec(t), newCodec(t)
	if a.Encode(2<<32+1) == b.Encode(2<<32+1) {
		t.Error("two deployments produced the same ID; the alphabet is not random")
	}
}

func TestValidateAlphabet(t *testing.T) {
	good, _ := ids.NewAlphabet()
	for name, a := range map[string]string{
		"short":     good[:61],
		"repeated":  good[:61] + good[:1],
		"non-alnum": good[:61] + "-",
	} {
		if err := ids.ValidateAlphabet(a); err == nil {
			t.Errorf("%s alphabet accepted", name)
		}
	}
	if err := ids.ValidateAlphabet(good); err != nil {
		t.Errorf("good alphabet refused: %v", err)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[3] == 'a' {
		b[3] = 'b'
	} else {
		b[3] = 'a'
	}
	return string(b)
}

func BenchmarkEncode(b *testing.B) {
	c := newCodec(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = c.Encode(2<<32 + i)
	}
}

func BenchmarkDecode(b *testing.B) {
	c := newCodec(b)
	s := c.Encode(2<<32 + 12345)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DecodeAs(s, "leads"); err != nil {
			b.Fatal(err)
		}
	}
}

// Decoding any string either fails or yields the one ID that encodes back
// to exactly that string.
func FuzzDecode(f *testing.F) {
	c := newCodec(f)
	for _, s := range []string{"", "0", "AAAAAAAAAAAAAAAA", c.Encode(1), c.Encode(1<<32 + 7), c.Encode(1<<40) + "x", "ÿÿÿÿ", "jLLZ4vGu6VFY3cTg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := c.Decode(s)
		if err != nil {
			return
		}
		if back := c.Encode(id); back != s {
			t.Fatalf("Decode(%q) = %d, which encodes as %q", s, id, back)
		}
		if _, err := c.DecodeAs(s, c.TableOf(id)); c.TableOf(id) != "" && err != nil {
			t.Fatalf("DecodeAs(%q, its own table): %v", s, err)
		}
	})
}

// reference is the sqids library configured as the codec claims to behave.
func reference(t testing.TB, alphabet string) *sqids.Sqids {
	t.Helper()
	sq, err := sqids.New(sqids.Options{Alphabet: alphabet, MinLength: ids.MinLength, Blocklist: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return sq
}

// The codec's own encoder must produce exactly the library's strings.
func TestEncodingMatchesTheSqidsLibrary(t *testing.T) {
	r := mrand.New(mrand.NewPCG(1, 2))
	for range 20 {
		alphabet, err := ids.NewAlphabet()
		if err != nil {
			t.Fatal(err)
		}
		c, err := ids.NewCodec(alphabet, `{"leads":4294967296}`)
		if err != nil {
			t.Fatal(err)
		}
		ref := reference(t, alphabet)
		nums := []uint64{0, 1, 61, 62, 3843, 1 << 32, 1<<32 + 1, 1<<40 - 1, 1 << 62}
		for range 2000 {
			nums = append(nums, r.Uint64N(1<<48), uint64(r.IntN(64))<<32+r.Uint64N(1<<20))
		}
		for _, n := range nums {
			want, err := ref.Encode([]uint64{n})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Encode(int(n)); got != want {
				t.Fatalf("alphabet %s, %d: got %q, the library gives %q", alphabet, n, got, want)
			}
			if back, err := c.Decode(want); err != nil || back != int(n) {
				t.Fatalf("decoding %q: %d, %v; want %d", want, back, err, n)
			}
		}
	}
}

// Any string is accepted exactly when the library decodes it to one number
// whose encoding is that string.
func FuzzDecodeMatchesTheSqidsLibrary(f *testing.F) {
	const alphabet = "Fq3Vw0UZbYhxsNkXaiTcJ8LWGtzB1dOPR6fE4j5MgSnpDol7uIyrHQKm9e2AvC"
	c, err := ids.NewCodec(alphabet, `{"leads":4294967296}`)
	if err != nil {
		f.Fatal(err)
	}
	ref := reference(f, alphabet)
	for _, n := range []int{0, 1, 1 << 32, 1<<40 + 5} {
		f.Add(c.Encode(n))
	}
	f.Add("FFFFFFFFFFFFFFFF")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := c.Decode(s)
		want, ok := -1, false
		if nums := ref.Decode(s); len(nums) == 1 && nums[0] <= 1<<62 && len(s) >= ids.MinLength && len(s) <= ids.MinLength+1 {
			if again, _ := ref.Encode(nums); again == s {
				want, ok = int(nums[0]), true
			}
		}
		if (err == nil) != ok || (ok && got != want) {
			t.Fatalf("Decode(%q) = %d, %v; the library says %d, %v", s, got, err, want, ok)
		}
	})
}

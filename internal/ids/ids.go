// Package ids turns int primary keys into the opaque sqids strings that the
// API shows, and back. The alphabet is random per deployment and persisted, so
// IDs are unguessable across deployments yet stable across restarts. An ID
// also tells its type, through ent's global ID ranges (sql/globalid).
package ids

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// MinLength is the shortest ID the codec produces. With the global ID ranges
// every real ID encodes to exactly 16 or 17 characters.
const MinLength = 16

// base62 is the default alphabet that NewAlphabet shuffles.
const base62 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// rangeSize is the width of each type's ID range under sql/globalid.
const rangeSize = 1 << 32

// ErrInvalid is returned for anything that is not a canonical ID of the
// expected type. Callers answer it as "not found", exactly like a missing row.
var ErrInvalid = errors.New("invalid id")

// Codec encodes and decodes IDs for one deployment.
type Codec struct {
	enc    *encoding
	starts map[string]int // table name -> first ID of its range
	tables map[int]string // first ID of a range -> table name
}

// NewCodec returns a codec for the alphabet. rangeStarts is the JSON map of
// table name to range start that ent generates (ent.IDRangeStarts).
func NewCodec(alphabet, rangeStarts string) (*Codec, error) {
	if err := ValidateAlphabet(alphabet); err != nil {
		return nil, err
	}
	// No blocklist: checking every ID against sqids' ~500 words cost most of
	// the CPU of a list request (docs/performance.md). IDs are random-looking
	// 16-character strings on a per-deployment alphabet; an accidental word
	// is harmless.
	enc := newEncoding(alphabet)
	var starts map[string]int
	if err := json.Unmarshal([]byte(rangeStarts), &starts); err != nil {
		return nil, fmt.Errorf("ids: parsing range starts: %w", err)
	}
	tables := make(map[int]string, len(starts))
	for table, start := range starts {
		tables[start] = table
	}
	return &Codec{enc: enc, starts: starts, tables: tables}, nil
}

// NewAlphabet returns a random permutation of the 62 alphanumerics.
func NewAlphabet() (string, error) {
	b := []byte(base62)
	for i := len(b) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("ids: generating alphabet: %w", err)
		}
		b[i], b[j.Int64()] = b[j.Int64()], b[i]
	}
	return string(b), nil
}

// ValidateAlphabet checks that a persisted alphabet is a permutation of the
// 62 alphanumerics, so a corrupted setting fails loudly at startup.
func ValidateAlphabet(a string) error {
	if len(a) != len(base62) {
		return fmt.Errorf("ids: alphabet must have %d characters, has %d", len(base62), len(a))
	}
	var seen [256]bool
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !isAlnum(c) || seen[c] {
			return fmt.Errorf("ids: alphabet must be a permutation of [a-zA-Z0-9]")
		}
		seen[c] = true
	}
	return nil
}

// Encode returns the public form of a primary key.
func (c *Codec) Encode(id int) string {
	if id < 0 {
		panic(fmt.Sprintf("ids: encoding negative id %d", id))
	}
	return c.enc.encode(uint64(id))
}

// Decode returns the primary key of a public ID of any type.
func (c *Codec) Decode(s string) (int, error) {
	if len(s) < MinLength || len(s) > MinLength+1 {
		return 0, ErrInvalid
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return 0, ErrInvalid
		}
	}
	n, ok := c.enc.decode(s)
	if !ok || n > 1<<62 {
		return 0, ErrInvalid
	}
	// Only the canonical spelling of an ID is accepted, so each object has
	// exactly one ID. The comparison of string(bytes) does not allocate.
	var buf [MinLength + 16]byte
	if string(c.enc.appendEncoded(buf[:0], n)) != s {
		return 0, ErrInvalid
	}
	return int(n), nil
}

// DecodeAs decodes s and checks that it is an ID of the given table, so an ID
// of another type is rejected exactly like a malformed one.
func (c *Codec) DecodeAs(s, table string) (int, error) {
	id, err := c.Decode(s)
	if err != nil {
		return 0, err
	}
	if c.TableOf(id) != table {
		return 0, ErrInvalid
	}
	return id, nil
}

// TableOf returns the table whose range holds id, or "".
func (c *Codec) TableOf(id int) string {
	return c.tables[id/rangeSize*rangeSize]
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

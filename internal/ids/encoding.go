package ids

// This file is a specialised sqids encoder for exactly one number with a
// minimum length and no blocklist: Leadron's only use. It produces the same
// strings as github.com/sqids/sqids-go (the tests check it against the
// library, which stays the reference), with the alphabet rotations
// precomputed, so an ID costs one small allocation instead of ~27 and a
// list page no longer spends its time encoding IDs (docs/performance.md).

const alphabetLen = 62 // len(base62)

// encoding holds, for each of the alphabet's rotations, the reversed
// rotated alphabet sqids works with and its first reshuffle (used for
// padding up to MinLength), and where each character sits in them.
type encoding struct {
	shuffled [alphabetLen]byte
	rev      [alphabetLen][alphabetLen]byte
	pad      [alphabetLen][alphabetLen]byte
	// pos[offset][c] is the digit value of c in rev[offset][1:], or -1.
	pos [alphabetLen][256]int8
	// prefixOffset[c] is the rotation a string starting with c uses.
	prefixOffset [256]int8
}

// sqidsShuffle is sqids' deterministic shuffle.
func sqidsShuffle(b []byte) {
	for i, j := 0, len(b)-1; j > 0; i, j = i+1, j-1 {
		r := (i*j + int(b[i]) + int(b[j])) % len(b)
		b[i], b[r] = b[r], b[i]
	}
}

func newEncoding(alphabet string) *encoding {
	e := &encoding{}
	copy(e.shuffled[:], alphabet)
	sqidsShuffle(e.shuffled[:])
	for i := range e.prefixOffset {
		e.prefixOffset[i] = -1
	}
	for off := range alphabetLen {
		var r [alphabetLen]byte
		for i := range alphabetLen {
			r[i] = e.shuffled[(off+i)%alphabetLen]
		}
		e.prefixOffset[r[0]] = int8(off)
		for i := range alphabetLen / 2 {
			r[i], r[alphabetLen-1-i] = r[alphabetLen-1-i], r[i]
		}
		e.rev[off] = r
		e.pad[off] = r
		sqidsShuffle(e.pad[off][:])
		for i := range e.pos[off] {
			e.pos[off][i] = -1
		}
		for i, c := range r[1:] {
			e.pos[off][c] = int8(i)
		}
	}
	return e
}

// encode returns the sqids string of n.
func (e *encoding) encode(n uint64) string {
	var buf [MinLength + 16]byte
	return string(e.appendEncoded(buf[:0], n))
}

// appendEncoded appends the sqids string of n to buf. Decode compares it
// with the input without making a string.
func (e *encoding) appendEncoded(buf []byte, n uint64) []byte {
	off := (1 + int(e.shuffled[n%alphabetLen])) % alphabetLen
	rev := &e.rev[off]
	// Digits in base 61 over rev[1:], most significant first.
	var digits [16]byte
	d := len(digits)
	for {
		d--
		digits[d] = rev[1+n%(alphabetLen-1)]
		n /= alphabetLen - 1
		if n == 0 {
			break
		}
	}
	start := len(buf)
	out := append(buf, e.shuffled[off])
	out = append(out, digits[d:]...)
	if len(out)-start < MinLength {
		out = append(out, rev[0])
		out = append(out, e.pad[off][:MinLength-(len(out)-start)]...)
	}
	return out
}

// decode returns the number a string's first chunk encodes. It does not
// check that s is canonical; callers re-encode and compare.
func (e *encoding) decode(s string) (uint64, bool) {
	off := e.prefixOffset[s[0]]
	if off < 0 {
		return 0, false
	}
	rev, pos := &e.rev[off], &e.pos[off]
	var n uint64
	for i := 1; i < len(s) && s[i] != rev[0]; i++ {
		p := pos[s[i]]
		if p < 0 || n > (1<<63)/(alphabetLen-1) {
			return 0, false
		}
		n = n*(alphabetLen-1) + uint64(p)
	}
	return n, true
}

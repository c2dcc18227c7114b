// Package apikey makes and recognizes API keys: ldr_<live|sandbox>_sk_ and 40
// random base62 characters. Only a SHA-256 of a key is stored; a key's 238
// random bits make a slow hash unnecessary and keep verification cheap.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"strings"

	"github.com/leadron/leadron/internal/viewer"
)

// secretLen is the number of random base62 characters in a key.
const secretLen = 40

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Key is a freshly generated key. Plaintext is shown to its owner once.
type Key struct {
	Plaintext string
	Hash      []byte
	Prefix    string // what lists show: "ldr_live_sk_" and 4 characters
	Last4     string
}

// Generate returns a new random key for env.
func Generate(env viewer.Environment) (Key, error) {
	max := big.NewInt(int64(len(base62)))
	secret := make([]byte, secretLen)
	for i := range secret {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return Key{}, err
		}
		secret[i] = base62[n.Int64()]
	}
	head := prefixFor(env)
	plain := head + string(secret)
	return Key{Plaintext: plain, Hash: Hash(plain), Prefix: head + string(secret[:4]), Last4: string(secret[secretLen-4:])}, nil
}

func prefixFor(env viewer.Environment) string { return "ldr_" + string(env) + "_sk_" }

// Hash returns the stored form of a key.
func Hash(plain string) []byte {
	sum := Sum(plain)
	return sum[:]
}

// Sum is Hash as an array, which a map can key by without allocating.
func Sum(plain string) [sha256.Size]byte { return sha256.Sum256([]byte(plain)) }

// Environment returns the environment a key's text names, and whether the
// text looks like a Leadron key at all. A key that fails this check is
// rejected without a database lookup.
func Environment(plain string) (viewer.Environment, bool) {
	for _, env := range []viewer.Environment{viewer.Live, viewer.Sandbox} {
		if rest, ok := strings.CutPrefix(plain, prefixFor(env)); ok && len(rest) >= 32 && len(rest) <= 64 && isBase62(rest) {
			return env, true
		}
	}
	return "", false
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

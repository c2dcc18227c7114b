package rest

import "testing"

// A record keeps the headers a replay repeats, and a record stored before
// the ETag was kept (the bare content type) still replays.
func TestStoredHeaders(t *testing.T) {
	tests := []struct {
		stored            []byte
		contentType, etag string
	}{
		{storedHeaders(jsonContentType, `"7"`), jsonContentType, `"7"`},
		{storedHeaders(jsonContentType, ""), jsonContentType, ""},
		{[]byte(jsonContentType), jsonContentType, ""},
		{[]byte("application/json"), "application/json", ""},
	}
	for _, tt := range tests {
		ct, etag := readStoredHeaders(tt.stored)
		if ct != tt.contentType || etag != tt.etag {
			t.Errorf("readStoredHeaders(%q) = %q, %q; want %q, %q", tt.stored, ct, etag, tt.contentType, tt.etag)
		}
	}
}

// Package playground serves GraphiQL at /playground from files embedded in
// the binary (assets/README.md says where they come from), so it works with
// no internet access. The page holds no credentials: the user pastes an
// access token into GraphiQL's Headers pane, and /graphql authenticates it.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Path is where the playground is served.
const Path = "/playground"

//go:embed index.html playground.js playground.css assets/*.js assets/*.css assets/LICENSE.*
var files embed.FS

// contentSecurityPolicy allows the page only this server: its own scripts
// and styles (GraphiQL sets inline styles), fonts and images inlined as
// data: URIs, and requests to /graphql.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"font-src 'self' data:; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type file struct {
	body        []byte
	etag, ctype string
}

// Handler serves the page at Path and its files under it.
func Handler() http.Handler {
	byPath := map[string]file{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := file{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: contentType(p)}
		if p == "index.html" {
			byPath[Path] = f
			byPath[Path+"/"] = f
		} else {
			byPath[Path+"/"+p] = f
		}
		return nil
	})
	if err != nil {
		panic("playground: reading the embedded files: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("ETag", f.etag)
		// Revalidate every time (a cheap 304): the files change with the
		// binary, under the same names.
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	})
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	if strings.HasPrefix(path.Base(p), "LICENSE") {
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

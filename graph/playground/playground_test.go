package playground_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/leadron/leadron/internal/apitest"
	"github.com/leadron/leadron/internal/server"
	"github.com/leadron/leadron/internal/testutil"
)

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	jsComment   = regexp.MustCompile(`(?m)^\s*//.*$`)
	externalURL = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	assetRef    = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
)

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// The playground is served from the binary, page and assets, with no
// credentials and no address outside this server.
func TestPlayground(t *testing.T) {
	db := testutil.NewDB(t, "sqlite3")
	env := apitest.New(t, db, func(d *server.Deps) { d.Playground = true })

	res, page := get(t, env.URL+"/playground")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /playground: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if u := externalURL.FindString(htmlComment.ReplaceAllString(page, "")); u != "" {
		t.Errorf("the page refers to %s outside this server", u)
	}
	refs := assetRef.FindAllStringSubmatch(page, -1)
	if len(refs) != 6 {
		t.Errorf("%d assets referenced, want 6 (3 scripts of GraphiQL and React, its CSS, ours)", len(refs))
	}
	wantType := map[string]string{".js": "text/javascript", ".css": "text/css"}
	for _, ref := range refs {
		path := ref[1]
		if !strings.HasPrefix(path, "/playground/") {
			t.Errorf("%s is not served by the playground", path)
			continue
		}
		res, body := get(t, env.URL+path)
		if res.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %d", path, res.StatusCode)
			continue
		}
		ext := path[strings.LastIndexByte(path, '.'):]
		if !strings.HasPrefix(res.Header.Get("Content-Type"), wantType[ext]) {
			t.Errorf("%s: Content-Type %q", path, res.Header.Get("Content-Type"))
		}
		if !strings.Contains(path, "/assets/") {
			// Our own files: no address outside this server either.
			if u := externalURL.FindString(jsComment.ReplaceAllString(body, "")); u != "" {
				t.Errorf("%s refers to %s", path, u)
			}
		}
		// Unchanged files revalidate cheaply.
		if res, _ := get(t, env.URL+path, "If-None-Match", res.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", path, res.StatusCode)
		}
	}
	for _, lic := range []string{"LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"} {
		if res, body := get(t, env.URL+"/playground/assets/"+lic); res.StatusCode != http.StatusOK || !strings.Contains(body, "MIT License") {
			t.Errorf("%s: %d", lic, res.StatusCode)
		}
	}
	if res, _ := get(t, env.URL+"/playground/assets/nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown asset: %d", res.StatusCode)
	}

	off := apitest.New(t, testutil.NewDB(t, "sqlite3"))
	if res, _ := get(t, off.URL+"/playground"); res.StatusCode != http.StatusNotFound {
		t.Errorf("the playground is served while off: %d", res.StatusCode)
	}
}

package harness

import (
	"os"
	"strings"
	"testing"
)

func TestProcSamples(t *testing.T) {
	if rss := RSSMB(os.Getpid()); rss <= 0 {
		t.Errorf("RSSMB of this process: %v", rss)
	}
	if _, err := CPUSeconds(os.Getpid()); err != nil {
		t.Errorf("CPUSeconds of this process: %v", err)
	}
	if rss := RSSMB(-1); rss != 0 {
		t.Errorf("RSSMB of no process: %v", rss)
	}
}

func TestProgressOnly(t *testing.T) {
	var b strings.Builder
	p := &progressOnly{w: &b}
	_, _ = p.Write([]byte("time=… level=INFO msg=\"database is up to date\"\n"))
	_, _ = p.Write([]byte("\rseeding leads  40%"))
	if b.String() != "\rseeding leads  40%" || !p.wrote {
		t.Errorf("passed through %q", b.String())
	}
}

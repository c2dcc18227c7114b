package cli

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tests := []struct {
		name    string
		environ map[string]string
		runtime int // what the runtime took from GOGC at start
		want    int // in force afterwards
	}{
		{"GOGC unset: the server's default", map[string]string{}, 100, serveGCPercent},
		{"GOGC set: left to the runtime", map[string]string{"GOGC": "150"}, 150, 150},
		{"GOGC off", map[string]string{"GOGC": "off"}, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(tc.runtime)
			if got := tuneGC(tc.environ); got != tc.want {
				t.Errorf("tuneGC = %d, want %d", got, tc.want)
			}
			if inForce := debug.SetGCPercent(tc.want); inForce != tc.want {
				t.Errorf("GC percent in force %d, want %d", inForce, tc.want)
			}
		})
	}
}

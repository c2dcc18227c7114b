package cli

import (
	"runtime/debug"
	"strconv"
)

// serveGCPercent is the server's garbage-collection target when GOGC is not
// set: a collection starts when the heap has grown by this percentage of
// what the last one left live. Go's default, 100, suits programs that must
// stay small. A request's garbage dies young and the server's live heap is
// small, so a higher target trades a few tens of megabytes for far fewer
// collections (see docs/performance.md).
const serveGCPercent = 200

// tuneGC applies serveGCPercent unless GOGC is set, and returns the
// percentage in force (-1: collection off).
func tuneGC(environ map[string]string) int {
	if v, ok := environ["GOGC"]; ok {
		if v == "off" {
			return -1
		}
		n, _ := strconv.Atoi(v)
		return n
	}
	debug.SetGCPercent(serveGCPercent)
	return serveGCPercent
}

// Command leadron runs the Leadron API server and its admin commands.
// See `leadron --help`.
package main

import (
	"context"
	"os"
	"strings"

	"github.com/leadron/leadron/internal/cli"
)

func main() {
	environ := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			environ[k] = v
		}
	}
	os.Exit(cli.Run(context.Background(), os.Args[1:], environ, os.Stdout, os.Stderr))
}

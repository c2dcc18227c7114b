// Package migrations holds the versioned SQL migrations, one directory per
// dialect, generated from the ent schema by `make generate` and applied by
// goose at `leadron migrate` and `leadron serve`.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// For returns the migrations of a dialect ("sqlite3" or "postgres").
func For(dialect string) fs.FS {
	dir := "postgres"
	if dialect == "sqlite3" {
		dir = "sqlite"
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the embedded directories always exist
	}
	return sub
}

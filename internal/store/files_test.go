package store_test

import (
	"io/fs"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/leadron/leadron/migrations"
)

func migrationCount(t *testing.T, d string) int {
	t.Helper()
	gd := "postgres"
	if d == dialect.SQLite {
		gd = "sqlite3"
	}
	entries, err := fs.ReadDir(migrations.For(gd), ".")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			n++
		}
	}
	return n
}

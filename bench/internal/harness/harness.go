// Package harness runs Leadron's real server for the load tools under bench/
// (bench, soak): it builds the binaries, makes a fresh database (a new
// PostgreSQL database or a SQLite file), prepares tenants, leads and API keys
// with the real CLI, starts and stops the server with readiness polling, and
// samples the process's CPU time and RSS from /proc.
//
// Progress goes to the standard logger (stderr); each command sets its
// prefix with log.SetPrefix.
package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"log"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// RepoRoot is the root of the leadron checkout the working directory is in.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/leadron/leadron")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("run from inside the leadron repository")
		}
	}
}

// GoBuild builds the package into out, from the working directory.
func GoBuild(out, pkg string) error {
	args := []string{"build", "-o", out, pkg}
	log.Printf("go %s", strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return errors.New("go " + strings.Join(args, " ") + ": " + err.Error())
	}
	return nil
}

// BuildLeadron builds bin/leadron (from the repository root) and returns its
// absolute path.
func BuildLeadron() (string, error) {
	bin := filepath.Join("bin", "leadron")
	if err := GoBuild(bin, "./cmd/leadron"); err != nil {
		return "", err
	}
	return filepath.Abs(bin)
}

// FreeAddr is a free local TCP address, host:port.
func FreeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// DefaultPostgresURL is the PostgreSQL server runs create their database on:
// $LEADRON_BENCH_POSTGRES_URL, then $LEADRON_TEST_POSTGRES_URL, then the
// local server.
func DefaultPostgresURL() string {
	for _, v := range []string{os.Getenv("LEADRON_BENCH_POSTGRES_URL"), os.Getenv("LEADRON_TEST_POSTGRES_URL")} {
		if v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// Machine describes the machine a run is on: cores, CPU model, memory,
// kernel, Go and the PostgreSQL client.
func Machine() map[string]any {
	m := map[string]any{"cores": runtime.NumCPU(), "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				f := strings.Fields(line)
				kb, _ := strconv.ParseFloat(f[1], 64)
				m["memoryGB"] = math.Round(kb/1024/1024*10) / 10
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m["kernel"] = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("psql", "--version").Output(); err == nil {
		m["postgresClient"] = strings.TrimSpace(string(out))
	}
	return m
}

// WriteJSON writes v, indented, to dir/name, creating dir, and returns the
// file's path.
func WriteJSON(dir, name string, v any) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

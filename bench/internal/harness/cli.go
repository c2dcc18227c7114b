package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// CLI runs the leadron binary's admin commands on one database.
type CLI struct {
	Bin   string // the leadron binary
	DBURL string // its LEADRON_DATABASE_URL
}

// Run runs `leadron args…` and returns its standard output. The seed's
// progress bar passes through to stderr; on failure the error carries the
// command's last line of stderr.
func (c CLI) Run(args ...string) ([]byte, error) {
	cmd := exec.Command(c.Bin, args...)
	cmd.Env = append(os.Environ(), "LEADRON_DATABASE_URL="+c.DBURL)
	var stderr bytes.Buffer
	progress := &progressOnly{w: os.Stderr}
	cmd.Stderr = io.MultiWriter(&stderr, progress)
	out, err := cmd.Output()
	if progress.wrote {
		fmt.Fprintln(os.Stderr) // end the progress bar's line
	}
	if err != nil {
		return nil, fmt.Errorf("leadron %s: %v: %s", args[0], err, lastLine(stderr.String()))
	}
	return out, nil
}

// CreateTenant creates a tenant on the plan and its owner.
func (c CLI) CreateTenant(slug, name, plan, ownerEmail, ownerPassword string) error {
	_, err := c.Run("tenant", "create", "--slug", slug, "--name", name, "--plan", plan,
		"--owner-email", ownerEmail, "--owner-password", ownerPassword, "--json")
	return err
}

// Seed writes n live leads for the tenant with `leadron seed` and returns
// the seed's JSON summary.
func (c CLI) Seed(slug string, n int) (map[string]any, error) {
	out, err := c.Run("seed", "--tenant", slug, "--leads", strconv.Itoa(n), "--json")
	if err != nil {
		return nil, err
	}
	var summary map[string]any
	if err := json.Unmarshal(out, &summary); err != nil {
		return nil, fmt.Errorf("seed printed %q: %w", out, err)
	}
	return summary, nil
}

// CreateLiveKey creates a live full_access API key for the user and returns
// its secret. Callers must not print it.
func (c CLI) CreateLiveKey(slug, userEmail, name string) (string, error) {
	out, err := c.Run("apikey", "create", "--tenant", slug, "--user", userEmail, "--env", "live",
		"--scopes", "full_access", "--name", name, "--json")
	if err != nil {
		return "", err
	}
	var key struct{ Key string }
	if err := json.Unmarshal(out, &key); err != nil || key.Key == "" {
		return "", fmt.Errorf("apikey create printed no key (%d bytes)", len(out))
	}
	return key.Key, nil
}

// progressOnly passes the seed's progress bar through to the terminal and
// drops log lines.
type progressOnly struct {
	w     io.Writer
	wrote bool
}

func (p *progressOnly) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("seeding leads")) {
		_, _ = p.w.Write(b)
		p.wrote = true
	}
	return len(b), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

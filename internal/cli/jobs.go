package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/spf13/cobra"

	"github.com/leadron/leadron/internal/jobs"
	"github.com/leadron/leadron/internal/viewer"
)

// failedJob is a permanently failed job as `leadron jobs failed --json`
// prints it.
type failedJob struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Queue       string          `json:"queue"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"maxAttempts"`
	Args        json.RawMessage `json:"args"`
	// For duplicate checks: the lead (as the API shows its ID), its
	// tenant's slug and environment.
	LeadID      string      `json:"leadId,omitempty"`
	Tenant      string      `json:"tenant,omitempty"`
	Environment string      `json:"environment,omitempty"`
	LastError   string      `json:"lastError"`
	Errors      []failedTry `json:"errors"`
	CreatedAt   time.Time   `json:"createdAt"`
	FinalizedAt *time.Time  `json:"finalizedAt"`
	State       string      `json:"state"`
}

type failedTry struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	Error   string    `json:"error"`
}

func (e *env) jobsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "Inspect background jobs"}
	var asJSON bool
	var limit int
	failed := &cobra.Command{
		Use:   "failed",
		Short: "List jobs that failed permanently (discarded after their last attempt)",
		Long: `List the background jobs that failed for good: River discarded them after
their last attempt (a duplicate check is tried ` + fmt.Sprint(jobs.DuplicateCheckMaxAttempts) + ` times with exponential
backoff), most recent first. Nothing retries them; fix the cause, then
re-trigger the work (for a duplicate check, any update of the lead's email
or phone enqueues a new one).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 10_000 {
				return usageError("--limit must be between 1 and 10000, not %d", limit)
			}
			a, err := e.open(cmd.Context())
			if err != nil {
				return err
			}
			defer a.db.Close()
			rows, err := a.db.Jobs.Failed(cmd.Context(), limit)
			if err != nil {
				return err
			}
			out := make([]failedJob, len(rows))
			slugs := map[int]string{}
			for i, j := range rows {
				out[i] = e.describeJob(cmd.Context(), a, j, slugs)
			}
			if asJSON {
				return e.printJSON(out)
			}
			if len(out) == 0 {
				fmt.Fprintln(e.stdout, "No failed jobs.")
				return nil
			}
			for _, j := range out {
				what := j.Kind
				if j.LeadID != "" {
					what += fmt.Sprintf(" of lead %s (%s, %s)", j.LeadID, j.Tenant, j.Environment)
				}
				at := "-"
				if j.FinalizedAt != nil {
					at = j.FinalizedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(e.stdout, "#%d %s: failed %s after %d/%d attempts: %s\n",
					j.ID, what, at, j.Attempt, j.MaxAttempts, oneLine(j.LastError))
			}
			return nil
		},
	}
	failed.Flags().BoolVar(&asJSON, "json", false, "print the jobs as JSON")
	failed.Flags().IntVar(&limit, "limit", 100, "at most this many jobs")
	cmd.AddCommand(failed)
	return cmd
}

func (e *env) describeJob(ctx context.Context, a *app, j *rivertype.JobRow, slugs map[int]string) failedJob {
	out := failedJob{
		ID: j.ID, Kind: j.Kind, Queue: j.Queue, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		Args: json.RawMessage(j.EncodedArgs), CreatedAt: j.CreatedAt.UTC(), FinalizedAt: j.FinalizedAt,
		State: string(j.State), Errors: []failedTry{},
	}
	for _, t := range j.Errors {
		out.Errors = append(out.Errors, failedTry{Attempt: t.Attempt, At: t.At.UTC(), Error: t.Error})
	}
	if n := len(j.Errors); n > 0 {
		out.LastError = j.Errors[n-1].Error
	}
	if j.Kind == jobs.DuplicateCheckKind {
		var args jobs.DuplicateCheckArgs
		if json.Unmarshal(j.EncodedArgs, &args) == nil && args.LeadID > 0 {
			out.LeadID = a.codec.Encode(args.LeadID)
			out.Environment = args.Environment
			slug, ok := slugs[args.TenantID]
			if !ok {
				pctx := viewer.NewContext(ctx, viewer.Platform())
				if t, err := a.db.Client.Tenant.Get(pctx, args.TenantID); err == nil {
					slug = t.Slug
				}
				slugs[args.TenantID] = slug
			}
			out.Tenant = slug
		}
	}
	return out
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/schema"
	"github.com/leadron/leadron/internal/account"
	"github.com/leadron/leadron/internal/diff"
	"github.com/leadron/leadron/internal/store"
	"github.com/leadron/leadron/internal/viewer"
)

// MaxSeedLeads bounds one `leadron seed` run.
const MaxSeedLeads = 50_000_000

const seedLong = `Bulk-load realistic leads into one tenant and environment, for load tests
and demos: varied names, emails, phones, sources, statuses, scores, custom
fields and assignees, created over the past year, with about 2% near-
duplicates (the same email in another case, or the same phone written
another way).

Rows are written directly, with COPY on PostgreSQL and batched multi-row
INSERTs on SQLite, so they bypass ent's hooks; the seeder fills in what the
hooks would: tenant, environment, email_normalized and phone_normalized
(through the schema's own NormalizeEmail and NormalizePhone), created_at,
updated_at, version 1 and custom_fields. IDs come from the leads table's
sequence, so they lie in the lead ID range like any other lead's.

Audit: a seed run appends ONE audit event, "lead.seeded", for the whole run
(its resource is the first seeded lead; its changes hold the count and the
ID range), not one "lead.created" per lead, which would double the cost of
a million-row load and bury real events. Duplicate detection is not run on
seeded leads.`

// seedOptions are the flags of `leadron seed`.
type seedOptions struct {
	tenant, env string
	leads       int
	asJSON      bool
	batch       int
	workers     int
	randSeed    uint64
	noProgress  bool
}

func (e *env) seedCmd() *cobra.Command {
	var o seedOptions
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Bulk-load realistic leads into a tenant (for load tests and demos)",
		Long:  seedLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(map[string]string{"--tenant": o.tenant}); err != nil {
				return err
			}
			switch {
			case o.leads < 1 || o.leads > MaxSeedLeads:
				return usageError("--leads must be between 1 and %d, not %d", MaxSeedLeads, o.leads)
			case !viewer.Environment(o.env).Valid():
				return usageError("--env must be live or sandbox, not %q", o.env)
			case o.batch < 0 || o.batch > 1_000_000:
				return usageError("--batch must be between 1 and 1000000, not %d", o.batch)
			case o.workers < 0 || o.workers > 16:
				return usageError("--workers must be between 1 and 16, not %d", o.workers)
			}
			return e.seed(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.tenant, "tenant", "", "the tenant's slug (required)")
	f.IntVar(&o.leads, "leads", 0, "how many leads to create (required)")
	f.StringVar(&o.env, "env", "live", "live or sandbox")
	f.BoolVar(&o.asJSON, "json", false, "print the summary as JSON")
	f.IntVar(&o.batch, "batch", 0, "rows per COPY (PostgreSQL, default 20000) or per transaction (SQLite, default 5000)")
	f.IntVar(&o.workers, "workers", 0, "concurrent COPY streams on PostgreSQL (default 2; SQLite always uses 1)")
	f.Uint64Var(&o.randSeed, "seed", 1, "random seed; the same seed generates the same leads")
	f.BoolVar(&o.noProgress, "no-progress", false, "do not draw the progress bar")
	return cmd
}

// seedResult is the summary of a run, printed at the end.
type seedResult struct {
	Tenant      string  `json:"tenant"`
	Environment string  `json:"environment"`
	Leads       int     `json:"leads"`
	Duplicates  int     `json:"nearDuplicates"`
	FirstID     string  `json:"firstId"`
	LastID      string  `json:"lastId"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"leadsPerSecond"`
	AuditEvents int     `json:"auditEvents"`
}

func (e *env) seed(ctx context.Context, o seedOptions) error {
	a, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer a.db.Close()
	t, err := account.TenantBySlug(ctx, a.db.Client, o.tenant)
	if err != nil {
		return err
	}
	env := viewer.Environment(o.env)
	vctx := viewer.NewContext(ctx, viewer.System(t.ID, env))
	users, err := a.db.Client.User.Query().IDs(vctx)
	if err != nil {
		return err
	}
	var before int64
	if err := a.db.SQL.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM leads").Scan(&before); err != nil {
		return fmt.Errorf("seed: %w", err)
	}

	g := newLeadGenerator(o.randSeed, o.leads, time.Now().UTC(), users)
	bar := e.seedBar(o)
	start := time.Now()
	if a.db.Dialect == dialect.Postgres {
		err = seedPostgres(ctx, a.db, t.ID, env, g, o, bar)
	} else {
		err = seedSQLite(ctx, a.db, t.ID, env, g, o, bar)
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	_ = bar.Finish()
	elapsed := time.Since(start)

	// Fresh statistics, so the planner knows the table's new size.
	if _, err := a.db.SQL.ExecContext(ctx, "ANALYZE leads"); err != nil {
		return fmt.Errorf("seed: analyze: %w", err)
	}
	var first, last int64
	q := "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM leads WHERE id > $1 AND tenant_id = $2 AND environment = $3"
	if a.db.Dialect == dialect.SQLite {
		q = strings.NewReplacer("$1", "?", "$2", "?", "$3", "?").Replace(q)
	}
	if err := a.db.SQL.QueryRowContext(ctx, q, before, t.ID, string(env)).Scan(&first, &last); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := seedAudit(vctx, a.db, o.leads, first, last); err != nil {
		return fmt.Errorf("seed: audit: %w", err)
	}
	res := seedResult{
		Tenant: t.Slug, Environment: string(env), Leads: o.leads, Duplicates: g.dups,
		FirstID: a.codec.Encode(int(first)), LastID: a.codec.Encode(int(last)),
		Seconds: elapsed.Seconds(), PerSecond: float64(o.leads) / elapsed.Seconds(), AuditEvents: 1,
	}
	if o.asJSON {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "Seeded %d leads (%d near-duplicates) into %s (%s) in %s: %.0f leads/s, IDs %s…%s.\n",
		res.Leads, res.Duplicates, res.Tenant, res.Environment, elapsed.Round(time.Millisecond), res.PerSecond, res.FirstID, res.LastID)
	return nil
}

func (e *env) seedBar(o seedOptions) *progressbar.ProgressBar {
	if o.noProgress {
		return progressbar.DefaultSilent(int64(o.leads))
	}
	bar := progressbar.NewOptions64(int64(o.leads),
		progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetDescription("seeding leads"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("leads"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(e.stderr) }),
	)
	// Start the clock now: the bar otherwise starts it at its first update,
	// and shows that first batch at billions of leads per second.
	_ = bar.RenderBlank()
	return bar
}

// seedAudit appends the one audit event of a seed run.
func seedAudit(ctx context.Context, db *store.DB, n int, first, last int64) error {
	return store.InTx(ctx, db.Client, func(c *ent.Client) error {
		return c.AuditEvent.Create().
			SetAction("lead.seeded").SetResourceType("lead").SetResourceID(int(first)).
			SetRequestID("cli:seed").SetUserAgent("leadron seed").
			SetChanges(map[string]diff.Change{
				"count":    {New: n},
				"first_id": {New: first},
				"last_id":  {New: last},
			}).Exec(ctx)
	})
}

// leadColumns are the columns the seeder writes; id and the rest take their
// defaults.
var leadColumns = []string{
	"created_at", "updated_at", "environment", "tenant_id", "email", "email_normalized",
	"first_name", "last_name", "phone", "phone_normalized", "source", "status", "score",
	"assigned_to", "custom_fields", "version",
}

// seedRow is one generated lead.
type seedRow struct {
	createdAt, updatedAt time.Time
	email, first, last   string
	phone, source        string // "" is NULL
	status               string
	score                int
	assignedTo           int // 0 is NULL
	custom               []byte
}

// values are the row's column values in leadColumns order.
func (r *seedRow) values(dst []any, tenantID int, env string) []any {
	var phone, phoneNorm, source, assigned any
	if r.phone != "" {
		phone, phoneNorm = r.phone, schema.NormalizePhone(r.phone)
	}
	if r.source != "" {
		source = r.source
	}
	if r.assignedTo != 0 {
		assigned = int64(r.assignedTo)
	}
	return append(dst[:0], r.createdAt, r.updatedAt, env, int64(tenantID), r.email, schema.NormalizeEmail(r.email),
		r.first, r.last, phone, phoneNorm, source, r.status, int64(r.score), assigned, r.custom, int64(1))
}

// seedPostgres streams batches through COPY on a few connections at once:
// one goroutine generates, the workers copy.
func seedPostgres(ctx context.Context, db *store.DB, tenantID int, env viewer.Environment, g *leadGenerator, o seedOptions, bar *progressbar.ProgressBar) error {
	batch, workers := o.batch, o.workers
	if batch == 0 {
		batch = 20_000
	}
	if workers == 0 {
		workers = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []seedRow, workers)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var vals []any
			for rows := range batches {
				i := 0
				src := pgx.CopyFromFunc(func() ([]any, error) {
					if i == len(rows) {
						return nil, nil
					}
					vals = rows[i].values(vals, tenantID, string(env))
					i++
					return vals, nil
				})
				if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"leads"}, leadColumns, src); err != nil {
					errc <- err
					cancel()
					return
				}
				_ = bar.Add(len(rows))
			}
		})
	}
	genErr := g.batches(ctx, batch, batches)
	close(batches)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	return genErr
}

// seedSQLite writes batches of multi-row INSERTs, one transaction per batch,
// on SQLite's one connection.
func seedSQLite(ctx context.Context, db *store.DB, tenantID int, env viewer.Environment, g *leadGenerator, o seedOptions, bar *progressbar.ProgressBar) error {
	batch := o.batch
	if batch == 0 {
		batch = 5000
	}
	const perStatement = 500 // 16 columns × 500 rows stays under SQLite's 32766 variables
	insert := func(n int) string {
		row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(leadColumns)), ",") + ")"
		return "INSERT INTO leads (" + strings.Join(leadColumns, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(row+",", n), ",")
	}
	full := insert(perStatement)
	batches := make(chan []seedRow, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- g.batches(ctx, batch, batches)
		close(batches)
	}()
	var args, vals []any
	for rows := range batches {
		err := func() error {
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback() //nolint:errcheck // a no-op after Commit
			stmt, err := tx.PrepareContext(ctx, full)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for len(rows) > 0 {
				n := min(perStatement, len(rows))
				args = args[:0]
				for i := range rows[:n] {
					vals = rows[i].values(vals, tenantID, string(env))
					args = append(args, vals...)
				}
				var res sql.Result
				if n == perStatement {
					res, err = stmt.ExecContext(ctx, args...)
				} else {
					res, err = tx.ExecContext(ctx, insert(n), args...)
				}
				if err != nil {
					return err
				}
				_ = res
				rows = rows[n:]
				_ = bar.Add(n)
			}
			return tx.Commit()
		}()
		if err != nil {
			for range batches { // let the generator finish
			}
			<-errc
			return err
		}
	}
	return <-errc
}

// leadGenerator makes realistic, varied leads from a seeded PRNG, so a seed
// always produces the same data.
type leadGenerator struct {
	rng    *rand.Rand
	n      int
	start  time.Time
	step   time.Duration
	now    time.Time
	users  []int
	recent []seedRow // a window of earlier leads that near-duplicates copy
	dups   int
	seq    int
}

// seedWindow is how far back in time the generated leads were created.
const seedWindow = 365 * 24 * time.Hour

func newLeadGenerator(seed uint64, n int, now time.Time, users []int) *leadGenerator {
	now = now.Truncate(time.Millisecond)
	return &leadGenerator{
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), n: n,
		start: now.Add(-seedWindow), step: seedWindow / time.Duration(n+1), now: now, users: users,
	}
}

// batches sends all n leads in batches of size.
func (g *leadGenerator) batches(ctx context.Context, size int, out chan<- []seedRow) error {
	for done := 0; done < g.n; {
		rows := make([]seedRow, min(size, g.n-done))
		for i := range rows {
			rows[i] = g.next()
		}
		done += len(rows)
		select {
		case out <- rows:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

var (
	firstNames = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
		"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Wei", "Mei",
		"Aarav", "Priya", "Mohammed", "Fatima", "Hiroshi", "Yuki", "Olga", "Ivan", "Lucas", "Emma", "Noah", "Olivia",
		"Liam", "Sophia", "Mateo", "Isabella", "Chloé", "José", "Zoë", "Björn", "Søren", "Ana", "Kwame", "Amara"}
	lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
		"Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
		"Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Lewis", "Robinson", "Walker",
		"Nguyen", "Kim", "Chen", "Patel", "Müller", "Schmidt", "O'Brien", "Dubois", "Rossi", "Kowalski", "Tanaka",
		"Ivanova", "Okafor", "Silva", "da Costa", "van der Berg"}
	domains = []string{"gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me",
		"acme-corp.com", "globex.io", "initech.net", "umbrella.co", "hooli.com", "piedpiper.dev", "stark.industries",
		"wayne-enterprises.com", "example.org", "vandelay.biz", "contoso.com", "fabrikam.eu"}
	companies = []string{"Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Pied Piper", "Stark Industries",
		"Wayne Enterprises", "Vandelay Industries", "Contoso", "Fabrikam", "Soylent", "Tyrell", "Cyberdyne", "Wonka"}
	titles     = []string{"CEO", "CTO", "VP Sales", "Head of Marketing", "Sales Manager", "Engineer", "Founder", "Procurement Lead", "Operations Director", "Analyst"}
	industries = []string{"software", "retail", "finance", "healthcare", "manufacturing", "education", "logistics", "media"}
	campaigns  = []string{"spring-launch", "webinar-q3", "black-friday", "partner-referral", "newsletter", "retargeting"}
	countries  = []string{"US", "GB", "DE", "FR", "ES", "IN", "BR", "JP", "CA", "AU"}
	// statuses and sources, weighted like a real pipeline.
	statusWeights = []struct {
		s string
		w int
	}{{"new", 50}, {"contacted", 25}, {"qualified", 15}, {"unqualified", 10}}
)

// asciiFold strips what email local parts should not carry.
var asciiFold = strings.NewReplacer("é", "e", "ë", "e", "ö", "o", "ø", "o", "ü", "u", "'", "", " ", "")

func (g *leadGenerator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// next returns the next lead.
func (g *leadGenerator) next() seedRow {
	g.seq++
	var r seedRow
	// Creation times rise with the sequence, with jitter, over the window.
	jitter := time.Duration(g.rng.Int64N(int64(g.step) + 1))
	r.createdAt = g.start.Add(time.Duration(g.seq)*g.step + jitter).Truncate(time.Millisecond)
	r.updatedAt = r.createdAt
	if g.rng.IntN(3) == 0 {
		r.updatedAt = r.createdAt.Add(time.Duration(g.rng.Int64N(int64(30 * 24 * time.Hour))))
		if r.updatedAt.After(g.now) {
			r.updatedAt = g.now
		}
		r.updatedAt = r.updatedAt.Truncate(time.Millisecond)
	}

	if len(g.recent) > 0 && g.rng.IntN(100) < 2 {
		g.nearDuplicate(&r)
	} else {
		g.fresh(&r)
	}

	w := g.rng.IntN(100)
	for _, sw := range statusWeights {
		if w < sw.w {
			r.status = sw.s
			break
		}
		w -= sw.w
	}
	switch r.status {
	case "qualified":
		r.score = 60 + g.rng.IntN(41)
	case "unqualified":
		r.score = g.rng.IntN(40)
	default:
		r.score = g.rng.IntN(101)
	}
	if g.rng.IntN(10) > 0 {
		r.source = g.pick(schema.LeadSources)
	}
	if len(g.users) > 0 && g.rng.IntN(10) < 3 {
		r.assignedTo = g.users[g.rng.IntN(len(g.users))]
	}
	r.custom = g.customFields()

	if len(g.recent) < 1024 {
		g.recent = append(g.recent, r)
	} else {
		g.recent[g.rng.IntN(len(g.recent))] = r
	}
	return r
}

func (g *leadGenerator) fresh(r *seedRow) {
	r.first, r.last = g.pick(firstNames), g.pick(lastNames)
	f, l := strings.ToLower(asciiFold.Replace(r.first)), strings.ToLower(asciiFold.Replace(r.last))
	// The sequence number keeps emails unique apart from the deliberate
	// near-duplicates.
	tag := strconv.FormatInt(int64(g.seq), 36)
	var local string
	switch g.rng.IntN(5) {
	case 0:
		local = f + "." + l + "." + tag
	case 1:
		local = f[:1] + l + tag
	case 2:
		local = f + "_" + l + "_" + tag
	case 3:
		local = f + tag
	default:
		local = l + "." + f + "+" + tag
	}
	if g.rng.IntN(10) == 0 {
		local = strings.ToUpper(local[:1]) + local[1:]
	}
	r.email = local + "@" + g.pick(domains)
	if g.rng.IntN(5) > 0 {
		r.phone = g.phone()
	}
}

// phone returns a number in one of the ways people write them.
func (g *leadGenerator) phone() string {
	d := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + g.rng.IntN(10))
		}
		return string(b)
	}
	area := strconv.Itoa(200 + g.rng.IntN(800))
	switch g.rng.IntN(6) {
	case 0:
		return "+1 (" + area + ") " + d(3) + "-" + d(4)
	case 1:
		return area + "." + d(3) + "." + d(4)
	case 2:
		return "+44 20 " + d(4) + " " + d(4)
	case 3:
		return "+33 1 " + d(2) + " " + d(2) + " " + d(2) + " " + d(2)
	case 4:
		return "+49 30 " + d(8)
	default:
		return "+1-" + area + "-" + d(3) + "-" + d(4)
	}
}

// nearDuplicate copies an earlier lead's email in another case, or its
// phone written another way: what duplicate detection must catch.
func (g *leadGenerator) nearDuplicate(r *seedRow) {
	g.dups++
	orig := g.recent[g.rng.IntN(len(g.recent))]
	r.first, r.last = orig.first, orig.last
	if orig.phone != "" && g.rng.IntN(2) == 0 {
		r.email = "alt." + orig.email
		r.phone = reformatPhone(orig.phone)
		return
	}
	r.email = flipCase(orig.email, g.rng)
	r.phone = orig.phone
}

// reformatPhone writes the same digits (and leading +) with other separators.
func reformatPhone(p string) string {
	var b strings.Builder
	for i, c := range p {
		if c >= '0' && c <= '9' || c == '+' && i == 0 {
			b.WriteRune(c)
		}
	}
	digits := b.String()
	plus := strings.HasPrefix(digits, "+")
	digits = strings.TrimPrefix(digits, "+")
	// Groups of three with dots, or of two with spaces.
	var out strings.Builder
	if plus {
		out.WriteByte('+')
	}
	sep, group := ".", 3
	if len(digits)%2 == 0 {
		sep, group = " ", 2
	}
	for i := 0; i < len(digits); i += group {
		if i > 0 {
			out.WriteString(sep)
		}
		out.WriteString(digits[i:min(i+group, len(digits))])
	}
	return out.String()
}

// flipCase changes the case of the address so that it differs from s but
// normalizes the same.
func flipCase(s string, rng *rand.Rand) string {
	b := []byte(s)
	changed := false
	for i, c := range b {
		if c >= 'a' && c <= 'z' && (rng.IntN(3) == 0 || !changed && i == len(b)-1) {
			b[i] = c - 'a' + 'A'
			changed = true
		}
	}
	if !changed {
		return strings.ToUpper(s)
	}
	return string(b)
}

// customFields returns the JSON of a lead's custom fields: a varied subset
// of what a CRM import carries.
func (g *leadGenerator) customFields() []byte {
	m := make(map[string]any, 6)
	if g.rng.IntN(4) == 0 {
		return []byte("{}")
	}
	if g.rng.IntN(3) > 0 {
		m["company"] = g.pick(companies)
	}
	if g.rng.IntN(2) == 0 {
		m["jobTitle"] = g.pick(titles)
	}
	if g.rng.IntN(3) == 0 {
		m["industry"] = g.pick(industries)
	}
	if g.rng.IntN(4) == 0 {
		m["employees"] = 1 + g.rng.IntN(5000)
	}
	if g.rng.IntN(4) == 0 {
		m["newsletter"] = g.rng.IntN(2) == 0
	}
	if g.rng.IntN(5) == 0 {
		m["utmCampaign"] = g.pick(campaigns)
	}
	if g.rng.IntN(3) == 0 {
		m["country"] = g.pick(countries)
	}
	b, _ := json.Marshal(m) // strings, ints and bools always marshal
	return b
}

// Command baseline is the "physical limit" that `make bench` compares
// Leadron against: a minimal net/http server that runs the same SQL as
// Leadron for the same requests, with no router framework, no auth, no rate
// limits, no envelope and no ID encoding. PostgreSQL goes through a pgx pool
// (of pgx's default size, as Leadron's), SQLite through database/sql and
// modernc with Leadron's pragmas and one connection.
//
//	GET  /leads/{id}                          one lead by integer ID
//	GET  /leads?limit=N[&after_ts=T&after_id=I]  a keyset page, newest first
//	POST /leads                               one INSERT … RETURNING id
//	GET  /healthz
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)

// leadColumns is the column list ent selects for a lead, in its order.
const leadColumns = `"leads"."id", "leads"."created_at", "leads"."updated_at", "leads"."tenant_id", "leads"."environment", "leads"."email", "leads"."email_normalized", "leads"."first_name", "leads"."last_name", "leads"."phone", "leads"."phone_normalized", "leads"."source", "leads"."status", "leads"."score", "leads"."assigned_to", "leads"."custom_fields", "leads"."merged_into", "leads"."version", "leads"."archived_at"`

// The statements Leadron's ent layer sends (captured from the PostgreSQL
// log), tenant and environment predicates and all.
const (
	getSQL    = `SELECT ` + leadColumns + ` FROM "leads" WHERE "leads"."id" = $1 AND ("leads"."tenant_id" = $2 AND "leads"."environment" = $3) LIMIT 2`
	firstSQL  = `SELECT ` + leadColumns + ` FROM "leads" WHERE ("leads"."merged_into" IS NULL AND "leads"."archived_at" IS NULL) AND ("leads"."tenant_id" = $1 AND "leads"."environment" = $2) ORDER BY "leads"."created_at" DESC, "leads"."id" DESC LIMIT %d`
	afterSQL  = `SELECT ` + leadColumns + ` FROM "leads" WHERE (("leads"."merged_into" IS NULL AND "leads"."archived_at" IS NULL) AND ("leads"."created_at", "leads"."id") < ($1, $2)) AND ("leads"."tenant_id" = $3 AND "leads"."environment" = $4) ORDER BY "leads"."created_at" DESC, "leads"."id" DESC LIMIT %d`
	insertSQL = `INSERT INTO "leads" ("created_at", "updated_at", "environment", "email", "email_normalized", "first_name", "last_name", "phone", "phone_normalized", "source", "status", "score", "custom_fields", "version", "tenant_id") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING "id"`
)

// lead is a row, written out as plain JSON.
type lead struct {
	ID              int64           `json:"id"`
	CreatedAt       time.Time       `json:"createdAt"`
	UpdatedAt       time.Time       `json:"updatedAt"`
	TenantID        int64           `json:"tenantId"`
	Environment     string          `json:"environment"`
	Email           string          `json:"email"`
	EmailNormalized string          `json:"-"`
	FirstName       string          `json:"firstName"`
	LastName        string          `json:"lastName"`
	Phone           *string         `json:"phone"`
	PhoneNormalized *string         `json:"-"`
	Source          *string         `json:"source"`
	Status          string          `json:"status"`
	Score           int64           `json:"score"`
	AssignedTo      *int64          `json:"assignedTo"`
	CustomFields    json.RawMessage `json:"customFields"`
	MergedInto      *int64          `json:"-"`
	Version         int64           `json:"version"`
	ArchivedAt      *time.Time      `json:"archivedAt,omitempty"`
}

func (l *lead) dest() []any {
	return []any{&l.ID, &l.CreatedAt, &l.UpdatedAt, &l.TenantID, &l.Environment, &l.Email, &l.EmailNormalized,
		&l.FirstName, &l.LastName, &l.Phone, &l.PhoneNormalized, &l.Source, &l.Status, &l.Score, &l.AssignedTo,
		(*rawJSON)(&l.CustomFields), &l.MergedInto, &l.Version, &l.ArchivedAt}
}

// rawJSON scans the custom_fields column (text on both databases) as is.
type rawJSON json.RawMessage

func (r *rawJSON) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*r = append((*r)[:0], v...)
	case string:
		*r = append((*r)[:0], v...)
	case nil:
		*r = rawJSON("null")
	default:
		return fmt.Errorf("custom_fields: unexpected %T", src)
	}
	return nil
}

// store runs the statements on one database.
type store interface {
	get(ctx context.Context, id int64) (*lead, error)
	list(ctx context.Context, limit int, afterTS *time.Time, afterID int64) ([]lead, error)
	insert(ctx context.Context, args []any) (int64, error)
}

type server struct {
	db       store
	tenantID int64
	env      string
}

func main() {
	dbURL := flag.String("db", "", "postgres://… or sqlite://PATH (required)")
	addr := flag.String("addr", "127.0.0.1:8001", "listen address")
	tenant := flag.Int64("tenant", 0, "the tenant's numeric ID (required)")
	env := flag.String("env", "live", "environment")
	flag.Parse()
	if *dbURL == "" || *tenant == 0 {
		fmt.Fprintln(os.Stderr, "baseline: -db and -tenant are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var db store
	if strings.HasPrefix(*dbURL, "postgres") {
		pool, err := pgxpool.New(ctx, *dbURL)
		if err != nil {
			log.Fatalf("baseline: %v", err)
		}
		defer pool.Close()
		db = pgStore{pool, *tenant, *env}
	} else {
		path := strings.TrimPrefix(strings.TrimPrefix(*dbURL, "sqlite://"), "file:")
		sdb, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err != nil {
			log.Fatalf("baseline: %v", err)
		}
		sdb.SetMaxOpenConns(1)
		defer sdb.Close()
		db = &sqliteStore{db: sdb, tenant: *tenant, env: *env}
	}
	s := &server{db: db, tenantID: *tenant, env: *env}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /leads/{id}", s.get)
	mux.HandleFunc("GET /leads", s.list)
	mux.HandleFunc("POST /leads", s.create)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("baseline: %v", err)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *server) get(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	l, err := s.db.get(r.Context(), id)
	switch {
	case errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows):
		http.NotFound(w, r)
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		writeJSON(w, http.StatusOK, l)
	}
}

func (s *server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		limit = 20
	}
	var afterTS *time.Time
	var afterID int64
	if ts := q.Get("after_ts"); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			http.Error(w, "after_ts", http.StatusBadRequest)
			return
		}
		afterTS = &t
		afterID, _ = strconv.ParseInt(q.Get("after_id"), 10, 64)
	}
	rows, err := s.db.list(r.Context(), limit+1, afterTS, afterID)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	writeJSON(w, http.StatusOK, struct {
		Data    []lead `json:"data"`
		HasMore bool   `json:"hasMore"`
	}{rows, more})
}

type leadInput struct {
	Email        string          `json:"email"`
	FirstName    string          `json:"firstName"`
	LastName     string          `json:"lastName"`
	Phone        *string         `json:"phone"`
	Source       *string         `json:"source"`
	Status       string          `json:"status"`
	Score        int64           `json:"score"`
	CustomFields json.RawMessage `json:"customFields"`
}

func (s *server) create(w http.ResponseWriter, r *http.Request) {
	var in leadInput
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if in.Status == "" {
		in.Status = "new"
	}
	if len(in.CustomFields) == 0 {
		in.CustomFields = json.RawMessage("{}")
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var phoneNorm *string
	if in.Phone != nil {
		p := normalizePhone(*in.Phone)
		phoneNorm = &p
	}
	args := []any{now, now, s.env, in.Email, strings.ToLower(strings.TrimSpace(in.Email)), in.FirstName, in.LastName,
		in.Phone, phoneNorm, in.Source, in.Status, in.Score, []byte(in.CustomFields), int64(1), s.tenantID}
	id, err := s.db.insert(r.Context(), args)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		ID int64 `json:"id"`
		leadInput
		CreatedAt time.Time `json:"createdAt"`
	}{id, in, now})
}

func normalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if r >= '0' && r <= '9' || (r == '+' && i == 0) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pgStore runs the statements through a pgx pool.
type pgStore struct {
	pool   *pgxpool.Pool
	tenant int64
	env    string
}

func (p pgStore) get(ctx context.Context, id int64) (*lead, error) {
	var l lead
	return &l, p.pool.QueryRow(ctx, getSQL, id, p.tenant, p.env).Scan(l.dest()...)
}

func (p pgStore) list(ctx context.Context, limit int, afterTS *time.Time, afterID int64) ([]lead, error) {
	var rows pgx.Rows
	var err error
	if afterTS == nil {
		rows, err = p.pool.Query(ctx, fmt.Sprintf(firstSQL, limit), p.tenant, p.env)
	} else {
		rows, err = p.pool.Query(ctx, fmt.Sprintf(afterSQL, limit), *afterTS, afterID, p.tenant, p.env)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]lead, 0, limit)
	for rows.Next() {
		out = append(out, lead{})
		if err := rows.Scan(out[len(out)-1].dest()...); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

func (p pgStore) insert(ctx context.Context, args []any) (int64, error) {
	var id int64
	err := p.pool.QueryRow(ctx, insertSQL, args...).Scan(&id)
	return id, err
}

// sqliteStore runs the same statements on SQLite (with ? placeholders),
// each prepared once, as Leadron's statement cache and pgx's do.
type sqliteStore struct {
	db     *sql.DB
	tenant int64
	env    string
	stmts  sync.Map // query text → *sql.Stmt
}

func (s *sqliteStore) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

var toQ = strings.NewReplacer("$10", "?", "$11", "?", "$12", "?", "$13", "?", "$14", "?", "$15", "?",
	"$1", "?", "$2", "?", "$3", "?", "$4", "?", "$5", "?", "$6", "?", "$7", "?", "$8", "?", "$9", "?")

var (
	sqliteGet    = toQ.Replace(strings.ReplaceAll(getSQL, `"`, "`"))
	sqliteFirst  = toQ.Replace(strings.ReplaceAll(firstSQL, `"`, "`"))
	sqliteAfter  = toQ.Replace(strings.ReplaceAll(afterSQL, `"`, "`"))
	sqliteInsert = toQ.Replace(strings.ReplaceAll(insertSQL, `"`, "`"))
)

func (s *sqliteStore) get(ctx context.Context, id int64) (*lead, error) {
	st, err := s.stmt(ctx, sqliteGet)
	if err != nil {
		return nil, err
	}
	var l lead
	return &l, st.QueryRowContext(ctx, id, s.tenant, s.env).Scan(l.dest()...)
}

func (s *sqliteStore) list(ctx context.Context, limit int, afterTS *time.Time, afterID int64) ([]lead, error) {
	query, args := fmt.Sprintf(sqliteFirst, limit), []any{s.tenant, s.env}
	if afterTS != nil {
		query, args = fmt.Sprintf(sqliteAfter, limit), []any{*afterTS, afterID, s.tenant, s.env}
	}
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]lead, 0, limit)
	for rows.Next() {
		out = append(out, lead{})
		if err := rows.Scan(out[len(out)-1].dest()...); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

func (s *sqliteStore) insert(ctx context.Context, args []any) (int64, error) {
	st, err := s.stmt(ctx, sqliteInsert)
	if err != nil {
		return 0, err
	}
	var id int64
	err = st.QueryRowContext(ctx, args...).Scan(&id)
	return id, err
}

package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/leadron/leadron/internal/apperr"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/text"
)

// Page sizes, as the brief sets them.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// query reads a list's query parameters strictly: an unknown parameter, a
// repeated one or a bad value is a field error, never silently ignored.
type query struct {
	vals url.Values
	errs []apperr.FieldError
}

func newQuery(r *http.Request, allowed ...string) *query {
	q := &query{vals: r.URL.Query()}
	names := make([]string, 0, len(q.vals))
	for name := range q.vals {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case !slices.Contains(allowed, name):
			q.add(name, apperr.FieldUnknown, "Unknown query parameter '"+name+"'")
		case len(q.vals[name]) > 1:
			q.add(name, apperr.FieldInvalid, name+" may be given only once")
		case !text.Valid(q.vals[name][0]):
			// PostgreSQL refuses NUL and invalid UTF-8 in any text it is sent.
			q.add(name, apperr.FieldInvalid, name+" must be UTF-8 text without NUL characters")
		}
	}
	return q
}

// noQuery refuses every query parameter, for the routes that take none:
// a parameter a client thought meant something is a 422 naming it, as on
// the lists, rather than silently ignored.
func noQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			if err := newQuery(r).err(); err != nil {
				fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (q *query) add(name, code, msg string) {
	q.errs = append(q.errs, apperr.FieldError{Field: name, Message: msg, Code: code})
}

func (q *query) err() error {
	if len(q.errs) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Validation, Message: "Validation failed", Fields: q.errs}
}

func (q *query) get(name string) (string, bool) {
	v := q.vals[name]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

func (q *query) oneOf(name string, values []string) (string, bool) {
	s, ok := q.get(name)
	if !ok {
		return "", false
	}
	if !slices.Contains(values, s) {
		q.add(name, apperr.FieldInvalid, name+" must be one of: "+strings.Join(values, ", "))
		return "", false
	}
	return s, true
}

func (q *query) id(name string, codec *ids.Codec, table string) (int, bool) {
	s, ok := q.get(name)
	if !ok {
		return 0, false
	}
	id, err := codec.DecodeAs(s, table)
	if err != nil {
		q.add(name, apperr.FieldInvalid, name+" must be a valid ID")
		return 0, false
	}
	return id, true
}

func (q *query) intRange(name string, lo, hi int) (int, bool) {
	s, ok := q.get(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		q.add(name, apperr.FieldRange, fmt.Sprintf("%s must be an integer between %d and %d", name, lo, hi))
		return 0, false
	}
	return n, true
}

func (q *query) time(name string) (time.Time, bool) {
	s, ok := q.get(name)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.add(name, apperr.FieldInvalid, name+" must be an RFC 3339 time, such as 2026-02-08T14:30:00.000Z")
		return time.Time{}, false
	}
	return t.UTC(), true
}

func (q *query) text(name string, maxLen int) (string, bool) {
	s, ok := q.get(name)
	if !ok || strings.TrimSpace(s) == "" {
		return "", false
	}
	if utf8.RuneCountInString(s) > maxLen {
		q.add(name, apperr.FieldTooLong, fmt.Sprintf("%s must be at most %d characters", name, maxLen))
		return "", false
	}
	return s, true
}

func (q *query) boolean(name string) (bool, bool) {
	s, ok := q.get(name)
	if !ok {
		return false, false
	}
	b, err := strconv.ParseBool(s)
	if err != nil || (s != "true" && s != "false") {
		q.add(name, apperr.FieldInvalid, name+" must be true or false")
		return false, false
	}
	return b, true
}

// paging is a keyset page request: the sort column and direction, and the
// position to continue from.
type paging struct {
	limit  int
	sort   string // as the client wrote it, e.g. "-createdAt"
	field  string // the column
	desc   bool
	after  *position
	before *position
	codec  *ids.Codec
}

// position is a row's place in a sort order: its sort value and ID.
type position struct {
	value any
	id    int
}

// cursor is a position as clients carry it: opaque base64 of JSON, holding
// the sort it belongs to, so a cursor cannot be replayed under another sort.
type cursor struct {
	Sort  string          `json:"s"`
	Value json.RawMessage `json:"v"`
	ID    string          `json:"i"`
}

func (q *query) paging(codec *ids.Codec, sorts map[string]string, def string) paging {
	pg := paging{limit: DefaultLimit, sort: def, codec: codec}
	if n, ok := q.intRange("limit", 1, MaxLimit); ok {
		pg.limit = n
	}
	if s, ok := q.get("sort"); ok {
		if _, known := sorts[strings.TrimPrefix(s, "-")]; known {
			pg.sort = s
		} else {
			names := make([]string, 0, 2*len(sorts))
			for k := range sorts {
				names = append(names, k, "-"+k)
			}
			slices.Sort(names)
			q.add("sort", apperr.FieldInvalid, "sort must be one of: "+strings.Join(names, ", "))
		}
	}
	pg.desc = strings.HasPrefix(pg.sort, "-")
	pg.field = sorts[strings.TrimPrefix(pg.sort, "-")]
	_, hasAfter := q.get("after")
	_, hasBefore := q.get("before")
	if hasAfter && hasBefore {
		q.add("before", apperr.FieldInvalid, "after and before cannot be combined")
		return pg
	}
	pg.after = q.cursor("after", pg)
	pg.before = q.cursor("before", pg)
	return pg
}

func (q *query) cursor(name string, pg paging) *position {
	s, ok := q.get(name)
	if !ok {
		return nil
	}
	bad := func() *position {
		q.add(name, apperr.FieldInvalid, name+" is not a valid cursor for sort "+pg.sort)
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad()
	}
	var c cursor
	if json.Unmarshal(raw, &c) != nil || c.Sort != pg.sort {
		return bad()
	}
	id, err := pg.codec.Decode(c.ID)
	if err != nil {
		return bad()
	}
	p := &position{id: id}
	if pg.field == "score" {
		var n int
		if json.Unmarshal(c.Value, &n) != nil {
			return bad()
		}
		p.value = n
	} else {
		var t time.Time
		if json.Unmarshal(c.Value, &t) != nil {
			return bad()
		}
		p.value = t.UTC()
	}
	return p
}

func (pg paging) encode(value any, id int) *string {
	v, _ := json.Marshal(value) // times marshal as RFC 3339 with nanoseconds
	raw, _ := json.Marshal(cursor{Sort: pg.sort, Value: v, ID: pg.codec.Encode(id)})
	s := base64.RawURLEncoding.EncodeToString(raw)
	return &s
}

// keysetPage fetches one page by keyset: WHERE (col, id) beyond the cursor,
// ORDER BY col, id, LIMIT n+1. It stays fast at any depth, and rows inserted
// meanwhile cause no duplicates or gaps.
func keysetPage[T any](ctx context.Context, pg paging,
	fetch func(where func(*sql.Selector), order []func(*sql.Selector), limit int) ([]T, error),
	key func(T) (any, int),
) ([]T, Pagination, error) {
	backward := pg.before != nil
	from := pg.after
	if backward {
		from = pg.before
	}
	// Walking backward reverses the order, then the page is flipped back.
	desc := pg.desc != backward
	var where func(*sql.Selector)
	if from != nil {
		// A row-value comparison, (col, id) > (v, id0), which both
		// databases answer from the (tenant, environment, col, id) index;
		// the equivalent OR form makes PostgreSQL scan every row before the
		// cursor, so deep pages would slow down with depth.
		op := sql.OpGT
		if desc {
			op = sql.OpLT
		}
		where = func(s *sql.Selector) {
			s.Where(sql.P(func(b *sql.Builder) {
				b.Wrap(func(b *sql.Builder) { b.Ident(s.C(pg.field)).Comma().Ident(s.C("id")) })
				b.WriteOp(op)
				b.Wrap(func(b *sql.Builder) { b.Arg(from.value).Comma().Arg(from.id) })
			}))
		}
	}
	order := []func(*sql.Selector){sql.OrderByField(pg.field).ToFunc(), sql.OrderByField("id").ToFunc()}
	if desc {
		order = []func(*sql.Selector){sql.OrderByField(pg.field, sql.OrderDesc()).ToFunc(), sql.OrderByField("id", sql.OrderDesc()).ToFunc()}
	}
	rows, err := fetch(where, order, pg.limit+1)
	if err != nil {
		return nil, Pagination{}, err
	}
	more := len(rows) > pg.limit
	if more {
		rows = rows[:pg.limit]
	}
	p := Pagination{Limit: pg.limit}
	if backward {
		slices.Reverse(rows)
	}
	if len(rows) == 0 {
		return rows, p, nil
	}
	first, last := rows[0], rows[len(rows)-1]
	if backward {
		p.HasMore = true // the rows the client came from lie after this page
		p.NextCursor = pg.encode(key(last))
		if more {
			p.PrevCursor = pg.encode(key(first))
		}
	} else {
		p.HasMore = more
		if more {
			p.NextCursor = pg.encode(key(last))
		}
		if pg.after != nil {
			p.PrevCursor = pg.encode(key(first))
		}
	}
	return rows, p, nil
}

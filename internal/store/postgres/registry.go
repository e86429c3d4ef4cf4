package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
)

// Registry is a registry.Store in PostgreSQL (migration 0001). It is safe
// for concurrent use, and several processes may use one database at once:
// see the package documentation for how transactions behave.
type Registry struct {
	db     *DB
	owns   bool // Close closes db
	closed atomic.Bool
}

var _ registry.Store = (*Registry)(nil)

// OpenRegistry opens the database at conn (bringing its schema up to date)
// for the registry alone; Close closes the connections.
func OpenRegistry(ctx context.Context, conn string) (*Registry, error) {
	db, err := Open(ctx, conn)
	if err != nil {
		return nil, err
	}
	return &Registry{db: db, owns: true}, nil
}

// Registry returns the registry kept in db; closing it leaves db open.
func (db *DB) Registry() *Registry { return &Registry{db: db} }

// Close ends the store's use of the database.
func (s *Registry) Close() error {
	if !s.closed.Swap(true) && s.owns {
		s.db.Close()
	}
	return nil
}

var errClosed = fmt.Errorf("the registry database is closed: %w", ErrClosed)

// View runs fn on one snapshot of the registry.
func (s *Registry) View(ctx context.Context, fn func(registry.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("registry read not started: %w", err)
	}
	if s.closed.Load() {
		return errClosed
	}
	conn, err := s.db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the registry: %w: %w", ErrUnavailable, err)
	}
	// A connection left in a transaction or busy (fn failed, the context
	// ended) is closed by the pool, not reused.
	defer conn.Release()
	tx := &viewTx{conn: conn}
	err = fn(&reader{ctx: ctx, tx: tx})
	if tx.begun {
		end := "COMMIT"
		if err != nil {
			end = "ROLLBACK"
		}
		if _, e := conn.Exec(ctx, end); e != nil && err == nil {
			err = fmt.Errorf("the registry read did not end cleanly: %w", e)
		}
	}
	return err
}

// viewBegin starts a View's transaction: one snapshot, taken by the
// first query, as a bbolt read transaction gives.
const viewBegin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

// viewTx is a View's transaction, begun in the same round trip as the
// View's first query: a counter look-up costs two round trips (begin
// with the query, then commit) instead of three. A View that reads
// nothing begins nothing.
type viewTx struct {
	conn  *pgxpool.Conn
	begun bool
}

func (t *viewTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun {
		return t.conn.Query(ctx, sql, args...)
	}
	t.begun = true
	b := &pgx.Batch{}
	b.Queue(viewBegin)
	b.Queue(sql, args...)
	br := t.conn.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *viewTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return firstRow{rows, err}
}

// batchRows are the rows of a batch's last query; closing them ends the
// batch, so the connection takes the next query.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	err    error // the batch's, at its close
	closed bool
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// firstRow is pgx.Row over rows: the first row, or pgx.ErrNoRows.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (r firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// Update runs fn in one transaction, alone among registry writers: every
// change fn makes is committed, or none if fn (or the commit) fails; IDs
// fn's PutX calls assigned are then reset to zero so the records can be put
// again.
func (s *Registry) Update(ctx context.Context, fn func(registry.Writer) error) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("registry update not started: %w", err)
	}
	if s.closed.Load() {
		return errClosed
	}
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("cannot change the registry: %w: %w", ErrUnavailable, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", registryLock); err != nil {
		return fmt.Errorf("cannot lock the registry for an update: %w", err)
	}
	w := &writer{reader: reader{ctx: ctx, tx: tx}, tx: tx, batch: &pgx.Batch{}}
	w.sync = func() error { return w.send("", nil) }
	defer func() {
		if err != nil {
			w.forgetAssigned()
		}
	}()
	if err := fn(w); err != nil {
		return err
	}
	if err := w.finish(); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("the registry update was not committed: %w", err)
	}
	return nil
}

// dbError words a failed statement; a duplicate key is a conflict (the
// checks before each write make it unreachable while writers hold the
// registry lock, so it means another program wrote the tables).
func dbError(err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("the registry database refused a duplicate: %w: %w", registry.ErrConflict, err)
	}
	return fmt.Errorf("the registry database failed: %w", err)
}

func decodePerson(id int64, data []byte) (*registry.Person, error) {
	p := new(registry.Person)
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("the registry is damaged: person %d cannot be read: %w", id, err)
	}
	p.ID = registry.PersonID(id)
	return p, nil
}

func decodeEvent(id int64, data []byte) (*registry.Event, error) {
	e := new(registry.Event)
	if err := json.Unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("the registry is damaged: event %d cannot be read: %w", id, err)
	}
	e.ID = registry.EventID(id)
	return e, nil
}

// reader answers from one transaction. A writer's reader first sends the
// writes it has queued, so it sees them.
type reader struct {
	ctx  context.Context
	tx   querier
	sync func() error
}

// querier is what a reader asks: a View's viewTx, an Update's pgx.Tx.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (r *reader) ready() error {
	if r.sync != nil {
		return r.sync()
	}
	return nil
}

// personWhere reads the one person a query selects as (id, record).
func (r *reader) personWhere(notFound error, sql string, args ...any) (*registry.Person, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	var id int64
	var data []byte
	err := r.tx.QueryRow(r.ctx, sql, args...).Scan(&id, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, dbError(err)
	}
	return decodePerson(id, data)
}

func (r *reader) Person(id registry.PersonID) (*registry.Person, error) {
	notFound := fmt.Errorf("no person with ID %d in the registry: %w", id, registry.ErrNotFound)
	if id > math.MaxInt64 {
		return nil, notFound
	}
	return r.personWhere(notFound, "SELECT id, record FROM persons WHERE id = $1", int64(id))
}

func (r *reader) PersonByCF(cf string) (*registry.Person, error) {
	code, base, err := registry.NormalizeCF(cf)
	if err != nil {
		return nil, err
	}
	if err := r.ready(); err != nil {
		return nil, err
	}
	// Every person sharing the base form, almost always one: the exact
	// code is among them, and so are the candidates of an omocode.
	rows, err := r.tx.Query(r.ctx, "SELECT id, cf, record FROM persons WHERE cf_base = $1 ORDER BY id", base)
	if err != nil {
		return nil, dbError(err)
	}
	type hit struct {
		id   int64
		cf   string
		data []byte
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (hit, error) {
		var h hit
		err := row.Scan(&h.id, &h.cf, &h.data)
		return h, err
	})
	if err != nil {
		return nil, dbError(err)
	}
	for _, h := range hits {
		if h.cf == code {
			return decodePerson(h.id, h.data)
		}
	}
	// Only an exact match may bypass validation: registries do hold
	// historic codes with a wrong check character, but a mistyped code
	// must not resolve to somebody through its base form.
	if err := codicefiscale.Validate(code); err != nil {
		return nil, err
	}
	switch n := len(hits); {
	case n == 1:
		return decodePerson(hits[0].id, hits[0].data)
	case n > 1:
		return nil, fmt.Errorf("codice fiscale %s matches nobody exactly and %d persons share its base form %s: %w", code, n, base, registry.ErrAmbiguous)
	}
	return nil, fmt.Errorf("no person in the registry has codice fiscale %s: %w", code, registry.ErrNotFound)
}

func (r *reader) PersonByNIS(nis string) (*registry.Person, error) {
	nis = strings.TrimSpace(nis)
	if nis == "" {
		return nil, fmt.Errorf("the NIS is empty; a CIE's NIS has 12 digits: %w", registry.ErrNotFound)
	}
	return r.personWhere(fmt.Errorf("no person in the registry holds a CIE with NIS %s: %w", nis, registry.ErrNotFound),
		"SELECT p.id, p.record FROM person_nis n JOIN persons p ON p.id = n.person_id WHERE n.nis = $1", nis)
}

// prefixEnd returns the least string greater than every string starting
// with q in byte order (UTF-8 orders as code points do): q with its last
// rune incremented. ok is false when there is none.
func prefixEnd(q string) (end string, ok bool) {
	r, size := utf8.DecodeLastRuneInString(q)
	next := r + 1
	if next >= 0xD800 && next <= 0xDFFF { // surrogates are no runes
		next = 0xE000
	}
	if next > unicode.MaxRune {
		return "", false
	}
	return q[:len(q)-size] + string(next), true
}

func (r *reader) PersonsByName(query string, limit int) ([]*registry.Person, error) {
	q := registry.NameQuery(query)
	if q == "" {
		return nil, fmt.Errorf("%w: a name search needs at least one letter", registry.ErrInvalid)
	}
	if err := r.ready(); err != nil {
		return nil, err
	}
	var lim any // NULL: LIMIT ALL
	if limit > 0 {
		lim = int64(limit)
	}
	// A range of the name index, not LIKE: a prepared statement's generic
	// plan cannot use an index for LIKE $1.
	sql, args := "SELECT id, name_key, record FROM persons WHERE name_key >= $1 ORDER BY name_key, id LIMIT $2", []any{q, lim}
	if end, ok := prefixEnd(q); ok {
		sql, args = "SELECT id, name_key, record FROM persons WHERE name_key >= $1 AND name_key < $3 ORDER BY name_key, id LIMIT $2", []any{q, lim, end}
	}
	rows, err := r.tx.Query(r.ctx, sql, args...)
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	var out []*registry.Person
	for rows.Next() {
		var id int64
		var key string
		var data []byte
		if err := rows.Scan(&id, &key, &data); err != nil {
			return nil, dbError(err)
		}
		if !strings.HasPrefix(key, q) { // only past prefixEnd's fallback
			break
		}
		p, err := decodePerson(id, data)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err)
	}
	return out, nil
}

func (r *reader) Family(id registry.FamilyID) (*registry.Family, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	notFound := fmt.Errorf("no family with ID %d in the registry: %w", id, registry.ErrNotFound)
	if id > math.MaxInt64 {
		return nil, notFound
	}
	f := &registry.Family{ID: id}
	var kind int16
	err := r.tx.QueryRow(r.ctx, "SELECT kind, name FROM families WHERE id = $1", int64(id)).Scan(&kind, &f.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, dbError(err)
	}
	f.Kind = registry.FamilyKind(kind)
	return f, nil
}

// Members lists the current members: family_members also holds every
// former member (Person.Memberships), whose current family is another.
func (r *reader) Members(id registry.FamilyID) ([]*registry.Person, error) {
	return r.members(id, true)
}

func (r *reader) FamilyHistory(id registry.FamilyID) ([]*registry.Person, error) {
	return r.members(id, false)
}

func (r *reader) members(id registry.FamilyID, current bool) ([]*registry.Person, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	notFound := fmt.Errorf("no family with ID %d in the registry: %w", id, registry.ErrNotFound)
	if id > math.MaxInt64 {
		return nil, notFound
	}
	// One row with no person for a family with no members; none for no
	// family.
	rows, err := r.tx.Query(r.ctx, `SELECT p.id, p.record FROM families f
		LEFT JOIN family_members m ON m.family_id = f.id
		LEFT JOIN persons p ON p.id = m.person_id
		WHERE f.id = $1`, int64(id))
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	family := false
	var out []*registry.Person
	for rows.Next() {
		family = true
		var pid *int64
		var data []byte
		if err := rows.Scan(&pid, &data); err != nil {
			return nil, dbError(err)
		}
		if pid == nil {
			continue
		}
		p, err := decodePerson(*pid, data)
		if err != nil {
			return nil, fmt.Errorf("family %d lists a member that cannot be read: %w", id, err)
		}
		if current && p.Family != id {
			continue
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err)
	}
	if !family {
		return nil, notFound
	}
	slices.SortStableFunc(out, registry.CompareMembers)
	return out, nil
}

func (r *reader) EventsOf(id registry.PersonID) ([]*registry.Event, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	notFound := fmt.Errorf("no person with ID %d in the registry: %w", id, registry.ErrNotFound)
	if id > math.MaxInt64 {
		return nil, notFound
	}
	rows, err := r.tx.Query(r.ctx, `SELECT e.id, e.record FROM persons p
		LEFT JOIN person_events pe ON pe.person_id = p.id
		LEFT JOIN events e ON e.id = pe.event_id
		WHERE p.id = $1`, int64(id))
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	person := false
	var out []*registry.Event
	for rows.Next() {
		person = true
		var eid *int64
		var data []byte
		if err := rows.Scan(&eid, &data); err != nil {
			return nil, dbError(err)
		}
		if eid == nil {
			continue
		}
		e, err := decodeEvent(*eid, data)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err)
	}
	if !person {
		return nil, notFound
	}
	slices.SortStableFunc(out, registry.CompareEvents)
	return out, nil
}

// page is how many records Persons, Families and Events read at a time:
// fn may use the reader, and a transaction runs one query at a time.
const page = 1000

func (r *reader) Persons(after registry.PersonID, fn func(*registry.Person) (bool, error)) error {
	return walk(r, "SELECT id, record FROM persons WHERE id > $1 ORDER BY id LIMIT $2", uint64(after),
		func(rows pgx.Rows) (*registry.Person, uint64, error) {
			var id int64
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				return nil, 0, dbError(err)
			}
			p, err := decodePerson(id, data)
			return p, uint64(id), err
		}, fn)
}

func (r *reader) Families(after registry.FamilyID, fn func(*registry.Family) (bool, error)) error {
	return walk(r, "SELECT id, kind, name FROM families WHERE id > $1 ORDER BY id LIMIT $2", uint64(after),
		func(rows pgx.Rows) (*registry.Family, uint64, error) {
			var id int64
			var kind int16
			f := new(registry.Family)
			if err := rows.Scan(&id, &kind, &f.Name); err != nil {
				return nil, 0, dbError(err)
			}
			f.ID, f.Kind = registry.FamilyID(id), registry.FamilyKind(kind)
			return f, uint64(id), nil
		}, fn)
}

func (r *reader) Events(after registry.EventID, fn func(*registry.Event) (bool, error)) error {
	return walk(r, "SELECT id, record FROM events WHERE id > $1 ORDER BY id LIMIT $2", uint64(after),
		func(rows pgx.Rows) (*registry.Event, uint64, error) {
			var id int64
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				return nil, 0, dbError(err)
			}
			e, err := decodeEvent(id, data)
			return e, uint64(id), err
		}, fn)
}

// walk reads the records sql selects after an ID, a page at a time (sql
// takes the ID and the page size), and calls fn with each.
func walk[T any](r *reader, sql string, after uint64, scan func(pgx.Rows) (*T, uint64, error), fn func(*T) (bool, error)) error {
	for after < math.MaxInt64 {
		if err := r.ready(); err != nil {
			return err
		}
		rows, err := r.tx.Query(r.ctx, sql, int64(after), page)
		if err != nil {
			return dbError(err)
		}
		var recs []*T
		var last uint64
		for rows.Next() {
			rec, id, err := scan(rows)
			if err != nil {
				rows.Close()
				return err
			}
			recs, last = append(recs, rec), id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return dbError(err)
		}
		for _, rec := range recs {
			more, err := fn(rec)
			if err != nil || !more {
				return err
			}
		}
		if len(recs) < page {
			return nil
		}
		after = last
	}
	return nil
}

func (r *reader) CountPersons() (int, error) {
	if err := r.ready(); err != nil {
		return 0, err
	}
	var n int64
	if err := r.tx.QueryRow(r.ctx, "SELECT persons FROM registry_counts").Scan(&n); err != nil {
		return 0, dbError(err)
	}
	return int(n), nil
}

func (r *reader) Places() ([]places.Place, error) {
	if err := r.ready(); err != nil {
		return nil, err
	}
	rows, err := r.tx.Query(r.ctx, "SELECT code, record FROM places ORDER BY code, valid_from")
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	var out []places.Place
	for rows.Next() {
		var code string
		var data []byte
		if err := rows.Scan(&code, &data); err != nil {
			return nil, dbError(err)
		}
		var p places.Place
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("the registry is damaged: place %q cannot be read: %w", code, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err)
	}
	return out, nil
}

package postgres

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
)

// writer queues its writes and sends them together with the next query it
// must answer (a check before a write, or a read), in one round trip: a
// bulk import of a person costs one round trip, not one per table.
//
// Every check a Put makes (is the code or NIS held, does the family exist)
// is answered before its first write is queued, so a refused Put leaves
// the transaction as it was and usable, as registry.Writer requires:
// PostgreSQL would abort the whole transaction on a failed statement.
type writer struct {
	reader
	tx          pgx.Tx // the reader's too
	batch       *pgx.Batch
	broken      error    // a queued write failed: the transaction is aborted
	assigned    []func() // undo ID assignments if the transaction fails
	personDelta int
	// lazyLock: the writer of a hub transaction (Store.Update), which
	// takes the registry lock on its first change, not at begin.
	lazyLock, locked bool

	// Highest ID of each table, read once per transaction on first need.
	// Writers hold the registry lock, so nobody else assigns IDs
	// meanwhile; records are never deleted, so max(id) is the sequence
	// bbolt keeps, and like it rolls back with the transaction.
	maxID  [3]int64
	loaded [3]bool

	// Runs of IDs this transaction assigned one after the other: they
	// exist without asking (the events of persons just put, the persons
	// of a family just put).
	persons, families idRun

	// A bulk load's index of every codice fiscale and NIS held, read
	// once the transaction has put a fiftieth of the registry (bulkAfter
	// persons at least): new persons are then checked in memory and
	// their rows sent with COPY, with no round trip each. The lock keeps
	// it true until commit; a replacement (whose old codes it would have
	// to forget) drops it.
	bulk   *bulkIndex
	noBulk bool
	puts   int                      // records put
	bulkAt int                      // puts at which to read it
	rows   [len(copyTables)][][]any // new rows of a bulk load, for COPY
	// rebuild holds, during a bulk load into an empty registry, the
	// statements that put back the indexes and foreign keys it dropped
	// (freshLoad); finish runs them before the commit.
	rebuild []string
}

// bulkAfter is how many persons an Update puts before it considers reading
// the bulk index; it reads it once it has put a fiftieth as many persons
// as the registry holds: reading costs about a microsecond a person held,
// a person checked in the database a round trip of 50–100, so it pays
// only for an import. bulkFlush is how many queued writes are sent at
// once.
const (
	bulkAfter = 256
	bulkFlush = 2000
)

type bulkIndex struct {
	cf, nis           map[string]int64 // exact code or NIS → holder
	persons, families map[int64]bool   // every ID stored or put
}

// bulkCopy is how many new persons a bulk load gathers before it sends
// them, and the new families and events that came with them, with one
// COPY per table: many times faster than an INSERT per row.
const bulkCopy = 10000

// copyTables are the tables a bulk load copies into, in the order of
// writer.rows.
var copyTables = [...]struct {
	name    string
	columns []string
}{
	{"families", []string{"id", "kind", "name"}},
	{"persons", []string{"id", "cf", "cf_base", "name_key", "family_id", "record"}},
	{"person_nis", []string{"nis", "person_id"}},
	{"family_members", []string{"family_id", "person_id"}},
	{"events", []string{"id", "record"}},
	{"person_events", []string{"person_id", "event_id"}},
}

const (
	copyFamilies = iota
	copyPersons
	copyNIS
	copyMembers
	copyEvents
	copyPersonEvents
)

// flushRows copies the gathered rows into their tables.
func (w *writer) flushRows() error {
	for i, t := range copyTables {
		if len(w.rows[i]) == 0 {
			continue
		}
		if _, err := w.tx.CopyFrom(w.ctx, pgx.Identifier{t.name}, t.columns, pgx.CopyFromRows(w.rows[i])); err != nil {
			w.broken = fmt.Errorf("a registry write failed, so the update cannot go on: %w", dbError(err))
			return w.broken
		}
		w.rows[i] = w.rows[i][:0]
	}
	return nil
}

// maybeBulk counts a Put and reads the bulk index when the update has put
// enough records for it to pay.
func (w *writer) maybeBulk() error {
	if w.puts++; w.puts != max(bulkAfter, w.bulkAt) || w.noBulk || w.bulk != nil {
		return nil
	}
	n, err := w.reader.CountPersons()
	if err != nil {
		return err
	}
	if w.bulkAt = n / 50; w.puts >= w.bulkAt {
		return w.loadBulk(n == 0)
	}
	return nil
}

// loadBulk reads the bulk index; fresh: the registry was empty when the
// transaction began.
func (w *writer) loadBulk(fresh bool) error {
	if err := w.send("", nil); err != nil {
		return err
	}
	var n int64
	if err := w.tx.QueryRow(w.ctx, "SELECT count(*) FROM persons").Scan(&n); err != nil {
		return dbError(err)
	}
	b := &bulkIndex{cf: make(map[string]int64, n+bulkCopy), nis: make(map[string]int64, n+bulkCopy),
		persons: make(map[int64]bool, n+bulkCopy), families: map[int64]bool{}}
	for _, q := range []struct {
		sql string
		add func(key string, id int64)
	}{
		{"SELECT cf, id FROM persons", func(cf string, id int64) { b.cf[cf], b.persons[id] = id, true }},
		{"SELECT nis, person_id FROM person_nis", func(nis string, id int64) { b.nis[nis] = id }},
		{"SELECT '', id FROM families", func(_ string, id int64) { b.families[id] = true }},
	} {
		rows, err := w.tx.Query(w.ctx, q.sql)
		if err != nil {
			return dbError(err)
		}
		var key string
		var id int64
		_, err = pgx.ForEachRow(rows, []any{&key, &id}, func() error {
			q.add(key, id)
			return nil
		})
		if err != nil {
			return dbError(err)
		}
	}
	w.bulk = b
	if fresh {
		return w.freshLoad()
	}
	return nil
}

// freshLoad prepares a bulk load into a registry that was empty when the
// transaction began (hub seed, hub migrate): the tables' secondary
// indexes and foreign keys are dropped, and finish builds each index in
// one sort and checks each foreign key with one join over the loaded
// rows. Kept in place they cost the most of such a load: every row added
// to four indexes one at a time, and at commit one lookup per reference
// (about six a person) by the deferred triggers that check them.
//
// The statements that put them back are read from the catalogue, so they
// are whatever the migrations made. It is all one transaction: a load that
// fails leaves the schema as it was, and no other transaction sees the
// tables without them (DROP locks them until the commit; the registry
// was empty, so readers of another hub wait for the load rather than
// read nothing). The store checked every reference itself before it
// queued a row, so the joins at the end find nothing amiss but what
// another program wrote meanwhile, which they refuse.
func (w *writer) freshLoad() error {
	if err := w.send("", nil); err != nil {
		return err
	}
	// Rows written before the bulk index have their checks pending: run
	// them now, as ALTER TABLE refuses a table with pending trigger events.
	if _, err := w.tx.Exec(w.ctx, "SET CONSTRAINTS ALL IMMEDIATE"); err != nil {
		return dbError(err)
	}
	tables := make([]string, len(copyTables))
	for i, t := range copyTables {
		tables[i] = t.name
	}
	type dropped struct{ drop, rebuild string }
	var all []dropped
	// Foreign keys first: an index they rely on could not go before them.
	rows, err := w.tx.Query(w.ctx, `SELECT cl.relname, c.conname, pg_get_constraintdef(c.oid)
		FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
		WHERE c.contype = 'f' AND cl.relnamespace = current_schema()::regnamespace AND cl.relname = ANY($1)
		ORDER BY cl.relname, c.conname`, tables)
	if err != nil {
		return dbError(err)
	}
	var table, name, def string
	_, err = pgx.ForEachRow(rows, []any{&table, &name, &def}, func() error {
		t, c := pgx.Identifier{table}.Sanitize(), pgx.Identifier{name}.Sanitize()
		all = append(all, dropped{"ALTER TABLE " + t + " DROP CONSTRAINT " + c, "ALTER TABLE " + t + " ADD CONSTRAINT " + c + " " + def})
		return nil
	})
	if err != nil {
		return dbError(err)
	}
	// Indexes that back no constraint (primary keys and unique codes stay:
	// the load's own checks read them).
	rows, err = w.tx.Query(w.ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c
			WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
		ORDER BY i.tablename, i.indexname`, tables)
	if err != nil {
		return dbError(err)
	}
	_, err = pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		all = append(all, dropped{"DROP INDEX " + pgx.Identifier{name}.Sanitize(), def})
		return nil
	})
	if err != nil {
		return dbError(err)
	}
	for _, d := range all {
		if _, err := w.tx.Exec(w.ctx, d.drop); err != nil {
			return fmt.Errorf("cannot prepare the registry for a bulk load: %w", dbError(err))
		}
	}
	// Indexes before the foreign keys, which are checked once they exist.
	for i := len(all) - 1; i >= 0; i-- {
		w.rebuild = append(w.rebuild, all[i].rebuild)
	}
	// A larger sort area builds the indexes in memory rather than in
	// temporary files; LOCAL: for this transaction only.
	if _, err := w.tx.Exec(w.ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return dbError(err)
	}
	return nil
}

const (
	tablePersons = iota
	tableFamilies
	tableEvents
)

var idTables = [3]string{"persons", "families", "events"}

type idRun struct{ lo, hi int64 }

func (r *idRun) has(id int64) bool { return r.lo != 0 && id >= r.lo && id <= r.hi }

func (r *idRun) stored(id int64) {
	if r.lo != 0 && id == r.hi+1 {
		r.hi = id
	} else {
		r.lo, r.hi = id, id
	}
}

// send sends the queued writes and then, when q is not empty, the query q
// whose one row is scanned into dest.
func (w *writer) send(q string, args []any, dest ...any) error {
	if w.broken != nil {
		return w.broken
	}
	if err := w.flushRows(); err != nil {
		return err
	}
	b := w.batch
	writes := b.Len()
	if q != "" {
		b.Queue(q, args...)
	}
	if b.Len() == 0 {
		return nil
	}
	w.batch = &pgx.Batch{}
	br := w.tx.SendBatch(w.ctx, b)
	for range writes {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			w.broken = fmt.Errorf("a registry write failed, so the update cannot go on: %w", dbError(err))
			return w.broken
		}
	}
	if q != "" {
		if err := br.QueryRow().Scan(dest...); err != nil {
			_ = br.Close()
			return dbError(err)
		}
	}
	if err := br.Close(); err != nil {
		return dbError(err)
	}
	return nil
}

func (w *writer) forgetAssigned() {
	for _, undo := range w.assigned {
		undo()
	}
	w.assigned = nil
}

// nextID assigns the next ID of table t.
func (w *writer) nextID(t int) (int64, error) {
	if err := w.loadMax(t); err != nil {
		return 0, err
	}
	w.maxID[t]++
	return w.maxID[t], nil
}

// loadMax reads the highest ID of table t, once per transaction.
func (w *writer) loadMax(t int) error {
	if !w.loaded[t] {
		if err := w.send("SELECT coalesce(max(id), 0) FROM "+idTables[t], nil, &w.maxID[t]); err != nil {
			return err
		}
		w.loaded[t] = true
	}
	return nil
}

// unused reports whether no record of table t has id: IDs only grow and
// records are never deleted, so an ID above the highest is free.
func (w *writer) unused(t int, id int64) (bool, error) {
	if err := w.loadMax(t); err != nil {
		return false, err
	}
	return id > w.maxID[t], nil
}

// seen notes an ID given by the caller, so later assigned IDs pass it.
func (w *writer) seen(t int, id int64) {
	if w.loaded[t] && id > w.maxID[t] {
		w.maxID[t] = id
	}
}

func (w *writer) CountPersons() (int, error) {
	n, err := w.reader.CountPersons()
	return n + w.personDelta, err
}

// checkPerson answers every question PutPerson asks before it writes: the
// holder of the exact code; a NIS of the person held by someone else, and
// by whom; the families named that do not exist, in the order given; and
// whether the ID is a stored person's.
const checkPerson = `SELECT
	(SELECT id FROM persons WHERE cf = $1),
	n.nis, n.person_id,
	ARRAY(SELECT u.f FROM unnest($4::bigint[]) WITH ORDINALITY AS u(f, i)
		WHERE NOT EXISTS (SELECT 1 FROM families WHERE id = u.f) ORDER BY u.i),
	EXISTS (SELECT 1 FROM persons WHERE id = $3)
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT nis, person_id FROM person_nis
	WHERE nis = ANY($2::text[]) AND person_id <> $3 ORDER BY nis LIMIT 1) AS n ON true`

func (w *writer) PutPerson(p *registry.Person) error {
	if err := w.lock(); err != nil {
		return err
	}
	code, base, err := p.ValidateStored()
	if err != nil {
		return err
	}
	if p.ID > math.MaxInt64 {
		return fmt.Errorf("%w: person ID %d is too large", registry.ErrInvalid, p.ID)
	}
	fams := familyIDs(p)
	var ask []int64 // families not known to exist
	for _, f := range fams {
		if !w.families.has(f) {
			ask = append(ask, f)
		}
	}
	niss := p.CIENIS()
	id := int64(p.ID)
	if err := w.maybeBulk(); err != nil {
		return err
	}
	if w.bulk != nil && w.bulk.persons[id] {
		// A replacement: the index would have to forget its old codes.
		w.bulk, w.noBulk = nil, true
	}
	if w.bulk != nil {
		for _, f := range fams {
			if !w.bulk.families[f] {
				return missingFamily(p, code, f)
			}
		}
		return w.putNew(p, code, base, fams, niss)
	}
	var (
		holder    *int64
		nis       *string
		nisHolder *int64
		missing   []int64
		exists    bool
	)
	if err := w.send(checkPerson, []any{code, niss, id, ask}, &holder, &nis, &nisHolder, &missing, &exists); err != nil {
		return err
	}
	// The order of store/bolt/registrybolt's checks, so both refuse alike.
	if len(missing) > 0 {
		return missingFamily(p, code, missing[0])
	}
	if holder != nil && *holder != id {
		return fmt.Errorf("codice fiscale %s already belongs to person %d: %w", code, *holder, registry.ErrConflict)
	}
	if nis != nil {
		return fmt.Errorf("the CIE with NIS %s already belongs to person %d: %w", *nis, *nisHolder, registry.ErrConflict)
	}

	if id == 0 {
		if id, err = w.nextID(tablePersons); err != nil {
			return err
		}
		p.ID = registry.PersonID(id)
		w.assigned = append(w.assigned, func() { p.ID = 0 })
	} else {
		w.seen(tablePersons, id)
	}
	return w.queuePerson(p, code, base, fams, niss, exists)
}

func missingFamily(p *registry.Person, code string, f int64) error {
	if f == int64(p.Family) {
		return fmt.Errorf("%w: person %s belongs to family %d, which is not in the registry", registry.ErrInvalid, code, p.Family)
	}
	return fmt.Errorf("%w: person %s belonged to family %d, which is not in the registry", registry.ErrInvalid, code, f)
}

// putNew puts a new person (ID zero, or one no person has) during a bulk
// load: the codes are checked against the bulk index, the families are
// known to exist.
func (w *writer) putNew(p *registry.Person, code, base string, fams []int64, niss []string) error {
	if holder, ok := w.bulk.cf[code]; ok {
		return fmt.Errorf("codice fiscale %s already belongs to person %d: %w", code, holder, registry.ErrConflict)
	}
	for _, nis := range niss {
		if holder, ok := w.bulk.nis[nis]; ok {
			return fmt.Errorf("the CIE with NIS %s already belongs to person %d: %w", nis, holder, registry.ErrConflict)
		}
	}
	id := int64(p.ID)
	if id == 0 {
		var err error
		if id, err = w.nextID(tablePersons); err != nil {
			return err
		}
		p.ID = registry.PersonID(id)
		w.assigned = append(w.assigned, func() { p.ID = 0 })
	} else {
		w.seen(tablePersons, id)
	}
	w.bulk.persons[id] = true
	w.bulk.cf[code] = id
	for _, nis := range niss {
		w.bulk.nis[nis] = id
	}
	p.CF = code
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("person %s cannot be encoded: %w", code, err)
	}
	var family any // NULL: no family
	if p.Family != 0 {
		family = int64(p.Family)
	}
	w.rows[copyPersons] = append(w.rows[copyPersons], []any{id, code, base, registry.NameKey(p.Surname, p.GivenNames), family, data})
	for _, nis := range niss {
		w.rows[copyNIS] = append(w.rows[copyNIS], []any{nis, id})
	}
	for _, f := range fams {
		w.rows[copyMembers] = append(w.rows[copyMembers], []any{f, id})
	}
	w.personDelta++
	w.persons.stored(id)
	if len(w.rows[copyPersons]) >= bulkCopy || w.batch.Len() >= bulkFlush {
		return w.send("", nil)
	}
	return nil
}

// queuePerson queues the writes of a checked person.
func (w *writer) queuePerson(p *registry.Person, code, base string, fams []int64, niss []string, exists bool) error {
	id := int64(p.ID)
	p.CF = code
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("person %s cannot be encoded: %w", code, err)
	}
	var family any // NULL: no family
	if p.Family != 0 {
		family = int64(p.Family)
	}
	// A new person is a plain INSERT: were the registry lock ever
	// bypassed, a clash of IDs would fail rather than overwrite.
	upsert := `INSERT INTO persons (id, cf, cf_base, name_key, family_id, record) VALUES ($1, $2, $3, $4, $5, $6)`
	if exists {
		upsert += ` ON CONFLICT (id) DO UPDATE SET cf = excluded.cf, cf_base = excluded.cf_base, name_key = excluded.name_key,
		family_id = excluded.family_id, record = excluded.record`
	}
	w.batch.Queue(upsert, id, code, base, registry.NameKey(p.Surname, p.GivenNames), family, data)
	if exists {
		// A replacement: drop the NIS and families the person no
		// longer has.
		w.batch.Queue("DELETE FROM person_nis WHERE person_id = $1 AND NOT (nis = ANY($2::text[]))", id, orEmpty(niss))
		w.batch.Queue("DELETE FROM family_members WHERE person_id = $1 AND NOT (family_id = ANY($2::bigint[]))", id, orEmpty(fams))
	} else {
		w.personDelta++
		w.persons.stored(id)
	}
	if len(niss) > 0 {
		w.batch.Queue("INSERT INTO person_nis (nis, person_id) SELECT unnest($1::text[]), $2 ON CONFLICT (nis) DO NOTHING", niss, id)
	}
	if len(fams) > 0 {
		w.batch.Queue("INSERT INTO family_members (family_id, person_id) SELECT unnest($1::bigint[]), $2 ON CONFLICT DO NOTHING", fams, id)
	}
	return nil
}

// orEmpty makes a nil slice an empty array: x = ANY(NULL) is NULL, and
// NOT NULL would keep every row.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (w *writer) PutFamily(f *registry.Family) error {
	if err := w.lock(); err != nil {
		return err
	}
	if err := f.Validate(); err != nil {
		return err
	}
	if f.ID > math.MaxInt64 {
		return fmt.Errorf("%w: family ID %d is too large", registry.ErrInvalid, f.ID)
	}
	if err := w.maybeBulk(); err != nil {
		return err
	}
	id := int64(f.ID)
	fresh := id == 0
	if fresh {
		var err error
		if id, err = w.nextID(tableFamilies); err != nil {
			return err
		}
		f.ID = registry.FamilyID(id)
		w.assigned = append(w.assigned, func() { f.ID = 0 })
	} else {
		w.seen(tableFamilies, id)
	}
	if w.bulk != nil && (fresh || !w.bulk.families[id]) {
		w.rows[copyFamilies] = append(w.rows[copyFamilies], []any{id, int16(f.Kind), f.Name})
		w.bulk.families[id] = true
	} else {
		w.batch.Queue(`INSERT INTO families (id, kind, name) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name`, id, int16(f.Kind), f.Name)
	}
	w.families.stored(id)
	return nil
}

func (w *writer) PutEvent(e *registry.Event) error {
	if err := w.lock(); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if e.ID > math.MaxInt64 {
		return fmt.Errorf("%w: event ID %d is too large", registry.ErrInvalid, e.ID)
	}
	if err := w.maybeBulk(); err != nil {
		return err
	}
	var ask []int64 // persons not known to exist
	for _, list := range [][]registry.PersonID{e.Persons, e.Related} {
		for _, pid := range list {
			if pid > math.MaxInt64 {
				return fmt.Errorf("%w: the %s event of %s refers to person %d, who is not in the registry", registry.ErrInvalid, e.Kind, e.Date, pid)
			}
			switch {
			case w.bulk != nil && !w.bulk.persons[int64(pid)]:
				return fmt.Errorf("%w: the %s event of %s refers to person %d, who is not in the registry", registry.ErrInvalid, e.Kind, e.Date, pid)
			case w.bulk == nil && !w.persons.has(int64(pid)):
				ask = append(ask, int64(pid))
			}
		}
	}
	if len(ask) > 0 {
		var missing []int64
		err := w.send(`SELECT ARRAY(SELECT u.p FROM unnest($1::bigint[]) WITH ORDINALITY AS u(p, i)
			WHERE NOT EXISTS (SELECT 1 FROM persons WHERE id = u.p) ORDER BY u.i)`, []any{ask}, &missing)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: the %s event of %s refers to person %d, who is not in the registry", registry.ErrInvalid, e.Kind, e.Date, missing[0])
		}
	}
	id := int64(e.ID)
	fresh := id == 0
	if fresh {
		var err error
		if id, err = w.nextID(tableEvents); err != nil {
			return err
		}
		e.ID = registry.EventID(id)
		w.assigned = append(w.assigned, func() { e.ID = 0 })
	} else if w.bulk != nil {
		// A bulk load copies an event with an ID no event has.
		unused, err := w.unused(tableEvents, id)
		if err != nil {
			return err
		}
		fresh = unused
	}
	if !fresh {
		w.seen(tableEvents, id)
		// A replacement may involve other persons.
		w.batch.Queue("DELETE FROM person_events WHERE event_id = $1", id)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("the %s event of %s cannot be encoded: %w", e.Kind, e.Date, err)
	}
	var persons []int64
	for _, pid := range e.Persons {
		if !slices.Contains(persons, int64(pid)) {
			persons = append(persons, int64(pid))
		}
	}
	if w.bulk != nil && fresh {
		w.seen(tableEvents, id)
		w.rows[copyEvents] = append(w.rows[copyEvents], []any{id, data})
		for _, pid := range persons {
			w.rows[copyPersonEvents] = append(w.rows[copyPersonEvents], []any{pid, id})
		}
		return nil
	}
	w.batch.Queue("INSERT INTO events (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = excluded.record", id, data)
	w.batch.Queue("INSERT INTO person_events (person_id, event_id) SELECT unnest($1::bigint[]), $2 ON CONFLICT DO NOTHING", persons, id)
	return nil
}

func (w *writer) PutPlaces(ps []places.Place) error {
	if err := w.lock(); err != nil {
		return err
	}
	for i := range ps {
		p := ps[i]
		code := strings.ToUpper(strings.TrimSpace(p.Code))
		if code == "" || strings.ContainsRune(code, 0) {
			return fmt.Errorf("%w: place %q has no code", registry.ErrInvalid, p.Name)
		}
		p.Code = code
		from := "00000000"
		if !p.From.IsZero() {
			from = p.From.Format("20060102")
		}
		data, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("place %s: %w", code, err)
		}
		w.batch.Queue("INSERT INTO places (code, valid_from, record) VALUES ($1, $2, $3) ON CONFLICT (code, valid_from) DO UPDATE SET record = excluded.record",
			code, from, data)
	}
	return nil
}

// familyIDs is p.Families as the database's bigint keys.
func familyIDs(p *registry.Person) []int64 {
	var out []int64
	for _, f := range p.Families() {
		out = append(out, int64(f))
	}
	return out
}

// lock takes the registry's writer lock for a hub transaction's writer,
// once, before its first change: writers of the registry go one at a
// time (IDs are max(id)+1; see writer.maxID).
func (w *writer) lock() error {
	if !w.lazyLock || w.locked {
		return nil
	}
	if _, err := w.tx.Exec(w.ctx, "SELECT pg_advisory_xact_lock($1)", registryLock); err != nil {
		return fmt.Errorf("cannot lock the registry for an update: %w", err)
	}
	w.locked = true
	return nil
}

// LockForUpdate takes the registry's writer lock now, before fn reads
// what it will change (store.RegistryOf's Update).
func (w *writer) LockForUpdate() error { return w.lock() }

// finish sends what the writer still holds, before the commit.
func (w *writer) finish() error {
	if w.personDelta != 0 {
		w.batch.Queue("UPDATE registry_counts SET persons = persons + $1", w.personDelta)
		w.personDelta = 0
	}
	if err := w.send("", nil); err != nil {
		return err
	}
	for _, q := range w.rebuild {
		if _, err := w.tx.Exec(w.ctx, q); err != nil {
			w.broken = fmt.Errorf("the registry's indexes and references could not be rebuilt after a bulk load: %w", dbError(err))
			return w.broken
		}
	}
	w.rebuild = nil
	return nil
}

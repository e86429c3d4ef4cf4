package registrybolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
)

// u64array is u64key for keys that need not outlive the call, without the
// allocation of a returned slice.
func u64array(v uint64) [8]byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], v)
	return k
}

func u64key(v uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], v)
	return k[:]
}

func pairKey(a, b uint64) []byte {
	var k [16]byte
	binary.BigEndian.PutUint64(k[:8], a)
	binary.BigEndian.PutUint64(k[8:], b)
	return k[:]
}

func placeKey(code string, p places.Place) []byte {
	from := "00000000"
	if !p.From.IsZero() {
		from = p.From.Format("20060102")
	}
	return []byte(code + "\x00" + from)
}

// reader reads through the cf and nis indexes so a writer's pending entries
// are seen. Family members and person events are keyed by growing IDs, so
// they are written straight to their buckets: appends are cheap.
type reader struct {
	tx      *bbolt.Tx
	cf, nis index
	persons *bbolt.Bucket // opened on first use, like the indexes
}

// newReader returns a reader on tx; maps is nil for a read transaction and
// holds the reusable pending-entry maps of the cf and nis indexes otherwise.
func newReader(tx *bbolt.Tx, maps *[2]indexMaps) reader {
	var cfMaps, nisMaps *indexMaps
	if maps != nil {
		cfMaps, nisMaps = &maps[0], &maps[1]
	}
	return reader{
		tx:  tx,
		cf:  newIndex(tx, bucketCF, cfBaseLen, cfMaps),
		nis: newIndex(tx, bucketNIS, 0, nisMaps),
	}
}

const cfBaseLen = 16

func (r *reader) bucket(name []byte) *bbolt.Bucket { return r.tx.Bucket(name) }

// personsBucket is opened once per transaction: a read transaction opens a
// bucket with a search of the root and three allocations each time.
func (r *reader) personsBucket() *bbolt.Bucket {
	if r.persons == nil {
		r.persons = r.tx.Bucket(bucketPersons)
	}
	return r.persons
}

func (r *reader) Person(id registry.PersonID) (*registry.Person, error) {
	key := u64array(uint64(id))
	data := r.personsBucket().Get(key[:])
	if data == nil {
		return nil, fmt.Errorf("no person with ID %d in the registry: %w", id, registry.ErrNotFound)
	}
	return decodePerson(data)
}

// cfMatch scans the persons sharing base: exact is the one holding code,
// count how many there are and any one of them.
func (r *reader) cfMatch(code, base string) (exact, any registry.PersonID, count int) {
	var prefix [cfBaseLen]byte
	copy(prefix[:], base)
	r.cf.scan(prefix[:], func(k, v []byte) {
		id := registry.PersonID(binary.BigEndian.Uint64(k[cfBaseLen:]))
		if string(v) == code || len(v) == 0 && code == base {
			exact = id
		}
		any = id
		count++
	})
	return exact, any, count
}

func (r *reader) PersonByCF(cf string) (*registry.Person, error) {
	code, base, err := registry.NormalizeCF(cf)
	if err != nil {
		return nil, err
	}
	exact, any, n := r.cfMatch(code, base)
	if exact != 0 {
		return r.Person(exact)
	}
	// Only an exact match may bypass validation: registries do hold
	// historic codes with a wrong check character, but a mistyped code
	// must not resolve to somebody through its base form.
	if err := codicefiscale.Validate(code); err != nil {
		return nil, err
	}
	switch {
	case n == 1:
		return r.Person(any)
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
	v := r.nis.get([]byte(nis))
	if v == nil {
		return nil, fmt.Errorf("no person in the registry holds a CIE with NIS %s: %w", nis, registry.ErrNotFound)
	}
	return r.Person(registry.PersonID(binary.BigEndian.Uint64(v)))
}

func (r *reader) Family(id registry.FamilyID) (*registry.Family, error) {
	data := r.bucket(bucketFamilies).Get(u64key(uint64(id)))
	if data == nil {
		return nil, fmt.Errorf("no family with ID %d in the registry: %w", id, registry.ErrNotFound)
	}
	return decodeFamily(data)
}

// Members lists the current members: the members index also holds every
// former member (familiesOf), whose current family is another.
func (r *reader) Members(id registry.FamilyID) ([]*registry.Person, error) {
	return r.members(id, true)
}

func (r *reader) FamilyHistory(id registry.FamilyID) ([]*registry.Person, error) {
	return r.members(id, false)
}

func (r *reader) members(id registry.FamilyID, current bool) ([]*registry.Person, error) {
	if r.bucket(bucketFamilies).Get(u64key(uint64(id))) == nil {
		return nil, fmt.Errorf("no family with ID %d in the registry: %w", id, registry.ErrNotFound)
	}
	var ids []registry.PersonID
	prefix := u64key(uint64(id))
	c := r.bucket(bucketMembers).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, registry.PersonID(binary.BigEndian.Uint64(k[8:])))
	}
	out := make([]*registry.Person, 0, len(ids))
	for _, pid := range ids {
		p, err := r.Person(pid)
		if err != nil {
			return nil, fmt.Errorf("family %d lists a member that cannot be read: %w", id, err)
		}
		if current && p.Family != id {
			continue
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, registry.CompareMembers)
	return out, nil
}

func (r *reader) EventsOf(id registry.PersonID) ([]*registry.Event, error) {
	return r.eventsOf(id, nil)
}

// eventsOf reads the events the pevents bucket lists for id, and those in
// pending (event IDs of a writer's entries not yet in the bucket).
func (r *reader) eventsOf(id registry.PersonID, pending []uint64) ([]*registry.Event, error) {
	if key := u64array(uint64(id)); r.personsBucket().Get(key[:]) == nil {
		return nil, fmt.Errorf("no person with ID %d in the registry: %w", id, registry.ErrNotFound)
	}
	var eids [][]byte
	prefix := u64key(uint64(id))
	c := r.bucket(bucketPEvents).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		eids = append(eids, k[8:16:16])
	}
	for _, eid := range pending {
		eids = append(eids, u64key(eid))
	}
	out := make([]*registry.Event, 0, len(eids))
	events := r.bucket(bucketEvents)
	for _, eid := range eids {
		data := events.Get(eid)
		if data == nil {
			return nil, fmt.Errorf("the registry is damaged: person %d refers to event %d, which is missing", id, binary.BigEndian.Uint64(eid))
		}
		ev, err := decodeEvent(data)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	slices.SortStableFunc(out, registry.CompareEvents)
	return out, nil
}

func (r *reader) Persons(after registry.PersonID, fn func(*registry.Person) (bool, error)) error {
	if after == math.MaxUint64 {
		return nil
	}
	c := r.personsBucket().Cursor()
	for k, v := c.Seek(u64key(uint64(after) + 1)); k != nil; k, v = c.Next() {
		p, err := decodePerson(v)
		if err != nil {
			return fmt.Errorf("person %d: %w", binary.BigEndian.Uint64(k), err)
		}
		more, err := fn(p)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (r *reader) Families(after registry.FamilyID, fn func(*registry.Family) (bool, error)) error {
	return walk(r.bucket(bucketFamilies), uint64(after), decodeFamily, fn)
}

func (r *reader) Events(after registry.EventID, fn func(*registry.Event) (bool, error)) error {
	return walk(r.bucket(bucketEvents), uint64(after), decodeEvent, fn)
}

// walk decodes the records of an ID-keyed bucket after the given ID, in
// order, and calls fn with each.
func walk[T any](b *bbolt.Bucket, after uint64, decode func([]byte) (*T, error), fn func(*T) (bool, error)) error {
	if after == math.MaxUint64 {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(u64key(after + 1)); k != nil; k, v = c.Next() {
		rec, err := decode(v)
		if err != nil {
			return fmt.Errorf("record %d: %w", binary.BigEndian.Uint64(k), err)
		}
		more, err := fn(rec)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (r *reader) storedCount() (int, error) {
	v := r.bucket(bucketMeta).Get(keyPersons)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("the registry is damaged: its person count has %d bytes, want 8", len(v))
	}
	return int(binary.BigEndian.Uint64(v)), nil
}

func (r *reader) CountPersons() (int, error) { return r.storedCount() }

func (r *reader) Places() ([]places.Place, error) {
	var out []places.Place
	err := r.bucket(bucketPlaces).ForEach(func(k, v []byte) error {
		var p places.Place
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("the registry is damaged: place %q cannot be read: %w", k, err)
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// writer adds the Put methods. bbolt keeps references to the keys and values
// given to Put until commit, so they are carved from an arena that is never
// overwritten instead of reused buffers.
type writer struct {
	reader
	store       *Store
	arena       []byte
	scratch     []byte
	assigned    []func() // undo ID assignments if the transaction fails
	personDelta int
	personPuts  int
	buildAt     int // personPuts at which to build the cf and nis filters

	// The last runs of person and family IDs this transaction assigned
	// one after the other and stored. Records are never deleted, so an ID
	// in a run exists without a B-tree search: events refer to the persons
	// just put, persons to the family just put.
	persons, families idRun

	// pevents entries wait here and go into the bucket sorted, at commit,
	// like the cf and nis indexes: an event lists several persons, so its
	// entries arrive out of key order.
	pev       []pevKey
	pevSorted bool
	names     [][]byte // name index keys waiting for flushNames
}

type idRun struct{ lo, hi uint64 }

func (r *idRun) has(id uint64) bool { return r.lo != 0 && id >= r.lo && id <= r.hi }

// stored records that id was just assigned and stored.
func (r *idRun) stored(id uint64) {
	if r.lo != 0 && id == r.hi+1 {
		r.hi = id
	} else {
		r.lo, r.hi = id, id
	}
}

type pevKey struct{ person, event uint64 }

func comparePEv(a, b pevKey) int {
	if a.person != b.person {
		if a.person < b.person {
			return -1
		}
		return 1
	}
	switch {
	case a.event < b.event:
		return -1
	case a.event > b.event:
		return 1
	}
	return 0
}

func newWriter(tx *bbolt.Tx, s *Store) *writer {
	w := &writer{reader: newReader(tx, &s.indexMaps), store: s, pevSorted: true}
	w.cf.filter, w.nis.filter = s.filters[0], s.filters[1]
	// Building a filter reads the whole index, which pays only for a
	// bulk load.
	n, _ := w.storedCount()
	w.buildAt = max(4096, n/8)
	// IDs only grow, so ID-keyed buckets, and the indexes led by a new
	// record's ID, are appended to: full pages halve their size compared
	// with bbolt's default 50% split.
	for _, name := range [][]byte{bucketPersons, bucketFamilies, bucketEvents, bucketMembers, bucketPEvents} {
		tx.Bucket(name).FillPercent = 0.95
	}
	return w
}

func (w *writer) buildFilters() {
	n, _ := w.storedCount()
	// A CIE per person at most, one cf entry each: sized for the registry
	// to quadruple before the filter must be rebuilt.
	capacity := max(1<<22, 4*n)
	for i, ix := range []*index{&w.cf, &w.nis} {
		if w.store.filters[i] == nil {
			w.store.filters[i] = ix.buildFilter(capacity)
		}
		ix.filter = w.store.filters[i]
	}
}

// exists reports whether a person (or family) ID is stored.
func (w *writer) exists(b []byte, run *idRun, id uint64) bool {
	return run.has(id) || w.bucket(b).Get(u64key(id)) != nil
}

// pendingEvents returns the event IDs of pevents entries of id not yet in
// the bucket.
func (w *writer) pendingEvents(id registry.PersonID) []uint64 {
	w.sortPEv()
	i, _ := slices.BinarySearchFunc(w.pev, pevKey{uint64(id), 0}, comparePEv)
	var out []uint64
	for ; i < len(w.pev) && w.pev[i].person == uint64(id); i++ {
		out = append(out, w.pev[i].event)
	}
	return out
}

func (w *writer) sortPEv() {
	if !w.pevSorted {
		slices.SortFunc(w.pev, comparePEv)
		w.pev = slices.Compact(w.pev)
		w.pevSorted = true
	}
}

func (w *writer) EventsOf(id registry.PersonID) ([]*registry.Event, error) {
	return w.eventsOf(id, w.pendingEvents(id))
}

// delPEv removes a pevents entry, pending or stored.
func (w *writer) delPEv(k pevKey) error {
	w.sortPEv()
	if i, found := slices.BinarySearchFunc(w.pev, k, comparePEv); found {
		w.pev = slices.Delete(w.pev, i, i+1)
	}
	return w.bucket(bucketPEvents).Delete(pairKey(k.person, k.event))
}

func (w *writer) flushPEv() error {
	if len(w.pev) == 0 {
		return nil
	}
	w.sortPEv()
	b := w.bucket(bucketPEvents)
	// bbolt holds on to keys until commit: carve them from one buffer.
	buf := make([]byte, 16*len(w.pev))
	for i, k := range w.pev {
		key := buf[16*i : 16*i+16 : 16*i+16]
		binary.BigEndian.PutUint64(key[:8], k.person)
		binary.BigEndian.PutUint64(key[8:], k.event)
		if err := b.Put(key, nil); err != nil {
			return err
		}
	}
	return nil
}

const arenaChunk = 1 << 20

// alloc returns a fresh len-n slice from the arena.
func (w *writer) alloc(n int) []byte {
	if cap(w.arena)-len(w.arena) < n {
		size := arenaChunk
		if n > size {
			size = n
		}
		w.arena = make([]byte, 0, size)
	}
	start := len(w.arena)
	w.arena = w.arena[:start+n]
	return w.arena[start : start+n : start+n]
}

func (w *writer) copyBytes(b []byte) []byte {
	out := w.alloc(len(b))
	copy(out, b)
	return out
}

func (w *writer) forgetAssigned() {
	for _, undo := range w.assigned {
		undo()
	}
	w.assigned = nil
}

func (w *writer) flush() error {
	for i, ix := range []*index{&w.cf, &w.nis} {
		if err := ix.flush(); err != nil {
			return err
		}
		if f := w.store.filters[i]; f != nil && f.full() {
			// Its error rate would only grow: the next bulk load
			// builds a bigger one.
			w.store.filters[i] = nil
		}
	}
	if err := w.flushPEv(); err != nil {
		return err
	}
	if err := w.flushNames(); err != nil {
		return err
	}
	if w.personDelta == 0 {
		return nil
	}
	n, err := w.storedCount()
	if err != nil {
		return err
	}
	return w.bucket(bucketMeta).Put(keyPersons, u64key(uint64(n+w.personDelta)))
}

func (w *writer) CountPersons() (int, error) {
	n, err := w.storedCount()
	return n + w.personDelta, err
}

func (w *writer) PutPerson(p *registry.Person) error {
	code, base, err := p.ValidateStored()
	if err != nil {
		return err
	}
	if w.personPuts++; w.personPuts == w.buildAt && (w.cf.filter == nil || w.nis.filter == nil) {
		w.buildFilters()
	}
	if p.Family != 0 && !w.exists(bucketFamilies, &w.families, uint64(p.Family)) {
		return fmt.Errorf("%w: person %s belongs to family %d, which is not in the registry", registry.ErrInvalid, code, p.Family)
	}
	fams := p.Families()
	for _, f := range fams {
		if !w.exists(bucketFamilies, &w.families, uint64(f)) {
			return fmt.Errorf("%w: person %s belonged to family %d, which is not in the registry", registry.ErrInvalid, code, f)
		}
	}
	persons := w.personsBucket()
	var old *registry.Person
	if p.ID != 0 {
		if data := persons.Get(u64key(uint64(p.ID))); data != nil {
			if old, err = decodePerson(data); err != nil {
				return fmt.Errorf("cannot replace person %d: %w", p.ID, err)
			}
		}
	}

	// Every check comes before the first write, so a refused PutPerson
	// leaves the transaction as it was even if fn goes on.
	if exact, _, _ := w.cfMatch(code, base); exact != 0 && exact != p.ID {
		return fmt.Errorf("codice fiscale %s already belongs to person %d: %w", code, exact, registry.ErrConflict)
	}
	niss := p.CIENIS()
	for _, nis := range niss {
		if v := w.nis.get([]byte(nis)); v != nil {
			if holder := registry.PersonID(binary.BigEndian.Uint64(v)); holder != p.ID {
				return fmt.Errorf("the CIE with NIS %s already belongs to person %d: %w", nis, holder, registry.ErrConflict)
			}
		}
	}

	if p.ID == 0 {
		seq, err := persons.NextSequence()
		if err != nil {
			return err
		}
		p.ID = registry.PersonID(seq)
		w.assigned = append(w.assigned, func() { p.ID = 0 })
	} else if uint64(p.ID) > persons.Sequence() {
		if err := persons.SetSequence(uint64(p.ID)); err != nil {
			return err
		}
	}
	p.CF = code
	id := uint64(p.ID)

	if old != nil {
		if _, oldBase, err := registry.NormalizeCF(old.CF); err == nil && oldBase != base {
			if err := w.cf.del([]byte(oldBase + string(u64key(id)))); err != nil {
				return err
			}
		}
		for _, nis := range old.CIENIS() {
			still := false
			for _, n := range niss {
				still = still || n == nis
			}
			if !still {
				if err := w.nis.del([]byte(nis)); err != nil {
					return err
				}
			}
		}
		for _, f := range old.Families() {
			if !slices.Contains(fams, f) {
				if err := w.bucket(bucketMembers).Delete(pairKey(uint64(f), id)); err != nil {
					return err
				}
			}
		}
	} else {
		w.personDelta++
	}

	idVal := w.copyBytes(u64key(id))
	// Almost every code is its own base form; only omocodes store the code.
	var cfVal []byte
	if code != base {
		cfVal = w.copyBytes([]byte(code))
	}
	w.cf.put([]byte(base+string(idVal)), cfVal)
	for _, nis := range niss {
		w.nis.put([]byte(nis), idVal)
	}
	for _, f := range fams {
		if err := w.bucket(bucketMembers).Put(w.copyBytes(pairKey(uint64(f), id)), nil); err != nil {
			return err
		}
	}
	if err := w.indexName(old, p); err != nil {
		return err
	}
	w.scratch = appendPerson(w.scratch[:0], p)
	val := w.copyBytes(w.scratch)
	if err := persons.Put(idVal, val); err != nil {
		return err
	}
	if old == nil {
		w.persons.stored(id)
	}
	return nil
}

func (w *writer) PutFamily(f *registry.Family) error {
	if err := f.Validate(); err != nil {
		return err
	}
	b := w.bucket(bucketFamilies)
	if f.ID == 0 {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		f.ID = registry.FamilyID(seq)
		w.assigned = append(w.assigned, func() { f.ID = 0 })
	} else if uint64(f.ID) > b.Sequence() {
		if err := b.SetSequence(uint64(f.ID)); err != nil {
			return err
		}
	}
	if err := b.Put(w.copyBytes(u64key(uint64(f.ID))), appendFamily(nil, f)); err != nil {
		return err
	}
	w.families.stored(uint64(f.ID))
	return nil
}

func (w *writer) PutEvent(e *registry.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	for _, list := range [][]registry.PersonID{e.Persons, e.Related} {
		for _, pid := range list {
			if !w.exists(bucketPersons, &w.persons, uint64(pid)) {
				return fmt.Errorf("%w: the %s event of %s refers to person %d, who is not in the registry", registry.ErrInvalid, e.Kind, e.Date, pid)
			}
		}
	}
	b := w.bucket(bucketEvents)
	if e.ID != 0 {
		if data := b.Get(u64key(uint64(e.ID))); data != nil {
			old, err := decodeEvent(data)
			if err != nil {
				return fmt.Errorf("cannot replace event %d: %w", e.ID, err)
			}
			for _, pid := range old.Persons {
				if err := w.delPEv(pevKey{uint64(pid), uint64(e.ID)}); err != nil {
					return err
				}
			}
		}
		if uint64(e.ID) > b.Sequence() {
			if err := b.SetSequence(uint64(e.ID)); err != nil {
				return err
			}
		}
	} else {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		e.ID = registry.EventID(seq)
		w.assigned = append(w.assigned, func() { e.ID = 0 })
	}
	for _, pid := range e.Persons {
		k := pevKey{uint64(pid), uint64(e.ID)}
		if n := len(w.pev); n > 0 && comparePEv(w.pev[n-1], k) >= 0 {
			w.pevSorted = false
		}
		w.pev = append(w.pev, k)
	}
	return b.Put(w.copyBytes(u64key(uint64(e.ID))), appendEvent(nil, e))
}

func (w *writer) PutPlaces(ps []places.Place) error {
	b := w.bucket(bucketPlaces)
	for i := range ps {
		p := ps[i]
		code := strings.ToUpper(strings.TrimSpace(p.Code))
		if code == "" || strings.ContainsRune(code, 0) {
			return fmt.Errorf("%w: place %q has no code", registry.ErrInvalid, p.Name)
		}
		p.Code = code
		data, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("place %s: %w", code, err)
		}
		if err := b.Put(placeKey(code, p), data); err != nil {
			return err
		}
	}
	return nil
}

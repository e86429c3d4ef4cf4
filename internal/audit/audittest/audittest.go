// Package audittest is the conformance suite of the audit log's stores
// (audit.Tx through store.Tx.Audit): every backend runs it, so the chain,
// its anchors, searches, retention and the serialising of appends behave
// alike on each.
package audittest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// Backend is what the suite needs of a backend.
type Backend struct {
	// Open returns a new, empty store; the test closes it (t.Cleanup).
	Open func(t *testing.T) store.Store
	// Second opens another Store on s's data, as a second hub process on
	// the same database would; nil for a backend whose data one process
	// owns (a bbolt file).
	Second func(t *testing.T, s store.Store) store.Store
	// SetRecord replaces the stored record of entry seq behind the log's
	// back (nil deletes the entry), so the suite can check that Verify
	// and Prune notice. The search keys need not follow: the suite checks
	// breaks of the chain, which Verify reports before them.
	SetRecord func(t *testing.T, s store.Store, seq uint64, record []byte)
}

// Run runs the suite.
func Run(t *testing.T, b Backend) {
	t.Run("AppendGetHead", func(t *testing.T) { testAppend(t, b) })
	t.Run("DailyAnchors", func(t *testing.T) { testDailyAnchors(t, b) })
	t.Run("Search", func(t *testing.T) { testSearch(t, b) })
	t.Run("Atomic", func(t *testing.T) { testAtomic(t, b) })
	t.Run("ReadOnly", func(t *testing.T) { testReadOnly(t, b) })
	t.Run("Tamper", func(t *testing.T) { testTamper(t, b) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, b) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, b) })
	t.Run("Anchoring", func(t *testing.T) { testAnchoring(t, b) })
	if b.Second != nil {
		t.Run("TwoHubsOneChain", func(t *testing.T) { testTwoHubs(t, b) })
	}
}

// day1 09:00 in Rome; the test log spreads its entries over three days.
var day1 = time.Date(2026, 11, 23, 9, 0, 0, 0, protocol.Rome)

var subjects = []string{"RSSMRA50B17A558W", "CCCFBA85D03L219P", "MRTMRA83T56A269B"}

var actors = []audit.Actor{{Kind: audit.Staff, ID: "mrossi"}, {Kind: audit.Operator, ID: "op-7"}, {Kind: audit.Device, ID: "mrossi"}}

const testEntries = 10

// dayOf is the day (0, 1, 2) of test entry i: entries 1–3 fall on day 1,
// 4–7 on day 2, 8–10 on day 3.
func dayOf(i int) int {
	switch {
	case i < 3:
		return 0
	case i < 7:
		return 1
	}
	return 2
}

// entryAt is the i-th (from 0) test entry; every fourth names a clerk.
func entryAt(i int) audit.Entry {
	e := audit.Entry{
		Time:    day1.AddDate(0, 0, dayOf(i)).Add(time.Duration(i) * time.Minute),
		Actor:   actors[i%len(actors)],
		Purpose: "rilascio certificato, art. 33 DPR 223/1989",
		Subject: strings.ToLower(subjects[i%len(subjects)]),
		Data:    "residenza",
		Channel: "counter",
		Request: fmt.Sprintf("req-%d", i),
	}
	if i%4 == 3 {
		e.Clerk = audit.Clerk{ID: "clk-1", Name: "Anna Bianchi"}
	}
	return e
}

var ctx = context.Background()

func update(t *testing.T, s store.Store, fn func(audit.Tx) error) {
	t.Helper()
	if err := store.Domain(s, store.Tx.Audit).Update(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s store.Store, fn func(audit.Tx) error) {
	t.Helper()
	if err := store.Domain(s, store.Tx.Audit).View(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

// build appends the test entries, each in its own transaction as the hub
// would, and returns the final head.
func build(t *testing.T, s store.Store) audit.Head {
	t.Helper()
	for i := range testEntries {
		update(t, s, func(tx audit.Tx) error {
			e, err := tx.Append(entryAt(i))
			if err == nil && e.Seq != uint64(i+1) {
				err = fmt.Errorf("entry %d numbered %d", i+1, e.Seq)
			}
			return err
		})
	}
	var h audit.Head
	view(t, s, func(tx audit.Tx) (err error) { h, err = tx.Head(); return err })
	return h
}

// chain is the heads the test entries make, computed here from the data.
func chain(t *testing.T) []audit.Head {
	var hs []audit.Head
	var h audit.Head
	for i := range testEntries {
		e := entryAt(i)
		_, next, err := audit.Next(h, &e)
		if err != nil {
			t.Fatal(err)
		}
		hs, h = append(hs, next), next
	}
	return hs
}

func testAppend(t *testing.T, b Backend) {
	s := b.Open(t)
	view(t, s, func(tx audit.Tx) error {
		h, err := tx.Head()
		n, _ := tx.Count()
		_, ok, _ := tx.Oldest()
		if err != nil || h != (audit.Head{}) || n != 0 || ok {
			t.Errorf("empty log: head %v (%v), %d entries, oldest %v", h, err, n, ok)
		}
		if v, err := tx.Verify(); err != nil || v != (audit.Head{}) {
			t.Errorf("Verify of the empty log: %v %v", v, err)
		}
		return nil
	})
	head := build(t, s)
	want := chain(t)
	if head != want[testEntries-1] {
		t.Fatalf("head %v, want %v computed from the entries", head, want[testEntries-1])
	}
	view(t, s, func(tx audit.Tx) error {
		if n, err := tx.Count(); n != testEntries || err != nil {
			t.Errorf("Count %d %v", n, err)
		}
		e, err := tx.Get(5)
		if err != nil {
			return err
		}
		w := entryAt(4)
		if e.Seq != 5 || e.Subject != strings.ToUpper(w.Subject) || !e.Time.Equal(w.Time) || e.Time.Location() != time.UTC ||
			e.Actor != w.Actor || e.Request != w.Request || e.Purpose != w.Purpose {
			t.Errorf("Get(5) = %+v", e)
		}
		if e, _ := tx.Get(4); e.Clerk != entryAt(3).Clerk {
			t.Errorf("Get(4) lost its clerk: %+v", e.Clerk)
		}
		if p, err := tx.Point(5); err != nil || p != want[4] {
			t.Errorf("Point(5) = %v %v, want %v", p, err, want[4])
		}
		for _, seq := range []uint64{0, testEntries + 1, 1000} {
			if _, err := tx.Get(seq); !errors.Is(err, audit.ErrNotFound) {
				t.Errorf("Get(%d): %v, want ErrNotFound", seq, err)
			}
			if _, err := tx.Point(seq); !errors.Is(err, audit.ErrNotFound) {
				t.Errorf("Point(%d): %v, want ErrNotFound", seq, err)
			}
		}
		if o, ok, err := tx.Oldest(); err != nil || !ok || o.Seq != 1 {
			t.Errorf("Oldest %v %v %v", o.Seq, ok, err)
		}
		if v, err := tx.Verify(); err != nil || v != head {
			t.Errorf("Verify: %v %v, want %v", v, err, head)
		}
		return nil
	})
	// Within one transaction each append chains the one before.
	update(t, s, func(tx audit.Tx) error {
		for i := range 3 {
			e, err := tx.Append(entryAt(i))
			if err != nil {
				return err
			}
			if e.Seq != uint64(testEntries+1+i) {
				t.Errorf("appended as %d", e.Seq)
			}
		}
		h, err := tx.Head()
		if err != nil || h.Seq != testEntries+3 {
			t.Errorf("head in the transaction: %v %v", h, err)
		}
		return err
	})
	view(t, s, func(tx audit.Tx) error {
		if v, err := tx.Verify(); err != nil || v.Seq != testEntries+3 {
			t.Errorf("Verify: %v %v", v, err)
		}
		return nil
	})
	// An invalid entry is refused and takes no number.
	err := store.Domain(s, store.Tx.Audit).Update(ctx, func(tx audit.Tx) error {
		e := entryAt(0)
		e.Purpose = " "
		_, err := tx.Append(e)
		return err
	})
	if !errors.Is(err, audit.ErrInvalid) {
		t.Errorf("an entry with no purpose: %v", err)
	}
	view(t, s, func(tx audit.Tx) error {
		if h, _ := tx.Head(); h.Seq != testEntries+3 {
			t.Errorf("head after a refused entry: %v", h)
		}
		return nil
	})
}

func testDailyAnchors(t *testing.T, b Backend) {
	s := b.Open(t)
	build(t, s)
	want := chain(t)
	view(t, s, func(tx audit.Tx) error {
		as, err := tx.Anchors()
		if err != nil {
			return err
		}
		// Day 1 closed after entry 3, day 2 after entry 7; day 3 is open.
		wantAs := []audit.Anchor{
			{Day: protocol.DayOf(day1), Head: want[2]},
			{Day: protocol.DayOf(day1.AddDate(0, 0, 1)), Head: want[6]},
		}
		if !slices.Equal(as, wantAs) {
			t.Errorf("anchors %v, want %v", as, wantAs)
		}
		return nil
	})
	// A clock stepped back neither anchors again nor moves an anchor.
	update(t, s, func(tx audit.Tx) error {
		e := entryAt(0)
		_, err := tx.Append(e)
		return err
	})
	e := entryAt(9)
	e.Time = e.Time.AddDate(0, 0, 1)
	update(t, s, func(tx audit.Tx) error { _, err := tx.Append(e); return err })
	view(t, s, func(tx audit.Tx) error {
		as, err := tx.Anchors()
		if err != nil {
			return err
		}
		if len(as) != 3 || as[2].Day != protocol.DayOf(day1.AddDate(0, 0, 2)) || as[2].Seq != testEntries+1 {
			t.Errorf("after a clock step back and a new day: anchors %v", as)
		}
		if _, err := tx.Verify(); err != nil {
			t.Error(err)
		}
		return nil
	})
}

func testSearch(t *testing.T, b Backend) {
	s := b.Open(t)
	build(t, s)
	d := func(n int) protocol.Day { return protocol.DayOf(day1.AddDate(0, 0, n)) }
	want := func(keep func(i int) bool) []uint64 {
		var out []uint64
		for i := range testEntries {
			if keep(i) {
				out = append(out, uint64(i+1))
			}
		}
		return out
	}
	tests := []struct {
		name string
		q    audit.Query
		want []uint64
	}{
		{"all", audit.Query{}, want(func(int) bool { return true })},
		{"by subject, lower case", audit.Query{Subject: " " + strings.ToLower(subjects[1])}, want(func(i int) bool { return i%3 == 1 })},
		{"by actor id under any kind", audit.Query{Actor: "mrossi"}, want(func(i int) bool { return i%3 != 1 })},
		{"by actor kind and id", audit.Query{Actor: "device:mrossi"}, want(func(i int) bool { return i%3 == 2 })},
		{"by clerk", audit.Query{Actor: "clerk:clk-1"}, want(func(i int) bool { return i%4 == 3 })},
		{"by day range", audit.Query{From: d(1), To: d(2)}, want(func(i int) bool { return dayOf(i) >= 1 })},
		{"to a day", audit.Query{To: d(0)}, want(func(i int) bool { return dayOf(i) == 0 })},
		{"subject and day", audit.Query{Subject: subjects[0], From: d(1), To: d(1)}, want(func(i int) bool { return i%3 == 0 && dayOf(i) == 1 })},
		{"actor and day", audit.Query{Actor: "op-7", From: d(2)}, want(func(i int) bool { return i%3 == 1 && dayOf(i) == 2 })},
		{"nobody", audit.Query{Subject: "XXXXXX00X00X000X"}, nil},
		{"an id that is a prefix of another", audit.Query{Actor: "op"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			view(t, s, func(tx audit.Tx) error {
				return tx.Search(tt.q, func(e audit.Entry) (bool, error) {
					got = append(got, e.Seq)
					if e.Request != fmt.Sprintf("req-%d", e.Seq-1) {
						t.Errorf("entry %d came back as %+v", e.Seq, e)
					}
					return true, nil
				})
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	// fn stops the search, and its error comes back.
	var n int
	view(t, s, func(tx audit.Tx) error {
		return tx.Search(audit.Query{}, func(audit.Entry) (bool, error) { n++; return n < 3, nil })
	})
	if n != 3 {
		t.Errorf("a search stopped after 3 went on to %d", n)
	}
	stop := errors.New("stop")
	err := store.Domain(s, store.Tx.Audit).View(ctx, func(tx audit.Tx) error {
		return tx.Search(audit.Query{Actor: "mrossi"}, func(audit.Entry) (bool, error) { return true, stop })
	})
	if !errors.Is(err, stop) {
		t.Errorf("fn's error: %v", err)
	}
}

func testAtomic(t *testing.T, b Backend) {
	s := b.Open(t)
	head := build(t, s)
	fail := errors.New("the certificate could not be issued")
	err := store.Domain(s, store.Tx.Audit).Update(ctx, func(tx audit.Tx) error {
		for i := range 4 {
			if _, err := tx.Append(entryAt(i)); err != nil {
				return err
			}
		}
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatalf("Update: %v", err)
	}
	view(t, s, func(tx audit.Tx) error {
		h, _ := tx.Head()
		n, _ := tx.Count()
		as, _ := tx.Anchors()
		if h != head || n != testEntries || len(as) != 2 {
			t.Errorf("after a rolled-back transaction: head %v, %d entries, anchors %v", h, n, as)
		}
		return nil
	})
	// The numbers the rolled-back entries had are used again.
	update(t, s, func(tx audit.Tx) error {
		e, err := tx.Append(entryAt(0))
		if err == nil && e.Seq != testEntries+1 {
			t.Errorf("the next entry is %d, want %d", e.Seq, testEntries+1)
		}
		return err
	})
	view(t, s, func(tx audit.Tx) error {
		if _, err := tx.Verify(); err != nil {
			t.Error(err)
		}
		return nil
	})
}

func testReadOnly(t *testing.T, b Backend) {
	s := b.Open(t)
	head := build(t, s)
	view(t, s, func(tx audit.Tx) error {
		if _, err := tx.Append(entryAt(0)); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Append in a View: %v", err)
		}
		if _, _, err := tx.Prune(head, 10); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Prune in a View: %v", err)
		}
		return nil
	})
	view(t, s, func(tx audit.Tx) error {
		if h, _ := tx.Head(); h != head {
			t.Errorf("head after refused writes: %v", h)
		}
		return nil
	})
}

func testTamper(t *testing.T, b Backend) {
	if b.SetRecord == nil {
		t.Skip("the backend gives no way to edit a record")
	}
	want := chain(t)
	head := want[testEntries-1]
	record := func(t *testing.T, s store.Store, seq uint64) []byte {
		var r []byte
		view(t, s, func(tx audit.Tx) error {
			e, err := tx.Get(seq)
			if err != nil {
				return err
			}
			p, err := tx.Point(seq)
			r = append(e.AppendCanonical(nil), p.Hash[:]...)
			return err
		})
		return r
	}
	tests := []struct {
		name      string
		tamper    func(t *testing.T, s store.Store)
		published []audit.Anchor
		seq       uint64
		problem   string
	}{
		{"one byte of the purpose", func(t *testing.T, s store.Store) {
			r := record(t, s, 5)
			r[bytes.Index(r, []byte("rilascio"))] = 'R'
			b.SetRecord(t, s, 5, r)
		}, nil, 5, "does not match its hash"},
		{"one byte of the stored hash", func(t *testing.T, s store.Store) {
			r := record(t, s, 2)
			r[len(r)-3] ^= 0x40
			b.SetRecord(t, s, 2, r)
		}, nil, 2, "does not match its hash"},
		{"subject replaced, same length", func(t *testing.T, s store.Store) {
			b.SetRecord(t, s, 8, bytes.Replace(record(t, s, 8), []byte(subjects[1]), []byte(subjects[2]), 1))
		}, nil, 8, "does not match its hash"},
		{"record cut short", func(t *testing.T, s store.Store) { b.SetRecord(t, s, 6, record(t, s, 6)[:30]) }, nil, 6, "cannot be read"},
		{"middle entry deleted", func(t *testing.T, s store.Store) { b.SetRecord(t, s, 4, nil) }, nil, 4, "is missing"},
		{"tail dropped", func(t *testing.T, s store.Store) {
			b.SetRecord(t, s, 10, nil)
			b.SetRecord(t, s, 9, nil)
		}, nil, 9, "tail was cut"},
		{"pair swapped", func(t *testing.T, s store.Store) {
			r3, r4 := record(t, s, 3), record(t, s, 4)
			b.SetRecord(t, s, 3, r4)
			b.SetRecord(t, s, 4, r3)
		}, nil, 3, "holds the content of entry 4"},
		{"entry slipped in beyond the head", func(t *testing.T, s store.Store) {
			e := entryAt(9)
			r, _, err := audit.Next(head, &e)
			if err != nil {
				t.Fatal(err)
			}
			b.SetRecord(t, s, 11, r)
		}, nil, 11, "beyond the recorded head"},
		{"published anchor of another hash", func(*testing.T, store.Store) {},
			[]audit.Anchor{{Head: audit.Head{Seq: 6, Hash: audit.Hash{1}}}}, 6, "was rewritten"},
		{"published anchor beyond the log", func(*testing.T, store.Store) {},
			[]audit.Anchor{{Head: audit.Head{Seq: 12, Hash: audit.Hash{1}}}}, 11, "tail was cut"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := b.Open(t)
			build(t, s)
			tt.tamper(t, s)
			var err error
			view(t, s, func(tx audit.Tx) error { _, err = tx.Verify(tt.published...); return nil })
			var br *audit.Break
			if !errors.As(err, &br) || !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("got %v, want a break at entry %d", err, tt.seq)
			}
			if br.Seq != tt.seq || !strings.Contains(br.Problem, tt.problem) {
				t.Errorf("got %q, want entry %d and %q", err, tt.seq, tt.problem)
			}
		})
	}
}

func testPrune(t *testing.T, b Backend) {
	s := b.Open(t)
	head := build(t, s)
	want := chain(t)
	cutoff := day1.AddDate(0, 0, 2) // before day 3: entries 1–7 expired
	view(t, s, func(tx audit.Tx) error {
		n, last, err := tx.Expired(cutoff)
		if err != nil || n != 7 || last != want[6] {
			t.Errorf("Expired: %d %v %v, want 7 up to %v", n, last, err, want[6])
		}
		if n, last, _ := tx.Expired(day1); n != 0 || last != (audit.Head{}) {
			t.Errorf("nothing is older than the first entry: %d %v", n, last)
		}
		return nil
	})
	at := want[6]
	// A point whose hash is not the stored one is refused, removing nothing.
	err := store.Domain(s, store.Tx.Audit).Update(ctx, func(tx audit.Tx) error {
		_, _, err := tx.Prune(audit.Head{Seq: 7, Hash: audit.Hash{9}}, 100)
		return err
	})
	if !errors.Is(err, audit.ErrBroken) {
		t.Errorf("pruning to a point of another hash: %v", err)
	}
	if err := store.Domain(s, store.Tx.Audit).Update(ctx, func(tx audit.Tx) error {
		_, _, err := tx.Prune(audit.Head{Seq: head.Seq + 1, Hash: audit.Hash{9}}, 100)
		return err
	}); err == nil {
		t.Error("pruning beyond the head was allowed")
	}
	var batches []int
	for range 5 {
		var n int
		var done bool
		update(t, s, func(tx audit.Tx) (err error) { n, done, err = tx.Prune(at, 3); return err })
		batches = append(batches, n)
		if done {
			break
		}
	}
	if !slices.Equal(batches, []int{3, 3, 1}) {
		t.Errorf("batches of 3 up to entry 7 removed %v", batches)
	}
	view(t, s, func(tx audit.Tx) error {
		p, err := tx.Pruned()
		if err != nil || p != (audit.Pruned{Through: at, At: at}) {
			t.Errorf("checkpoint %+v %v", p, err)
		}
		if n, _ := tx.Count(); n != 3 {
			t.Errorf("%d entries kept, want 3", n)
		}
		if o, ok, _ := tx.Oldest(); !ok || o.Seq != 8 {
			t.Errorf("oldest kept %d", o.Seq)
		}
		if _, err := tx.Get(2); !errors.Is(err, audit.ErrNotFound) {
			t.Errorf("a pruned entry: %v", err)
		}
		if as, _ := tx.Anchors(); len(as) != 2 {
			t.Errorf("the daily anchors went with the entries: %v", as)
		}
		var got []uint64
		tx.Search(audit.Query{Subject: subjects[0]}, func(e audit.Entry) (bool, error) { got = append(got, e.Seq); return true, nil })
		if !slices.Equal(got, []uint64{10}) {
			t.Errorf("a search after pruning found %v", got)
		}
		if v, err := tx.Verify(); err != nil || v != head {
			t.Errorf("Verify after pruning: %v %v", v, err)
		}
		if n, _, _ := tx.Expired(cutoff); n != 0 {
			t.Errorf("%d expired after pruning", n)
		}
		return nil
	})
	// Pruning again to the same point does nothing.
	update(t, s, func(tx audit.Tx) error {
		n, done, err := tx.Prune(at, 3)
		if n != 0 || !done {
			t.Errorf("pruning again: %d %v", n, done)
		}
		return err
	})
	// A later append chains on; the pruned chain still verifies.
	update(t, s, func(tx audit.Tx) error { _, err := tx.Append(entryAt(9)); return err })
	view(t, s, func(tx audit.Tx) error {
		if v, err := tx.Verify(); err != nil || v.Seq != head.Seq+1 {
			t.Errorf("Verify: %v %v", v, err)
		}
		return nil
	})
	if b.SetRecord == nil {
		return
	}
	// A broken chain is not pruned over: removal would hide the evidence.
	s = b.Open(t)
	build(t, s)
	b.SetRecord(t, s, 3, nil)
	err = store.Domain(s, store.Tx.Audit).Update(ctx, func(tx audit.Tx) error {
		_, _, err := tx.Prune(at, 100)
		return err
	})
	var br *audit.Break
	if !errors.As(err, &br) || br.Seq != 3 {
		t.Errorf("pruning over a gap: %v", err)
	}
	view(t, s, func(tx audit.Tx) error {
		if p, _ := tx.Pruned(); !p.IsZero() {
			t.Errorf("a refused prune moved the checkpoint to %+v", p)
		}
		if n, _ := tx.Count(); n != testEntries-1 {
			t.Errorf("a refused prune removed entries: %d left", n)
		}
		return nil
	})
}

// appendMany appends n entries from each of workers goroutines, each
// through Batch as the hub's handlers do, on the stores given in turn.
func appendMany(t *testing.T, stores []store.Store, workers, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, workers*n)
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				err := s.Batch(ctx, func(tx store.Tx) error {
					_, err := tx.Audit().Append(entryAt((w + i) % testEntries))
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkOneChain checks that s holds entries 1–n, chained, none twice.
func checkOneChain(t *testing.T, s store.Store, n int) {
	t.Helper()
	view(t, s, func(tx audit.Tx) error {
		h, err := tx.Verify()
		if err != nil {
			t.Errorf("Verify: %v", err)
		}
		c, _ := tx.Count()
		if h.Seq != uint64(n) || c != n {
			t.Errorf("head %d, %d entries; want %d", h.Seq, c, n)
		}
		var seqs []uint64
		tx.Search(audit.Query{}, func(e audit.Entry) (bool, error) { seqs = append(seqs, e.Seq); return true, nil })
		for i, s := range seqs {
			if s != uint64(i+1) {
				t.Fatalf("entry %d listed as %d: numbers skipped or repeated", i+1, s)
			}
		}
		return nil
	})
}

func testConcurrent(t *testing.T, b Backend) {
	s := b.Open(t)
	appendMany(t, []store.Store{s}, 8, 25)
	checkOneChain(t, s, 200)
}

// testTwoHubs: two hubs on one database append at once and make one chain,
// with no number given twice and no fork.
func testTwoHubs(t *testing.T, b Backend) {
	s := b.Open(t)
	s2 := b.Second(t, s)
	appendMany(t, []store.Store{s, s2}, 8, 25)
	checkOneChain(t, s, 200)
	checkOneChain(t, s2, 200)
}

// sink keeps anchors in memory.
type sink struct {
	mu   sync.Mutex
	got  []audit.SignedHead
	fail error
}

func (k *sink) Anchor(h audit.SignedHead) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	k.got = append(k.got, h)
	return nil
}

func (k *sink) seqs() []uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []uint64
	for _, h := range k.got {
		out = append(out, h.Seq)
	}
	return out
}

func anchorer(last audit.Head, sinks ...audit.AnchorSink) *audit.Anchorer {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return audit.NewAnchorer(key, "kid", func() time.Time { return day1 }, last, sinks...)
}

// testAnchoring: store.AnchorAudit anchors, from the head a transaction
// read back, every commit that appended, on this backend.
func testAnchoring(t *testing.T, b Backend) {
	s := b.Open(t)
	head := build(t, s)
	k := &sink{}
	var heard []error
	as, err := store.AnchorAudit(ctx, s, anchorer(audit.Head{}, k), func(err error) { heard = append(heard, err) })
	if err != nil {
		t.Fatal(err)
	}
	// Entries recorded before anchoring began are anchored at once.
	if got := k.seqs(); !slices.Equal(got, []uint64{head.Seq}) || k.got[0].Head != head {
		t.Fatalf("catch-up anchors %v, want the head %v", got, head)
	}
	rec := store.NewRecorder(as, func() time.Time { return day1.AddDate(0, 0, 3) })
	e := entryAt(0)
	e.Time = time.Time{} // stamped by the recorder's clock
	if err := rec.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got := k.seqs(); got[len(got)-1] != head.Seq+1 {
		t.Fatalf("after Record: anchors %v", got)
	}
	before := len(k.seqs())
	err = as.Update(ctx, func(tx store.Tx) error {
		for i := range 3 {
			if _, err := tx.Audit().Append(entryAt(i)); err != nil {
				return err
			}
		}
		if n := len(k.seqs()); n != before {
			t.Errorf("anchored before the commit: %d anchors", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := k.seqs(); len(got) != before+1 || got[len(got)-1] != head.Seq+4 {
		t.Fatalf("a transaction of 3 entries: anchors %v, want one more at %d", got, head.Seq+4)
	}
	// A transaction that rolls back, or appends nothing, anchors nothing.
	err = as.Update(ctx, func(tx store.Tx) error {
		tx.Audit().Append(entryAt(4))
		return errors.New("rolled back")
	})
	if err == nil || len(k.seqs()) != before+1 {
		t.Fatalf("a rolled-back transaction anchored: %v %v", err, k.seqs())
	}
	if err := as.Update(ctx, func(tx store.Tx) error { _, err := tx.Audit().Head(); return err }); err != nil || len(k.seqs()) != before+1 {
		t.Fatalf("a transaction that appended nothing anchored: %v %v", err, k.seqs())
	}
	// Many handlers at once: each is anchored by the time Record returns.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rec.Record(ctx, entryAt(i%testEntries)); err != nil {
				errs <- err
				return
			}
			if as.Anchored().Seq < head.Seq+5 {
				errs <- errors.New("Record returned before its head was anchored")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := k.seqs()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Errorf("anchors not strictly increasing: %v", got)
		}
	}
	var final audit.Head
	view(t, s, func(tx audit.Tx) (err error) { final, err = tx.Verify(); return err })
	if final.Seq != head.Seq+44 || as.Anchored() != final || k.got[len(k.got)-1].Head != final {
		t.Errorf("last anchor %v, head %v", as.Anchored(), final)
	}

	// An anchor that fails: the entry is committed (numbers are never
	// reused) but the read is not served; Update's work stands.
	k.fail = errors.New("no space left on device")
	err = rec.Record(ctx, entryAt(1))
	if err == nil || !strings.Contains(err.Error(), "not served") || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Record with a failing anchor: %v", err)
	}
	if err := as.Update(ctx, func(tx store.Tx) error { _, err := tx.Audit().Append(entryAt(2)); return err }); err != nil {
		t.Errorf("Update with a failing anchor: %v", err)
	}
	if len(heard) != 2 {
		t.Errorf("onErr heard %v", heard)
	}
	k.fail = nil
	if err := rec.Record(ctx, entryAt(3)); err != nil {
		t.Fatal(err)
	}
	if as.Anchored().Seq != final.Seq+3 {
		t.Errorf("the next commit anchors all three: last %v", as.Anchored())
	}

	// A store that does not reach its last anchor is refused.
	var at5 audit.Head
	view(t, s, func(tx audit.Tx) (err error) { at5, err = tx.Point(5); return err })
	for _, tt := range []struct {
		name string
		last audit.Head
		want string
	}{
		{"beyond the head", audit.Head{Seq: 1000, Hash: audit.Hash{1}}, "the last anchor names entry 1000"},
		{"another hash", audit.Head{Seq: 5, Hash: audit.Hash{1}}, "entry 5 is not the one anchored"},
	} {
		k := &sink{}
		_, err := store.AnchorAudit(ctx, s, anchorer(tt.last, k), nil)
		if !errors.Is(err, audit.ErrBehindAnchor) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if len(k.got) != 0 {
			t.Errorf("%s: anchored %v", tt.name, k.got)
		}
	}
	k = &sink{}
	if _, err := store.AnchorAudit(ctx, s, anchorer(at5, k), nil); err != nil || len(k.got) != 1 || k.got[0].Seq != final.Seq+3 {
		t.Errorf("a store beyond its last anchor: %v, anchors %v", err, k.got)
	}
}

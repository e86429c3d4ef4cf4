package auditbolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
)

// day1 09:00 in Rome; the test log spreads its entries over three days.
var day1 = time.Date(2026, 11, 23, 9, 0, 0, 0, protocol.Rome)

var subjects = []string{"RSSMRA50B17A558W", "CCCFBA85D03L219P", "MRTMRA83T56A269B"}

var actors = []audit.Actor{{Kind: audit.Staff, ID: "mrossi"}, {Kind: audit.Operator, ID: "op-7"}, {Kind: audit.Device, ID: "mrossi"}}

// entryAt is the i-th (from 0) test entry: entries 1–3 fall on day 1, 4–7 on
// day 2, 8–10 on day 3.
func entryAt(i int) audit.Entry {
	day := map[bool]int{true: 0, false: 1}[i < 3]
	if i >= 7 {
		day = 2
	}
	return audit.Entry{
		Time:    day1.AddDate(0, 0, day).Add(time.Duration(i) * time.Minute),
		Actor:   actors[i%len(actors)],
		Purpose: "rilascio certificato, art. 33 DPR 223/1989",
		Subject: strings.ToLower(subjects[i%len(subjects)]),
		Data:    "residenza",
		Channel: "counter",
		Request: fmt.Sprintf("req-%d", i),
	}
}

const testEntries = 10

func openDB(t testing.TB, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// buildLog writes the test log to a new file, each entry in its own
// transaction as the hub would, and returns the path and the final head.
func buildLog(t testing.TB) (string, audit.Head) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.db")
	db := openDB(t, path)
	defer db.Close()
	if err := db.Update(Init); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < testEntries; i++ {
		if err := db.Update(func(tx *bbolt.Tx) error {
			e, err := Append(tx, entryAt(i))
			if err == nil && e.Seq != uint64(i+1) {
				err = fmt.Errorf("entry %d numbered %d", i+1, e.Seq)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var h audit.Head
	if err := db.View(func(tx *bbolt.Tx) (err error) { h, err = Head(tx); return }); err != nil {
		t.Fatal(err)
	}
	return path, h
}

func copyFile(t *testing.T, from string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "hub.db")
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}

func TestAnchorsAndHead(t *testing.T) {
	path, head := buildLog(t)
	db := openDB(t, path)
	defer db.Close()
	err := db.View(func(tx *bbolt.Tx) error {
		if head.Seq != testEntries || Count(tx) != testEntries {
			t.Errorf("head %v, %d entries", head, Count(tx))
		}
		as, err := Anchors(tx)
		if err != nil {
			return err
		}
		// Day 1 closed after entry 3, day 2 after entry 7; day 3 is open.
		if len(as) != 2 || as[0].Day != protocol.DayOf(day1) || as[0].Seq != 3 || as[1].Seq != 7 {
			t.Fatalf("anchors %v", as)
		}
		for _, a := range as {
			var prev audit.Hash
			if a.Seq > 1 {
				rec := tx.Bucket(bucketLog).Get(seqKey(a.Seq - 1))
				_, prev, _ = audit.Decode(rec)
			}
			e, err := Get(tx, a.Seq)
			if err != nil {
				return err
			}
			if audit.Link(prev, &e) != a.Hash {
				t.Errorf("anchor %v is not the hash of entry %d", a, a.Seq)
			}
			if !strings.HasPrefix(a.String(), "audit "+a.Day.String()+fmt.Sprintf(" %d ", a.Seq)) {
				t.Errorf("anchor line %q", a)
			}
		}
		got, err := Verify(tx)
		if err != nil || got != head {
			t.Errorf("Verify of the untouched log: %v, %v; want %v", got, err, head)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	orig, head := buildLog(t)
	rec := func(tx *bbolt.Tx, seq uint64) []byte { return bytes.Clone(tx.Bucket(bucketLog).Get(seqKey(seq))) }
	put := func(tx *bbolt.Tx, seq uint64, v []byte) error { return tx.Bucket(bucketLog).Put(seqKey(seq), v) }
	del := func(tx *bbolt.Tx, seqs ...uint64) error {
		for _, s := range seqs {
			if err := tx.Bucket(bucketLog).Delete(seqKey(s)); err != nil {
				return err
			}
		}
		return nil
	}
	// setHead writes the head an insider who cut the tail would leave.
	setHead := func(tx *bbolt.Tx, seq uint64) error {
		_, h, _ := audit.Decode(rec(tx, seq))
		v := append(binary.BigEndian.AppendUint64(nil, seq), h[:]...)
		return tx.Bucket(bucketMeta).Put(keyHead, append(v, protocol.DayOf(day1.AddDate(0, 0, 2)).Key()...))
	}
	// rechain rewrites entry from and every later one with valid hashes,
	// and the head: an insider who knows the format.
	rechain := func(tx *bbolt.Tx, from uint64, edit func(*audit.Entry)) error {
		var h audit.Head
		if from > 1 {
			_, prev, _ := audit.Decode(rec(tx, from-1))
			h = audit.Head{Seq: from - 1, Hash: prev}
		}
		for s := from; s <= testEntries; s++ {
			e, _, err := audit.Decode(rec(tx, s))
			if err != nil {
				return err
			}
			if s == from {
				edit(&e)
			}
			r, next, err := audit.Next(h, &e)
			if err != nil {
				return err
			}
			if err := put(tx, s, r); err != nil {
				return err
			}
			h = next
		}
		return setHead(tx, testEntries)
	}
	tests := []struct {
		name      string
		tamper    func(tx *bbolt.Tx) error
		published []audit.Anchor
		seq       uint64
		problem   string
	}{
		{"one byte of the purpose", func(tx *bbolt.Tx) error {
			r := rec(tx, 5)
			i := bytes.Index(r, []byte("rilascio"))
			r[i] = 'R'
			return put(tx, 5, r)
		}, nil, 5, "does not match its hash"},
		{"one byte of the stored hash", func(tx *bbolt.Tx) error {
			r := rec(tx, 2)
			r[len(r)-3] ^= 0x40
			return put(tx, 2, r)
		}, nil, 2, "does not match its hash"},
		{"subject replaced, same length", func(tx *bbolt.Tx) error {
			r := bytes.Replace(rec(tx, 8), []byte(subjects[1]), []byte(subjects[2]), 1)
			return put(tx, 8, r)
		}, nil, 8, "does not match its hash"},
		{"record cut short", func(tx *bbolt.Tx) error { return put(tx, 6, rec(tx, 6)[:30]) }, nil, 6, "cannot be read"},
		{"middle entry deleted", func(tx *bbolt.Tx) error { return del(tx, 4) }, nil, 4, "is missing"},
		{"tail dropped", func(tx *bbolt.Tx) error { return del(tx, 9, 10) }, nil, 9, "tail was cut"},
		{"tail and head dropped, published head", func(tx *bbolt.Tx) error {
			if err := del(tx, 9, 10); err != nil {
				return err
			}
			return setHead(tx, 8)
		}, []audit.Anchor{{Head: head}}, 9, "tail was cut"},
		{"tail into a closed day dropped with the head", func(tx *bbolt.Tx) error {
			if err := del(tx, 7, 8, 9, 10); err != nil {
				return err
			}
			return setHead(tx, 6)
		}, nil, 7, "anchor of 2026-11-24"},
		{"pair swapped", func(tx *bbolt.Tx) error {
			a, b := rec(tx, 3), rec(tx, 4)
			if err := put(tx, 3, b); err != nil {
				return err
			}
			return put(tx, 4, a)
		}, nil, 3, "holds the content of entry 4"},
		{"entry slipped in beyond the head", func(tx *bbolt.Tx) error {
			e := entryAt(9)
			r, _, err := audit.Next(head, &e)
			if err != nil {
				return err
			}
			return put(tx, 11, r)
		}, nil, 11, "beyond the recorded head"},
		{"rewritten with valid hashes, stored anchors kept", func(tx *bbolt.Tx) error {
			return rechain(tx, 2, func(e *audit.Entry) { e.Purpose = "curiosità" })
		}, nil, 3, "anchor of 2026-11-23"},
		{"rewritten with valid hashes and anchors, published head", func(tx *bbolt.Tx) error {
			return rechain(tx, 9, func(e *audit.Entry) { e.Purpose = "curiosità" })
		}, []audit.Anchor{{Head: head}}, 10, "anchor " + head.String() + " given"},
		{"hidden from search by subject", func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketSubject).Delete(subjectKey(subjects[5%3], 6))
		}, nil, 6, "index by subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := copyFile(t, orig)
			db := openDB(t, path)
			if err := db.Update(tt.tamper); err != nil {
				t.Fatal(err)
			}
			db.Close()
			st := openStore(t, path)
			_, err := st.Verify(tt.published...)
			var b *audit.Break
			if !errors.As(err, &b) {
				t.Fatalf("got %v, want a break at entry %d", err, tt.seq)
			}
			if b.Seq != tt.seq || !strings.Contains(b.Problem, tt.problem) {
				t.Errorf("got %q, want entry %d and %q", err, tt.seq, tt.problem)
			}
		})
	}
}

func openStore(t *testing.T, path string) *Store {
	t.Helper()
	db := openDB(t, path)
	t.Cleanup(func() { db.Close() })
	st, err := New(db, func() time.Time { return day1.AddDate(0, 0, 5) })
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSearch(t *testing.T) {
	path, _ := buildLog(t)
	st := openStore(t, path)
	d := func(n int) protocol.Day { return protocol.DayOf(day1.AddDate(0, 0, n)) }
	// want computes the expected entry numbers straight from the test data.
	want := func(keep func(i int, e audit.Entry) bool) []uint64 {
		var out []uint64
		for i := 0; i < testEntries; i++ {
			if keep(i, entryAt(i)) {
				out = append(out, uint64(i+1))
			}
		}
		return out
	}
	dayOf := func(i int) int {
		return map[bool]int{true: 0, false: 1}[i < 3] + map[bool]int{true: 1, false: 0}[i >= 7]
	}
	tests := []struct {
		name string
		q    audit.Query
		want []uint64
	}{
		{"all", audit.Query{}, want(func(int, audit.Entry) bool { return true })},
		{"by subject, lower case", audit.Query{Subject: strings.ToLower(subjects[1])},
			want(func(i int, _ audit.Entry) bool { return i%3 == 1 })},
		{"by actor id under any kind", audit.Query{Actor: "mrossi"},
			want(func(i int, _ audit.Entry) bool { return i%3 != 1 })},
		{"by actor kind and id", audit.Query{Actor: "device:mrossi"},
			want(func(i int, _ audit.Entry) bool { return i%3 == 2 })},
		{"by day range", audit.Query{From: d(1), To: d(2)},
			want(func(i int, _ audit.Entry) bool { return dayOf(i) >= 1 })},
		{"to a day", audit.Query{To: d(0)},
			want(func(i int, _ audit.Entry) bool { return dayOf(i) == 0 })},
		{"subject and day", audit.Query{Subject: subjects[0], From: d(1), To: d(1)},
			want(func(i int, _ audit.Entry) bool { return i%3 == 0 && dayOf(i) == 1 })},
		{"actor and day", audit.Query{Actor: "op-7", From: d(2)},
			want(func(i int, _ audit.Entry) bool { return i%3 == 1 && dayOf(i) == 2 })},
		{"nobody", audit.Query{Subject: "XXXXXX00X00X000X"}, nil},
		{"an id that is a prefix of another", audit.Query{Actor: "op"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := st.Search(tt.q, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, e := range es {
				got = append(got, e.Seq)
				if e.Request != fmt.Sprintf("req-%d", e.Seq-1) {
					t.Errorf("entry %d came back as %+v", e.Seq, e)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if es, err := st.Search(audit.Query{}, 3); err != nil || len(es) != 3 {
		t.Errorf("limit 3: %d entries, %v", len(es), err)
	}
}

func TestAppendRollsBackWithItsTransaction(t *testing.T) {
	path, head := buildLog(t)
	st := openStore(t, path)
	boom := errors.New("the certificate could not be rendered")
	err := st.db.Update(func(tx *bbolt.Tx) error {
		if _, err := Append(tx, entryAt(3)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got, err := st.Verify(); err != nil || got != head {
		t.Fatalf("after a rollback: %v, %v", got, err)
	}
	// An invalid entry is refused and leaves nothing.
	bad := entryAt(0)
	bad.Purpose = ""
	if err := st.Record(context.Background(), bad); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("entry without a purpose: %v", err)
	}
	// Record stamps the time from the store's clock and extends the chain.
	e := entryAt(0)
	e.Time = time.Time{}
	if err := st.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	got, err := st.Verify()
	if err != nil || got.Seq != head.Seq+1 {
		t.Fatalf("after Record: %v, %v", got, err)
	}
	es, _ := st.Search(audit.Query{From: protocol.DayOf(day1.AddDate(0, 0, 5))}, 0)
	if len(es) != 1 || es[0].Seq != got.Seq {
		t.Errorf("the recorded entry is not found on the clock's day: %+v", es)
	}
	// The day before was closed by that entry: its anchor is the old head.
	as, _ := st.Anchors()
	if len(as) != 3 || as[2].Head != head {
		t.Errorf("anchors %v, want the last at %v", as, head)
	}
}

func TestNotInitialised(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "hub.db"))
	defer db.Close()
	err := db.Update(func(tx *bbolt.Tx) error { _, err := Append(tx, entryAt(0)); return err })
	if !errors.Is(err, ErrNotInitialised) {
		t.Errorf("got %v", err)
	}
	// An empty file verifies as an empty log.
	if err := db.View(func(tx *bbolt.Tx) error {
		h, err := Verify(tx)
		if err != nil || h != (audit.Head{}) {
			t.Errorf("empty file: %v %v", h, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

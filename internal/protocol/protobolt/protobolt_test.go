package protobolt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/protocol"
)

func openDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "hub.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(Init); err != nil {
		t.Fatal(err)
	}
	return db
}

func fill(subject string) func(protocol.Number) (protocol.Entry, error) {
	return func(n protocol.Number) (protocol.Entry, error) {
		return protocol.Entry{Direction: protocol.Outgoing, Correspondent: "RSSMRA50B17A558W", Subject: subject,
			DocType: "certificato anagrafico", DocSHA256: sha256.Sum256([]byte(subject + n.String())), Ref: subject}, nil
	}
}

func register(t *testing.T, db *bbolt.DB, at time.Time, subject string) protocol.Entry {
	t.Helper()
	var e protocol.Entry
	err := db.Update(func(tx *bbolt.Tx) error {
		var err error
		e, err = Register(tx, at, fill(subject))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNumberingAcrossYearBoundary(t *testing.T) {
	db := openDB(t)
	// A clock stepping through New Year's Eve in Rome (UTC+1 in winter).
	clock := []struct {
		utc  string
		want string
	}{
		{"2026-12-31T10:00:00Z", "2026/0000001"},
		{"2026-12-31T22:59:59Z", "2026/0000002"},
		{"2026-12-31T23:00:00Z", "2027/0000001"}, // 00:00 on 1 January in Rome
		{"2027-01-01T08:00:00Z", "2027/0000002"},
		{"2027-12-31T23:00:01Z", "2028/0000001"},
	}
	for _, c := range clock {
		at, _ := time.Parse(time.RFC3339, c.utc)
		e := register(t, db, at, "cert "+c.utc)
		if e.Number.String() != c.want || !e.Time.Equal(at) {
			t.Errorf("%s: got %s at %s, want %s", c.utc, e.Number, e.Time, c.want)
		}
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		if ys := Years(tx); len(ys) != 3 || ys[0] != 2026 || ys[2] != 2028 {
			t.Errorf("years %v", ys)
		}
		if l := Last(tx, 2027); l.String() != "2027/0000002" {
			t.Errorf("last of 2027 = %s", l)
		}
		if l := Last(tx, 2030); !l.IsZero() {
			t.Errorf("last of 2030 = %s", l)
		}
		// The daily register of 31 December 2026 (Rome) holds the first two only.
		es, err := Day(tx, protocol.Day{Year: 2026, Month: 12, Day: 31})
		if err != nil || len(es) != 2 || es[0].Number.Seq != 1 || es[1].Number.Seq != 2 {
			t.Errorf("day 2026-12-31: %v %v", es, err)
		}
		es, _ = Day(tx, protocol.Day{Year: 2027, Month: 1, Day: 1})
		if len(es) != 2 || es[0].Number.String() != "2027/0000001" {
			t.Errorf("day 2027-01-01: %v", es)
		}
		got, err := Get(tx, protocol.Number{Year: 2027, Seq: 2})
		if err != nil || got.Subject != "cert 2027-01-01T08:00:00Z" {
			t.Errorf("Get: %+v %v", got, err)
		}
		if _, err := Get(tx, protocol.Number{Year: 2027, Seq: 3}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get of an unassigned number: %v", err)
		}
		return nil
	})
}

func TestFailedRegistrationConsumesNoNumber(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, protocol.Rome)
	register(t, db, at, "first")
	boom := errors.New("render failed")
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := Register(tx, at, func(protocol.Number) (protocol.Entry, error) { return protocol.Entry{}, boom })
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	// An entry that fails validation is refused too, and consumes nothing.
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := Register(tx, at, func(protocol.Number) (protocol.Entry, error) {
			return protocol.Entry{Direction: protocol.Outgoing}, nil
		})
		return err
	})
	if !errors.Is(err, protocol.ErrInvalid) {
		t.Fatalf("invalid entry: %v", err)
	}
	// A failure after Register, later in the same transaction, rolls it back.
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := Register(tx, at, fill("rolled back")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if e := register(t, db, at, "second"); e.Number.String() != "2026/0000002" {
		t.Errorf("after failures got %s, want 2026/0000002", e.Number)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		es, _ := Day(tx, protocol.DayOf(at))
		if len(es) != 2 || es[1].Subject != "second" {
			t.Errorf("register holds %v", es)
		}
		return nil
	})
}

func TestRegisterRefusesOverwrite(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, protocol.Rome)
	register(t, db, at, "original")
	// Only a damaged sequence could point at a used number; simulate one.
	err := db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketProtocol).Bucket(yearKey(2026)).SetSequence(0); err != nil {
			return err
		}
		_, err := Register(tx, at, fill("intruder"))
		return err
	})
	if !errors.Is(err, ErrImmutable) {
		t.Fatalf("overwrite: %v", err)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		e, err := Get(tx, protocol.Number{Year: 2026, Seq: 1})
		if err != nil || e.Subject != "original" {
			t.Errorf("entry changed: %+v %v", e, err)
		}
		return nil
	})
}

func TestNotInitialised(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "x.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := Register(tx, time.Now(), fill("x"))
		return err
	})
	if !errors.Is(err, ErrNotInitialised) {
		t.Errorf("got %v", err)
	}
}

func entryAt(n protocol.Number, at time.Time, subject string) protocol.Entry {
	e, _ := fill(subject)(n)
	e.Number, e.Time = n, at
	return e
}

func TestAllocatorReserveWriteAbandon(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, protocol.Rome)
	register(t, db, at, "before the allocator") // 2026/0000001, the old way
	clock := at.Add(time.Hour)
	a, err := AllocatorFor(db, AllocatorOptions{Now: func() time.Time { return clock }, Author: "Mario Rossi, responsabile del protocollo"})
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := AllocatorFor(db, AllocatorOptions{}); again != a {
		t.Fatal("a second allocator for the same file")
	}
	reserve := func() protocol.Number {
		n, err := a.Reserve(at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n2, n3, n4 := reserve(), reserve(), reserve()
	if n2.String() != "2026/0000002" || n4.String() != "2026/0000004" {
		t.Fatalf("reserved %s..%s", n2, n4)
	}
	// The last one fails: given back, nothing written.
	if e, err := a.Abandon(n4, "prova", ""); e != nil || err != nil {
		t.Fatalf("give back: %+v %v", e, err)
	}
	if n := reserve(); n != n4 {
		t.Fatalf("after a give-back got %s, want %s again", n, n4)
	}
	// Registered out of order: 4, then 2; 3 fails while 4 is taken.
	for _, n := range []protocol.Number{n4, n2} {
		if err := db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(n, at, "doc "+n.String())) }); err != nil {
			t.Fatal(err)
		}
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		if got := (buckets{complete: tx.Bucket(bucketComplete)}).completeUpTo(2026); got != 2 {
			t.Errorf("complete up to %d, want 2 while 3 is in flight", got)
		}
		return nil
	})
	e, err := a.Abandon(n3, "rendering failed", "cert-3")
	if err != nil || e == nil || e.Direction != protocol.Annulled || e.Number != n3 || !e.Time.Equal(clock) ||
		e.Correspondent != "Mario Rossi, responsabile del protocollo" || e.Reason() != "rendering failed" || e.Ref != "cert-3" {
		t.Fatalf("annulment %+v %v", e, err)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		es, _ := Day(tx, protocol.DayOf(at))
		if len(es) != 4 {
			t.Fatalf("%d entries", len(es))
		}
		for i, e := range es {
			if e.Number.Seq != uint64(i+1) {
				t.Errorf("entry %d is %s", i, e.Number)
			}
		}
		if got := (buckets{complete: tx.Bucket(bucketComplete)}).completeUpTo(2026); got != 4 {
			t.Errorf("complete up to %d, want 4", got)
		}
		return nil
	})
	if n := reserve(); n.String() != "2026/0000005" {
		t.Errorf("next %s", n)
	}
	// A number cannot be written twice, nor in a year not its own.
	err = db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(n2, at, "again")) })
	if !errors.Is(err, ErrImmutable) {
		t.Errorf("rewrite: %v", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return Write(tx, entryAt(protocol.Number{Year: 2025, Seq: 9}, at, "last year"))
	})
	if !errors.Is(err, protocol.ErrInvalid) {
		t.Errorf("wrong year: %v", err)
	}
	// Register would hand out numbers the allocator already gave.
	err = db.Update(func(tx *bbolt.Tx) error { _, err := Register(tx, at, fill("x")); return err })
	if !errors.Is(err, ErrAllocated) {
		t.Errorf("Register beside an allocator: %v", err)
	}
}

func TestRecoverAnnulsHoles(t *testing.T) {
	db := openDB(t)
	// What a crash leaves: numbers written out of order with holes, in
	// two years, the last of 2026 registered after New Year.
	dec := time.Date(2026, 12, 31, 23, 0, 0, 0, protocol.Rome)
	jan := time.Date(2027, 1, 1, 0, 10, 0, 0, protocol.Rome)
	for _, e := range []protocol.Entry{
		entryAt(protocol.Number{Year: 2026, Seq: 1}, dec, "a"),
		entryAt(protocol.Number{Year: 2026, Seq: 2}, dec, "b"),
		entryAt(protocol.Number{Year: 2026, Seq: 5}, dec, "e"),
		entryAt(protocol.Number{Year: 2027, Seq: 2}, jan, "y"),
	} {
		if err := db.Update(func(tx *bbolt.Tx) error { return Write(tx, e) }); err != nil {
			t.Fatal(err)
		}
	}
	restart := jan.Add(time.Hour)
	a, err := AllocatorFor(db, AllocatorOptions{Now: func() time.Time { return restart }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range a.Recovered() {
		if e.Direction != protocol.Annulled || e.Reason() != ReasonRecovered || e.Correspondent != DefaultAuthor || !e.Time.Equal(restart) {
			t.Errorf("recovered %+v", e)
		}
		got = append(got, e.Number.String())
	}
	if want := []string{"2026/0000003", "2026/0000004", "2027/0000001"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("annulled %v, want %v", got, want)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		// The 2026 annulments are in the register of the day they were made.
		es, _ := Day(tx, protocol.DayOf(restart))
		if len(es) != 4 || es[0].Number.String() != "2026/0000003" || es[3].Number.String() != "2027/0000002" {
			t.Errorf("day of the restart: %v", es)
		}
		var csv bytes.Buffer
		if _, err := protocol.WriteCSV(&csv, protocol.DayOf(restart), es); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(csv.String(), "2026/0000003,2027-01-01T01:10:00+01:00,annullato,") {
			t.Errorf("export:\n%s", csv.String())
		}
		return nil
	})
	if n, _ := a.Reserve(jan); n.String() != "2027/0000003" {
		t.Errorf("next of 2027: %s", n)
	}
	if n, _ := a.Reserve(dec); n.String() != "2026/0000006" {
		t.Errorf("next of 2026: %s", n)
	}
	// A second scan finds nothing: the complete-up-to marks moved.
	err = db.Update(func(tx *bbolt.Tx) error {
		es, err := Recover(tx, restart, "x")
		if len(es) != 0 {
			t.Errorf("second scan annulled %v", es)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAbandonOnAClosedFileIsReported(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "hub.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, err := AllocatorFor(db, AllocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, protocol.Rome)
	first, _ := a.Reserve(at)
	a.Reserve(at)
	db.Close()
	if _, err := a.Abandon(first, "x", ""); err == nil || !strings.Contains(err.Error(), "retried") {
		t.Errorf("annulment on a closed file: %v", err)
	}
	if !a.retry.Load() || len(a.unsettled) != 1 {
		t.Error("the failed annulment was not kept for a retry")
	}
	a.Settle() // still closed: kept again
	if len(a.unsettled) != 1 {
		t.Errorf("%d unsettled after a failed retry", len(a.unsettled))
	}
}

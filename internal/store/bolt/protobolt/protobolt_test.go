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
		n, when, err := a.Reserve(at)
		if err != nil || !when.Equal(at) {
			t.Fatalf("reserved %s at %s: %v", n, when, err)
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
		a.Registered(n)
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
	// The annulment is dated when it was made: a reservation 30 s behind it
	// takes its time.
	if n, when, err := a.Reserve(clock.Add(-30 * time.Second)); n.String() != "2026/0000005" || !when.Equal(clock) || err != nil {
		t.Errorf("next %s at %s: %v", n, when, err)
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
	if n, _, err := a.Reserve(restart); n.String() != "2027/0000003" {
		t.Errorf("next of 2027: %s %v", n, err)
	}
	// 2026 is over: the register takes no entry dated back in it.
	if n, _, err := a.Reserve(dec); !errors.Is(err, protocol.ErrClockBehind) {
		t.Errorf("a reservation dated in December after January's entries: %s %v", n, err)
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
	first, _, _ := a.Reserve(at)
	second, _, _ := a.Reserve(at)
	if err := db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(second, at, "second")) }); err != nil {
		t.Fatal(err)
	}
	a.Registered(second)
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

// annulments lists the annulled numbers of day d.
func annulments(t *testing.T, db *bbolt.DB, d protocol.Day) []string {
	t.Helper()
	var out []string
	_ = db.View(func(tx *bbolt.Tx) error {
		es, err := Day(tx, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Direction == protocol.Annulled {
				out = append(out, e.Number.String()+" "+e.Reason())
			}
		}
		return nil
	})
	return out
}

// TestAbandonWaitsForTheNumbersAbove: numbers that fail together while
// none above them is registered all come back, in any order, and none is
// annulled; a number that failed below one that is then registered is
// annulled once, with its own reason.
func TestAbandonWaitsForTheNumbersAbove(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, protocol.Rome)
	a, err := AllocatorFor(db, AllocatorOptions{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	reserve := func() protocol.Number {
		n, _, err := a.Reserve(at)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	abandon := func(n protocol.Number, reason string) {
		if e, err := a.Abandon(n, reason, ""); e != nil || err != nil {
			t.Fatalf("abandoning %s: %+v %v", n, e, err)
		}
	}
	// Three issuances fail with the disk full, the lowest first.
	n1, n2, n3 := reserve(), reserve(), reserve()
	abandon(n1, "disk full")
	abandon(n3, "disk full")
	abandon(n2, "disk full")
	if n := reserve(); n != n1 {
		t.Fatalf("after three failures the next number is %s, want %s again", n, n1)
	}
	// Now 1 fails and 2, handed out after it, is registered: 1 can no
	// longer come back.
	n2 = reserve()
	abandon(n1, "rendering failed")
	if err := db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(n2, at, "two")) }); err != nil {
		t.Fatal(err)
	}
	a.Registered(n2)
	a.Settle()
	if got := annulments(t, db, protocol.DayOf(at)); fmt.Sprint(got) != "[2026/0000001 rendering failed]" {
		t.Errorf("annulments %v", got)
	}
	if n := reserve(); n.Seq != 3 {
		t.Errorf("next %s", n)
	}
}

// TestRegisterKeepsDateOrder: whatever its callers do, the register files
// no registration dated before a lower number's or after a higher one's,
// and no annulment dated before its latest entry.
func TestRegisterKeepsDateOrder(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, protocol.Rome)
	write := func(seq uint64, when time.Time) error {
		return db.Update(func(tx *bbolt.Tx) error {
			return Write(tx, entryAt(protocol.Number{Year: 2026, Seq: seq}, when, fmt.Sprint("doc ", seq)))
		})
	}
	if err := write(2, at); err != nil {
		t.Fatal(err)
	}
	if err := write(4, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := write(3, at.Add(2*time.Minute)); !errors.Is(err, protocol.ErrInvalid) {
		t.Errorf("3 dated after 4: %v", err)
	}
	if err := write(1, at.Add(time.Second)); !errors.Is(err, protocol.ErrInvalid) {
		t.Errorf("1 dated after 2: %v", err)
	}
	if err := write(3, at.Add(30*time.Second)); err != nil {
		t.Errorf("3 between 2 and 4: %v", err)
	}
	// An annulment between them in number, but dated when it is made.
	err := db.Update(func(tx *bbolt.Tx) error {
		return Write(tx, protocol.Annulment(protocol.Number{Year: 2026, Seq: 1}, at.Add(30*time.Second), "x", protocol.RuleUnregistered, "lost", ""))
	})
	if !errors.Is(err, protocol.ErrInvalid) {
		t.Errorf("an annulment dated before the latest entry: %v", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return Write(tx, protocol.Annulment(protocol.Number{Year: 2026, Seq: 1}, at.Add(time.Hour), "x", protocol.RuleUnregistered, "lost", ""))
	})
	if err != nil {
		t.Fatal(err)
	}
	// Registered later than 4 but numbered after the annulment of 1 (dated
	// later still): annulments do not count for the order.
	if err := write(5, at.Add(2*time.Minute)); err != nil {
		t.Errorf("5 after an annulment dated later: %v", err)
	}
}

// TestClosedDayStaysClosed closes a day's register once it is over: its
// CSV is fixed, nothing more is filed into it (not an issuance that was in
// flight at midnight, not one from a clock stepped back), and a closed day
// exports as it was closed.
func TestClosedDayStaysClosed(t *testing.T) {
	db := openDB(t)
	day := protocol.Day{Year: 2026, Month: 3, Day: 28} // the day before summer time: 23 hours after it
	clock := day.Start().Add(10 * time.Hour)
	a, err := AllocatorFor(db, AllocatorOptions{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(when time.Time) (protocol.Number, error) {
		n, stamped, err := a.Reserve(when)
		if err != nil {
			return n, err
		}
		err = db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(n, stamped, "doc "+n.String())) })
		if err != nil {
			a.Abandon(n, "commit failed", "")
			return n, err
		}
		a.Registered(n)
		return n, nil
	}
	for range 3 {
		if _, err := issue(clock); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := a.CloseDay(day); err == nil {
		t.Fatal("the register of a day not over was closed")
	}
	// Just before midnight an issuance takes its number and date, and is
	// still being made when the day is closed.
	clock = day.End().Add(-10 * time.Second)
	late, lateAt, err := a.Reserve(clock)
	if err != nil {
		t.Fatal(err)
	}
	clock = day.End().Add(10 * time.Second)
	closing, es, err := a.CloseDay(day)
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	sum, _ := protocol.WriteCSV(&csv, day, es)
	if closing.Entries != 3 || len(es) != 3 || closing.SHA256 != sum || !closing.Closed.Equal(clock) {
		t.Fatalf("closing %+v of %d entries, CSV sum %x", closing, len(es), sum)
	}
	err = db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(late, lateAt, "late")) })
	if !errors.Is(err, protocol.ErrDayClosed) {
		t.Errorf("an entry in flight at midnight was filed into the closed day: %v", err)
	}
	a.Abandon(late, "day closed", "")
	// A clock stepped back into the closed day: a minute is taken up by
	// dating the entry at the start of the next day, an hour is refused.
	n, err := issue(day.End().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		e, err := Get(tx, n)
		if err != nil || !e.Time.Equal(day.End()) {
			t.Errorf("entry %s after a step back: %+v %v", n, e, err)
		}
		return nil
	})
	if _, err := issue(day.End().Add(-time.Hour)); !errors.Is(err, protocol.ErrClockBehind) {
		t.Errorf("with the clock an hour back in the closed day: %v", err)
	}
	// Closing again changes nothing, and the day still gives the same CSV.
	again, es2, err := a.CloseDay(day)
	if err != nil || again.SHA256 != closing.SHA256 || !again.Closed.Equal(closing.Closed) || again.Day != day || len(es2) != 3 {
		t.Errorf("closing again: %+v %d %v", again, len(es2), err)
	}
	// A file changed behind the register's back no longer matches.
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketDays).Delete(dayKey(day, es[2].Number))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.CloseDay(day); err == nil || !strings.Contains(err.Error(), "no longer matches") {
		t.Errorf("a closed day that lost an entry: %v", err)
	}
}

// Package protocoltest is the conformance suite of the protocol register's
// stores (protocol.Tx in a store.Tx, protocol.Numbering on a store.Store):
// every backend numbers, registers, gives back, annuls and closes days
// alike, and numbers concurrently with no gap and no duplicate.
//
// A backend's test calls Run:
//
//	func TestProtocol(t *testing.T) { protocoltest.Run(t, open, second) }
package protocoltest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// Open returns a new, empty store; the backend's test closes it when the
// test ends (t.Cleanup).
type Open func(t *testing.T) store.Store

// Second returns another Store on the data of s, as a second hub
// process on the same database would open it; closed when the test ends.
type Second func(t *testing.T, s store.Store) store.Store

// Run runs the suite. second is nil for a backend only one process
// opens at a time (bbolt): the tests of several hubs on one store are
// then skipped.
func Run(t *testing.T, open Open, second Second) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open, second Second)
	}{
		{"Empty", testEmpty},
		{"RegisterAndRead", testRegisterAndRead},
		{"Codes", testCodes},
		{"YearBoundary", testYearBoundary},
		{"Stamp", testStamp},
		{"WriteRefusals", testWriteRefusals},
		{"RolledBack", testRolledBack},
		{"ViewRefusesWrite", testViewRefusesWrite},
		{"GiveBack", testGiveBack},
		{"AnnulBelowRegistered", testAnnulBelowRegistered},
		{"HeldThenAnnulled", testHeldThenAnnulled},
		{"AnnulmentsAudited", testAnnulmentsAudited},
		{"CloseDay", testCloseDay},
		{"RecoverSparesInFlight", testRecoverSparesInFlight},
		{"Concurrent", testConcurrent},
		{"Import", testImport},
		{"TwoHubs", testTwoHubs},
		{"TwoHubsStale", testTwoHubsStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open, second) })
	}
}

var ctx = context.Background()

// base is a weekday morning in Rome.
var base = time.Date(2026, 3, 10, 10, 0, 0, 0, protocol.Rome)

func entry(n protocol.Number, at time.Time, ref string) protocol.Entry {
	return protocol.Entry{Number: n, Time: at, Direction: protocol.Outgoing, Correspondent: "RSSMRA50B17A558W",
		Subject: "Certificato di residenza, ROSSI MARIO", DocType: "certificato anagrafico",
		DocSHA256: sha256.Sum256([]byte(ref + n.String())), Ref: ref}
}

func write(s store.Store, e protocol.Entry) error {
	return s.Update(ctx, func(tx store.Tx) error { return tx.Protocol().Write(e) })
}

// issue reserves a number at at, writes its entry and declares it
// registered, as an issuance does.
func issue(t *testing.T, s store.Store, at time.Time, ref string) protocol.Entry {
	t.Helper()
	n, stamped, err := s.Numbering().Reserve(ctx, at, protocol.Register{})
	if err != nil {
		t.Fatalf("reserve at %s: %v", at, err)
	}
	e := entry(n, stamped, ref)
	if err := write(s, e); err != nil {
		t.Fatalf("write %s: %v", n, err)
	}
	if _, err := s.Numbering().Registered(ctx, n, stamped); err != nil {
		t.Fatalf("registered %s: %v", n, err)
	}
	return e
}

func get(t *testing.T, s store.Store, n protocol.Number) (protocol.Entry, error) {
	t.Helper()
	var e protocol.Entry
	err := s.View(ctx, func(tx store.Tx) (err error) { e, err = tx.Protocol().Get(n); return err })
	return e, err
}

func day(t *testing.T, s store.Store, d protocol.Day) []protocol.Entry {
	t.Helper()
	var es []protocol.Entry
	if err := s.View(ctx, func(tx store.Tx) (err error) { es, err = tx.Protocol().Day(d); return err }); err != nil {
		t.Fatal(err)
	}
	return es
}

func num(year int, seq uint64) protocol.Number { return protocol.Number{Year: year, Seq: seq} }

func testEmpty(t *testing.T, open Open, _ Second) {
	s := open(t)
	err := s.View(ctx, func(tx store.Tx) error {
		p := tx.Protocol()
		if _, err := p.Get(num(2026, 1)); !errors.Is(err, protocol.ErrNotFound) {
			return fmt.Errorf("Get on an empty register: %v, want ErrNotFound", err)
		}
		if es, err := p.Day(protocol.DayOf(base)); err != nil || len(es) != 0 {
			return fmt.Errorf("Day on an empty register: %d entries, %v", len(es), err)
		}
		if ys, err := p.Years(); err != nil || len(ys) != 0 {
			return fmt.Errorf("Years on an empty register: %v, %v", ys, err)
		}
		if n, err := p.Last(2026); err != nil || !n.IsZero() {
			return fmt.Errorf("Last on an empty register: %v, %v", n, err)
		}
		if f, err := p.Floor(); err != nil || !f.IsZero() {
			return fmt.Errorf("Floor on an empty register: %v, %v", f, err)
		}
		if _, ok, err := p.LastClosed(); err != nil || ok {
			return fmt.Errorf("LastClosed on an empty register: %v, %v", ok, err)
		}
		if _, ok, err := p.Closed(protocol.DayOf(base)); err != nil || ok {
			return fmt.Errorf("Closed on an empty register: %v, %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testRegisterAndRead(t *testing.T, open Open, _ Second) {
	s := open(t)
	var es []protocol.Entry
	for i := range 3 {
		es = append(es, issue(t, s, base.Add(time.Duration(i)*time.Second), fmt.Sprintf("cert-%d", i)))
	}
	for i, e := range es {
		if want := num(2026, uint64(i+1)); e.Number != want {
			t.Fatalf("entry %d numbered %s, want %s", i, e.Number, want)
		}
		got, err := get(t, s, e.Number)
		if err != nil || got.Ref != e.Ref || !got.Time.Equal(e.Time) || got.DocSHA256 != e.DocSHA256 || got.Direction != protocol.Outgoing {
			t.Fatalf("Get(%s) = %+v, %v; want %+v", e.Number, got, err, e)
		}
	}
	if got := day(t, s, protocol.DayOf(base)); len(got) != 3 || got[0].Number.Seq != 1 || got[2].Number.Seq != 3 {
		t.Fatalf("the daily register has %+v, want the 3 entries in number order", got)
	}
	if got := day(t, s, protocol.DayOf(base.AddDate(0, 0, 1))); len(got) != 0 {
		t.Fatalf("the next day's register has %d entries", len(got))
	}
	err := s.View(ctx, func(tx store.Tx) error {
		p := tx.Protocol()
		if n, err := p.Last(2026); err != nil || n != num(2026, 3) {
			return fmt.Errorf("Last(2026) = %v, %v; want 2026/0000003", n, err)
		}
		if ys, err := p.Years(); err != nil || len(ys) != 1 || ys[0] != 2026 {
			return fmt.Errorf("Years = %v, %v; want [2026]", ys, err)
		}
		if f, err := p.Floor(); err != nil || f.Before(es[2].Time) {
			return fmt.Errorf("Floor = %v, %v; want at least %v", f, err, es[2].Time)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testCodes(t *testing.T, open Open, _ Second) {
	s := open(t)
	reg := protocol.Register{IPA: "c_f205", AOO: "A1B2C3", Code: "CERT"}
	if _, _, err := s.Numbering().Reserve(ctx, base, protocol.Register{IPA: "c_f205"}); !errors.Is(err, protocol.ErrRegister) {
		t.Fatalf("reserving under partial codes: %v, want ErrRegister", err)
	}
	n, at, err := s.Numbering().Reserve(ctx, base, reg)
	if err != nil {
		t.Fatal(err)
	}
	if n.String() != "c_f205.A1B2C3.CERT.2026/0000001" {
		t.Fatalf("number %s, want the codes and 2026/0000001 (partial codes must not consume a number)", n)
	}
	if err := write(s, entry(n, at, "a")); err != nil {
		t.Fatal(err)
	}
	// The codes change: the progressive goes on.
	n2, _, err := s.Numbering().Reserve(ctx, base.Add(time.Second), protocol.Register{})
	if err != nil || n2.String() != "2026/0000002" {
		t.Fatalf("after a change of codes: %s, %v; want 2026/0000002", n2, err)
	}
	got, err := get(t, s, num(2026, 1))
	if err != nil || got.Number.Register != reg {
		t.Fatalf("the entry keeps codes %+v (%v), want %+v", got.Number.Register, err, reg)
	}
}

func testYearBoundary(t *testing.T, open Open, _ Second) {
	s := open(t)
	eve := time.Date(2026, 12, 31, 23, 59, 0, 0, protocol.Rome)
	a := issue(t, s, eve, "a")
	b := issue(t, s, eve.Add(59*time.Second), "b")
	// 00:00:30 on 1 January in Rome is still 31 December in UTC.
	c := issue(t, s, eve.Add(90*time.Second), "c")
	if a.Number != num(2026, 1) || b.Number != num(2026, 2) || c.Number != num(2027, 1) {
		t.Fatalf("numbers across New Year: %s %s %s", a.Number, b.Number, c.Number)
	}
	var ys []int
	if err := s.View(ctx, func(tx store.Tx) (err error) { ys, err = tx.Protocol().Years(); return err }); err != nil || len(ys) != 2 || ys[0] != 2026 || ys[1] != 2027 {
		t.Fatalf("Years = %v, %v", ys, err)
	}
}

func testStamp(t *testing.T, open Open, _ Second) {
	s := open(t)
	first := issue(t, s, base, "a")
	// A little behind: dated at the latest time, so the order holds.
	n, at, err := s.Numbering().Reserve(ctx, base.Add(-time.Minute), protocol.Register{})
	if err != nil || !at.Equal(first.Time) || n != num(2026, 2) {
		t.Fatalf("clock a minute behind: %s at %v, %v; want 2026/0000002 at %v", n, at, err, first.Time)
	}
	if err := write(s, entry(n, at, "b")); err != nil {
		t.Fatal(err)
	}
	// Far behind: refused, and no number consumed.
	if _, _, err := s.Numbering().Reserve(ctx, base.Add(-protocol.MaxStepBack-time.Second), protocol.Register{}); !errors.Is(err, protocol.ErrClockBehind) {
		t.Fatalf("clock far behind: %v, want ErrClockBehind", err)
	}
	n, _, err = s.Numbering().Reserve(ctx, base.Add(time.Second), protocol.Register{})
	if err != nil || n != num(2026, 3) {
		t.Fatalf("after a refusal for the clock: %s, %v; want 2026/0000003", n, err)
	}
}

func testWriteRefusals(t *testing.T, open Open, _ Second) {
	s := open(t)
	if err := write(s, entry(num(2026, 1), base, "x")); !errors.Is(err, protocol.ErrNotReserved) {
		t.Fatalf("writing a number never reserved: %v, want ErrNotReserved", err)
	}
	n, at, err := s.Numbering().Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	bad := entry(n, at, "x")
	bad.Subject = ""
	if err := write(s, bad); !errors.Is(err, protocol.ErrInvalid) {
		t.Fatalf("an entry without subject: %v, want ErrInvalid", err)
	}
	ann := protocol.Annulment(n, at, "staff:rossi", "atto 1", "errore", "")
	if err := write(s, ann); !errors.Is(err, protocol.ErrInvalid) {
		t.Fatalf("writing an annulment through Tx: %v, want ErrInvalid (the numbering annuls)", err)
	}
	if err := write(s, entry(n, at, "x")); err != nil {
		t.Fatal(err)
	}
	if err := write(s, entry(n, at, "y")); !errors.Is(err, protocol.ErrImmutable) {
		t.Fatalf("writing a number twice: %v, want ErrImmutable", err)
	}
	if got, err := get(t, s, n); err != nil || got.Ref != "x" {
		t.Fatalf("after a refused overwrite the entry is %+v, %v", got, err)
	}
}

func testRolledBack(t *testing.T, open Open, _ Second) {
	s := open(t)
	n, at, err := s.Numbering().Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("the record could not be stored")
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Protocol().Write(entry(n, at, "x")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if _, err := get(t, s, n); !errors.Is(err, protocol.ErrNotFound) {
		t.Fatalf("a rolled back write left entry %s: %v", n, err)
	}
	// Still reserved: the issuance may commit it on a retry.
	if err := write(s, entry(n, at, "x")); err != nil {
		t.Fatalf("writing the number again after the roll back: %v", err)
	}
}

func testViewRefusesWrite(t *testing.T, open Open, _ Second) {
	s := open(t)
	n, at, err := s.Numbering().Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error { return tx.Protocol().Write(entry(n, at, "x")) })
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("Write in a View: %v, want store.ErrReadOnly", err)
	}
	if _, err := get(t, s, n); !errors.Is(err, protocol.ErrNotFound) {
		t.Fatalf("a View wrote entry %s: %v", n, err)
	}
}

func testGiveBack(t *testing.T, open Open, _ Second) {
	s := open(t)
	nb := s.Numbering()
	issue(t, s, base, "a")
	// A whole run fails together (a full disk): every number comes back.
	var ns []protocol.Number
	for i := range 3 {
		n, _, err := nb.Reserve(ctx, base.Add(time.Duration(i+1)*time.Second), protocol.Register{})
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, n)
	}
	for _, i := range []int{1, 0, 2} { // out of order: 3 and 4 wait for 5
		a, err := nb.Abandon(ctx, ns[i], base.Add(5*time.Second), protocol.ReasonFailed, "")
		if err != nil || a != nil {
			t.Fatalf("abandoning %s with no later registration: annulment %v, %v; want it given back", ns[i], a, err)
		}
	}
	n, _, err := nb.Reserve(ctx, base.Add(6*time.Second), protocol.Register{})
	if err != nil || n != num(2026, 2) {
		t.Fatalf("after giving back 2..4 the next number is %s, %v; want 2026/0000002", n, err)
	}
	if es := day(t, s, protocol.DayOf(base)); len(es) != 1 {
		t.Fatalf("giving back wrote %d entries, want only the first registration", len(es))
	}
	if err := write(s, entry(ns[1], base.Add(6*time.Second), "late")); !errors.Is(err, protocol.ErrNotReserved) {
		t.Fatalf("writing a number given back: %v, want ErrNotReserved", err)
	}
}

func testAnnulBelowRegistered(t *testing.T, open Open, _ Second) {
	s := open(t)
	nb := s.Numbering()
	n1, _, err := nb.Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	issue(t, s, base.Add(time.Second), "b")
	at := base.Add(2 * time.Second)
	a, err := nb.Abandon(ctx, n1, at, "rendering failed", "cert-a")
	if err != nil || a == nil {
		t.Fatalf("abandoning a number below a registered one: %v, %v; want its annulment", a, err)
	}
	if a.Number != n1 || a.Direction != protocol.Annulled || a.Reason() != "rendering failed" || a.Ref != "cert-a" || a.Time.Before(at) || a.Authorisation != protocol.RuleUnregistered {
		t.Fatalf("annulment %+v", a)
	}
	got, err := get(t, s, n1)
	if err != nil || got.Direction != protocol.Annulled || got.DocSHA256 != a.DocSHA256 {
		t.Fatalf("the register holds %+v, %v for the annulled number", got, err)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("the stored annulment does not validate: %v", err)
	}
	if err := write(s, entry(n1, base, "a")); !errors.Is(err, protocol.ErrImmutable) && !errors.Is(err, protocol.ErrNotReserved) {
		t.Fatalf("writing an annulled number: %v, want a refusal", err)
	}
	// The next number is 3: an annulled number is never handed out again.
	if n, _, err := nb.Reserve(ctx, base.Add(3*time.Second), protocol.Register{}); err != nil || n != num(2026, 3) {
		t.Fatalf("next number %s, %v; want 2026/0000003", n, err)
	}
}

// AuditedAnnulments returns the numbers whose annulment s's audit log
// records (audit.Annulment's entries), in the log's order.
func AuditedAnnulments(t *testing.T, s store.Store) []string {
	t.Helper()
	var out []string
	err := s.View(ctx, func(tx store.Tx) error {
		return tx.Audit().Search(audit.Query{Actor: audit.ProtocolActor.String()}, func(e audit.Entry) (bool, error) {
			out = append(out, e.Request)
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testAnnulmentsAudited: every annulment the numbering makes on its own
// is in the audit log as soon as the call that made it returns, recorded
// by the store in the annulment's transaction, not left to the caller.
func testAnnulmentsAudited(t *testing.T, open Open, _ Second) {
	s := open(t)
	nb := s.Numbering()
	// 1 abandoned below a registered 2: annulled by Abandon.
	n1, _, err := nb.Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	issue(t, s, base.Add(time.Second), "b")
	if a, err := nb.Abandon(ctx, n1, base.Add(2*time.Second), protocol.ReasonFailed, ""); err != nil || a == nil {
		t.Fatalf("abandon below a registered number: %v, %v", a, err)
	}
	// 3 held back, then annulled when 4 is registered.
	n3, _, err := nb.Reserve(ctx, base.Add(3*time.Second), protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	n4, at4, err := nb.Reserve(ctx, base.Add(4*time.Second), protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := nb.Abandon(ctx, n3, base.Add(5*time.Second), protocol.ReasonFailed, ""); err != nil || a != nil {
		t.Fatalf("abandon with a later number in flight: %v, %v; want it held", a, err)
	}
	if err := write(s, entry(n4, at4, "d")); err != nil {
		t.Fatal(err)
	}
	ann, err := nb.Registered(ctx, n4, base.Add(6*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// bbolt writes the held annulment at the next call that settles.
	if len(ann) == 0 {
		if ann, err = nb.Recover(ctx, base.Add(7*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if len(ann) != 1 || ann[0].Number.Seq != n3.Seq {
		t.Fatalf("annulments after registering 4: %+v; want 3's", ann)
	}
	got := AuditedAnnulments(t, s)
	if want := []string{n1.String(), n3.String()}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the audit log records the annulments of %v, want %v", got, want)
	}
	var es []audit.Entry
	if err := s.View(ctx, func(tx store.Tx) error {
		return tx.Audit().Search(audit.Query{}, func(e audit.Entry) (bool, error) { es = append(es, e); return true, nil })
	}); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Actor == audit.ProtocolActor && (e.Subject != "-" || !strings.Contains(e.Purpose, protocol.ReasonFailed)) {
			t.Fatalf("annulment entry %+v", e)
		}
	}
}

func testHeldThenAnnulled(t *testing.T, open Open, _ Second) {
	s := open(t)
	nb := s.Numbering()
	n1, _, err := nb.Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	n2, at2, err := nb.Reserve(ctx, base.Add(time.Second), protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	// 1 fails while 2 is in flight: held, since 2 may fail too.
	if a, err := nb.Abandon(ctx, n1, base.Add(2*time.Second), "failed", ""); err != nil || a != nil {
		t.Fatalf("abandoning 1 below an unregistered 2: %v, %v; want it held", a, err)
	}
	if _, err := get(t, s, n1); !errors.Is(err, protocol.ErrNotFound) {
		t.Fatalf("a held number has an entry: %v", err)
	}
	if err := write(s, entry(n2, at2, "b")); err != nil {
		t.Fatal(err)
	}
	ann, err := nb.Registered(ctx, n2, base.Add(3*time.Second))
	if err != nil || len(ann) != 1 || ann[0].Number != n1 || ann[0].Direction != protocol.Annulled {
		t.Fatalf("registering 2 above an abandoned 1: annulments %+v, %v; want 1's", ann, err)
	}
	if got, err := get(t, s, n1); err != nil || got.Direction != protocol.Annulled || got.Reason() != "failed" {
		t.Fatalf("number 1 is %+v, %v; want annulled with its reason", got, err)
	}
	if es := day(t, s, protocol.DayOf(base)); len(es) != 2 {
		t.Fatalf("the day holds %d entries, want 2 (an annulment and a registration)", len(es))
	}
}

func testCloseDay(t *testing.T, open Open, _ Second) {
	s := open(t)
	nb := s.Numbering()
	d := protocol.DayOf(base)
	issue(t, s, base, "a")
	issue(t, s, base.Add(time.Hour), "b")
	if _, _, err := nb.CloseDay(ctx, d, base.Add(2*time.Hour)); err == nil {
		t.Fatal("a day was closed before it was over")
	}
	late := d.End().Add(-time.Second)
	n, at, err := nb.Reserve(ctx, late, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	closeAt := d.End().Add(time.Minute)
	c, es, err := nb.CloseDay(ctx, d, closeAt)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := protocol.WriteCSV(io.Discard, d, es)
	if c.Day != d || c.Entries != 2 || len(es) != 2 || c.SHA256 != sum || c.Format != protocol.CSVFormat {
		t.Fatalf("closing %+v with %d entries; want 2 entries and the CSV's SHA-256", c, len(es))
	}
	// The issuance in flight dated in the closed day is refused.
	if err := write(s, entry(n, at, "c")); !errors.Is(err, protocol.ErrDayClosed) {
		t.Fatalf("writing into a closed day: %v, want ErrDayClosed", err)
	}
	if _, err := nb.Abandon(ctx, n, closeAt, protocol.ReasonFailed, ""); err != nil {
		t.Fatal(err)
	}
	// Closing again changes nothing.
	c2, es2, err := nb.CloseDay(ctx, d, closeAt.Add(time.Hour))
	if err != nil || c2.SHA256 != c.SHA256 || !c2.Closed.Equal(c.Closed) || len(es2) != 2 {
		t.Fatalf("closing again: %+v, %v; want the first closing", c2, err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		p := tx.Protocol()
		if got, ok, err := p.Closed(d); err != nil || !ok || got.SHA256 != c.SHA256 {
			return fmt.Errorf("Closed(%s) = %+v, %v, %v", d, got, ok, err)
		}
		if got, ok, err := p.LastClosed(); err != nil || !ok || got.Day != d {
			return fmt.Errorf("LastClosed = %+v, %v, %v", got, ok, err)
		}
		if cs, err := p.Closings(); err != nil || len(cs) != 1 || cs[0].SHA256 != c.SHA256 {
			return fmt.Errorf("Closings = %+v, %v; want the one closing", cs, err)
		}
		if _, ok, err := p.Closed(protocol.DayOf(d.End())); err != nil || ok {
			return fmt.Errorf("the next day reads as closed: %v, %v", ok, err)
		}
		if f, err := p.Floor(); err != nil || f.Before(d.End()) {
			return fmt.Errorf("Floor = %v, %v; want at least the end of the closed day %v", f, err, d.End())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A clock still in the closed day (within the step back) dates the
	// next entry at the day's end, in the next day.
	n, at, err = nb.Reserve(ctx, d.End().Add(-time.Minute), protocol.Register{})
	if err != nil || at.Before(d.End()) {
		t.Fatalf("reserving with the clock a minute before the closed day's end: %s at %v, %v", n, at, err)
	}
	if err := write(s, entry(n, at, "d")); err != nil {
		t.Fatal(err)
	}
}

func testRecoverSparesInFlight(t *testing.T, open Open, _ Second) {
	s := open(t)
	nb := s.Numbering()
	n1, at1, err := nb.Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	issue(t, s, base.Add(time.Second), "b")
	// A hub runs Recover while 1 is being issued: it must not annul it.
	ann, err := nb.Recover(ctx, base.Add(2*time.Second))
	if err != nil || len(ann) != 0 {
		t.Fatalf("Recover with a number in flight: %+v, %v; want nothing annulled", ann, err)
	}
	if err := write(s, entry(n1, at1, "a")); err != nil {
		t.Fatalf("writing the number in flight after Recover: %v", err)
	}
}

// hubs issues from several goroutines, spread over the stores, each
// issuance failing now and then (given back or annulled), and checks the
// register numbers 1..N with no gap and no duplicate, in date order.
func hubs(t *testing.T, stores []store.Store, workers, each int) {
	var clock atomic.Int64
	now := func() time.Time { return base.Add(time.Duration(clock.Add(int64(time.Millisecond)))) }
	var wg sync.WaitGroup
	var registered, failed atomic.Int64
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			s := stores[w%len(stores)]
			for i := range each {
				n, at, err := s.Numbering().Reserve(ctx, now(), protocol.Register{})
				if err != nil {
					errs <- err
					return
				}
				e := entry(n, at, fmt.Sprintf("w%d-%d", w, i))
				fail := rng.IntN(5) == 0 // the commit fails after the entry was written
				err = s.Batch(ctx, func(tx store.Tx) error {
					if err := tx.Protocol().Write(e); err != nil {
						return err
					}
					if fail {
						return errFailed
					}
					return nil
				})
				if fail && errors.Is(err, errFailed) {
					failed.Add(1)
					if _, err := s.Numbering().Abandon(ctx, n, now(), protocol.ReasonFailed, e.Ref); err != nil {
						errs <- err
						return
					}
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("write %s: %w", n, err)
					return
				}
				registered.Add(1)
				if _, err := s.Numbering().Registered(ctx, n, now()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Numbers still held (abandoned below no registration) are settled:
	// given back or annulled.
	for _, s := range stores {
		if _, err := s.Numbering().Recover(ctx, now()); err != nil {
			t.Fatal(err)
		}
	}
	var es []protocol.Entry
	err := stores[0].View(ctx, func(tx store.Tx) error {
		last, err := tx.Protocol().Last(2026)
		if err != nil {
			return err
		}
		for seq := uint64(1); seq <= last.Seq; seq++ {
			e, err := tx.Protocol().Get(num(2026, seq))
			if err != nil {
				return fmt.Errorf("hole at %d of %d: %w", seq, last.Seq, err)
			}
			es = append(es, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var outgoing int64
	seen := map[string]bool{}
	var prev time.Time
	for _, e := range es {
		if e.Direction == protocol.Annulled {
			continue
		}
		outgoing++
		if seen[e.Ref] {
			t.Fatalf("document %s registered twice", e.Ref)
		}
		seen[e.Ref] = true
		if e.Time.Before(prev) {
			t.Fatalf("entry %s dated %v before the one below it (%v)", e.Number, e.Time, prev)
		}
		prev = e.Time
	}
	if outgoing != registered.Load() {
		t.Fatalf("%d registrations in the register, %d committed", outgoing, registered.Load())
	}
	if annulled := int64(len(es)) - outgoing; annulled > failed.Load() {
		t.Fatalf("%d annulments for %d failures", annulled, failed.Load())
	}
	t.Logf("%d numbers: %d registered, %d annulled, %d failures", len(es), outgoing, int64(len(es))-outgoing, failed.Load())
}

var errFailed = errors.New("the issuance failed")

func testImport(t *testing.T, open Open, _ Second) {
	s := open(t)
	var supported bool
	_ = s.Update(ctx, func(tx store.Tx) error { _, supported = tx.Protocol().(protocol.Importer); return nil })
	if !supported {
		t.Skip("the backend takes no imports")
	}
	d := protocol.DayOf(base)
	e1 := entry(num(2026, 1), base, "a")
	ann := protocol.Annulment(num(2026, 2), base.Add(time.Hour), protocol.DefaultAuthor, protocol.RuleUnregistered, protocol.ReasonRecovered, "")
	e3 := entry(num(2026, 3), base.Add(time.Minute), "c")
	sum, err := protocol.WriteCSV(io.Discard, d, []protocol.Entry{e1, ann, e3})
	if err != nil {
		t.Fatal(err)
	}
	c := protocol.Closing{Day: d, Closed: d.End().Add(time.Hour), Entries: 3, SHA256: sum, Format: protocol.CSVFormat}
	imp := func(es []protocol.Entry, cs []protocol.Closing) error {
		return s.Update(ctx, func(tx store.Tx) error { return tx.Protocol().(protocol.Importer).Import(es, cs) })
	}
	if err := imp([]protocol.Entry{e1, ann, e3}, []protocol.Closing{c}); err != nil {
		t.Fatal(err)
	}
	if got := day(t, s, d); len(got) != 3 || got[1].Direction != protocol.Annulled || got[2].Ref != "c" {
		t.Fatalf("the imported day holds %+v", got)
	}
	if err := imp([]protocol.Entry{e3}, nil); !errors.Is(err, protocol.ErrImmutable) {
		t.Fatalf("importing a number held: %v, want ErrImmutable", err)
	}
	// The numbering goes on after the import, in the next day.
	n, at, err := s.Numbering().Reserve(ctx, d.End().Add(time.Minute), protocol.Register{})
	if err != nil || n != num(2026, 4) {
		t.Fatalf("reserving after the import: %s, %v; want 2026/0000004", n, err)
	}
	if err := write(s, entry(n, at, "d")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Numbering().Reserve(ctx, base.Add(2*time.Hour), protocol.Register{}); !errors.Is(err, protocol.ErrClockBehind) {
		t.Fatalf("reserving in the imported closed day: %v, want ErrClockBehind", err)
	}
}

func testConcurrent(t *testing.T, open Open, _ Second) {
	hubs(t, []store.Store{open(t)}, 8, 25)
}

func testTwoHubs(t *testing.T, open Open, second Second) {
	if second == nil {
		t.Skip("the backend is opened by one process at a time")
	}
	a := open(t)
	hubs(t, []store.Store{a, second(t, a)}, 8, 25)
}

func testTwoHubsStale(t *testing.T, open Open, second Second) {
	if second == nil {
		t.Skip("the backend is opened by one process at a time")
	}
	a := open(t)
	b := second(t, a)
	// Hub A reserves and stops before writing.
	n1, at1, err := a.Numbering().Reserve(ctx, base, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	e2 := issue(t, b, base.Add(time.Second), "b")
	if e2.Number != num(2026, 2) {
		t.Fatalf("hub B numbered %s after hub A's 1, want 2026/0000002", e2.Number)
	}
	// Not yet stale: hub B's Recover leaves it.
	if ann, err := b.Numbering().Recover(ctx, base.Add(protocol.ReservationTimeout/2)); err != nil || len(ann) != 0 {
		t.Fatalf("Recover before the reservation timed out: %+v, %v", ann, err)
	}
	ann, err := b.Numbering().Recover(ctx, base.Add(protocol.ReservationTimeout+time.Minute))
	if err != nil || len(ann) != 1 || ann[0].Number.Seq != n1.Seq || ann[0].Reason() != protocol.ReasonRecovered {
		t.Fatalf("Recover after the timeout: %+v, %v; want number 1 annulled as recovered", ann, err)
	}
	// Recorded with the annulment, on the database both hubs share.
	if got := AuditedAnnulments(t, a); len(got) != 1 || got[0] != n1.String() {
		t.Fatalf("the audit log records the annulments of %v, want %s's", got, n1)
	}
	// Hub A comes back late: its number is gone.
	if err := write(a, entry(n1, at1, "a")); !errors.Is(err, protocol.ErrImmutable) && !errors.Is(err, protocol.ErrNotReserved) {
		t.Fatalf("writing a number annulled by Recover: %v, want a refusal", err)
	}
	if n, _, err := a.Numbering().Reserve(ctx, base.Add(protocol.ReservationTimeout+2*time.Minute), protocol.Register{}); err != nil || n != num(2026, 3) {
		t.Fatalf("next number after the recovery: %s, %v; want 2026/0000003", n, err)
	}
}

// Bench registers b.N entries on s from parallel goroutines, as
// issuances do: Reserve, the entry written in a Batch, Registered. It
// reports registrations per second.
func Bench(b *testing.B, s store.Store) {
	var clock atomic.Int64
	now := func() time.Time { return base.Add(time.Duration(clock.Add(int64(time.Microsecond)))) }
	var id atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n, at, err := s.Numbering().Reserve(ctx, now(), protocol.Register{})
			if err != nil {
				b.Error(err)
				return
			}
			e := entry(n, at, fmt.Sprintf("cert-%d", id.Add(1)))
			if err := s.Batch(ctx, func(tx store.Tx) error { return tx.Protocol().Write(e) }); err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Numbering().Registered(ctx, n, now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "registrations/s")
}

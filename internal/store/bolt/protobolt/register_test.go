package protobolt

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/protocol"
)

var (
	regA = protocol.Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERT"}
	regB = protocol.Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERTANAG"}
)

// TestDayClosedInTheFirstLayoutStillMatches: a day closed before the
// register's codes were added to the CSV (a closing with no layout) is
// checked against the bytes of its own layout, not refused as altered; a
// day closed now records the current layout.
func TestDayClosedInTheFirstLayoutStillMatches(t *testing.T) {
	db := openDB(t)
	day := protocol.Day{Year: 2026, Month: 3, Day: 2}
	e1 := register(t, db, day.Start().Add(9*time.Hour), "uno")
	e2 := register(t, db, day.Start().Add(10*time.Hour), "due")
	var old bytes.Buffer
	sum, err := protocol.WriteCSVFormat(&old, day, []protocol.Entry{e1, e2}, protocol.CSVFormat1)
	if err != nil {
		t.Fatal(err)
	}
	// The closing record exactly as the hub wrote it before: no format.
	closed := day.End().Add(time.Hour)
	v, _ := json.Marshal(struct {
		Day     protocol.Day `json:"day"`
		Closed  time.Time    `json:"closed"`
		Entries int          `json:"entries"`
		SHA256  [32]byte     `json:"sha256"`
	}{day, closed, 2, sum})
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketClosed).Put(day.Key(), v) }); err != nil {
		t.Fatal(err)
	}
	next := day.End().Add(2 * time.Hour)
	a, err := AllocatorFor(db, AllocatorOptions{Now: func() time.Time { return next.Add(24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	c, es, err := a.CloseDay(day)
	if err != nil || c.CSVLayout() != protocol.CSVFormat1 || c.SHA256 != sum || len(es) != 2 {
		t.Fatalf("closing the day closed in the first layout again: %+v %v", c, err)
	}
	// A day closed now is closed in the current layout.
	n, at, err := a.Reserve(next)
	if err != nil {
		t.Fatal(err)
	}
	n.Register = regA
	if err := db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(n, at, "tre")) }); err != nil {
		t.Fatal(err)
	}
	a.Registered(n)
	c2, es2, err := a.CloseDay(protocol.DayOf(next))
	var now bytes.Buffer
	sum2, _ := protocol.WriteCSV(&now, protocol.DayOf(next), es2)
	if err != nil || c2.Format != protocol.CSVFormat || c2.SHA256 != sum2 || !bytes.Contains(now.Bytes(), []byte("c_f205,A1B2C3D,CERT,2026/0000003,")) {
		t.Errorf("a day closed now: %+v %v\n%s", c2, err, now.String())
	}
}

// TestAutomaticAnnulmentsNameTheirRuleAndRegister: a number given back
// too late and a number lost in a crash are annulled under the written
// rule (protocol.RuleUnregistered), in the register whose codes they were
// handed out under.
func TestAutomaticAnnulmentsNameTheirRuleAndRegister(t *testing.T) {
	db := openDB(t)
	at := time.Date(2026, 5, 4, 9, 0, 0, 0, protocol.Rome)
	a, err := AllocatorFor(db, AllocatorOptions{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	failed, _, _ := a.Reserve(at)
	failed.Register = regA
	ok, okAt, _ := a.Reserve(at)
	ok.Register = regB
	if _, err := a.Abandon(failed, "rendering failed", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return Write(tx, entryAt(ok, okAt, "ok")) }); err != nil {
		t.Fatal(err)
	}
	a.Registered(ok)
	a.Settle()
	_ = db.View(func(tx *bbolt.Tx) error {
		e, err := Get(tx, failed)
		if err != nil || e.Direction != protocol.Annulled || e.Authorisation != protocol.RuleUnregistered || e.Number.Register != regA ||
			e.Number.String() != "c_f205.A1B2C3D.CERT.2026/0000001" {
			t.Errorf("annulment of a failed number: %+v %v", e, err)
		}
		return nil
	})

	// A crash: number 4 registered under regB, 3 never; the next start
	// annuls 3 under the codes of the registration that followed it.
	db2 := openDB(t)
	e4 := entryAt(protocol.Number{Register: regB, Year: 2026, Seq: 4}, at, "four")
	e2 := entryAt(protocol.Number{Register: regA, Year: 2026, Seq: 2}, at, "two")
	e1 := entryAt(protocol.Number{Register: regA, Year: 2026, Seq: 1}, at, "one")
	for _, e := range []protocol.Entry{e1, e2, e4} {
		if err := db2.Update(func(tx *bbolt.Tx) error { return Write(tx, e) }); err != nil {
			t.Fatal(err)
		}
	}
	var got []protocol.Entry
	err = db2.Update(func(tx *bbolt.Tx) (err error) { got, err = Recover(tx, at.Add(time.Hour), DefaultAuthor); return err })
	if err != nil || len(got) != 1 || got[0].Number.String() != "c_f205.A1B2C3D.CERTANAG.2026/0000003" || got[0].Authorisation != protocol.RuleUnregistered {
		t.Errorf("recovered %+v %v", got, err)
	}
	_ = db2.View(func(tx *bbolt.Tx) error {
		e, err := Get(tx, protocol.Number{Year: 2026, Seq: 3})
		if err != nil || e.Authorisation != protocol.RuleUnregistered || e.Validate() != nil {
			t.Errorf("stored recovery annulment %+v %v", e, err)
		}
		return nil
	})
}

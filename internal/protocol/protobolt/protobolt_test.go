package protobolt

import (
	"crypto/sha256"
	"errors"
	"path/filepath"
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
		_, err := Register(tx, at, func(protocol.Number) (protocol.Entry, error) { return protocol.Entry{Direction: protocol.Outgoing}, nil })
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

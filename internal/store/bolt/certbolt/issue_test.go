package certbolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/protobolt"
)

// checkRegister asserts the day's register numbers 1..len without a hole and
// returns how many entries are certificates and how many annulments.
func checkRegister(t *testing.T, s *Store) (out, annulled int) {
	t.Helper()
	es, err := s.ProtocolDay(protocol.DayOf(at))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		if e.Number.Seq != uint64(i+1) {
			t.Fatalf("entry %d has number %s: the register has a hole", i, e.Number)
		}
		switch e.Direction {
		case protocol.Outgoing:
			out++
			rec, err := s.Get(e.Ref)
			if err != nil || rec.Protocol != e.Number.String() {
				t.Errorf("entry %s leads to %+v %v", e.Number, rec, err)
			}
		case protocol.Annulled:
			annulled++
			if err := e.Validate(); err != nil {
				t.Errorf("annulment %s: %v", e.Number, err)
			}
		default:
			t.Errorf("entry %s has direction %q", e.Number, e.Direction)
		}
	}
	return out, annulled
}

func openStoreWith(t *testing.T, path string, o Options) (*Store, *bbolt.DB) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, o)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestIssueConcurrent(t *testing.T) {
	s, _ := openStore(t, true)
	d := subject()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			is := &issuer{seq: i * 1000}
			if i%5 == 0 {
				is.fail = errors.New("renderer out of memory") // after the number was reserved
			}
			_, _, err := s.Issue(context.Background(), at, Idempotency{Key: fmt.Sprint("k", i), RequestHash: "h"}, is.build(d, request(certificate.Residenza), "op-1"))
			if err != nil && i%5 != 0 || err == nil && i%5 == 0 {
				errs <- fmt.Errorf("issuance %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Each failed number was given back or annulled; none is missing.
	if out, annulled := checkRegister(t, s); out != 32 || annulled > 8 {
		t.Errorf("%d certificates and %d annulments, want 32 and at most 8", out, annulled)
	}
}

// TestFailureAfterALaterReservationIsAnnulled plays two issuances in the
// order that forces an annulment: the first fails after the second has
// reserved the next number.
func TestFailureAfterALaterReservationIsAnnulled(t *testing.T) {
	clock := at.Add(time.Minute)
	s, _ := openStoreWith(t, filepath.Join(t.TempDir(), "hub.db"), Options{Now: func() time.Time { return clock }, Author: "Ufficio protocollo"})
	d := subject()
	first := make(chan struct{})
	reserved := make(chan struct{})
	done := make(chan error)
	go func() {
		_, _, err := s.Issue(context.Background(), at, Idempotency{}, func(n protocol.Number, stamped time.Time) (*Built, error) {
			close(first)
			<-reserved
			return nil, errors.New("the seal key is unreadable")
		})
		done <- err
	}()
	<-first // the first issuance holds number 1, so this one gets 2
	rec, _, err := s.Issue(context.Background(), at, Idempotency{}, func(n protocol.Number, stamped time.Time) (*Built, error) {
		close(reserved)
		return (&issuer{}).build(d, request(certificate.Residenza), "")(n, stamped)
	})
	if err != nil || rec.Protocol != "2026/0000002" {
		t.Fatalf("second: %s %v", rec.Protocol, err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "seal key") {
		t.Fatalf("first: %v", err)
	}
	if out, annulled := checkRegister(t, s); out != 1 || annulled != 1 {
		t.Fatalf("%d certificates, %d annulments", out, annulled)
	}
	es, _ := s.ProtocolDay(protocol.DayOf(at))
	a := es[0]
	if a.Direction != protocol.Annulled || !a.Time.Equal(clock) || a.Correspondent != "Ufficio protocollo" ||
		!strings.Contains(a.Reason(), "seal key") || !strings.HasPrefix(a.Subject, "ANNULLATO") {
		t.Errorf("annulment %+v", a)
	}
	var csv bytes.Buffer
	if _, err := protocol.WriteCSV(&csv, protocol.DayOf(at), es); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), "2026/0000001,2026-11-23T10:01:00+01:00,annullato,Ufficio protocollo,ANNULLATO: ") {
		t.Errorf("export:\n%s", csv.String())
	}
	// The next issuance continues after both.
	rec, _, err = s.Issue(context.Background(), at, Idempotency{}, (&issuer{seq: 50}).build(d, request(certificate.Residenza), ""))
	if err != nil || rec.Protocol != "2026/0000003" {
		t.Errorf("third: %s %v", rec.Protocol, err)
	}
}

// TestCrashBetweenReservationAndCommit stops the file under an issuance
// that holds a number while a later one is registered: the next start's
// recovery scan annuls the number.
func TestCrashBetweenReservationAndCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, db := openStoreWith(t, path, Options{})
	d := subject()
	reserved := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		_, _, err := s.Issue(context.Background(), at, Idempotency{Key: "lost", RequestHash: "h"}, func(n protocol.Number, stamped time.Time) (*Built, error) {
			close(reserved)
			<-release
			return (&issuer{seq: 900}).build(d, request(certificate.Residenza), "")(n, stamped)
		})
		done <- err
	}()
	<-reserved
	rec, _, err := s.Issue(context.Background(), at, Idempotency{}, (&issuer{}).build(d, request(certificate.Residenza), ""))
	if err != nil || rec.Protocol != "2026/0000002" {
		t.Fatalf("%s %v", rec.Protocol, err)
	}
	if err := db.Close(); err != nil { // the crash: nothing more reaches the file
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err == nil {
		t.Fatal("an issuance committed to a closed file")
	}

	restart := at.Add(time.Hour)
	s2, _ := openStoreWith(t, path, Options{Now: func() time.Time { return restart }})
	rs := s2.Recovered()
	if len(rs) != 1 || rs[0].Number.String() != "2026/0000001" || rs[0].Reason() != protobolt.ReasonRecovered || !rs[0].Time.Equal(restart) {
		t.Fatalf("recovered %+v", rs)
	}
	if out, annulled := checkRegister(t, s2); out != 1 || annulled != 1 {
		t.Errorf("%d certificates, %d annulments", out, annulled)
	}
	// The lost request, retried with its key, is issued anew.
	rec, replayed, err := s2.Issue(context.Background(), restart, Idempotency{Key: "lost", RequestHash: "h"}, (&issuer{seq: 901}).build(d, request(certificate.Residenza), ""))
	if err != nil || replayed || rec.Protocol != "2026/0000003" {
		t.Errorf("retry: %s %v %v", rec.Protocol, replayed, err)
	}
}

func TestConcurrentDuplicatesIssueOnce(t *testing.T) {
	s, _ := openStore(t, true)
	d := subject()
	var builds atomic.Int32
	var wg sync.WaitGroup
	ids := make([]string, 12)
	errs := make([]error, 12)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hash := "same"
			if i == 11 {
				hash = "other body"
			}
			build := (&issuer{seq: i * 10}).build(d, request(certificate.Residenza), "op-1")
			rec, _, err := s.Issue(context.Background(), at, Idempotency{Key: "dup", RequestHash: hash}, func(n protocol.Number, stamped time.Time) (*Built, error) {
				builds.Add(1)
				time.Sleep(2 * time.Millisecond) // let the duplicates pile up
				return build(n, stamped)
			})
			ids[i], errs[i] = rec.ID, err
		}()
	}
	wg.Wait()
	// Whichever body came first owns the key; the other conflicts.
	var conflict *ConflictError
	first := ""
	for i, id := range ids {
		if errs[i] != nil {
			if !errors.As(errs[i], &conflict) {
				t.Errorf("request %d: %v", i, errs[i])
			}
			continue
		}
		if first == "" {
			first = id
		} else if id != first {
			t.Errorf("request %d got certificate %s, another got %s", i, id, first)
		}
	}
	if builds.Load() != 1 {
		t.Errorf("%d renderings for one key", builds.Load())
	}
	if out, annulled := checkRegister(t, s); out != 1 || annulled != 0 {
		t.Errorf("%d certificates, %d annulments", out, annulled)
	}
}

// TestGroupCommitIsolatesFailures commits issuances as one group: one
// refused by its check and one whose write fails must not cost the others.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s, db := openStore(t, true)
	d := subject()
	var batch []*pending
	for i := range 5 {
		n, stamped, err := s.numbers.Reserve(at)
		if err != nil {
			t.Fatal(err)
		}
		p, err := prepare(n, stamped, Idempotency{Key: fmt.Sprint("g", i), RequestHash: "h"}, (&issuer{seq: i}).build(d, request(certificate.Residenza), "op-1"))
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, p)
	}
	batch[1].rec.ID = batch[0].rec.ID                         // refused by check: duplicate id
	batch[3].rec.ID = strings.Repeat("x", bbolt.MaxKeySize+1) // refused by bbolt mid-write
	batch[3].entry.Ref = batch[3].rec.ID                      // keep the entry consistent
	commitAll(db, batch)
	for i, p := range batch {
		switch i {
		case 1:
			if !errors.Is(p.err, ErrDuplicateID) {
				t.Errorf("duplicate: %v", p.err)
			}
		case 3:
			if p.err == nil {
				t.Error("an oversized key was stored")
			}
		default:
			if p.err != nil {
				t.Errorf("issuance %d: %v", i, p.err)
			} else if _, err := s.Get(p.rec.ID); err != nil {
				t.Errorf("issuance %d not stored: %v", i, err)
			}
		}
	}
	_ = db.View(func(tx *bbolt.Tx) error {
		for _, seq := range []uint64{2, 4} {
			if _, err := protobolt.Get(tx, protocol.Number{Year: 2026, Seq: seq}); !errors.Is(err, protobolt.ErrNotFound) {
				t.Errorf("a failed issuance left entry %d: %v", seq, err)
			}
		}
		return nil
	})
}

func TestStoresShareTheNumbering(t *testing.T) {
	s, db := openStore(t, true)
	s2, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	d := subject()
	for i, st := range []*Store{s, s2, s} {
		rec, _, err := st.Issue(context.Background(), at, Idempotency{}, (&issuer{seq: i}).build(d, request(certificate.Residenza), ""))
		if want := fmt.Sprintf("2026/%07d", i+1); err != nil || rec.Protocol != want {
			t.Errorf("store %d: %s %v, want %s", i, rec.Protocol, err, want)
		}
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := protobolt.Register(tx, at, func(protocol.Number) (protocol.Entry, error) { return protocol.Entry{}, nil })
		return err
	})
	if !errors.Is(err, protobolt.ErrAllocated) {
		t.Errorf("Register beside the allocator: %v", err)
	}
}

func TestPanickingRendererLeavesNoNumberBehind(t *testing.T) {
	s, _ := openStore(t, true)
	func() {
		defer func() {
			if r := recover(); r != "fpdf: broken font" {
				t.Errorf("recovered %v", r)
			}
		}()
		s.Issue(context.Background(), at, Idempotency{Key: "p", RequestHash: "h"}, func(protocol.Number, time.Time) (*Built, error) { panic("fpdf: broken font") })
	}()
	rec, _, err := s.Issue(context.Background(), at, Idempotency{Key: "p", RequestHash: "h"}, (&issuer{}).build(subject(), request(certificate.Residenza), ""))
	if err != nil || rec.Protocol != "2026/0000001" {
		t.Errorf("after the panic: %s %v", rec.Protocol, err)
	}
}

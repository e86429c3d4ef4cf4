package certbolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/disktest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/auditbolt"
	"github.com/sportello/sportello/internal/store/bolt/protobolt"
)

// held is an issuance stopped inside its renderer, holding its number,
// until release; done then gives its result.
type held struct {
	number  chan protocol.Number
	release chan struct{}
	done    chan error
}

func holdIssuance(s *Store, key string, seq int) *held {
	h := &held{number: make(chan protocol.Number, 1), release: make(chan struct{}), done: make(chan error, 1)}
	build := (&issuer{seq: seq}).build(subject(), request(certificate.Residenza), "op-1")
	go func() {
		_, _, err := s.Issue(context.Background(), at, Idempotency{Key: key, RequestHash: "h"}, func(n protocol.Number, stamped time.Time) (*Built, error) {
			h.number <- n
			<-h.release
			return build(n, stamped)
		})
		h.done <- err
	}()
	return h
}

// TestDiskFullBurnsNoNumber fills the file system under the hub's file
// while two issuances hold consecutive numbers, the lower one failing
// first: neither number is annulled, and once space is back the next
// certificate takes the first of them.
func TestDiskFullBurnsNoNumber(t *testing.T) {
	dir := disktest.Tmpfs(t, "4m")
	s, _ := openStoreWith(t, filepath.Join(dir, "hub.db"), Options{Now: func() time.Time { return at }})
	var free func()
	failedCommitsBurnNoNumber(t, s, func() { free = disktest.Fill(t, dir) }, func() { free() })
}

// TestCommitFailuresBurnNoNumber is TestDiskFullBurnsNoNumber with the
// file's size capped by bbolt (MaxSize) instead of a full file system, so
// it runs where a test cannot mount one.
func TestCommitFailuresBurnNoNumber(t *testing.T) {
	s, db := openStoreWith(t, filepath.Join(t.TempDir(), "hub.db"), Options{Now: func() time.Time { return at }})
	failedCommitsBurnNoNumber(t, s, func() { db.MaxSize = 1 }, func() { db.MaxSize = 0 })
}

func failedCommitsBurnNoNumber(t *testing.T, s *Store, fill, free func()) {
	issue := func(key string, seq int) (certificate.Record, error) {
		rec, _, err := s.Issue(context.Background(), at, Idempotency{Key: key, RequestHash: "h"}, (&issuer{seq: seq}).build(subject(), request(certificate.Residenza), "op-1"))
		return rec, err
	}
	if _, err := issue("first", 1); err != nil {
		t.Fatal(err)
	}
	fill()
	registered := 1
	for i := range 100 { // bbolt first fills the pages it freed before
		if _, err := issue(fmt.Sprint("fill", i), 100+i); err != nil {
			break
		}
		registered++
		if i == 99 {
			t.Fatal("100 certificates fit on a full disk")
		}
	}
	low := holdIssuance(s, "low", 500)
	nl := <-low.number
	high := holdIssuance(s, "high", 600)
	nh := <-high.number
	if nl.Seq != uint64(registered+1) || nh.Seq != nl.Seq+1 {
		t.Fatalf("the held issuances have numbers %s and %s after %d registered", nl, nh, registered)
	}
	close(low.release)
	if err := <-low.done; err == nil {
		t.Fatal("an issuance committed on a full disk")
	}
	close(high.release)
	if err := <-high.done; err == nil {
		t.Fatal("an issuance committed on a full disk")
	}
	free()
	rec, err := issue("after", 700)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("2026/%07d", registered+1); rec.Protocol != want {
		t.Errorf("after the disk was freed: %s, want %s", rec.Protocol, want)
	}
	if out, annulled := checkRegister(t, s); out != registered+1 || annulled != 0 {
		t.Errorf("%d certificates and %d annulments, want %d and none", out, annulled, registered+1)
	}
}

// TestClockSteppedBack: the register never files an entry dated before
// the last one. A clock a little behind registers at the last entry's
// time (and the certificate says that time); one far behind is refused.
func TestClockSteppedBack(t *testing.T) {
	s, _ := openStore(t, true)
	issue := func(when time.Time, seq int) (certificate.Record, error) {
		rec, _, err := s.Issue(context.Background(), when, Idempotency{}, (&issuer{seq: seq}).build(subject(), request(certificate.Residenza), ""))
		return rec, err
	}
	if _, err := issue(at, 1); err != nil {
		t.Fatal(err)
	}
	rec, err := issue(at.Add(-30*time.Second), 2)
	if err != nil {
		t.Fatal(err)
	}
	es, _ := s.ProtocolDay(protocol.DayOf(at))
	if len(es) != 2 || es[1].Time.Before(es[0].Time) || !rec.Issued.Equal(es[1].Time) {
		t.Errorf("after a 30 s step back: entries %v and %v, certificate issued %v", es[0].Time, es[len(es)-1].Time, rec.Issued)
	}
	if _, err := issue(at.Add(-time.Hour), 3); !errors.Is(err, protocol.ErrClockBehind) {
		t.Errorf("with the clock an hour behind the register: %v", err)
	}
	es, _ = s.ProtocolDay(protocol.DayOf(at))
	for i := 1; i < len(es); i++ {
		if es[i].Time.Before(es[i-1].Time) {
			t.Errorf("entry %s dated %v, before %s dated %v", es[i].Number, es[i].Time, es[i-1].Number, es[i-1].Time)
		}
	}
}

// TestRecoveryAnnulmentsAudited: the annulments the recovery scan makes at
// start are in the audit log, one entry each, naming the number and why.
func TestRecoveryAnnulmentsAudited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, db := openStoreWith(t, path, Options{})
	lost := holdIssuance(s, "lost", 900)
	<-lost.number
	if _, _, err := s.Issue(context.Background(), at, Idempotency{}, (&issuer{}).build(subject(), request(certificate.Residenza), "")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // the crash
		t.Fatal(err)
	}
	close(lost.release)
	<-lost.done

	restart := at.Add(time.Hour)
	s2, db2 := openStoreWith(t, path, Options{Now: func() time.Time { return restart }})
	if len(s2.Recovered()) != 1 {
		t.Fatalf("recovered %v", s2.Recovered())
	}
	aud, err := auditbolt.New(db2, func() time.Time { return restart })
	if err != nil {
		t.Fatal(err)
	}
	es, err := aud.Search(audit.Query{Actor: "system:protocollo"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Request != "2026/0000001" || !es[0].Time.Equal(restart) || !strings.Contains(es[0].Purpose, protobolt.ReasonRecovered) {
		t.Fatalf("audit entries of the recovery: %+v", es)
	}
	if _, err := aud.Verify(); err != nil {
		t.Error(err)
	}
}

// TestCommitThatReachedTheFileIsNotReused: a commit reported as failed
// whose entry is in the file all the same (an fsync error after the write)
// uses its number; the next issuance takes the next one instead of failing
// on it for ever.
func TestCommitThatReachedTheFileIsNotReused(t *testing.T) {
	s, db := openStore(t, true)
	_, _, err := s.Issue(context.Background(), at, Idempotency{}, func(n protocol.Number, stamped time.Time) (*Built, error) {
		b, err := (&issuer{seq: 1}).build(subject(), request(certificate.Residenza), "")(n, stamped)
		if err != nil {
			return nil, err
		}
		// What the failed commit left in the file.
		err = db.Update(func(tx *bbolt.Tx) error {
			return protobolt.Write(tx, protocol.Entry{Number: n, Time: stamped, Direction: protocol.Outgoing, Correspondent: "x",
				Subject: "already there", DocType: "certificato anagrafico", DocSHA256: [32]byte{1}})
		})
		return b, err
	})
	if !errors.Is(err, protobolt.ErrImmutable) {
		t.Fatalf("the commit over a registered number: %v", err)
	}
	for i := range 2 {
		rec, _, err := s.Issue(context.Background(), at, Idempotency{}, (&issuer{seq: 10 + i}).build(subject(), request(certificate.Residenza), ""))
		if want := fmt.Sprintf("2026/%07d", i+2); err != nil || rec.Protocol != want {
			t.Errorf("issuance %d after it: %s %v, want %s", i, rec.Protocol, err, want)
		}
	}
}

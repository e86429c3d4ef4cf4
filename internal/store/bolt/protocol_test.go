package bolt

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/protocol/protocoltest"
	"github.com/sportello/sportello/internal/store"
)

// TestProtocol runs the protocol register's suite on the hub's file. A
// bbolt file is opened by one process at a time, so the suite's tests of
// several hubs on one store do not apply.
func TestProtocol(t *testing.T) {
	protocoltest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "hub.db"), testOptions)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, nil)
}

// TestRecoveryAudited: a number a hub handed out and never registered
// before it stopped, below a registered one, is annulled by the next
// start's recovery, and the audit log records it in the same commit.
func TestRecoveryAudited(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, protocol.Rome)
	lost, _, err := s.Numbering().Reserve(ctx, at, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	n, stamped, err := s.Numbering().Reserve(ctx, at.Add(time.Second), protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	e := protocol.Entry{Number: n, Time: stamped, Direction: protocol.Outgoing, Correspondent: "RSSMRA50B17A558W",
		Subject: "Certificato", DocType: "certificato anagrafico", DocSHA256: sha256.Sum256([]byte("b")), Ref: "b"}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Protocol().Write(e) }); err != nil {
		t.Fatal(err)
	}
	// The hub stops with lost neither registered nor abandoned.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ann, err := s.Numbering().Recover(ctx, at.Add(time.Hour))
	if err != nil || len(ann) != 1 || ann[0].Number.Seq != lost.Seq {
		t.Fatalf("recovery: %+v, %v; want %s annulled", ann, err, lost)
	}
	if got := protocoltest.AuditedAnnulments(t, s); len(got) != 1 || got[0] != ann[0].Number.String() {
		t.Fatalf("the audit log records the annulments of %v, want %s's", got, ann[0].Number)
	}
	// Reported once: a second Recover annuls and records nothing more.
	if again, err := s.Numbering().Recover(ctx, at.Add(2*time.Hour)); err != nil || len(again) != 0 {
		t.Fatalf("second recovery: %+v, %v", again, err)
	}
	if got := protocoltest.AuditedAnnulments(t, s); len(got) != 1 {
		t.Fatalf("after a second recovery the log records %v", got)
	}
}

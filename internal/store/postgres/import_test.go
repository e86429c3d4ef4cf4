package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// A register is not imported over numbers being handed out on the
// database: the imported entry would take the number of a pending
// reservation, and every Recover after (each hub's, every minute) would
// fail on annulling it, so no number a stopped hub left would be annulled
// again.
func TestImportRefusedOverPendingReservations(t *testing.T) {
	ctx := context.Background()
	s := openHub(t)
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, protocol.Rome)
	n, _, err := s.Numbering().Reserve(ctx, at, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	e := protocol.Entry{Number: n, Time: at.Add(-time.Hour), Direction: protocol.Outgoing, Correspondent: "RSSMRA50B17A558W",
		Subject: "Certificato", DocType: "certificato anagrafico", DocSHA256: sha256.Sum256([]byte("x")), Ref: "x"}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.Protocol().(protocol.Importer).Import([]protocol.Entry{e}, nil) })
	if !errors.Is(err, protocol.ErrImmutable) {
		t.Errorf("import over a pending reservation: %v, want ErrImmutable", err)
	}
	if _, err := s.Numbering().Recover(ctx, at.Add(time.Hour)); err != nil {
		t.Fatalf("recover after the import: %v", err)
	}
}

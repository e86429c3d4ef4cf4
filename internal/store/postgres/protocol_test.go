package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/protocol/protocoltest"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// TestProtocol runs the protocol register's suite on the database, with
// two hubs' stores on one database numbering one sequence.
func TestProtocol(t *testing.T) { protocoltest.Run(t, openHub, twin) }

// CopyProtocol moves a hub file's register into the database: the same
// entries, annulments and closings, and the numbering goes on after them.
func TestCopyProtocolFromBolt(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, protocol.Rome)
	register := func(ref string, fail bool) protocol.Number {
		t.Helper()
		n, stamped, err := src.Numbering().Reserve(ctx, at, protocol.Register{})
		if err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Minute)
		if fail {
			return n
		}
		e := protocol.Entry{Number: n, Time: stamped, Direction: protocol.Outgoing, Correspondent: "RSSMRA50B17A558W",
			Subject: "Certificato", DocType: "certificato anagrafico", DocSHA256: sha256.Sum256([]byte(ref)), Ref: ref}
		if err := src.Update(ctx, func(tx store.Tx) error { return tx.Protocol().Write(e) }); err != nil {
			t.Fatal(err)
		}
		if _, err := src.Numbering().Registered(ctx, n, stamped); err != nil {
			t.Fatal(err)
		}
		return n
	}
	register("a", false)
	failed := register("b", true)
	register("c", false)
	if a, err := src.Numbering().Abandon(ctx, failed, at, "rendering failed", "b"); err != nil || a == nil {
		t.Fatalf("abandon: %v, %v", a, err)
	}
	d := protocol.DayOf(at)
	if _, _, err := src.Numbering().CloseDay(ctx, d, d.End().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	dst := openHub(t)
	n, err := store.CopyProtocol(ctx, dst, src)
	if err != nil || n.Entries != 3 || n.Closed != 1 {
		t.Fatalf("CopyProtocol = %+v, %v; want 3 entries and 1 closed day", n, err)
	}
	day := func(s store.Store) (es []protocol.Entry, cs []protocol.Closing) {
		err := s.View(ctx, func(tx store.Tx) (err error) {
			if es, err = tx.Protocol().Day(d); err != nil {
				return err
			}
			cs, err = tx.Protocol().Closings()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return es, cs
	}
	es1, cs1 := day(src)
	es2, cs2 := day(dst)
	if len(es1) != 3 || !reflect.DeepEqual(fmt.Sprint(es1), fmt.Sprint(es2)) || len(cs2) != 1 || cs1[0].SHA256 != cs2[0].SHA256 {
		t.Fatalf("moved register differs:\n%v\n%v\n%+v %+v", es1, es2, cs1, cs2)
	}
	// The closed day still exports to its closing's bytes in the database.
	if c, _, err := dst.Numbering().CloseDay(ctx, d, d.End().Add(2*time.Hour)); err != nil || c.SHA256 != cs1[0].SHA256 {
		t.Fatalf("closing the moved day again: %+v, %v", c, err)
	}
	if next, _, err := dst.Numbering().Reserve(ctx, d.End().Add(3*time.Hour), protocol.Register{}); err != nil || next.Seq != 4 {
		t.Fatalf("next number in the database: %s, %v; want 4", next, err)
	}
	if _, err := store.CopyProtocol(ctx, dst, src); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a second copy: %v, want a refusal", err)
	}
}

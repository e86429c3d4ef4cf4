package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/audittest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

func openAuditStore(t *testing.T, conn string) *Store {
	t.Helper()
	s, err := OpenStore(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// setAuditRecord edits the log behind its back: the record of entry seq,
// with the search columns of what it decodes to when it is a new row.
func setAuditRecord(t *testing.T, s store.Store, seq uint64, record []byte) {
	t.Helper()
	ctx := context.Background()
	pool := s.(*Store).db.pool
	var err error
	switch e, _, derr := audit.Decode(record); {
	case record == nil:
		_, err = pool.Exec(ctx, "DELETE FROM audit_log WHERE seq = $1", int64(seq))
	case derr != nil:
		_, err = pool.Exec(ctx, "UPDATE audit_log SET record = $2 WHERE seq = $1", int64(seq), record)
	default:
		_, err = pool.Exec(ctx, `INSERT INTO audit_log (seq, day, subject, actor_kind, actor_id, clerk_id, record)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (seq) DO UPDATE SET record = $7`,
			int64(seq), string(protocol.DayOf(e.Time).Key()), e.Subject, string(e.Actor.Kind), e.Actor.ID, e.Clerk.ID, record)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoreAudit(t *testing.T) {
	audittest.Run(t, audittest.Backend{
		Open: func(t *testing.T) store.Store { return openAuditStore(t, pg.Database(t)) },
		// Another pool on the same database: another hub process.
		Second: func(t *testing.T, s store.Store) store.Store {
			return openAuditStore(t, s.(*Store).db.pool.Config().ConnString())
		},
		SetRecord: setAuditRecord,
	})
}

// TestAuditColumnsCheckedByVerify: the search columns are not chained, so
// an entry filed under another subject (hidden from an auditor's search)
// is a break Verify reports.
func TestAuditColumnsCheckedByVerify(t *testing.T) {
	ctx := context.Background()
	s := openAuditStore(t, pg.Database(t))
	rec := store.NewRecorder(s, nil)
	base := time.Date(2026, 11, 23, 9, 0, 0, 0, protocol.Rome)
	for i, cf := range []string{"RSSMRA50B17A558W", "CCCFBA85D03L219P", "MRTMRA83T56A269B"} {
		e := audit.Entry{Time: base, Actor: audit.Actor{Kind: audit.Staff, ID: "mrossi"},
			Purpose: "verifica", Subject: cf, Data: "scheda anagrafica", Channel: "admin"}
		e.Time = e.Time.AddDate(0, 0, -i)
		if err := rec.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, col := range []string{"subject = 'XXXXXX00X00X000X'", "actor_id = 'nobody'", "actor_kind = 'operator'", "day = '20000101'", "clerk_id = 'c1'"} {
		t.Run(col, func(t *testing.T) {
			if _, err := s.db.pool.Exec(ctx, "UPDATE audit_log SET "+col+" WHERE seq = 2"); err != nil {
				t.Fatal(err)
			}
			var err error
			s.View(ctx, func(tx store.Tx) error { _, err = tx.Audit().Verify(); return nil })
			var b *audit.Break
			if !errors.As(err, &b) || b.Seq != 2 || !strings.Contains(b.Problem, "search would hide it") {
				t.Errorf("got %v", err)
			}
			if _, err := s.db.pool.Exec(ctx, `UPDATE audit_log SET subject = 'CCCFBA85D03L219P', actor_id = 'mrossi',
				actor_kind = 'staff', day = $1, clerk_id = '' WHERE seq = 2`, string(protocol.DayOf(base.AddDate(0, 0, -1)).Key())); err != nil {
				t.Fatal(err)
			}
		})
	}
}

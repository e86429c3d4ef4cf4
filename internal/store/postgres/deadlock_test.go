package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// waitForLockWaiters returns true once n backends of s's database wait
// on a lock (pg_stat_activity), so a test can interleave two transactions
// at the statement where one queues behind the other without sleeping;
// or false once other is closed (nil: never), the other way the step it
// waits for can end.
func waitForLockWaiters(t *testing.T, s *Store, n int, other <-chan struct{}) bool {
	t.Helper()
	ctx := context.Background()
	for range 20000 {
		select {
		case <-other:
			return false
		default:
		}
		var waiting int
		err := s.db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Error(err)
			return false
		}
		if waiting >= n {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	t.Error("no transaction came to wait on a lock")
	return false
}

// settled is closed once fn returned, its error then in *err.
func settled(fn func() error, err *error) <-chan struct{} {
	c := make(chan struct{})
	go func() { *err = fn(); close(c) }()
	return c
}

// ptxOf is the database transaction under a hub transaction, for tests
// that place a statement of their own between a domain's.
func ptxOf(htx store.Tx) *tx { return htx.(*tx) }

// TestVerifyThenAppendNoDeadlock: two transactions that each verify the
// audit log and then append to it (a check recorded in the log it
// checked), on two hubs at once, must not deadlock. Verify used to hold
// the head row FOR SHARE, which both got, and Append then to ask for it
// FOR UPDATE: each waited for the other's share until PostgreSQL killed
// one (40P01).
func TestVerifyThenAppendNoDeadlock(t *testing.T) {
	ctx := context.Background()
	s := openHub(t).(*Store)
	s2 := twin(t, s).(*Store)
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, protocol.Rome)
	entry := func(who string) audit.Entry {
		return audit.Entry{Time: at, Actor: audit.Actor{Kind: audit.Staff, ID: who}, Subject: "RSSMRA50B17A558W", Purpose: "verifica", Data: "registro", Channel: "admin"}
	}
	if err := s.Update(ctx, func(tx store.Tx) error { _, err := tx.Audit().Append(entry("first")); return err }); err != nil {
		t.Fatal(err)
	}
	verifyThenAppend := func(s *Store, who string, verified chan<- struct{}, goOn <-chan struct{}) error {
		return s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Audit().Verify(); err != nil {
				return err
			}
			close(verified)
			<-goOn
			_, err := tx.Audit().Append(entry(who))
			return err
		})
	}
	aVerified, bVerified := make(chan struct{}), make(chan struct{})
	aGo, bGo := make(chan struct{}), make(chan struct{})
	var errA, errB error
	aDone := settled(func() error { return verifyThenAppend(s, "a", aVerified, aGo) }, &errA)
	<-aVerified
	bDone := settled(func() error { return verifyThenAppend(s2, "b", bVerified, bGo) }, &errB)
	// B's Verify either gets in beside A's (a shared lock) or queues
	// behind A until A commits.
	if !waitForLockWaiters(t, s, 1, bVerified) {
		// Both verified: A's append waits for B's share, if B holds one.
		close(aGo)
		waitForLockWaiters(t, s, 1, aDone)
	} else {
		close(aGo)
	}
	close(bGo)
	<-aDone
	<-bDone
	if errA != nil || errB != nil {
		t.Fatalf("verify then append on two hubs at once: %v; %v", errA, errB)
	}
	var h audit.Head
	if err := s.View(ctx, func(tx store.Tx) (err error) { h, err = tx.Audit().Verify(); return err }); err != nil || h.Seq != 3 {
		t.Fatalf("the log after both: %v, %v; want 3 entries", h, err)
	}
}

// TestPurgeTalliesNoDeadlock: the purge of idle failed log-ins runs while
// a log-in attempt records its tallies, without either being killed as a
// deadlock. The purge used to lock every tally row in the table's order
// while an attempt locks its three in its own (pair, source, account):
// the attempt held its new pair row and wanted the source row the purge
// had taken before reaching the pair row.
func TestPurgeTalliesNoDeadlock(t *testing.T) {
	ctx := context.Background()
	s := openHub(t).(*Store)
	s2 := twin(t, s).(*Store)
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, protocol.Rome)
	failed := staff.Tally{Failures: []time.Time{now}}
	ts := staff.Tallies{Pair: failed, Source: failed, Account: failed}
	// An earlier attempt from the same source by another name: its rows,
	// the source's among them, come first in the table.
	// Then bruno's first attempt from there.
	for _, user := range []string{"anna", "bruno"} {
		if err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Staff().Tallies(user, "10.0.0.9", now); err != nil {
				return err
			}
			return tx.Staff().PutTallies(user, "10.0.0.9", ts)
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Rows sit in the table in the order of their last change: bruno's
	// pair row, changed last, after the source's, as a reset of his
	// pair would leave it.
	if _, err := s.db.pool.Exec(ctx, `UPDATE staff_tallies SET tally = tally WHERE kind = 'p' AND user_name = $1`, staff.TallyUser("bruno")); err != nil {
		t.Fatal(err)
	}
	purgeAt := now.Add(48 * time.Hour)
	again := staff.Tally{Failures: []time.Time{purgeAt}}
	ts2 := staff.Tallies{Pair: again, Source: again, Account: again}
	wrotePair := make(chan struct{})
	purging := make(chan struct{})
	var errAttempt, errPurge error
	done := settled(func() error {
		return s.Update(ctx, func(tx store.Tx) error {
			st := tx.Staff()
			if _, err := st.Tallies("bruno", "10.0.0.9", now); err != nil {
				return err
			}
			// bruno's second attempt. PutTallies' first statement, the
			// pair row, alone: the purge comes in before the source row
			// is written.
			k := tallyRows("bruno", "10.0.0.9")[0]
			if _, err := ptxOf(tx).ptx.Exec(ctx, `UPDATE staff_tallies SET tally = '{}' WHERE kind = $1 AND user_name = $2 AND source = $3`, k[0], k[1], k[2]); err != nil {
				return err
			}
			close(wrotePair)
			<-purging
			return st.PutTallies("bruno", "10.0.0.9", ts2)
		})
	}, &errAttempt)
	<-wrotePair
	purged := settled(func() error {
		return s2.Update(ctx, func(tx store.Tx) error { return tx.Staff().PurgeTallies(staff.DefaultThrottle, purgeAt) })
	}, &errPurge)
	// Either the purge queues behind the attempt's pair row, or it
	// skips it and commits at once; both leave the attempt free to go on.
	waitForLockWaiters(t, s, 1, purged)
	close(purging)
	<-done
	<-purged
	if errAttempt != nil || errPurge != nil {
		t.Fatalf("the attempt: %v; the purge: %v", errAttempt, errPurge)
	}
	// bruno's new failures stay; anna's, idle by then, are gone unless
	// the purge skipped them.
	var got staff.Tallies
	if err := s.View(ctx, func(tx store.Tx) (err error) { got, err = tx.Staff().Tallies("bruno", "10.0.0.9", purgeAt); return err }); err != nil {
		t.Fatal(err)
	}
	if len(got.Pair.Failures) != 1 || len(got.Source.Failures) != 1 || len(got.Account.Failures) != 1 {
		t.Fatalf("the attempt's tallies after the purge: %+v", got)
	}
}

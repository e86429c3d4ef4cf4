package auditbolt

import (
	"errors"
	"slices"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
)

// storedHead is entry seq as stored: its number and hash.
func storedHead(t *testing.T, db *bbolt.DB, seq uint64) audit.Head {
	t.Helper()
	var h audit.Head
	if err := db.View(func(tx *bbolt.Tx) error {
		b := hashAt(tx, seq)
		if b == nil {
			t.Fatalf("no entry %d", seq)
		}
		h.Seq = seq
		copy(h.Hash[:], b)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

func prune(db *bbolt.DB, at audit.Head, limit int) (n int, done bool, err error) {
	err = db.Update(func(tx *bbolt.Tx) error { n, done, err = Prune(tx, at, limit); return err })
	return n, done, err
}

func verify(db *bbolt.DB) (h audit.Head, err error) {
	err = db.View(func(tx *bbolt.Tx) error { h, err = Verify(tx); return err })
	return h, err
}

// Pruning in batches of 2 up to entry 7 removes entries 1–7 and their index
// keys, one bounded transaction at a time; between batches and after, the
// chain verifies from the checkpoint, and the kept entries stay searchable.
func TestPruneInBatchesKeepsTheChainVerifying(t *testing.T) {
	path, head := buildLog(t)
	db := openDB(t, path)
	defer db.Close()
	at := storedHead(t, db, 7)
	var batches []int
	for {
		n, done, err := prune(db, at, 2)
		if err != nil {
			t.Fatalf("prune: %v", err)
		}
		batches = append(batches, n)
		if got, err := verify(db); err != nil || got != head {
			t.Fatalf("verify after %v: head %v, %v", batches, got, err)
		}
		if done {
			break
		}
	}
	if want := []int{2, 2, 2, 1}; !slices.Equal(batches, want) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
	var p audit.Pruned
	db.View(func(tx *bbolt.Tx) (err error) { p, err = Pruned(tx); return })
	if p.Through != at || p.At != at {
		t.Errorf("checkpoint %+v, want through and at %v", p, at)
	}
	db.View(func(tx *bbolt.Tx) error {
		if n := Count(tx); n != testEntries-7 {
			t.Errorf("%d entries kept, want %d", n, testEntries-7)
		}
		for _, b := range [][]byte{bucketSubject, bucketActor, bucketDays} {
			if n := tx.Bucket(b).Stats().KeyN; n != testEntries-7 {
				t.Errorf("index %s has %d keys, want %d", b, n, testEntries-7)
			}
		}
		var seqs []uint64
		Search(tx, audit.Query{}, func(e audit.Entry) (bool, error) { seqs = append(seqs, e.Seq); return true, nil })
		if len(seqs) != 3 || seqs[0] != 8 {
			t.Errorf("search finds %v, want 8–10", seqs)
		}
		return nil
	})
	// Pruning again to the same point does nothing.
	if n, done, err := prune(db, at, 2); n != 0 || !done || err != nil {
		t.Errorf("prune again: %d, %v, %v", n, done, err)
	}
}

// A kept entry changed after a prune breaks verification, as it did
// before; so does a checkpoint moved by hand, or an entry before it put
// back.
func TestPrunedChainStillCatchesTampering(t *testing.T) {
	path, _ := buildLog(t)
	db := openDB(t, path)
	at := storedHead(t, db, 5)
	if _, _, err := prune(db, at, 100); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tampers := map[string]struct {
		edit func(tx *bbolt.Tx) error
		want string
	}{
		"kept entry changed": {func(tx *bbolt.Tx) error {
			rec := append([]byte(nil), tx.Bucket(bucketLog).Get(seqKey(8))...)
			rec[30] ^= 1
			return tx.Bucket(bucketLog).Put(seqKey(8), rec)
		}, "audit entry 8 "},
		"first kept entry changed": {func(tx *bbolt.Tx) error {
			rec := append([]byte(nil), tx.Bucket(bucketLog).Get(seqKey(6))...)
			rec[30] ^= 1
			return tx.Bucket(bucketLog).Put(seqKey(6), rec)
		}, "audit entry 6 "},
		"checkpoint moved forward over kept entries": {func(tx *bbolt.Tx) error {
			p, _ := Pruned(tx)
			tx.Bucket(bucketLog).Delete(seqKey(6))
			p.Through.Seq = 6
			return putPruned(tx, audit.Pruned{Through: p.Through, At: p.Through})
		}, "audit entry 7 "},
	}
	for name, tt := range tampers {
		t.Run(name, func(t *testing.T) {
			copyPath := copyFile(t, path)
			db := openDB(t, copyPath)
			defer db.Close()
			if err := db.Update(tt.edit); err != nil {
				t.Fatal(err)
			}
			_, err := verify(db)
			if !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("verify: %v, want a break at %q", err, tt.want)
			}
		})
	}
}

// A chain that is already broken is not pruned over the break, and a point
// whose hash is not the entry's is refused: pruning never removes the
// evidence of a rewrite.
func TestPruneRefusesABrokenChain(t *testing.T) {
	path, _ := buildLog(t)
	db := openDB(t, path)
	defer db.Close()
	at := storedHead(t, db, 6)
	if err := db.Update(func(tx *bbolt.Tx) error {
		rec := append([]byte(nil), tx.Bucket(bucketLog).Get(seqKey(3))...)
		rec[30] ^= 1
		return tx.Bucket(bucketLog).Put(seqKey(3), rec)
	}); err != nil {
		t.Fatal(err)
	}
	n, _, err := prune(db, at, 100)
	var br *audit.Break
	if !errors.As(err, &br) || br.Seq != 3 || n != 0 {
		t.Fatalf("prune over a broken entry 3: %d removed, %v", n, err)
	}
	db.View(func(tx *bbolt.Tx) error {
		if Count(tx) != testEntries {
			t.Errorf("%d entries left, want all %d", Count(tx), testEntries)
		}
		return nil
	})

	path2, _ := buildLog(t)
	db2 := openDB(t, path2)
	defer db2.Close()
	wrong := storedHead(t, db2, 4)
	wrong.Hash[0] ^= 1
	if _, _, err := prune(db2, wrong, 100); !errors.As(err, &br) || br.Seq != 4 {
		t.Errorf("prune to a point with another hash: %v", err)
	}
}

// AnchorTo accepts a store whose last anchored entry was removed by
// retention, and refuses one whose checkpoint disagrees with the anchor.
func TestAnchorToAfterPrune(t *testing.T) {
	path, head := buildLog(t)
	db := openDB(t, path)
	defer db.Close()
	if _, _, err := prune(db, head, 100); err != nil {
		t.Fatal(err)
	}
	st, err := New(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AnchorTo(audit.NewAnchorer(nil, "k", nil, head), nil); err != nil {
		t.Errorf("anchored at the pruned head: %v", err)
	}
	other := head
	other.Hash[0] ^= 1
	if err := st.AnchorTo(audit.NewAnchorer(nil, "k", nil, other), nil); !errors.Is(err, ErrBehindAnchor) {
		t.Errorf("anchor disagreeing with the checkpoint: %v", err)
	}
}

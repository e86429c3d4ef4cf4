package auditbolt

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
)

// sink keeps anchors in memory; fail makes it refuse them.
type sink struct {
	mu   sync.Mutex
	got  []audit.SignedHead
	fail error
	// heads are the chain heads committed when each anchor was written,
	// read through a fresh snapshot: an anchor must never name an entry
	// that is not committed yet.
	db    *bbolt.DB
	heads []audit.Head
}

func (s *sink) Anchor(h audit.SignedHead) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.got = append(s.got, h)
	if s.db != nil {
		var committed audit.Head
		s.db.View(func(tx *bbolt.Tx) (err error) { committed, err = Head(tx); return })
		s.heads = append(s.heads, committed)
	}
	return nil
}

func (s *sink) seqs() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint64
	for _, h := range s.got {
		out = append(out, h.Seq)
	}
	return out
}

func anchorer(last audit.Head, sinks ...audit.AnchorSink) *audit.Anchorer {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return audit.NewAnchorer(key, "kid", func() time.Time { return day1 }, last, sinks...)
}

// TestStoreAnchorsEveryCommit: every way the hub appends (Record, Append in
// the caller's transaction) anchors the head at its commit, before the
// commit returns; one anchor per transaction however many entries it holds;
// none for a transaction that rolls back.
func TestStoreAnchorsEveryCommit(t *testing.T) {
	path, head := buildLog(t)
	st := openStore(t, path)
	s := &sink{db: st.db}
	if err := st.AnchorTo(anchorer(audit.Head{}, s), nil); err != nil {
		t.Fatal(err)
	}
	// Entries recorded before anchoring began are anchored at once.
	if got := s.seqs(); len(got) != 1 || got[0] != head.Seq || s.got[0].Head != head {
		t.Fatalf("catch-up anchors %v, want the head %v", got, head)
	}

	if err := st.Record(context.Background(), entryAt(0)); err != nil {
		t.Fatal(err)
	}
	if got := s.seqs(); got[len(got)-1] != head.Seq+1 {
		t.Fatalf("after Record: anchors %v", got)
	}
	before := len(s.seqs())
	err := st.db.Update(func(tx *bbolt.Tx) error {
		for i := 0; i < 3; i++ {
			if _, err := st.Append(tx, entryAt(i)); err != nil {
				return err
			}
		}
		if n := len(s.seqs()); n != before {
			t.Errorf("anchored before the commit: %d anchors", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.seqs(); len(got) != before+1 || got[len(got)-1] != head.Seq+4 {
		t.Fatalf("a transaction of 3 entries: anchors %v, want one more at %d", got, head.Seq+4)
	}
	err = st.db.Update(func(tx *bbolt.Tx) error {
		st.Append(tx, entryAt(4))
		return errors.New("rolled back")
	})
	if err == nil || len(s.seqs()) != before+1 {
		t.Fatalf("a rolled-back transaction anchored: %v %v", err, s.seqs())
	}

	// Many handlers at once: Batch groups them; each is anchored by the
	// time its Record returns, with at most one anchor per commit.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := entryAt(i % testEntries)
			if err := st.Record(context.Background(), e); err != nil {
				errs <- err
				return
			}
			if st.Anchored().Seq < head.Seq+5 {
				errs <- errors.New("Record returned before its head was anchored")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := s.seqs()
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Errorf("anchors not strictly increasing: %v", got)
		}
	}
	for i, h := range s.heads {
		if s.got[i].Seq > h.Seq {
			t.Errorf("anchor %d names entry %d while the committed head was %d", i, s.got[i].Seq, h.Seq)
		}
	}
	final, err := st.Verify()
	if err != nil || got[len(got)-1] != final.Seq || st.Anchored() != final || s.got[len(s.got)-1].Head != final {
		t.Errorf("last anchor %v, head %v (%v)", got[len(got)-1], final, err)
	}
}

// TestRecordRefusedWhenAnchorFails: the entry is committed (numbers are
// never reused) but the read is not served.
func TestRecordRefusedWhenAnchorFails(t *testing.T) {
	path, head := buildLog(t)
	st := openStore(t, path)
	s := &sink{}
	var heard []error
	if err := st.AnchorTo(anchorer(audit.Head{}, s), func(err error) { heard = append(heard, err) }); err != nil {
		t.Fatal(err)
	}
	s.fail = errors.New("no space left on device")
	err := st.Record(context.Background(), entryAt(1))
	if err == nil || !strings.Contains(err.Error(), "not served") || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Record with a failing anchor: %v", err)
	}
	if len(heard) != 1 {
		t.Errorf("onErr heard %v", heard)
	}
	s.fail = nil
	if err := st.Record(context.Background(), entryAt(2)); err != nil {
		t.Fatal(err)
	}
	if st.Anchored().Seq != head.Seq+2 {
		t.Errorf("the next commit anchors both: last %v", st.Anchored())
	}
}

// TestAnchorToRefusesAStoreBehindItsAnchor: a file whose tail was cut (or an
// old backup), or whose anchored entry was rewritten, is not appended to.
func TestAnchorToRefusesAStoreBehindItsAnchor(t *testing.T) {
	path, head := buildLog(t)
	st := openStore(t, path)
	var at5 audit.Hash
	st.db.View(func(tx *bbolt.Tx) error {
		rec := tx.Bucket(bucketLog).Get(seqKey(5))
		copy(at5[:], rec[len(rec)-32:])
		return nil
	})
	for _, tt := range []struct {
		name string
		last audit.Head
		want string
	}{
		{"beyond the head", audit.Head{Seq: head.Seq + 25, Hash: audit.Hash{1}}, "the last anchor names entry 35 but the log ends at entry 10"},
		{"another hash", audit.Head{Seq: 5, Hash: audit.Hash{1}}, "entry 5 is not the one anchored"},
	} {
		s := &sink{}
		err := st.AnchorTo(anchorer(tt.last, s), nil)
		if !errors.Is(err, ErrBehindAnchor) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if len(s.got) != 0 || st.Anchored() != (audit.Head{}) {
			t.Errorf("%s: anchored %v", tt.name, s.got)
		}
	}
	s := &sink{}
	if err := st.AnchorTo(anchorer(audit.Head{Seq: 5, Hash: at5}, s), nil); err != nil || len(s.got) != 1 || s.got[0].Head != head {
		t.Errorf("a store beyond its last anchor: %v, anchors %v", err, s.got)
	}
}

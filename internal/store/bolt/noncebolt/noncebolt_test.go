package noncebolt

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/httpsig"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func openDB(t testing.TB, path string, readOnly bool) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openStore(t testing.TB, db *bbolt.DB, capacity int) *Store {
	t.Helper()
	s, err := Open(db, capacity)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The property the store exists for: a request accepted before the hub's
// file is closed is refused as a replay after it is reopened, while a new
// request from the same device still passes.
func TestReplayRefusedAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	keys := httpsig.StaticKey{KeyID: "dev-1", Key: key.Public().(ed25519.PublicKey)}
	clock := func() time.Time { return t0 }
	signer := &httpsig.Signer{Key: key, KeyID: "dev-1", Clock: clock}
	body := []byte(`{"cf":"RSSMRA80A01F205X","types":["residenza"]}`)
	newRequest := func() *http.Request {
		r, err := http.NewRequest("POST", "https://hub.example/api/v1/certificates", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		if err := signer.SignRequest(r, body); err != nil {
			t.Fatal(err)
		}
		return r
	}
	verifier := func(s *Store) *httpsig.Verifier {
		return &httpsig.Verifier{Keys: keys, Nonces: s, Clock: clock}
	}

	captured := newRequest()
	db := openDB(t, path, false)
	if _, err := verifier(openStore(t, db, 0)).VerifyRequest(t.Context(), captured, body); err != nil {
		t.Fatalf("first presentation refused: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path, false)
	defer db.Close()
	v := verifier(openStore(t, db, 0))
	_, err := v.VerifyRequest(t.Context(), captured, body)
	if got := httpsig.ReasonOf(err); got != httpsig.ReasonNonceReplayed {
		t.Fatalf("replay after restart: reason %q (%v), want %q", got, err, httpsig.ReasonNonceReplayed)
	}
	if _, err := v.VerifyRequest(t.Context(), newRequest(), body); err != nil {
		t.Errorf("a new request after restart was refused: %v", err)
	}
}

func TestUse(t *testing.T) {
	type step struct {
		key, nonce string
		now, until time.Time
		fresh      bool
		err        error
	}
	tests := []struct {
		name     string
		capacity int
		steps    []step
	}{
		{"replay inside the window", 0, []step{
			{"a", "n1", t0, t0.Add(time.Minute), true, nil},
			{"a", "n1", t0.Add(59 * time.Second), t0.Add(2 * time.Minute), false, nil},
		}},
		{"same nonce, other device", 0, []step{
			{"a", "n1", t0, t0.Add(time.Minute), true, nil},
			{"b", "n1", t0, t0.Add(time.Minute), true, nil},
		}},
		{"reusable once expired", 0, []step{
			{"a", "n1", t0, t0.Add(time.Minute), true, nil},
			{"a", "n1", t0.Add(time.Minute), t0.Add(2 * time.Minute), true, nil},
		}},
		{"full of live nonces", 2, []step{
			{"a", "n1", t0, t0.Add(time.Minute), true, nil},
			{"a", "n2", t0, t0.Add(time.Minute), true, nil},
			{"a", "n3", t0, t0.Add(time.Minute), false, httpsig.ErrNonceStoreFull},
			{"a", "n3", t0.Add(time.Minute), t0.Add(2 * time.Minute), true, nil}, // the first two expired
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, filepath.Join(t.TempDir(), "hub.db"), false)
			defer db.Close()
			s := openStore(t, db, tt.capacity)
			for i, st := range tt.steps {
				fresh, err := s.Use(t.Context(), st.key, st.nonce, st.now, st.until)
				if fresh != st.fresh || !errors.Is(err, st.err) {
					t.Errorf("step %d: Use(%s, %s) = %v, %v; want %v, %v", i, st.key, st.nonce, fresh, err, st.fresh, st.err)
				}
			}
		})
	}
}

// Expired records leave the file as later commits run, so it holds about
// one validity window of nonces however long the hub serves.
func TestPurge(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "hub.db"), false)
	defer db.Close()
	s := openStore(t, db, 0)
	for i := range 100 {
		if _, err := s.Use(t.Context(), "dev", fmt.Sprint("old", i), t0, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.Stored(); n != 100 {
		t.Fatalf("stored %d, want 100", n)
	}
	later := t0.Add(2 * time.Minute)
	if _, err := s.Use(t.Context(), "dev", "new", later, later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Stored(); n != 1 {
		t.Errorf("after the window passed: %d records stored, want 1", n)
	}
	if s.Len() != 1 {
		t.Errorf("after the window passed: %d nonces in memory, want 1", s.Len())
	}
}

// A nonce whose record cannot be committed is refused with an error and
// not remembered: the request fails, and the nonce stays usable.
func TestCommitFailureWithdraws(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	db := openDB(t, path, false)
	openStore(t, db, 0)
	db.Close()

	ro := openDB(t, path, true)
	defer ro.Close()
	s := openStore(t, ro, 0)
	fresh, err := s.Use(t.Context(), "dev", "n", t0, t0.Add(time.Minute))
	if fresh || err == nil || !strings.Contains(err.Error(), "cannot record the nonce") {
		t.Fatalf("Use on a read-only file = %v, %v; want an error", fresh, err)
	}
	if s.Len() != 0 {
		t.Errorf("the failed nonce is still remembered (%d in memory)", s.Len())
	}
}

// Concurrent requests share commits; a nonce presented many times at once
// is accepted exactly once, and every accepted nonce is on disk.
func TestConcurrentUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	db := openDB(t, path, false)
	s := openStore(t, db, 0)
	const workers, each = 8, 25
	var mu sync.Mutex
	freshShared := 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Use(t.Context(), "dev", fmt.Sprintf("w%d-%d", w, i), t0, t0.Add(time.Minute)); err != nil {
					t.Error(err)
				}
				fresh, err := s.Use(t.Context(), "dev", fmt.Sprintf("shared-%d", i), t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if fresh {
					mu.Lock()
					freshShared++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if freshShared != each {
		t.Errorf("%d shared nonces accepted, want %d (each exactly once)", freshShared, each)
	}
	db.Close()
	db = openDB(t, path, false)
	defer db.Close()
	if n := openStore(t, db, 0).Len(); n != workers*each+each {
		t.Errorf("%d nonces reloaded, want %d", n, workers*each+each)
	}
}

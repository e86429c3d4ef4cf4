// Package blobtest is the conformance suite of blob.Store: every
// implementation runs it from its own tests, so the certificates' code can
// rely on the same behaviour whichever store keeps the PDFs.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/blob"
)

// Run checks a store. open returns a new, empty store each time it is
// called.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, open(t)) })
	t.Run("Missing", func(t *testing.T) { testMissing(t, open(t)) })
	t.Run("PutTwice", func(t *testing.T) { testPutTwice(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("Walk", func(t *testing.T) { testWalk(t, open(t)) })
	t.Run("WalkStops", func(t *testing.T) { testWalkStops(t, open(t)) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		testShared(t, s, s)
	})
}

// RunShared checks two stores over the same place, as two hubs sharing a
// directory or a bucket see it: what one keeps the other reads, what one
// deletes is gone for the other, and writing the same documents from both
// at once keeps each once. openPair returns two stores on one new, empty
// place.
func RunShared(t *testing.T, openPair func(t *testing.T) (a, b blob.Store)) {
	t.Run("SeenByOther", func(t *testing.T) {
		a, b := openPair(t)
		ctx := context.Background()
		doc := document(1, 3000)
		sum := put(t, a, doc)
		if got, err := b.Get(ctx, sum); err != nil || !bytes.Equal(got, doc) {
			t.Fatalf("the other store's Get = %d bytes, %v; want the document put", len(got), err)
		}
		if err := b.Delete(ctx, sum); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Get(ctx, sum); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("Get after the other store deleted it: %v, want ErrNotFound", err)
		}
		if err := a.Delete(ctx, sum); err != nil {
			t.Fatalf("deleting what the other store deleted: %v", err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		a, b := openPair(t)
		testShared(t, a, b)
	})
}

// document returns n bytes depending on seed, unlike any other seed's.
func document(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	copy(b, fmt.Sprintf("%%PDF-1.7 document %d\n", seed))
	return b
}

func put(t *testing.T, s blob.Store, data []byte) blob.Sum {
	t.Helper()
	sum, err := s.Put(context.Background(), data)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if sum != blob.Of(data) {
		t.Fatalf("Put returned %s, the document's SHA-256 is %s", sum, blob.Of(data))
	}
	return sum
}

func walk(t *testing.T, s blob.Store) []blob.Sum {
	t.Helper()
	var all []blob.Sum
	if err := s.Walk(context.Background(), func(sum blob.Sum) (bool, error) {
		all = append(all, sum)
		return true, nil
	}); err != nil {
		t.Fatalf("Walk: %v", err)
	}
	sort.Slice(all, func(i, j int) bool { return bytes.Compare(all[i][:], all[j][:]) < 0 })
	return all
}

func sorted(sums ...blob.Sum) []blob.Sum {
	sort.Slice(sums, func(i, j int) bool { return bytes.Compare(sums[i][:], sums[j][:]) < 0 })
	return sums
}

func equalSums(a, b []blob.Sum) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func testPutGet(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for i, doc := range [][]byte{document(1, 72_000), document(2, 1), {}} {
		sum := put(t, s, doc)
		got, err := s.Get(ctx, sum)
		if err != nil {
			t.Fatalf("document %d: Get: %v", i, err)
		}
		if !bytes.Equal(got, doc) {
			t.Fatalf("document %d: Get returned %d bytes, not the %d put", i, len(got), len(doc))
		}
	}
	// The store must not keep the caller's slice: changing it afterwards
	// changes nothing kept.
	doc := document(3, 500)
	sum := put(t, s, doc)
	doc[0] ^= 0xff
	if got, err := s.Get(ctx, sum); err != nil || blob.Of(got) != sum {
		t.Fatalf("Get after the caller changed its slice: %v (sum %s)", err, blob.Of(got))
	}
}

func testMissing(t *testing.T, s blob.Store) {
	_, err := s.Get(context.Background(), blob.Of([]byte("never put")))
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get of a document never put: %v, want ErrNotFound", err)
	}
}

func testPutTwice(t *testing.T, s blob.Store) {
	doc := document(4, 2000)
	a := put(t, s, doc)
	b := put(t, s, bytes.Clone(doc))
	if a != b {
		t.Fatalf("the same document got two sums: %s, %s", a, b)
	}
	if got := walk(t, s); !equalSums(got, []blob.Sum{a}) {
		t.Fatalf("Walk after putting one document twice: %v, want just %s", got, a)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	keep := put(t, s, document(5, 100))
	gone := put(t, s, document(6, 100))
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, gone); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, gone); err != nil {
		t.Fatalf("deleting a document twice: %v, want no error", err)
	}
	if err := s.Delete(ctx, blob.Of([]byte("never put"))); err != nil {
		t.Fatalf("deleting a document never put: %v, want no error", err)
	}
	if _, err := s.Get(ctx, keep); err != nil {
		t.Fatalf("the other document after Delete: %v", err)
	}
	if got := walk(t, s); !equalSums(got, []blob.Sum{keep}) {
		t.Fatalf("Walk after Delete: %v, want just %s", got, keep)
	}
	// Deleted, then put again: it is back.
	put(t, s, document(6, 100))
	if _, err := s.Get(ctx, gone); err != nil {
		t.Fatalf("Get of a document put again after Delete: %v", err)
	}
}

func testWalk(t *testing.T, s blob.Store) {
	if got := walk(t, s); len(got) != 0 {
		t.Fatalf("Walk of an empty store: %v", got)
	}
	var want []blob.Sum
	// Enough documents that several share a first byte and most do not.
	for i := range 300 {
		want = append(want, put(t, s, document(100+i, 50)))
	}
	if got := walk(t, s); !equalSums(got, sorted(want...)) {
		t.Fatalf("Walk returned %d sums, want the %d put", len(got), len(want))
	}
}

func testWalkStops(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for i := range 10 {
		put(t, s, document(200+i, 50))
	}
	n := 0
	if err := s.Walk(ctx, func(blob.Sum) (bool, error) { n++; return n < 3, nil }); err != nil {
		t.Fatalf("Walk stopped by fn: %v", err)
	}
	if n != 3 {
		t.Fatalf("Walk went on after fn returned false: %d calls, want 3", n)
	}
	stop := errors.New("stop")
	n = 0
	if err := s.Walk(ctx, func(blob.Sum) (bool, error) { n++; return true, stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Walk with fn failing: %v after %d calls, want fn's error after 1", err, n)
	}
}

func testCancelled(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	doc := document(7, 100)
	if _, err := s.Put(ctx, doc); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := s.Get(context.Background(), blob.Of(doc)); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("a Put refused for its cancelled context kept the document: %v", err)
	}
}

// testShared puts the same and different documents from many goroutines
// through a and b at once, deleting some meanwhile: every document put and
// not deleted is there once and intact.
func testShared(t *testing.T, a, b blob.Store) {
	ctx := context.Background()
	const writers, docs = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range docs {
				// Every writer puts the same shared documents and one of
				// its own; odd ones delete their own again.
				for _, doc := range [][]byte{document(1000+i, 4000), document(2000+w*docs+i, 300)} {
					if _, err := s.Put(ctx, doc); err != nil {
						errs <- err
						return
					}
				}
				if w%2 == 1 {
					if err := s.Delete(ctx, blob.Of(document(2000+w*docs+i, 300))); err != nil {
						errs <- err
						return
					}
				}
				if _, err := s.Get(ctx, blob.Of(document(1000+i, 4000))); err != nil {
					errs <- fmt.Errorf("Get of a document just put: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var want []blob.Sum
	for i := range docs {
		want = append(want, blob.Of(document(1000+i, 4000)))
	}
	for w := 0; w < writers; w += 2 {
		for i := range docs {
			want = append(want, blob.Of(document(2000+w*docs+i, 300)))
		}
	}
	for _, s := range []blob.Store{a, b} {
		if got := walk(t, s); !equalSums(got, sorted(want...)) {
			t.Fatalf("Walk after concurrent writes: %d sums, want %d", len(got), len(want))
		}
	}
	for _, sum := range want {
		if _, err := b.Get(ctx, sum); err != nil {
			t.Fatalf("Get %s after concurrent writes: %v", sum, err)
		}
	}
}

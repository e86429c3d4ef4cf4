package keyhandover_test

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/keyhandover"
)

func key(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey, string) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv, keyhandover.KeyID(pub)
}

func TestFollow(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	p1, k1, id1 := key(t)
	p2, k2, id2 := key(t)
	p3, _, id3 := key(t)
	_, mallory, _ := key(t)
	chain := []keyhandover.Handover{keyhandover.Sign(k1, id1, p2, at), keyhandover.Sign(k2, id2, p3, at)}
	back, err := keyhandover.Decode(keyhandover.Encode(chain))
	if err != nil {
		t.Fatal(err)
	}
	if id, pub, err := keyhandover.Follow(id1, p1, back); err != nil || id != id3 || !pub.Equal(p3) {
		t.Fatalf("from the first key: %s %v", id, err)
	}
	if id, _, err := keyhandover.Follow(id2, p2, back); err != nil || id != id3 {
		t.Fatalf("from the second key: %s %v", id, err)
	}
	if _, _, err := keyhandover.Follow(id3, p3, back); !errors.Is(err, keyhandover.ErrNoHandover) {
		t.Fatalf("from the last key: %v", err)
	}
	// A hand-over from the pinned key's id signed by another key.
	forged := []keyhandover.Handover{keyhandover.Sign(mallory, id1, p3, at)}
	if _, _, err := keyhandover.Follow(id1, p1, forged); err == nil {
		t.Fatal("a hand-over signed by another key was followed")
	}
	// A genuine hand-over whose key was swapped.
	swapped := keyhandover.Sign(k1, id1, p2, at)
	swapped.Key = keyhandover.Sign(k1, id1, p3, at).Key
	if _, _, err := keyhandover.Follow(id1, p1, []keyhandover.Handover{swapped}); err == nil {
		t.Fatal("a hand-over with its key swapped was followed")
	}
}

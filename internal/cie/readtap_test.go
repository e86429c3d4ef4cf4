package cie_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
)

// A tap read at one device verifies for that device only, and not once
// its time or nonce is changed.
func TestReadTapVerifiesForItsDeviceOnly(t *testing.T) {
	card := newCard(t, virtual.Config{})
	tap, err := cie.ReadTap(context.Background(), card, "dev-a", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	opt := cie.Options{CSCAs: trust(t), Now: now}
	if r := cie.VerifyTap(*tap, "dev-a", opt); !r.Verified() || r.NIS != card.NIS() {
		t.Fatalf("the tap does not verify at its own device: %+v", r.Problems)
	}
	if r := cie.VerifyTap(*tap, "dev-b", opt); r.ChipGenuine {
		t.Error("a tap read at dev-a verifies for dev-b")
	}
	later := *tap
	later.TappedAt = tap.TappedAt.Add(60e9)
	if r := cie.VerifyTap(later, "dev-a", opt); r.ChipGenuine {
		t.Error("the tap verifies with another time")
	}
	short := *tap
	short.Nonce = tap.Nonce[:8]
	if r := cie.VerifyTap(short, "dev-a", opt); r.Verified() {
		t.Error("a tap with a short nonce verifies")
	}
	if r := cie.VerifyTap(*tap, "dev-a", cie.Options{Now: now}); r.Verified() {
		t.Error("a tap verifies with no CSCA trusted")
	}
}

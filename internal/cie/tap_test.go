package cie

import (
	"bytes"
	"testing"
	"time"
)

// Each input changes the challenge; the time counts in whole UTC seconds.
func TestTapChallengeBindsEveryInput(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	nonce := bytes.Repeat([]byte{7}, TapNonceSize)
	base := TapChallenge("dev-1", nonce, at)
	if len(base) != ChallengeSize {
		t.Fatalf("challenge is %d bytes, want %d", len(base), ChallengeSize)
	}
	rome := time.FixedZone("CET", 3600)
	if got := TapChallenge("dev-1", nonce, at.In(rome).Add(400*time.Millisecond)); !bytes.Equal(got, base) {
		t.Error("the same second in another zone gave another challenge")
	}
	for name, got := range map[string][]byte{
		"device": TapChallenge("dev-2", nonce, at),
		"nonce":  TapChallenge("dev-1", bytes.Repeat([]byte{8}, TapNonceSize), at),
		"time":   TapChallenge("dev-1", nonce, at.Add(time.Second)),
	} {
		if bytes.Equal(got, base) {
			t.Errorf("changing the %s did not change the challenge", name)
		}
	}
}

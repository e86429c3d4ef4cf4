package kiosk

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
)

// hubCheck is what the hub does with a tap's evidence: rebuild the
// challenge for the device that sent it and verify the chip's answer and
// the issuer's signature with its own CSCA list.
func hubCheck(ev *api.RequesterEvidence, keyID string, csca *x509.Certificate, now time.Time) *cie.Result {
	return cie.VerifyTap(cie.Tap{NIS: ev.NIS, Kpub: ev.Kpub, SOD: ev.SOD, Nonce: ev.TapNonce, TappedAt: ev.TappedAt, Response: ev.Response},
		keyID, cie.Options{CSCAs: []*x509.Certificate{csca}, Now: now})
}

// TestCIEReaderTapEvidence: the in-process virtual CIE read by the real
// adapter. The chip answers a challenge bound to this device's key id, the
// tap's nonce and its time, so the answer verifies for this device and no
// other, and each tap's answer is its own; the tap time is the tap clock's,
// in whole seconds; a clone is still refused at the kiosk.
func TestCIEReaderTapEvidence(t *testing.T) {
	csca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	card, err := virtual.New(virtual.Config{NIS: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	deviceNow := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	hubNow := deviceNow.Add(3*time.Minute + 700*time.Millisecond) // the clock requests are signed with
	rd := &CIEReader{Provider: cardreader.NewInProcess("virtual", card), CSCAs: []*x509.Certificate{csca}, KeyID: "dev-7",
		Now: func() time.Time { return deviceNow }, TapClock: func() time.Time { return hubNow }}
	defer rd.Close()
	ctx := context.Background()
	ev, err := rd.ReadCard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Method != api.EvidenceCIE || ev.NIS != "123456789012" || len(ev.TapNonce) != cie.TapNonceSize ||
		!ev.TappedAt.Equal(hubNow.Truncate(time.Second)) || ev.TappedAt.Location() != time.UTC || ev.PINProved {
		t.Fatalf("evidence %+v", ev)
	}
	if res := hubCheck(ev, "dev-7", csca, hubNow); !res.Verified() {
		t.Fatalf("the hub cannot verify the tap for this device: %+v", res.Problems)
	}
	if res := hubCheck(ev, "dev-8", csca, hubNow); res.ChipGenuine || !res.Has(cie.ChipAuthFailed) {
		t.Errorf("the tap verifies for another device too: %+v", res)
	}
	later := *ev
	later.TappedAt = ev.TappedAt.Add(time.Second)
	if res := hubCheck(&later, "dev-7", csca, hubNow); res.ChipGenuine {
		t.Error("the tap verifies with another tap time")
	}
	again, err := rd.ReadCard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again.TapNonce, ev.TapNonce) || bytes.Equal(again.Response, ev.Response) {
		t.Error("two taps share a nonce or an answer")
	}
	if res := hubCheck(again, "dev-7", csca, hubNow); !res.Verified() {
		t.Errorf("the second tap does not verify: %+v", res.Problems)
	}

	// A clone is refused here, before the hub sees it.
	clone, err := virtual.New(virtual.Config{NIS: "123456789012", Mode: virtual.Cloned})
	if err != nil {
		t.Fatal(err)
	}
	crd := &CIEReader{Provider: cardreader.NewInProcess("virtual", clone), CSCAs: []*x509.Certificate{csca}, KeyID: "dev-7",
		Now: func() time.Time { return deviceNow }}
	defer crd.Close()
	var p *Problem
	if _, err := crd.ReadCard(ctx); !errors.As(err, &p) || p.Key != "card_not_genuine" {
		t.Errorf("a cloned card: %v, want card_not_genuine", err)
	}
	// A reader that does not know the device cannot bind a tap to it.
	nokey := &CIEReader{Provider: cardreader.NewInProcess("virtual", card), CSCAs: []*x509.Certificate{csca}}
	if _, err := nokey.ReadCard(ctx); err == nil {
		t.Error("a tap read without the device's key id")
	}
}

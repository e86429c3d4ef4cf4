package payment

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

func pending() *Payment {
	return &Payment{ID: "pay-1", Method: Till, State: Pending, AmountCents: 1852, RequestKey: "op-1/k", RequestHash: "h",
		OperatorID: "op-1", Created: t0, Expires: t0.Add(DefaultTTL)}
}

func TestStateMachine(t *testing.T) {
	claim := Claim{RequestKey: "op-1/k", RequestHash: "h", AmountCents: 1852}
	p := pending()
	if err := p.Admits(claim, t0); !errors.Is(err, ErrNotPaid) {
		t.Errorf("pending admits: %v", err)
	}
	if err := p.Use(claim, "cert-1", t0); !errors.Is(err, ErrNotPaid) || p.State != Pending {
		t.Errorf("use a pending payment: %v %s", err, p.State)
	}
	if err := p.MarkPaid(t0.Add(time.Minute), "clerk-1", "Anna", ""); err != nil || p.State != Paid {
		t.Fatalf("paid: %v %s", err, p.State)
	}
	if err := p.Cancel(t0.Add(2 * time.Minute)); !errors.Is(err, ErrTransition) || p.State != Paid {
		t.Errorf("cancel a paid payment: %v %s", err, p.State)
	}
	for name, c := range map[string]Claim{
		"another key":    {RequestKey: "op-1/other", RequestHash: "h", AmountCents: 1852},
		"another hash":   {RequestKey: "op-1/k", RequestHash: "x", AmountCents: 1852},
		"another amount": {RequestKey: "op-1/k", RequestHash: "h", AmountCents: 1652},
	} {
		if err := p.Admits(c, t0); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: %v, want ErrMismatch", name, err)
		}
	}
	// Paid does not expire: the money was taken.
	if err := p.Admits(claim, t0.Add(24*time.Hour)); err != nil {
		t.Errorf("paid, a day later: %v", err)
	}
	if err := p.Use(claim, "cert-1", t0.Add(3*time.Minute)); err != nil || p.State != Used || p.Certificate != "cert-1" {
		t.Fatalf("use: %v %+v", err, p)
	}
	if err := p.Use(claim, "cert-1", t0.Add(4*time.Minute)); err != nil {
		t.Errorf("the same certificate again: %v", err)
	}
	if err := p.Use(claim, "cert-2", t0.Add(4*time.Minute)); !errors.Is(err, ErrUsed) {
		t.Errorf("another certificate of the same request: %v", err)
	}
	other := claim
	other.RequestKey = "op-1/other"
	if err := p.Admits(other, t0); !errors.Is(err, ErrUsed) {
		t.Errorf("another request naming a used payment: %v", err)
	}

	late := pending()
	if err := late.MarkPaid(t0.Add(DefaultTTL), "clerk-1", "Anna", ""); !errors.Is(err, ErrExpired) || late.State != Expired {
		t.Errorf("paid at expiry: %v %s", err, late.State)
	}
	gone := pending()
	if err := gone.Cancel(t0); err != nil || gone.State != Cancelled || gone.Live() {
		t.Errorf("cancel: %v %s", err, gone.State)
	}
	if err := gone.Admits(claim, t0); !errors.Is(err, ErrExpired) {
		t.Errorf("cancelled admits: %v", err)
	}
}

func TestTillCode(t *testing.T) {
	seen := map[string]bool{}
	for i := range 256 {
		code, err := NewTillCode(bytes.NewReader(bytes.Repeat([]byte{byte(i)}, TillCodeLen)))
		if err != nil {
			t.Fatal(err)
		}
		if len(code) != TillCodeLen || strings.ContainsAny(code, "0O1I") {
			t.Fatalf("code %q", code)
		}
		seen[code] = true
	}
	if len(seen) != len(TillAlphabet) {
		t.Errorf("%d distinct codes from 256 bytes, want every one of the %d characters", len(seen), len(TillAlphabet))
	}
	if got := NormaliseTillCode(" ab3-k7m "); got != "AB3K7M" {
		t.Errorf("normalised %q", got)
	}
}

func TestNoticeQR(t *testing.T) {
	// pagoPA, Avviso di pagamento 3.0.0, Codice QR: the example string's shape.
	if got := NoticeQR("301000000000000012", "01199250158", 1852); got != "PAGOPA|002|301000000000000012|01199250158|1852" {
		t.Errorf("QR %q", got)
	}
}

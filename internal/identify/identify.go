// Package identify checks who asks for a certificate (the requester) from
// the evidence a kiosk sends: a CIE tap the hub verifies itself, or a
// codice fiscale with the number of an identity document the registry holds.
// The hub never takes a kiosk's word for who stands in front of it
// (DM Interno 3 November 2021 art. 2; the Polis model, DL 50/2022 art. 38,
// Garante opinion 493 of 26 October 2023). It knows nothing of HTTP: the
// hub's API turns api.RequesterEvidence into an Evidence, the desk checks
// it inside the registry view that issues.
package identify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/registry"
)

// Method is how the requester was identified.
type Method string

const (
	// CIE: the requester tapped their CIE; the chip answered a challenge
	// bound to the device, a nonce and the tap time (cie.TapChallenge).
	CIE Method = "cie"
	// Document: a clerk checked an identity document and typed the
	// requester's codice fiscale and the document's number. Counter only.
	Document Method = "document"
)

// Evidence is what the kiosk saw of the requester.
type Evidence struct {
	Method Method
	// Device is the key id of the enrolled device the request came from,
	// as its verified signature says (never the body): the tap's
	// challenge is bound to it, so another device cannot replay a tap.
	Device string

	// CIE.
	NIS       string
	Kpub      []byte
	SOD       []byte
	TapNonce  []byte
	TappedAt  time.Time
	Response  []byte
	PINProved bool

	// Document.
	CF       string
	Document string
}

// Zero reports whether no evidence was given at all.
func (e Evidence) Zero() bool { return e.Method == "" }

// Failure is a failed identification. Cause is the precise reason, for the
// hub's log and the audit entry only: the requester is told one sentence
// whatever the cause, so the answer cannot be used to probe the registry
// (which NIS exist, whose document is expired, who died).
type Failure struct{ Cause string }

func (f *Failure) Error() string { return "identification failed: " + f.Cause }

func fail(format string, args ...any) error { return &Failure{Cause: fmt.Sprintf(format, args...)} }

// DefaultSkew is how far in the hub's future a tap's time may lie: kiosk
// clocks are kept by NTP but not to the second.
const DefaultSkew = 2 * time.Minute

// DefaultMaxAge is how old a tap may be when the city's offline age limit
// is not known (operators.DefaultOfflineLimits' 24 hours).
const DefaultMaxAge = 24 * time.Hour

// Verifier checks evidence against the registry.
type Verifier struct {
	// CSCAs are the Country Signing CA certificates a CIE's Document
	// Signer must chain to. None: no CIE tap identifies anyone.
	CSCAs []*x509.Certificate
	// MaxAge is how old a tap may be when the hub checks it: the city's
	// offline age limit (operators.OfflineLimits.AgeHours, effective), so
	// a request that waited in a kiosk's outbox still passes. Nil or zero:
	// DefaultMaxAge.
	MaxAge func() time.Duration
	// Skew is how far ahead of the hub's clock a tap may be; zero:
	// DefaultSkew.
	Skew time.Duration
}

// Identify returns the living registry person the evidence identifies, or
// a *Failure. Other errors are the registry's. selfService refuses document
// evidence and a CIE whose PIN was not proved: a kiosk with nobody
// checking a document needs the citizen's card and its PIN.
func (v *Verifier) Identify(r registry.Reader, ev Evidence, selfService bool, now time.Time) (*registry.Person, error) {
	var p *registry.Person
	var err error
	switch ev.Method {
	case CIE:
		p, err = v.cie(r, ev, selfService, now)
	case Document:
		p, err = document(r, ev, selfService, now)
	case "":
		return nil, fail("no evidence was given")
	default:
		return nil, fail("evidence method %q is neither cie nor document", ev.Method)
	}
	if err != nil {
		return nil, err
	}
	if !p.Alive() {
		return nil, fail("the registry records %s as deceased on %s", p.CF, p.DeathDate)
	}
	if _, resident := p.CurrentResidence(); !resident && !p.AIRE {
		return nil, fail("%s is neither resident nor in AIRE", p.CF)
	}
	return p, nil
}

func (v *Verifier) cie(r registry.Reader, ev Evidence, selfService bool, now time.Time) (*registry.Person, error) {
	if selfService && !ev.PINProved {
		return nil, fail("self-service needs the CIE's PIN, and the card's PIN was not proved")
	}
	if len(ev.NIS) != 12 || strings.Trim(ev.NIS, "0123456789") != "" {
		return nil, fail("NIS %q is not 12 digits", ev.NIS)
	}
	if len(ev.TapNonce) != cie.TapNonceSize {
		return nil, fail("the tap nonce has %d bytes, not %d", len(ev.TapNonce), cie.TapNonceSize)
	}
	if ev.Device == "" {
		return nil, fail("the tap names no device")
	}
	if len(v.CSCAs) == 0 {
		return nil, fail("no CSCA is configured, so no CIE can be trusted (hub serve --csca)")
	}
	skew := v.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	maxAge := DefaultMaxAge
	if v.MaxAge != nil {
		if m := v.MaxAge(); m > 0 {
			maxAge = m
		}
	}
	switch {
	case ev.TappedAt.IsZero():
		return nil, fail("the tap has no time")
	case ev.TappedAt.After(now.Add(skew)):
		return nil, fail("the tap is dated %s, ahead of the hub's clock %s by more than %s", ev.TappedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	case ev.TappedAt.Before(now.Add(-maxAge)):
		return nil, fail("the tap of %s is older than the %s a tap may wait", ev.TappedAt.UTC().Format(time.RFC3339), maxAge)
	}
	res := cie.VerifyTap(cie.Tap{NIS: ev.NIS, Kpub: ev.Kpub, SOD: ev.SOD, Nonce: ev.TapNonce, TappedAt: ev.TappedAt, Response: ev.Response},
		ev.Device, cie.Options{CSCAs: v.CSCAs, Now: now})
	if !res.Verified() || res.NIS != ev.NIS {
		codes := make([]string, len(res.Problems))
		for i, pr := range res.Problems {
			codes[i] = string(pr.Code) + ": " + pr.Detail
		}
		return nil, fail("the CIE with NIS %s did not verify (%s)", ev.NIS, strings.Join(codes, "; "))
	}
	p, err := r.PersonByNIS(ev.NIS)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, fail("no person of the registry holds a CIE with NIS %s", ev.NIS)
	} else if err != nil {
		return nil, err
	}
	today := registry.DateOf(now)
	for _, d := range p.Documents {
		if d.Kind == registry.CIE && d.NIS == ev.NIS && d.ValidOn(today) {
			return p, nil
		}
	}
	return nil, fail("the CIE with NIS %s held by %s is expired or revoked", ev.NIS, p.CF)
}

func document(r registry.Reader, ev Evidence, selfService bool, now time.Time) (*registry.Person, error) {
	if selfService {
		return nil, fail("document evidence is for a counter, where a clerk checks the document; self-service needs the CIE and its PIN")
	}
	cf := strings.ToUpper(strings.TrimSpace(ev.CF))
	num := strings.TrimSpace(ev.Document)
	if err := codicefiscale.Validate(cf); err != nil {
		return nil, fail("the requester's codice fiscale %q is not valid: %v", cf, err)
	}
	if num == "" {
		return nil, fail("no document number was given with codice fiscale %s", cf)
	}
	p, err := r.PersonByCF(cf)
	if errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrAmbiguous) {
		return nil, fail("codice fiscale %s finds no single person of the registry (%v)", cf, err)
	} else if err != nil {
		return nil, err
	}
	today := registry.DateOf(now)
	for _, d := range p.Documents {
		if strings.EqualFold(d.Number, num) {
			if d.ValidOn(today) {
				return p, nil
			}
			return nil, fail("document %s of %s is expired or revoked", num, p.CF)
		}
	}
	return nil, fail("the registry holds no document %s for %s", num, p.CF)
}

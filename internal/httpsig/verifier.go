package httpsig

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// KeyResolver finds the public key enrolled under a key id. It returns an
// error wrapping ErrUnknownKey, ErrKeyRevoked or ErrKeySuspended when the
// key must not be accepted; any other error is treated as an outage.
type KeyResolver interface {
	ResolveKey(ctx context.Context, keyID string) (ed25519.PublicKey, error)
}

// KeyResolverFunc adapts a function to KeyResolver.
type KeyResolverFunc func(ctx context.Context, keyID string) (ed25519.PublicKey, error)

// ResolveKey implements KeyResolver.
func (f KeyResolverFunc) ResolveKey(ctx context.Context, keyID string) (ed25519.PublicKey, error) {
	return f(ctx, keyID)
}

// StaticKey resolves one key id to one key: the kiosk's view of the hub key
// it pinned at enrolment. An empty KeyID accepts any key id.
type StaticKey struct {
	KeyID string
	Key   ed25519.PublicKey
}

// ResolveKey implements KeyResolver.
func (s StaticKey) ResolveKey(_ context.Context, keyID string) (ed25519.PublicKey, error) {
	if s.KeyID != "" && keyID != s.KeyID {
		return nil, fmt.Errorf("key id %q is not the pinned key %q: %w", keyID, s.KeyID, ErrUnknownKey)
	}
	return s.Key, nil
}

// Metrics receives one call per refused message. The hub exports the counts
// (RefusalCounter keeps them) to its monitoring.
type Metrics interface {
	Refused(reason Reason)
}

// MetricsFunc adapts a function to Metrics.
type MetricsFunc func(Reason)

// Refused implements Metrics.
func (f MetricsFunc) Refused(r Reason) { f(r) }

// RefusalCounter counts refusals by reason; safe for concurrent use.
type RefusalCounter struct {
	mu     sync.Mutex
	counts map[Reason]uint64
}

// Refused implements Metrics.
func (c *RefusalCounter) Refused(r Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = make(map[Reason]uint64)
	}
	c.counts[r]++
}

// Count is the number of refusals for reason r so far.
func (c *RefusalCounter) Count(r Reason) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[r]
}

// Snapshot copies the counts, one entry per reason seen.
func (c *RefusalCounter) Snapshot() map[Reason]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Reason]uint64, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Verifier checks signed messages against a policy: who may sign (Keys),
// for how long a signature holds, that a nonce is used once, which
// components must be covered, and how much content is read.
// The zero value of each optional field selects the documented default.
type Verifier struct {
	Keys    KeyResolver
	Nonces  NonceStore       // requests only; a MemoryNonceStore when nil
	Clock   func() time.Time // time.Now when nil
	Window  Window           // its Skew and MaxValidity; DefaultWindow's when zero
	MaxBody int64            // largest content read; DefaultMaxBody when 0
	Label   string           // verify only this label; the first signed label when empty
	Metrics Metrics          // told of every refusal; may be nil
	Logger  *slog.Logger     // refusals are logged at Info; may be nil
	// SignerClock, for responses only, checks the validity window against
	// the signer's own created instead of the local clock, and so accepts
	// a genuine answer whatever the local clock says. It is for a client
	// that learns the hub's time from the answers' signatures (see
	// Verified.Created): an answer is bound to the request it answers,
	// whose nonce is new (ResponseComponents), so it cannot be an old one
	// served again, and refusing it for the local clock would only stop
	// the client from learning the time it needs to be heard. Requests are
	// always checked against the local clock.
	SignerClock bool

	once          sync.Once
	defaultNonces NonceStore
}

// Verified describes an accepted signature.
type Verified struct {
	Label      string
	KeyID      string
	Nonce      string
	Created    time.Time
	Expires    time.Time
	Components []Component
}

func (v *Verifier) now() time.Time {
	if v.Clock != nil {
		return v.Clock()
	}
	return time.Now()
}

func (v *Verifier) skew() time.Duration { return v.Window.orDefault().Skew }

func (v *Verifier) maxValidity() time.Duration { return v.Window.orDefault().MaxValidity }

func (v *Verifier) maxBody() int64 {
	if v.MaxBody > 0 {
		return v.MaxBody
	}
	return DefaultMaxBody
}

func (v *Verifier) nonces() NonceStore {
	if v.Nonces != nil {
		return v.Nonces
	}
	v.once.Do(func() { v.defaultNonces = NewMemoryNonceStore(0) })
	return v.defaultNonces
}

// record tells metrics and the log about a refusal, and returns err.
func (v *Verifier) record(ctx context.Context, err error, keyID string) error {
	if err == nil {
		return nil
	}
	r := ReasonOf(err)
	if r == "" {
		return err
	}
	if v.Metrics != nil {
		v.Metrics.Refused(r)
	}
	if v.Logger != nil {
		v.Logger.LogAttrs(ctx, slog.LevelInfo, "signed message refused",
			slog.String("reason", string(r)), slog.String("keyid", keyID), slog.String("error", err.Error()))
	}
	return err
}

// VerifyRequest checks a request whose content is body (already read, at
// most MaxBody bytes). On success it returns the accepted signature and has
// used up its nonce. Middleware does the same without reading the content
// of a request it can refuse from its headers.
func (v *Verifier) VerifyRequest(ctx context.Context, r *http.Request, body []byte) (*Verified, error) {
	if int64(len(body)) > v.maxBody() {
		return nil, v.record(ctx, refuse(ReasonBodyTooLarge, fmt.Sprintf("the content is %d bytes, more than the %d accepted", len(body), v.maxBody())), "")
	}
	m := RequestMessage(r)
	if len(body) > 0 || m.ContentLength < 0 {
		m.ContentLength = int64(len(body))
	}
	in, got, err := v.verifyHead(ctx, m, RequestComponents(m, body), true)
	if err == nil {
		err = checkContent(in, m, body, true)
	}
	return got, v.record(ctx, err, keyIDOf(got))
}

// verifyRequestHead checks everything of a request that its header says:
// the signature's parameters and covered components, its key, the
// signature itself (it covers the Content-Digest field, not the content),
// and its nonce, which it uses up. The content is checked afterwards by
// checkContent, so a request refused here is never read further.
func (v *Verifier) verifyRequestHead(ctx context.Context, r *http.Request) (*SignatureInput, *Verified, error) {
	m := RequestMessage(r)
	in, got, err := v.verifyHead(ctx, m, RequestComponents(m, nil), true)
	return in, got, v.record(ctx, err, keyIDOf(got))
}

// VerifyResponse checks a response from the hub whose content is body. The
// response's Request must be the request as sent: the answer has to be
// bound to it (see ResponseComponents), so it cannot be another's answer.
func (v *Verifier) VerifyResponse(ctx context.Context, resp *http.Response, body []byte) (*Verified, error) {
	if int64(len(body)) > v.maxBody() {
		return nil, v.record(ctx, refuse(ReasonBodyTooLarge, fmt.Sprintf("the content is %d bytes, more than the %d accepted", len(body), v.maxBody())), "")
	}
	m := ResponseMessage(resp.StatusCode, resp.Header, resp.Request)
	in, got, err := v.verifyHead(ctx, m, ResponseComponents(resp.Header, resp.Request), false)
	if err == nil {
		err = checkContent(in, m, body, false)
	}
	return got, v.record(ctx, err, keyIDOf(got))
}

func keyIDOf(got *Verified) string {
	if got == nil {
		return ""
	}
	return got.KeyID
}

// verifyHead applies the policy in order of cost: parsing and cheap checks
// first, the key lookup, then the signature, and only for a genuine
// signature the nonce, so forgeries cannot burn nonces. It needs no
// content: a request is refused for its key, validity or nonce before a
// byte of its body is read.
//
// The nonce is used up before the content is checked. The signature is
// genuine by then, so only the device, or someone replaying what it sent,
// can present it; if the content then fails its digest the request was
// damaged or tampered with in transit, and the device retries under a new
// nonce anyway. Using it first means a captured request can be presented
// once, not on many connections at a time each making the hub read a body.
// On failure the returned Verified still carries the key id when known.
func (v *Verifier) verifyHead(ctx context.Context, m *Message, required []Component, isRequest bool) (*SignatureInput, *Verified, error) {
	inputs := m.Header.Values("Signature-Input")
	sigFields := m.Header.Values("Signature")
	if len(inputs) == 0 && len(sigFields) == 0 {
		return nil, nil, refuse(ReasonMissingSignature, "the message has no Signature-Input and Signature fields")
	}
	in, sig, err := v.pick(inputs, sigFields)
	if err != nil {
		return nil, nil, err
	}
	got := &Verified{Label: in.Label, KeyID: in.KeyID, Nonce: in.Nonce, Created: in.Created, Expires: in.Expires, Components: in.Components}

	if in.Alg != "" && in.Alg != AlgEd25519 {
		return in, got, refuse(ReasonUnsupportedAlgorithm, fmt.Sprintf("signature %q uses algorithm %q; only %q is accepted", in.Label, in.Alg, AlgEd25519))
	}
	if err := v.checkParams(in, isRequest); err != nil {
		return in, got, err
	}
	if err := checkCovered(in, required); err != nil {
		return in, got, err
	}

	if v.Keys == nil {
		return in, got, refuse(ReasonKeyLookupFailed, "the verifier has no key resolver configured")
	}
	key, err := v.Keys.ResolveKey(ctx, in.KeyID)
	if err != nil {
		return in, got, suspendedRefusal(m, in, sig, err)
	}
	if err := VerifySignature(m, in, sig, key); err != nil {
		return in, got, err
	}
	if isRequest {
		until := in.Expires.Add(v.skew())
		fresh, err := v.nonces().Use(ctx, in.KeyID, in.Nonce, v.now(), until)
		if err != nil {
			return in, got, refuseErr(ReasonNonceStoreFailed, "the nonce could not be checked: "+err.Error(), err)
		}
		if !fresh {
			return in, got, refuse(ReasonNonceReplayed, fmt.Sprintf("nonce %q of key %q was already used: the request is a replay", in.Nonce, in.KeyID))
		}
	}
	return in, got, nil
}

// checkContent checks the content of a message whose header verifyHead
// accepted: a request with content must have covered its digest and type
// (a chunked request only shows it has content once read), and the
// Content-Digest must match.
func checkContent(in *SignatureInput, m *Message, body []byte, isRequest bool) error {
	if isRequest && len(body) > 0 {
		// With content in hand RequestComponents asks for its digest and
		// type whatever m's ContentLength says.
		if err := checkCovered(in, RequestComponents(m, body)); err != nil {
			return err
		}
	}
	if cd := m.Header.Values("Content-Digest"); len(cd) > 0 || covers(in, "content-digest") {
		return CheckContentDigest(cd, body)
	}
	return nil
}

// pick selects the signature to verify: the configured label, or the first
// label of Signature-Input.
func (v *Verifier) pick(inputs, sigFields []string) (*SignatureInput, []byte, error) {
	parsed, err := ParseSignatureInput(inputs)
	if err != nil {
		return nil, nil, err
	}
	sigs, err := ParseSignature(sigFields)
	if err != nil {
		return nil, nil, err
	}
	if len(parsed) == 0 {
		return nil, nil, refuse(ReasonMissingSignature, "the Signature-Input field names no signature")
	}
	in := &parsed[0]
	if v.Label != "" {
		in = nil
		for i := range parsed {
			if parsed[i].Label == v.Label {
				in = &parsed[i]
			}
		}
		if in == nil {
			return nil, nil, refuse(ReasonMissingSignature, fmt.Sprintf("the message has no signature labelled %q", v.Label))
		}
	}
	sig, ok := sigs[in.Label]
	if !ok {
		return nil, nil, refuse(ReasonMalformedSignature,
			fmt.Sprintf("Signature-Input names signature %q but the Signature field has no value for it", in.Label))
	}
	return in, sig, nil
}

func (v *Verifier) checkParams(in *SignatureInput, isRequest bool) error {
	missing := func(p string) error {
		return refuse(ReasonMissingParameter, fmt.Sprintf("signature %q has no %s parameter, which is required", in.Label, p))
	}
	switch {
	case in.Created.IsZero():
		return missing("created")
	case in.Expires.IsZero():
		return missing("expires")
	case in.KeyID == "":
		return missing("keyid")
	case isRequest && in.Nonce == "":
		return missing("nonce")
	}
	if in.Expires.Before(in.Created) {
		return refuse(ReasonMalformedSignatureInput, fmt.Sprintf("signature %q expires at %s, before it was created at %s",
			in.Label, in.Expires.Format(time.RFC3339), in.Created.Format(time.RFC3339)))
	}
	if in.Expires.Sub(in.Created) > v.maxValidity() {
		return refuse(ReasonValidityTooLong, fmt.Sprintf("signature %q is valid for %s, longer than the %s accepted",
			in.Label, in.Expires.Sub(in.Created), v.maxValidity()))
	}
	now, skew := v.now(), v.skew()
	if v.SignerClock && !isRequest {
		now = in.Created
	}
	if in.Created.After(now.Add(skew)) {
		return refuse(ReasonSignatureNotYetValid, fmt.Sprintf("signature %q was created at %s, later than now (%s) by more than the %s allowed skew; check the signer's clock",
			in.Label, in.Created.Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew))
	}
	if now.After(in.Expires.Add(skew)) {
		return refuse(ReasonSignatureExpired, fmt.Sprintf("signature %q expired at %s; it is now %s",
			in.Label, in.Expires.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	return nil
}

func covers(in *SignatureInput, id string) bool {
	return slices.ContainsFunc(in.Components, C(id).same)
}

func checkCovered(in *SignatureInput, required []Component) error {
	for _, c := range required {
		if !slices.ContainsFunc(in.Components, c.same) {
			return refuse(ReasonMissingComponent, fmt.Sprintf("signature %q does not cover %s, which this message must have signed", in.Label, c))
		}
	}
	return nil
}

func keyRefusal(keyID string, err error) error {
	switch {
	case errors.Is(err, ErrUnknownKey):
		return refuseErr(ReasonUnknownKey, fmt.Sprintf("key id %q is not enrolled", keyID), err)
	case errors.Is(err, ErrKeyRevoked):
		return refuseErr(ReasonKeyRevoked, fmt.Sprintf("key id %q has been revoked", keyID), err)
	case errors.Is(err, ErrKeySuspended):
		return refuseErr(ReasonKeySuspended, fmt.Sprintf("key id %q is suspended (its device or its operator)", keyID), err)
	default:
		return refuseErr(ReasonKeyLookupFailed, fmt.Sprintf("key id %q could not be looked up: %v", keyID, err), err)
	}
}

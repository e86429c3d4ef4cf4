package httpsig

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Defaults shared by Signer and Verifier.
const (
	DefaultLabel       = "sig1"
	DefaultValidity    = 2 * time.Minute
	DefaultSkew        = 60 * time.Second
	DefaultMaxValidity = 5 * time.Minute
	DefaultMaxBody     = 1 << 20
)

// Window is the time a signature holds: a signer makes it valid from
// created to created+Validity, and a verifier accepts it while its own clock
// is within Skew of that span. One Window is the setting for both ends, the
// hub signing answers and checking requests with the same one the kiosk
// signs and checks with, so neither accepts what the other would refuse.
// Zero fields take the defaults above.
type Window struct {
	Validity    time.Duration // expires = created + Validity
	Skew        time.Duration // how far apart the two clocks may be
	MaxValidity time.Duration // the longest expires-created a verifier accepts
}

// DefaultWindow is the window of a hub and kiosk given no other.
var DefaultWindow = Window{Validity: DefaultValidity, Skew: DefaultSkew, MaxValidity: DefaultMaxValidity}

// orDefault fills w's zero fields from DefaultWindow.
func (w Window) orDefault() Window {
	if w.Validity <= 0 {
		w.Validity = DefaultValidity
	}
	if w.Skew <= 0 {
		w.Skew = DefaultSkew
	}
	if w.MaxValidity <= 0 {
		w.MaxValidity = DefaultMaxValidity
	}
	return w
}

// Signer signs requests (the kiosk) or responses (the hub) with one key.
type Signer struct {
	Key    ed25519.PrivateKey
	KeyID  string
	Label  string           // DefaultLabel when empty
	Window Window           // its Validity sets expires; DefaultWindow's when zero
	Clock  func() time.Time // time.Now when nil
	Rand   io.Reader        // nonce source; crypto/rand when nil
	// Extra names further fields a request covers when it carries them,
	// such as "idempotency-key", so they cannot be changed in transit.
	Extra []string
}

func (s *Signer) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

func (s *Signer) label() string {
	if s.Label != "" {
		return s.Label
	}
	return DefaultLabel
}

func (s *Signer) params() Params {
	created := s.now().Truncate(time.Second)
	return Params{Created: created, Expires: created.Add(s.Window.orDefault().Validity), KeyID: s.KeyID, Alg: AlgEd25519}
}

// NewNonce returns 128 random bits, base64url-encoded without padding.
func NewNonce(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("cannot read random bytes for a nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// RequestComponents are the components a request must cover: method,
// authority and path always, the query when there is one, the content
// digest and type when there is content, and the Idempotency-Key whenever
// the request carries one: uncovered, it could be added or changed in
// transit, and the hub would take the request for a retry of another. The
// same holds for the clerk's session (ClerkField).
func RequestComponents(m *Message, body []byte) []Component {
	cs := []Component{C("@method"), C("@authority"), C("@path")}
	if m.URL != nil && m.URL.RawQuery != "" {
		cs = append(cs, C("@query"))
	}
	if hasBody(m.Header, body) || m.ContentLength > 0 {
		cs = append(cs, C("content-digest"), C("content-type"))
	}
	if _, ok := m.Header[http.CanonicalHeaderKey(IdempotencyKeyField)]; ok {
		cs = append(cs, C(IdempotencyKeyField))
	}
	if _, ok := m.Header[http.CanonicalHeaderKey(ClerkField)]; ok {
		cs = append(cs, C(ClerkField))
	}
	return cs
}

// ClerkField carries the session of the clerk logged in at a shop's
// device. Uncovered, a session token seen once could be put on another
// request, or taken off one so that it reads as no clerk's.
const ClerkField = "sportello-clerk"

// IdempotencyKeyField is the field a write carries so that a retry is
// recognised; a request signature must cover it whenever it is present.
const IdempotencyKeyField = "idempotency-key"

// SignRequest signs r, whose content is body (nil for none): it sets
// Content-Digest when there is content, then Signature-Input and Signature
// covering RequestComponents, with a fresh nonce. The caller still has to
// give r a body reader for the same bytes.
func (s *Signer) SignRequest(r *http.Request, body []byte) error {
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if len(body) > 0 {
		if r.Header.Get("Content-Type") == "" {
			return errors.New("a request with content needs a Content-Type header before it is signed")
		}
		r.Header.Set("Content-Digest", ContentDigest(body))
	}
	p := s.params()
	nonce, err := NewNonce(s.Rand)
	if err != nil {
		return err
	}
	p.Nonce = nonce
	m := RequestMessage(r)
	m.ContentLength = int64(len(body))
	cs := RequestComponents(m, body)
	for _, name := range s.Extra {
		c := C(strings.ToLower(name))
		if r.Header.Get(name) != "" && !slices.ContainsFunc(cs, c.same) {
			cs = append(cs, c)
		}
	}
	signed, err := Sign(m, s.label(), cs, p, s.Key)
	if err != nil {
		return err
	}
	r.Header.Set("Signature-Input", signed.Input)
	r.Header.Set("Signature", signed.Signature)
	return nil
}

// ResponseComponents are the components a response from the hub covers:
// status, content digest, content type when set, and, from the request it
// answers (RFC 9421 section 2.4), its method, path and query, its content
// digest when it has one, and each of its signatures with their inputs
// ("signature";req;key=label, "signature-input";req;key=label). A request
// signature is unique to its request (its nonce sees to that), so an answer
// bound to it cannot be passed off as the answer to any other request, even
// one to the same route with another body: another person's certificate.
// Both sides work the list out from the request alone, the hub from the one
// it received and the kiosk from the one it sent.
func ResponseComponents(h http.Header, req *http.Request) []Component {
	cs := []Component{C("@status"), C("content-digest")}
	if h.Get("Content-Type") != "" {
		cs = append(cs, C("content-type"))
	}
	if req == nil {
		return cs
	}
	cs = append(cs, Component{Name: "@method", Req: true}, Component{Name: "@path", Req: true})
	if req.URL.RawQuery != "" {
		cs = append(cs, Component{Name: "@query", Req: true})
	}
	if len(req.Header.Values("Content-Digest")) > 0 {
		cs = append(cs, Component{Name: "content-digest", Req: true})
	}
	for _, label := range signatureLabels(req.Header) {
		cs = append(cs, Component{Name: "signature", Req: true, Key: label},
			Component{Name: "signature-input", Req: true, Key: label})
	}
	return cs
}

// signatureLabels lists the labels a message both declares in
// Signature-Input and signs in Signature, in Signature-Input order; none
// when either field is absent or malformed (such a request is refused, and
// its refusal binds to what else the request has).
func signatureLabels(h http.Header) []string {
	ins, err := ParseSignatureInput(h.Values("Signature-Input"))
	if err != nil {
		return nil
	}
	sigs, err := ParseSignature(h.Values("Signature"))
	if err != nil {
		return nil
	}
	var labels []string
	for _, in := range ins {
		if _, ok := sigs[in.Label]; ok {
			labels = append(labels, in.Label)
		}
	}
	return labels
}

// SignResponse sets Content-Digest, Signature-Input and Signature on h for a
// response with this status and body answering req (nil if unknown).
func (s *Signer) SignResponse(h http.Header, status int, body []byte, req *http.Request) error {
	h.Set("Content-Digest", ContentDigest(body))
	signed, err := Sign(ResponseMessage(status, h, req), s.label(), ResponseComponents(h, req), s.params(), s.Key)
	if err != nil {
		return err
	}
	h.Set("Signature-Input", signed.Input)
	h.Set("Signature", signed.Signature)
	return nil
}

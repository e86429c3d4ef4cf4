package httpsig

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// Signer signs requests (the kiosk) or responses (the hub) with one key.
type Signer struct {
	Key      ed25519.PrivateKey
	KeyID    string
	Label    string           // DefaultLabel when empty
	Validity time.Duration    // expires = created + Validity; DefaultValidity when 0
	Clock    func() time.Time // time.Now when nil
	Rand     io.Reader        // nonce source; crypto/rand when nil
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
	v := s.Validity
	if v <= 0 {
		v = DefaultValidity
	}
	return Params{Created: created, Expires: created.Add(v), KeyID: s.KeyID, Alg: AlgEd25519}
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
// authority and path always, the query when there is one, and the content
// digest and type when there is content.
func RequestComponents(m *Message, body []byte) []Component {
	cs := []Component{C("@method"), C("@authority"), C("@path")}
	if m.URL != nil && m.URL.RawQuery != "" {
		cs = append(cs, C("@query"))
	}
	if hasBody(m.Header, body) || m.ContentLength > 0 {
		cs = append(cs, C("content-digest"), C("content-type"))
	}
	return cs
}

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
		if r.Header.Get(name) != "" {
			cs = append(cs, C(strings.ToLower(name)))
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
// status, content digest, content type when set, and the request's method,
// path and query so an answer cannot be passed off as one to another call.
func ResponseComponents(h http.Header, req *http.Request) []Component {
	cs := []Component{C("@status"), C("content-digest")}
	if h.Get("Content-Type") != "" {
		cs = append(cs, C("content-type"))
	}
	if req != nil {
		cs = append(cs, Component{Name: "@method", Req: true}, Component{Name: "@path", Req: true})
		if req.URL.RawQuery != "" {
			cs = append(cs, Component{Name: "@query", Req: true})
		}
	}
	return cs
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

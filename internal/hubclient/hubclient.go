// Package hubclient is the kiosk's signed client for the hub's API: every
// request is signed with the device key enrolled with a one-time code
// (RFC 9421), every answer is checked against the hub key pinned at
// enrolment, writes carry an Idempotency-Key, and network failures and 5xx
// answers are retried with exponential backoff and jitter, re-signed each
// time under the same Idempotency-Key so the hub acts at most once.
package hubclient

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/keyhandover"
)

// Profile is what enrolment leaves on the kiosk: its private key, its key
// id, and the hub's public key, pinned. internal/keystore keeps it on disk,
// with the private key sealed.
type Profile struct {
	HubURL     string    `json:"hub_url"`
	KeyID      string    `json:"key_id"`
	OperatorID string    `json:"operator_id"`
	Name       string    `json:"name"`
	DeviceKey  []byte    `json:"-"`       // Ed25519 seed, 32 bytes: never marshalled in the clear
	HubKey     []byte    `json:"hub_key"` // raw Ed25519 public key
	HubKeyID   string    `json:"hub_key_id,omitempty"`
	HubCAPEM   string    `json:"hub_ca_pem,omitempty"` // TLS roots for a hub with its own CA
	EnrolledAt time.Time `json:"enrolled_at"`
}

func (p *Profile) privateKey() (ed25519.PrivateKey, error) {
	if len(p.DeviceKey) != ed25519.SeedSize {
		return nil, fmt.Errorf("the device profile's key has %d bytes, not an Ed25519 seed of %d", len(p.DeviceKey), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(p.DeviceKey), nil
}

// Retry is the retry policy: Attempts tries in all, waiting a random time
// up to Base·2ⁿ (at most Max) before try n+1. Full jitter spreads a
// hundred kiosks reconnecting after an outage.
type Retry struct {
	Attempts int           // 4 when 0
	Base     time.Duration // 250 ms when 0
	Max      time.Duration // 8 s when 0
}

func (r Retry) attempts() int {
	if r.Attempts > 0 {
		return r.Attempts
	}
	return 4
}

func (r Retry) delay(n int, random io.Reader) time.Duration {
	base, max := r.Base, r.Max
	if base <= 0 {
		base = 250 * time.Millisecond
	}
	if max <= 0 {
		max = 8 * time.Second
	}
	d := base << n
	if d > max || d <= 0 {
		d = max
	}
	var b [8]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return d
	}
	return time.Duration(binary.BigEndian.Uint64(b[:]) % uint64(d+1))
}

// Client talks to the hub as one enrolled device.
//
// It keeps the hub's time: every answer is signed by the hub, and the
// signature's created parameter is the hub's clock when it answered, so
// the client learns how far its own clock is off from each answer and signs
// its requests with the hub's time (HubNow). A kiosk whose clock is minutes
// or hours wrong is then heard all the same; its first request, signed
// before it knew, is refused for the time with an answer that is itself
// signed, so it learns from that and signs again at once.
type Client struct {
	Profile *Profile
	HTTP    *http.Client     // built from the profile (TLS roots, timeout) when nil
	Clock   func() time.Time // the device's clock; time.Now when nil
	Rand    io.Reader        // nonces, keys, jitter; crypto/rand when nil
	Retry   Retry
	// Window is the signatures' validity window, the one the hub uses
	// (httpsig.DefaultWindow when zero).
	Window httpsig.Window
	// Sleep waits between attempts; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger // may be nil
	// OnHubKey is told when the client accepted a new hub key through a
	// hand-over signed by the pinned one, to keep p in the device's
	// profile; the new key is in force for this client already.
	OnHubKey func(p *Profile)

	hubTime hubTime
	keyMu   sync.Mutex // guards Profile's HubKey and HubKeyID across calls
	clerk   clerkToken
	version hubVersion
}

// clerkToken is the session of the clerk logged in at the device, sent
// with every request while set. It lives in memory only: a restart, a
// log-out or the idle timeout drops it and the next clerk logs in again.
type clerkToken struct {
	mu    sync.Mutex
	token string
}

// SetClerk sets the clerk session every later request carries in its
// Sportello-Clerk header (covered by the signature); "" sends none.
func (c *Client) SetClerk(token string) {
	c.clerk.mu.Lock()
	c.clerk.token = token
	c.clerk.mu.Unlock()
}

// Clerk is the clerk session requests carry now, "" for none.
func (c *Client) Clerk() string {
	c.clerk.mu.Lock()
	defer c.clerk.mu.Unlock()
	return c.clerk.token
}

// hubTime is what the client knows of the hub's clock: how far it is from
// the device's, as of the last signed answer.
type hubTime struct {
	mu     sync.Mutex
	offset time.Duration // hub's clock minus the device's
	known  bool
}

// New returns a client for an enrolled profile.
func New(p *Profile) *Client { return &Client{Profile: p} }

func (c *Client) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

// HubNow is the time by the hub's clock, as far as the client has learnt it
// from signed answers; the device's own clock until the first one.
func (c *Client) HubNow() time.Time {
	off, _ := c.ClockOffset()
	return c.now().Add(off)
}

// ClockOffset is how far the hub's clock is ahead of the device's (negative
// when behind), and whether any signed answer has said so yet.
func (c *Client) ClockOffset() (time.Duration, bool) {
	c.hubTime.mu.Lock()
	defer c.hubTime.mu.Unlock()
	return c.hubTime.offset, c.hubTime.known
}

// learnTime takes the hub's time from an answer whose signature, created at
// hubAt by the hub's clock, was verified when the device's clock said
// localAt. The hub's created is whole seconds, so the offset may be up to a
// second short, well inside the window's skew. It reports whether the
// offset moved by more than a second: a request refused for its time is
// worth signing again only then.
func (c *Client) learnTime(hubAt, localAt time.Time) bool {
	off := hubAt.Sub(localAt)
	c.hubTime.mu.Lock()
	defer c.hubTime.mu.Unlock()
	moved := !c.hubTime.known || (off-c.hubTime.offset).Abs() > time.Second
	c.hubTime.offset, c.hubTime.known = off, true
	return moved
}

func (c *Client) random() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

func (c *Client) httpClient(caPEM string) (*http.Client, error) {
	if c.HTTP != nil {
		return c.HTTP, nil
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, errors.New("the hub's TLS certificate file holds no PEM certificate")
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		hc.Transport = tr
	}
	c.HTTP = hc
	return hc, nil
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// APIError is the hub's refusal as this client returns it: api.Refusal,
// the kiosk side's one refusal type, under the name callers know.
type APIError = api.Refusal

// ErrUnsignedResponse means an answer did not carry a valid signature by
// the pinned hub key for the request it answers: it may not come from the
// hub, or be the hub's answer to another request served again by someone
// in between, so it is not used.
var ErrUnsignedResponse = errors.New("the answer is not signed by the hub key pinned at enrolment for this request")

// ErrBadAnswer means the hub answered, signed, but not with the JSON the
// API declares for the route: the hub was reached, so this is not a network
// failure, and it is not a refusal either.
var ErrBadAnswer = errors.New("the hub's answer is not the expected JSON")

// EnrolOptions are the optional parts of an enrolment.
type EnrolOptions struct {
	HubCAPEM string // trust this CA for the hub's TLS certificate
}

// Enrol makes a new device key, enrols it at hubURL with a one-time code,
// checks that the answer is signed by the hub key it announces, and sets
// c.Profile. It is not retried: a code works once, so a lost answer means
// asking staff for a new code.
func (c *Client) Enrol(ctx context.Context, hubURL, code, name string, opts ...EnrolOptions) (*Profile, error) {
	var opt EnrolOptions
	if len(opts) > 0 {
		opt = opts[0]
	}
	u, err := url.Parse(strings.TrimRight(hubURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the hub URL %q is not an http or https URL", hubURL)
	}
	hc, err := c.httpClient(opt.HubCAPEM)
	if err != nil {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(c.random())
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(api.EnrolRequest{Code: code, PublicKey: base64.StdEncoding.EncodeToString(pub), Name: name})
	req, err := http.NewRequestWithContext(ctx, "POST", u.String()+"/api/v1/devices", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	// Not checked by the hub, but covered by its answer ("content-digest";req):
	// the answer is then this enrolment's, not another kiosk's served again.
	req.Header.Set("Content-Digest", httpsig.ContentDigest(body))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the hub at %s: %w", u, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("the hub's answer could not be read: %w", err)
	}
	if r := c.noteVersion(resp); r != nil {
		return nil, r
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, apiError(resp, answer)
	}
	var got api.Enrolment
	if err := json.Unmarshal(answer, &got); err != nil {
		return nil, fmt.Errorf("%w: /api/v1/devices: %v", ErrBadAnswer, err)
	}
	hubKey, err := base64.StdEncoding.DecodeString(got.HubKey)
	if err != nil || len(hubKey) != ed25519.PublicKeySize {
		return nil, errors.New("the hub's enrolment answer has no valid hub_key")
	}
	p := &Profile{
		HubURL: u.String(), KeyID: got.KeyID, OperatorID: got.OperatorID, Name: name,
		DeviceKey: priv.Seed(), HubKey: hubKey, HubKeyID: got.HubKeyID, HubCAPEM: opt.HubCAPEM,
		EnrolledAt: c.now().UTC(),
	}
	// The answer must be signed by the key it hands over: proof that the
	// hub holds it, and that nothing between rewrote the key.
	if _, err := c.verify(ctx, p, req, resp, answer); err != nil {
		return nil, err
	}
	c.Profile = p
	return p, nil
}

func apiError(resp *http.Response, body []byte) *api.Refusal {
	var p *api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		p = nil
	}
	var wait time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
		wait = time.Duration(min(secs, 24*3600)) * time.Second
	}
	return api.RefusalOf(resp.StatusCode, p, wait)
}

// verify checks that resp is the hub's answer to req, the request this
// client sent: signed by the pinned hub key and bound to req's signature
// (or, for enrolment, its content), so that no answer to another request,
// such as another citizen's certificate, passes for it. req is given
// rather than taken from resp, which a RoundTripper may fill in.
//
// The answer's time is not checked against the device's clock, which may be
// the very thing that is wrong: the binding to req, whose nonce is new,
// already shows the answer is no old one, and its signed created is how the
// client learns the hub's time (learnTime). It reports whether that moved
// the client's idea of the hub's clock.
func (c *Client) verify(ctx context.Context, p *Profile, req *http.Request, resp *http.Response, body []byte) (bool, error) {
	c.keyMu.Lock()
	kid, key := p.HubKeyID, ed25519.PublicKey(p.HubKey)
	c.keyMu.Unlock()
	got, err := c.verifyWith(ctx, kid, key, req, resp, body)
	if err != nil {
		nkid, nkey, herr := c.handedOver(kid, key, resp)
		if herr != nil {
			return false, fmt.Errorf("%w: %v", ErrUnsignedResponse, err)
		}
		if got, err = c.verifyWith(ctx, nkid, nkey, req, resp, body); err != nil {
			return false, fmt.Errorf("%w: %v", ErrUnsignedResponse, err)
		}
		c.keyMu.Lock()
		p.HubKeyID, p.HubKey = nkid, nkey
		c.keyMu.Unlock()
		if c.Log != nil {
			c.Log.Info("the hub's answers are signed by a new key, handed over by the pinned one", "old", kid, "new", nkid)
		}
		if c.OnHubKey != nil {
			c.OnHubKey(p)
		}
	}
	return c.learnTime(got.Created, c.now()), nil
}

// handedOver follows the hub's chain of key hand-overs sent with resp from
// the pinned key; no chain, or one not signed by the pinned key, is an
// error and the pin stays.
func (c *Client) handedOver(kid string, key ed25519.PublicKey, resp *http.Response) (string, ed25519.PublicKey, error) {
	v := resp.Header.Get(keyhandover.Header)
	if v == "" {
		return "", nil, keyhandover.ErrNoHandover
	}
	chain, err := keyhandover.Decode(v)
	if err != nil {
		return "", nil, err
	}
	return keyhandover.Follow(kid, key, chain)
}

func (c *Client) verifyWith(ctx context.Context, kid string, key ed25519.PublicKey, req *http.Request, resp *http.Response, body []byte) (*httpsig.Verified, error) {
	v := &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: kid, Key: key},
		Clock: c.Clock, Window: c.Window, SignerClock: true}
	bound := *resp
	bound.Request = req
	return v.VerifyResponse(ctx, &bound, body)
}

// IdempotencyKey makes a fresh key for a write: 128 random bits.
func IdempotencyKey(r io.Reader) (string, error) { return httpsig.NewNonce(r) }

// call is one logical request: body is JSON-encoded when not nil, idemKey
// is set on writes (generated when empty). It returns the answer's status
// and content once its signature is verified; a non-2xx status is an
// *api.Refusal.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body any, idemKey string) (int, []byte, error) {
	p := c.Profile
	if p == nil {
		return 0, nil, errors.New("the client has no device profile: enrol first")
	}
	key, err := p.privateKey()
	if err != nil {
		return 0, nil, err
	}
	hc, err := c.httpClient(p.HubCAPEM)
	if err != nil {
		return 0, nil, err
	}
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return 0, nil, err
		}
	}
	write := method != http.MethodGet && method != http.MethodHead
	if write && idemKey == "" {
		if idemKey, err = IdempotencyKey(c.random()); err != nil {
			return 0, nil, err
		}
	}
	target := p.HubURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	// Signed by the hub's clock as last learnt, with the hub's window.
	signer := &httpsig.Signer{Key: key, KeyID: p.KeyID, Clock: c.HubNow, Window: c.Window, Rand: c.Rand, Extra: []string{"idempotency-key"}}
	var lastErr error
	corrected := false
	for attempt := 0; attempt < c.Retry.attempts(); attempt++ {
		if attempt > 0 {
			d := c.Retry.delay(attempt-1, c.random())
			if c.Log != nil {
				c.Log.Info("retrying hub request", "path", path, "attempt", attempt+1, "wait", d, "err", lastErr)
			}
			if err := c.sleep(ctx, d); err != nil {
				return 0, nil, fmt.Errorf("%w (gave up waiting: %v)", lastErr, err)
			}
		}
		req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(payload))
		if err != nil {
			return 0, nil, err
		}
		if payload == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		if idemKey != "" {
			req.Header.Set("Idempotency-Key", idemKey)
		}
		tok, over := ctx.Value(clerkOverride{}).(string)
		if !over {
			tok = c.Clerk()
		}
		if tok != "" {
			req.Header.Set(httpsig.ClerkField, tok)
		}
		// Signed afresh each attempt: a new nonce and created time, since the
		// hub refuses a replayed nonce even from its rightful sender.
		if err := signer.SignRequest(req, payload); err != nil {
			return 0, nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return 0, nil, ctx.Err()
			}
			lastErr = fmt.Errorf("cannot reach the hub at %s: %w", p.HubURL, err)
			continue
		}
		answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			lastErr = fmt.Errorf("the hub's answer was cut off: %w", err)
			continue
		}
		// Before the signature: a hub that no longer serves this version
		// may not sign its answers to it the way this client checks, and
		// however it answers, nothing more is sent until the kiosk is
		// updated (Hold: the outbox keeps its queue).
		if r := c.noteVersion(resp); r != nil {
			return resp.StatusCode, answer, r
		}
		moved, verr := c.verify(ctx, p, req, resp, answer)
		if verr != nil {
			if api.RetryUnsigned(resp.StatusCode) {
				// A proxy's error page in front of a hub that is down, or
				// a proxy's timeout or rate limit: not the hub's word,
				// retried as package api says.
				lastErr = fmt.Errorf("the hub answered HTTP %d, unsigned", resp.StatusCode)
				continue
			}
			return 0, nil, verr
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp.StatusCode, answer, nil
		}
		ae := apiError(resp, answer)
		if ae.Disposition() != api.Retry {
			return resp.StatusCode, answer, ae
		}
		lastErr = ae
		if isTimeRefusal(ae.Reason) && moved && !corrected {
			// Refused for the device's clock, and the refusal taught the
			// hub's time: sign again at once, without counting a try.
			corrected = true
			attempt--
			if c.Log != nil {
				off, _ := c.ClockOffset()
				c.Log.Warn("the device's clock is off the hub's; signing with the hub's time", "offset", off.Round(time.Second))
			}
			continue
		}
	}
	return 0, nil, lastErr
}

// isTimeRefusal reports a signature refused for its time, which the
// client's own clock caused.
func isTimeRefusal(reason string) bool {
	return reason == string(httpsig.ReasonSignatureExpired) || reason == string(httpsig.ReasonSignatureNotYetValid)
}

func (c *Client) callJSON(ctx context.Context, method, path string, query url.Values, body any, idemKey string, out any) (int, error) {
	status, answer, err := c.call(ctx, method, path, query, body, idemKey)
	if err != nil {
		return status, err
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return status, fmt.Errorf("%w: %s: %v", ErrBadAnswer, path, err)
	}
	return status, nil
}

// The API's bodies under the names this package has always used for them.
type (
	Health             = api.Health
	Device             = api.Device
	DirectoryEntry     = api.DirectoryEntry
	Exemption          = fees.Exemption
	CertificateRequest = api.CertificateRequest
	Certificate        = api.Certificate
	Backlog            = api.Backlog
	Person             = api.Person
)

// Health asks the hub whether it is up. /healthz is public and unsigned:
// it tells the kiosk only whether to try, never anything it acts on.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	if c.Profile == nil {
		return nil, errors.New("the client has no device profile: enrol first")
	}
	hc, err := c.httpClient(c.Profile.HubCAPEM)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.Profile.HubURL+"/healthz", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the hub at %s: %w", c.Profile.HubURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if r := c.noteVersion(resp); r != nil {
		return nil, r
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiError(resp, b)
	}
	var h Health
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: /healthz: %v", ErrBadAnswer, err)
	}
	return &h, nil
}

// Self asks the hub about this device and its operator.
func (c *Client) Self(ctx context.Context) (*Device, error) {
	var d Device
	_, err := c.callJSON(ctx, "GET", "/api/v1/devices/self", nil, nil, "", &d)
	return &d, err
}

// DirectoryQuery asks for the points of service near a place.
type DirectoryQuery struct {
	Lat, Lon      float64
	At            time.Time // zero: now at the hub
	Limit         int       // 0: the hub's default
	IncludeClosed bool
}

// Directory lists the shops and offices nearest to q, open ones first.
func (c *Client) Directory(ctx context.Context, q DirectoryQuery) ([]DirectoryEntry, error) {
	v := url.Values{}
	v.Set("lat", strconv.FormatFloat(q.Lat, 'f', -1, 64))
	v.Set("lon", strconv.FormatFloat(q.Lon, 'f', -1, 64))
	if !q.At.IsZero() {
		v.Set("at", q.At.Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.IncludeClosed {
		v.Set("include_closed", "true")
	}
	var out api.Directory
	_, err := c.callJSON(ctx, "GET", "/api/v1/directory", v, nil, "", &out)
	return out.Results, err
}

// DirectoryGeoJSON fetches the whole directory as GeoJSON, for the kiosk to
// keep and show offline.
func (c *Client) DirectoryGeoJSON(ctx context.Context) ([]byte, error) {
	_, b, err := c.call(ctx, "GET", "/api/v1/directory.geojson", nil, nil, "")
	return b, err
}

// IssueCertificate asks the hub to issue a certificate. A retry after a
// lost answer carries the same Idempotency-Key, so the hub returns the
// certificate it already issued rather than a second one.
func (c *Client) IssueCertificate(ctx context.Context, req CertificateRequest) (*Certificate, error) {
	var out Certificate
	_, err := c.callJSON(ctx, "POST", "/api/v1/certificates", nil, req, req.IdempotencyKey, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CertificatePDF downloads an issued certificate's signed PDF.
func (c *Client) CertificatePDF(ctx context.Context, id string) ([]byte, error) {
	_, b, err := c.call(ctx, "GET", "/api/v1/certificates/"+url.PathEscape(id)+"/pdf", nil, nil, "")
	return b, err
}

// CertificateCopyPDF downloads a copy of an issued certificate (GET
// …/pdf?copy=1): every page marked "COPIA — non valida come originale",
// without the seal; what a self-service kiosk prints for a reprint.
func (c *Client) CertificateCopyPDF(ctx context.Context, id string) ([]byte, error) {
	_, b, err := c.call(ctx, "GET", "/api/v1/certificates/"+url.PathEscape(id)+"/pdf", url.Values{"copy": {"1"}}, nil, "")
	return b, err
}

// ReportBacklog sends the outbox's figures to the hub
// (PUT /api/v1/devices/self/status); the last report replaces the others.
func (c *Client) ReportBacklog(ctx context.Context, b Backlog) error {
	_, _, err := c.call(ctx, "PUT", "/api/v1/devices/self/status", nil, b, "")
	return err
}

// Identify sends the evidence of who stands at the kiosk to POST
// /api/v1/persons/identify; the hub verifies it (CIE tap or document) and
// answers the person and their famiglia anagrafica. Every failed
// identification is one *api.Refusal, api.ReasonIdentificationFailed.
func (c *Client) Identify(ctx context.Context, req api.IdentifyRequest) (*Person, error) {
	var p Person
	if _, err := c.callJSON(ctx, "POST", api.PathIdentify, nil, req, "", &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// LogInClerk opens a clerk session at this device. It does not set it:
// the caller does (SetClerk) once it has what it wants of the answer.
func (c *Client) LogInClerk(ctx context.Context, req api.ClerkLogin) (*api.ClerkSession, error) {
	var s api.ClerkSession
	if _, err := c.callJSON(ctx, "POST", api.ClerkSessionsPath, nil, req, "", &s); err != nil {
		return nil, err
	}
	if s.Token == "" {
		return nil, fmt.Errorf("%w: the clerk session has no token", ErrBadAnswer)
	}
	return &s, nil
}

// EndClerkSession ends the clerk session token at the hub (log-out); the
// caller has already dropped it (SetClerk("")) so nothing else sends it.
func (c *Client) EndClerkSession(ctx context.Context, token string) error {
	_, _, err := c.call(context.WithValue(ctx, clerkOverride{}, token), "DELETE", api.ClerkSessionsPath+"/current", nil, nil, "")
	return err
}

// CreatePayment asks the hub for a payment of req by method
// (api.PayAtTill, api.PayPagoPA) before req is sent: idemKey is req's own
// Idempotency-Key, so a retry answers the same payment, and the
// certificate request sent once it is paid names it (req.PaymentID).
func (c *Client) CreatePayment(ctx context.Context, req api.PaymentRequest, idemKey string) (*api.Payment, error) {
	if strings.TrimSpace(idemKey) == "" {
		return nil, errors.New("a payment needs the Idempotency-Key of the request it pays for")
	}
	var p api.Payment
	if _, err := c.callJSON(ctx, "POST", api.PathPayments, nil, req, idemKey, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Payment is the payment id as it stands now (the hub asks pagoPA about a
// pending notice first).
func (c *Client) Payment(ctx context.Context, id string) (*api.Payment, error) {
	var p api.Payment
	if _, err := c.callJSON(ctx, "GET", paymentPath(id), nil, nil, "", &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// CancelPayment drops a pending payment the citizen gave up; a paid one
// stays paid (the hub answers it as it stands).
func (c *Client) CancelPayment(ctx context.Context, id string) error {
	_, _, err := c.call(ctx, "DELETE", paymentPath(id), nil, nil, "")
	return err
}

// ConfirmPayment confirms, at the shop's counter, that the till took the
// money for the payment with confirm.Code. It needs the clerk session
// (SetClerk).
func (c *Client) ConfirmPayment(ctx context.Context, confirm api.PaymentConfirm) (*api.Payment, error) {
	var p api.Payment
	if _, err := c.callJSON(ctx, "POST", api.PathPaymentConfirm, nil, confirm, "", &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// PendingPayments lists the shop's till payments waiting for the counter
// (needs the clerk session).
func (c *Client) PendingPayments(ctx context.Context) (*api.PaymentList, error) {
	var l api.PaymentList
	if _, err := c.callJSON(ctx, "GET", api.PathPayments, nil, nil, "", &l); err != nil {
		return nil, err
	}
	return &l, nil
}

func paymentPath(id string) string {
	return strings.Replace(api.PathPayment, "{id}", url.PathEscape(id), 1)
}

// clerkOverride names, in a call's context, the session to send instead of
// the client's own.
type clerkOverride struct{}

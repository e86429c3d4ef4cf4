// Package loadgen drives a running hub as many kiosks at once: it enrols
// simulated kiosks with one-time codes, logs a clerk in at each, and sends
// signed requests over HTTPS (hubclient, RFC 9421) in a mix a city's shops
// send: look-ups, issuances of several certificate types, retries under the
// same Idempotency-Key, requests the hub must refuse, and offline bursts (a
// batch queued while the hub was out of reach, sent together). A run is
// bounded in time and in requests, and reports throughput, latency
// percentiles and errors by reason code (Report).
//
// It issues real certificates into the hub's protocol register: it is for
// a demo or test hub (hub loadtest refuses anything else), never a city's.
package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/totp"
)

// Kiosk is one simulated kiosk: the hub it enrols at with Code, and the
// clerk who logs in at it with a password and TOTP secret (a shop without
// a card reader: hub clerk add --password-file).
type Kiosk struct {
	Hub        string
	Code       string
	Name       string
	ClerkCF    string
	Password   string
	TOTPSecret string
}

// Person is a resident who comes to a counter: their codice fiscale and
// the number of an identity document valid today, the evidence a clerk
// types (api.EvidenceDocument).
type Person struct {
	CF       string `json:"cf"`
	Document string `json:"document"`
}

func (p Person) evidence() *api.RequesterEvidence {
	return &api.RequesterEvidence{Method: api.EvidenceDocument, CF: p.CF, Document: p.Document}
}

// Mix weighs what a kiosk does next: a weight of 0 leaves that out.
type Mix struct {
	Lookup  int // identify a person
	Issue   int // issue a certificate about them or their family
	Retry   int // an issuance, then the same request again under its key
	Refusal int // an unknown person, a subject outside the family, an ineligible type
	Burst   int // an offline batch of issuances, sent together
}

// DefaultMix is a counter's day: mostly look-ups and issuances, with some
// retries, refusals and offline batches.
var DefaultMix = Mix{Lookup: 35, Issue: 35, Retry: 10, Refusal: 10, Burst: 10}

var mixNames = []string{"lookup", "issue", "retry", "refusal", "burst"}

func (m *Mix) weights() []*int { return []*int{&m.Lookup, &m.Issue, &m.Retry, &m.Refusal, &m.Burst} }

// ParseMix reads "lookup=40,issue=40,retry=10,refusal=5,burst=5"; kinds
// not named weigh 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		i := slices.Index(mixNames, strings.TrimSpace(name))
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if !ok || i < 0 || err != nil || n < 0 {
			return Mix{}, fmt.Errorf("the mix %q is not a list of KIND=WEIGHT with KIND among %s and WEIGHT a whole number ≥ 0", s, strings.Join(mixNames, ", "))
		}
		*m.weights()[i] = n
	}
	if m.total() == 0 {
		return Mix{}, fmt.Errorf("the mix %q weighs nothing: give at least one kind a weight above 0", s)
	}
	return m, nil
}

func (m Mix) String() string {
	var parts []string
	for i, w := range m.weights() {
		parts = append(parts, fmt.Sprintf("%s=%d", mixNames[i], *w))
	}
	return strings.Join(parts, ",")
}

func (m Mix) total() int {
	n := 0
	for _, w := range m.weights() {
		n += *w
	}
	return n
}

// Config is one run.
type Config struct {
	Kiosks []Kiosk
	// People are the requesters the kiosks serve; the hub tells each
	// kiosk their family and what they may have (their look-up).
	People []Person
	// Duration and MaxRequests bound the run: no request starts after
	// Duration, nor once MaxRequests have been sent. At least one is set.
	Duration    time.Duration
	MaxRequests int
	Mix         Mix // DefaultMix when zero
	// Burst is how many issuances an offline batch holds (5 when 0).
	Burst int
	// HubCAPEM, when set, is the only CA the hubs' TLS certificates are
	// trusted by (a demo hub's own certificate).
	HubCAPEM string
	// Prime has each kiosk look every person up while it sets up, outside
	// the measured run: a counter that has identified the citizen before
	// it issues, so an issuance-only mix then measures issuances alone.
	Prime bool
	// Started, when set, is called as the measured run starts, once every
	// kiosk is set up: a benchmark takes its CPU time from there.
	Started func()
	// Seed makes the choices repeatable; 0 draws one.
	Seed uint64
	Log  *slog.Logger // nil: discard
}

// ErrConfig is a configuration the run cannot start with.
var ErrConfig = errors.New("loadgen: bad configuration")

// Run enrols the kiosks, logs their clerks in, drives the hubs until the
// run's bounds and reports what it measured. A failed enrolment or log-in
// stops it before any load is sent: the figures would mean fewer kiosks.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if len(cfg.Kiosks) == 0 {
		return nil, fmt.Errorf("%w: no kiosks", ErrConfig)
	}
	if len(cfg.People) == 0 {
		return nil, fmt.Errorf("%w: no people to serve", ErrConfig)
	}
	if cfg.Duration <= 0 && cfg.MaxRequests <= 0 {
		return nil, fmt.Errorf("%w: a run needs a duration or a maximum number of requests", ErrConfig)
	}
	if cfg.Mix.total() == 0 {
		cfg.Mix = DefaultMix
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 5
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport, err := newTransport(cfg.HubCAPEM, cfg.Burst)
	if err != nil {
		return nil, err
	}
	defer transport.CloseIdleConnections()

	r := &run{cfg: cfg, log: log, max: int64(cfg.MaxRequests)}
	ws := make([]*worker, len(cfg.Kiosks))
	setupErrs := make([]error, len(cfg.Kiosks))
	var wg sync.WaitGroup
	for i, k := range cfg.Kiosks {
		ws[i] = &worker{run: r, kiosk: k, rng: newRand(cfg.Seed + uint64(i)), known: map[string]*api.Person{},
			times: map[string][]time.Duration{}, refusals: map[string]int{}, errors: map[string]int{},
			// Each kiosk is its own machine: its own connections.
			c: &hubclient.Client{HTTP: &http.Client{Transport: transport.Clone(), Timeout: 30 * time.Second}, Retry: hubclient.Retry{Attempts: 1}}}
		wg.Go(func() { setupErrs[i] = ws[i].setUp(ctx) })
	}
	wg.Wait()
	if err := errors.Join(setupErrs...); err != nil {
		return nil, err
	}

	if cfg.Started != nil {
		cfg.Started()
	}
	start := time.Now()
	if cfg.Duration > 0 {
		r.deadline = start.Add(cfg.Duration)
	}
	for _, w := range ws {
		wg.Go(func() { w.drive(ctx) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, w := range ws {
		w.c.HTTP.CloseIdleConnections()
	}
	return r.report(ws, elapsed), nil
}

func newTransport(caPEM string, conns int) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// A burst sends its requests at once; more idle connections than that
	// would only be closed, fewer would be made again, each a handshake.
	tr.MaxIdleConnsPerHost = conns + 1
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			return nil, fmt.Errorf("%w: the hub's TLS certificate holds no PEM certificate", ErrConfig)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return tr, nil
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// run is what the kiosks share: the bounds and the count of requests.
type run struct {
	cfg      Config
	log      *slog.Logger
	deadline time.Time
	max      int64
	sent     atomic.Int64
	issued   atomic.Int64
}

// take reserves n requests within the run's bounds, all or none.
func (r *run) take(n int) bool {
	if !r.deadline.IsZero() && !time.Now().Before(r.deadline) {
		return false
	}
	for {
		cur := r.sent.Load()
		if r.max > 0 && cur+int64(n) > r.max {
			return false
		}
		if r.sent.CompareAndSwap(cur, cur+int64(n)) {
			return true
		}
	}
}

// errStop means the run's bounds are reached: the kiosk stops.
var errStop = errors.New("the run's bounds are reached")

// worker is one kiosk: its client, its own random choices, and the people
// it has looked up (what the hub answered is what a kiosk's screen offers).
type worker struct {
	run   *run
	kiosk Kiosk
	c     *hubclient.Client
	rng   *rand.Rand
	known map[string]*api.Person

	mu       sync.Mutex // bursts record from several goroutines
	times    map[string][]time.Duration
	setup    []time.Duration
	refusals map[string]int
	errors   map[string]int
}

func (w *worker) setUp(ctx context.Context) error {
	k := w.kiosk
	name := k.Name
	if name == "" {
		name = "loadgen"
	}
	start := time.Now()
	if _, err := w.c.Enrol(ctx, k.Hub, k.Code, name, hubclient.EnrolOptions{HubCAPEM: w.run.cfg.HubCAPEM}); err != nil {
		return fmt.Errorf("kiosk %s cannot enrol at %s: %w", name, k.Hub, err)
	}
	w.setup = append(w.setup, time.Since(start))
	// The code is of the hub's time, which the enrolment's signed answer
	// taught the client.
	code, err := operators.TOTPCode(k.TOTPSecret, totp.StepAt(w.c.HubNow()))
	if err != nil {
		return fmt.Errorf("kiosk %s: the clerk's TOTP secret: %w", name, err)
	}
	start = time.Now()
	s, err := w.c.LogInClerk(ctx, api.ClerkLogin{CF: k.ClerkCF, Password: k.Password, TOTP: code})
	if err != nil {
		return fmt.Errorf("kiosk %s: the clerk %s cannot log in: %w", name, k.ClerkCF, err)
	}
	w.setup = append(w.setup, time.Since(start))
	w.c.SetClerk(s.Token)
	if w.run.cfg.Prime {
		for _, p := range w.run.cfg.People {
			start := time.Now()
			ap, err := w.c.Identify(ctx, api.IdentifyRequest{Requester: *p.evidence(), Channel: api.ChannelCounter})
			if err != nil {
				return fmt.Errorf("kiosk %s cannot look %s up: %w", name, p.CF, err)
			}
			w.setup = append(w.setup, time.Since(start))
			w.known[p.CF] = ap
		}
	}
	return nil
}

func (w *worker) drive(ctx context.Context) {
	mix := w.run.cfg.Mix
	weights := mix.weights()
	total := mix.total()
	ops := []func(context.Context) error{w.lookupOne, w.issueOne, w.retryOne, w.refuseOne, w.burstOne}
	for ctx.Err() == nil {
		pick := w.rng.IntN(total)
		i := 0
		for ; pick >= *weights[i]; i++ {
			pick -= *weights[i]
		}
		if err := ops[i](ctx); errors.Is(err, errStop) {
			return
		}
	}
}

// record notes one request's time and outcome; a request cut short by the
// caller's context is no measure of the hub and is left out.
func (w *worker) record(ctx context.Context, kind string, start time.Time, err error) {
	d := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.times[kind] = append(w.times[kind], d)
	if err != nil {
		w.errors[reasonOf(err)]++
	}
}

func (w *worker) person() Person {
	ps := w.run.cfg.People
	return ps[w.rng.IntN(len(ps))]
}

// lookUp identifies p as a counter does, and remembers the answer.
func (w *worker) lookUp(ctx context.Context, p Person) (*api.Person, error) {
	if !w.run.take(1) {
		return nil, errStop
	}
	start := time.Now()
	ap, err := w.c.Identify(ctx, api.IdentifyRequest{Requester: *p.evidence(), Channel: api.ChannelCounter})
	w.record(ctx, KindLookup, start, err)
	if err != nil {
		return nil, err
	}
	w.known[p.CF] = ap
	return ap, nil
}

func (w *worker) lookupOne(ctx context.Context) error {
	_, err := w.lookUp(ctx, w.person())
	return err
}

// request is a certificate request a kiosk's screen would offer: someone
// it looked up, about themself or a member of their family, one type the
// hub said they may have. It looks someone up first when needed; it
// gives up (nil) after a few people with nothing to offer.
func (w *worker) request(ctx context.Context) (*api.CertificateRequest, error) {
	for range 5 {
		p := w.person()
		ap := w.known[p.CF]
		if ap == nil {
			var err error
			if ap, err = w.lookUp(ctx, p); err != nil {
				return nil, err
			}
		}
		type offer struct {
			cf    string
			types []string
		}
		var offers []offer
		add := func(cf string, e *api.Eligibility) {
			if e == nil {
				return
			}
			var ts []string
			for _, t := range e.Allowed {
				// A historical type needs a date the screen asks for.
				if !certificate.Type(t).Historical() {
					ts = append(ts, t)
				}
			}
			if len(ts) > 0 {
				offers = append(offers, offer{cf, ts})
			}
		}
		add(ap.CF, ap.Eligibility)
		for _, m := range ap.Family {
			add(m.CF, m.Eligibility)
		}
		if len(offers) == 0 {
			continue
		}
		o := offers[w.rng.IntN(len(offers))]
		key, err := hubclient.IdempotencyKey(nil)
		if err != nil {
			return nil, err
		}
		return &api.CertificateRequest{CF: o.cf, Types: []string{o.types[w.rng.IntN(len(o.types))]},
			Requester: p.evidence(), Channel: api.ChannelCounter, IdempotencyKey: key}, nil
	}
	return nil, nil
}

// issue sends req as kind and counts the certificate.
func (w *worker) issue(ctx context.Context, kind string, req *api.CertificateRequest) (*api.Certificate, error) {
	start := time.Now()
	cert, err := w.c.IssueCertificate(ctx, *req)
	w.record(ctx, kind, start, err)
	if err == nil && !cert.Replayed {
		w.run.issued.Add(1)
	}
	return cert, err
}

func (w *worker) issueOne(ctx context.Context) error {
	req, err := w.request(ctx)
	if err != nil || req == nil {
		return err
	}
	if !w.run.take(1) {
		return errStop
	}
	_, err = w.issue(ctx, KindIssue, req)
	return err
}

// retryOne is an issuance whose answer the kiosk did not get, sent again
// under the same key: the hub must answer the same certificate, as a replay.
func (w *worker) retryOne(ctx context.Context) error {
	req, err := w.request(ctx)
	if err != nil || req == nil {
		return err
	}
	if !w.run.take(2) {
		return errStop
	}
	first, err := w.issue(ctx, KindIssue, req)
	if err != nil {
		w.run.sent.Add(-1) // the replay is not sent
		return err
	}
	start := time.Now()
	again, err := w.c.IssueCertificate(ctx, *req)
	if err == nil && (!again.Replayed || again.ID != first.ID) {
		err = fmt.Errorf("%w: the retry of %s answered %s (replayed %v)", errReplayMismatch, first.ID, again.ID, again.Replayed)
		if !again.Replayed {
			w.run.issued.Add(1)
		}
	}
	w.record(ctx, KindReplay, start, err)
	return err
}

var errReplayMismatch = errors.New("replay mismatch")

// refuseOne sends what the hub must refuse, one of: a person the registry
// does not know, a subject outside the requester's family, a type the hub
// said the subject may not have. The refusal is the expected answer.
func (w *worker) refuseOne(ctx context.Context) error {
	p := w.person()
	var send func() error
	switch w.rng.IntN(3) {
	case 0:
		send = func() error {
			_, err := w.c.Identify(ctx, api.IdentifyRequest{Requester: api.RequesterEvidence{Method: api.EvidenceDocument,
				CF: w.stranger(), Document: "CA00000AA"}, Channel: api.ChannelCounter})
			return err
		}
	default:
		ap := w.known[p.CF]
		if ap == nil {
			var err error
			if ap, err = w.lookUp(ctx, p); err != nil {
				return err
			}
		}
		subject, typ := "", ""
		if ap.Eligibility != nil && len(ap.Eligibility.Missing) > 0 {
			subject, typ = ap.CF, ap.Eligibility.Missing[w.rng.IntN(len(ap.Eligibility.Missing))].Type
		}
		if subject == "" || w.rng.IntN(2) == 0 {
			// Someone else: the stranger's code, never a household member.
			subject, typ = w.stranger(), string(certificate.Residenza)
		}
		key, err := hubclient.IdempotencyKey(nil)
		if err != nil {
			return err
		}
		req := api.CertificateRequest{CF: subject, Types: []string{typ}, Requester: p.evidence(), Channel: api.ChannelCounter, IdempotencyKey: key}
		send = func() error { _, err := w.c.IssueCertificate(ctx, req); return err }
	}
	if !w.run.take(1) {
		return errStop
	}
	start := time.Now()
	err := send()
	var ae *hubclient.APIError
	switch {
	case err == nil:
		err = errNotRefused
	case errors.As(err, &ae) && ae.Disposition() == api.Refuse:
		w.record(ctx, KindRefusal, start, nil)
		w.mu.Lock()
		w.refusals[ae.Reason]++
		w.mu.Unlock()
		return nil
	}
	w.record(ctx, KindRefusal, start, err)
	return err
}

var errNotRefused = errors.New("served a request it must refuse")

// stranger is a well-formed codice fiscale of nobody in the demo
// registry: surname and name letters no synthetic resident has (XQJ is
// no consonant run of an Italian name the generator uses), a random birth.
func (w *worker) stranger() string {
	months := "ABCDEHLMPRST"
	first15 := fmt.Sprintf("XQJXQJ%02d%c%02dF205", 40+w.rng.IntN(60), months[w.rng.IntN(12)], 1+w.rng.IntN(28))
	return first15 + string(codicefiscale.CheckChar(first15))
}

// burstOne is a kiosk back on line with a batch queued while it was not:
// its requests go out together, each under the key it was queued with.
func (w *worker) burstOne(ctx context.Context) error {
	n := w.run.cfg.Burst
	reqs := make([]*api.CertificateRequest, 0, n)
	for len(reqs) < n {
		req, err := w.request(ctx)
		if err != nil {
			return err
		}
		if req == nil {
			break
		}
		reqs = append(reqs, req)
	}
	if len(reqs) == 0 {
		return nil
	}
	if !w.run.take(len(reqs)) {
		return errStop
	}
	var wg sync.WaitGroup
	for _, req := range reqs {
		wg.Go(func() { w.issue(ctx, KindBurst, req) })
	}
	wg.Wait()
	return nil
}

// reasonOf names a failed request's cause: the hub's reason code for a
// refusal, else what went wrong on the way.
func reasonOf(err error) string {
	var ae *hubclient.APIError
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.As(err, &ae):
		return ae.Reason
	case errors.Is(err, errReplayMismatch):
		return ReasonReplayMismatch
	case errors.Is(err, errNotRefused):
		return ReasonNotRefused
	case errors.Is(err, hubclient.ErrUnsignedResponse):
		return ReasonUnsigned
	case errors.Is(err, hubclient.ErrBadAnswer):
		return ReasonBadAnswer
	case errors.As(err, &ne), errors.As(err, &ue):
		return ReasonNetwork
	}
	return ReasonOther
}

func (r *run) report(ws []*worker, elapsed time.Duration) *Report {
	rep := &Report{Kiosks: len(ws), Elapsed: elapsed, Kinds: map[string]Latency{}, Refusals: map[string]int{}, Errors: map[string]int{}}
	hubs := map[string]bool{}
	byKind := map[string][]time.Duration{}
	var all, setup []time.Duration
	for _, w := range ws {
		if !hubs[w.kiosk.Hub] {
			hubs[w.kiosk.Hub] = true
			rep.Hubs = append(rep.Hubs, w.kiosk.Hub)
		}
		setup = append(setup, w.setup...)
		for k, ds := range w.times {
			byKind[k] = append(byKind[k], ds...)
			all = append(all, ds...)
		}
		for k, n := range w.refusals {
			rep.Refusals[k] += n
		}
		for k, n := range w.errors {
			rep.Errors[k] += n
		}
	}
	for k, ds := range byKind {
		rep.Kinds[k] = latencyOf(ds)
	}
	rep.Latency = latencyOf(all)
	rep.Setup = latencyOf(setup)
	rep.Requests = len(all)
	rep.Issued = int(r.issued.Load())
	if s := elapsed.Seconds(); s > 0 {
		rep.PerSecond = float64(rep.Requests) / s
		rep.IssuedPerSecond = float64(rep.Issued) / s
	}
	if rep.Requests > 0 {
		rep.ErrorRate = float64(sum(rep.Errors)) / float64(rep.Requests)
	}
	return rep
}

// Package hub builds the whole hub from one Config: the certificate desk,
// the kiosk API, the staff console and the public pages mounted side by
// side in one handler, and the background work (citizens' notices,
// retention, the protocol register's recovery, stale sessions). hub serve,
// the demo, the staff commands that need a desk and the tests all build
// the hub here, so what they run is wired once (issue 16, item 4). It
// keeps no package-level state: two hubs in one process are independent.
package hub

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/admin"
	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/clock"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/keyhandover"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/opendata"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/payment/gpd"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	requestdesk "github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/retention"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/synth"
)

// Config is everything the hub is built from. Listener concerns (address,
// TLS, connection limits, trusted proxies) stay with the caller, which
// serves Handler as it likes.
type Config struct {
	// Stores is the hub's storage, every domain in one transaction: a
	// bbolt file or a PostgreSQL database (Open). When the audit log is
	// anchored it is the anchoring store (store.AnchorAudit).
	Stores store.Store
	// Registry is the register of residents; nil is Stores' registry.
	Registry registry.Store
	// Blobs keeps the certificates' PDFs by content.
	Blobs blob.Store
	// Keys seal certificates and sign the API's answers.
	Keys *seal.Keys
	// Clock is the hub's one clock, handed to every service; nil is the
	// system clock.
	Clock clock.Clock
	// Log hears what the hub does; nil discards.
	Log *slog.Logger
	// Audit records audit entries in transactions of their own; nil
	// records through Stores.
	Audit Recorder
	// Belfiore and PublicURL are what the city's settings stand for until
	// hub city set stores its own: the certifying comune and the URL
	// printed in every certificate's QR.
	Belfiore, PublicURL string

	// CSCAs are the certificates CIEs are checked against (requesters'
	// and clerks' taps); none: CIE taps identify no one.
	CSCAs []*x509.Certificate
	// Notifiers are the channels citizens' notices go out on; none: no
	// notice is queued.
	Notifiers []notify.Notifier
	// Reminders queues the scheduled reminders (a CIE expiring within 90
	// days…) at start and every morning, while a notice channel is on.
	Reminders bool
	// NotifyRetry is the wait before the first retry of a notice; zero
	// is 30 s.
	NotifyRetry time.Duration
	// PagoPA is the city's pagoPA creditor service (its CompanyName is
	// filled in from the city's settings); nil: no pagoPA notices.
	PagoPA *gpd.Client
	// MetricsAllow and MetricsToken say who may read /metrics besides
	// loopback.
	MetricsAllow []netip.Prefix
	MetricsToken string
	// Skew is the clock skew tolerated on signed requests; zero is
	// httpsig's default.
	Skew time.Duration
	// ClerkOptional lets counter look-ups and issuances through without a
	// named clerk logged in at the device (issue 13 requires one; only
	// tests and migrations switch it off).
	ClerkOptional bool
	// AnyHours lets shops issue outside their opening hours (the demo).
	AnyHours bool
	// Demo seeds, on first start, a synthetic city, demo shops, clerks,
	// staff accounts and a month of certificates, and writes the demo's
	// enrolment code and log-ins to Out.
	Demo bool
	Out  io.Writer
	// Version is reported by /healthz and /metrics.
	Version string
	// StorageProbe says, while the disk is full, whether it takes writes
	// again (/healthz); nil: never full.
	StorageProbe func() error
	// Guard runs each piece of background work (Run): hub serve's
	// damage guard on a bbolt file, which turns a read of a file cut short
	// under the hub into an error and stops the hub, instead of a memory
	// fault ending the process with a stack dump. Nil runs them as they are.
	Guard func(fn func() error) error
	// Anchors are the signed audit anchors retention prunes against
	// (anchorlog.Signed); nil: retention prunes no audit entry.
	Anchors retention.Anchors
	// ClockOffset is how far Clock is moved from the machine's
	// (SPORTELLO_CLOCK_OFFSET); each retention run records it.
	ClockOffset time.Duration
}

// Recorder records audit entries, each call in a transaction of its own
// (store.Recorder; the anchoring one of hub serve).
type Recorder interface {
	audit.Recorder
	RecordAll(ctx context.Context, es []audit.Entry) error
}

// Hub is the whole hub built by New.
type Hub struct {
	cfg Config
	// Desk issues certificates.
	Desk *issuance.Service
	// API is the kiosk API; its fields are set by New.
	API *hubapi.Server
	// Console is the staff console and the public pages.
	Console *admin.Console
	// Operators are the shops, offices, devices and clerks.
	Operators *operators.Service
	// Staff are the console's accounts and sessions.
	Staff *staff.Service
	// City is the city's settings, with Belfiore and PublicURL as defaults.
	City *city.Settings
	// Channels are the notice channels on ("appio", "email").
	Channels []string
	notices  *notify.Store

	log       *slog.Logger
	now       clock.Clock
	handler   http.Handler
	handlerMu sync.Once
}

// New builds the hub on cfg. It annuls the protocol numbers a stopped hub
// left reserved before the desk hands out any, and, with Demo, seeds the
// demo city; it starts nothing: Run does the background work.
func New(ctx context.Context, cfg Config) (*Hub, error) {
	if cfg.Stores == nil {
		return nil, errors.New("hub: no store")
	}
	if cfg.Keys == nil {
		return nil, errors.New("hub: no keys")
	}
	if cfg.Blobs == nil {
		return nil, errors.New("hub: no blob store for the certificates' PDFs")
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Registry == nil {
		cfg.Registry = store.RegistryOf(cfg.Stores)
	}
	if cfg.Audit == nil {
		cfg.Audit = store.NewRecorder(cfg.Stores, cfg.Clock)
	}
	if cfg.NotifyRetry <= 0 {
		cfg.NotifyRetry = 30 * time.Second
	}
	h := &Hub{cfg: cfg, log: cfg.Log, now: cfg.Clock}
	log, now := cfg.Log, cfg.Clock
	if cfg.Demo {
		if err := seedDemoCity(ctx, cfg.Registry, now(), log); err != nil {
			return nil, err
		}
	}
	var table *places.Table
	if err := cfg.Registry.View(ctx, func(r registry.Reader) (err error) { table, err = PlaceTable(r); return }); err != nil {
		return nil, err
	}
	// The city's settings, kept in the store, win over Belfiore and
	// PublicURL, which stand for what the settings leave unset.
	h.City = store.CityOf(cfg.Stores, now, CityDefaults(cfg.Belfiore, cfg.PublicURL))
	set, err := h.City.Current()
	if err != nil {
		return nil, err
	}
	issuer, err := set.Issuer(table)
	if err != nil {
		return nil, err
	}
	// Numbers a stopped hub left reserved without a certificate are
	// annulled before the first is handed out, each on the audit log.
	if err := h.RecoverProtocol(ctx); err != nil {
		return nil, err
	}
	desk := &issuance.Service{Registry: cfg.Registry, Stores: cfg.Stores, Blobs: cfg.Blobs, Certs: store.CertificatesOf(cfg.Stores, cfg.Blobs),
		Keys: cfg.Keys, Issuer: issuer, PublicURL: set.PublicURL, Policy: set.CertificatePolicy(), Now: now, Log: log, Audit: cfg.Audit}
	desk.SetPlaces(table)
	desk.Current = DeskSettings(h.City, desk)
	h.Desk = desk

	h.Operators = NewOperators(cfg.Stores, h.City.Defaults, now)
	if cfg.Demo {
		if err := h.seedDemoOperators(ctx); err != nil {
			return nil, err
		}
	}
	api := &hubapi.Server{Store: cfg.Registry, Stores: cfg.Stores, Desk: desk, Log: log, Now: now, Version: cfg.Version,
		StorageProbe: cfg.StorageProbe, MetricsAllow: cfg.MetricsAllow, MetricsToken: cfg.MetricsToken,
		CSCAs: cfg.CSCAs, AnyHours: cfg.AnyHours}
	h.API = api
	h.wireOperators(api)
	if err := h.wirePayments(api); err != nil {
		return nil, err
	}
	h.wireNotices()
	// The same CSCA list identifies requesters by their CIE taps.
	desk.Identify = requesterVerifier(cfg.CSCAs, api, log)
	// Demographic requests (issue 17) go through the same desk's
	// identification and settings; a new address is checked against the
	// city's street list (the embedded one of the synthetic city).
	api.Appointments = store.AppointmentsOf(cfg.Stores, now)
	api.Requests = &requestdesk.Desk{Stores: cfg.Stores, Issuance: desk, Street: synth.DefaultCity().Street, Now: now, Log: log}
	if cfg.Demo {
		if err := h.seedDemoOffices(ctx); err != nil {
			return nil, err
		}
	}

	h.Staff = staff.NewService(store.Domain(cfg.Stores, store.Tx.Staff), now)
	if cfg.Demo {
		if err := h.seedDemoStaff(); err != nil {
			return nil, err
		}
		if err := h.seedDemoCertificates(ctx); err != nil {
			return nil, fmt.Errorf("cannot issue the demo certificates: %w", err)
		}
	}
	con := &admin.Console{
		Stores: cfg.Stores, Staff: h.Staff, Operators: h.Operators, Certs: desk.Certs,
		City: desk.Issuer.Place, FeeCapCents: hubPolicy().FeeCapCents, Settings: h.City, Limits: api.Limits, Now: now, Log: log,
		Kit: KitSections(KitConfig{City: h.City, Operators: h.Operators, Clock: now, API: api, Channels: h.Channels, Serving: true}),
	}
	if h.notices != nil {
		con.Notices = h.notices
	}
	con.Requests = api.Requests
	con.Appointments = api.Appointments
	h.Console = con
	api.Admin = con.Wrap
	return h, nil
}

// Handler is the hub's one handler: the kiosk API, the console and the
// public pages side by side. Built once; fields of API and Console set
// after the first call are not seen.
func (h *Hub) Handler() http.Handler {
	h.handlerMu.Do(func() {
		// The open-data pages are public, beside the API (issue 17).
		pub := http.NewServeMux()
		pub.Handle("/opendata/", &opendata.Handler{Store: h.cfg.Stores, Now: h.now, Log: h.log})
		pub.Handle("/opendata", http.RedirectHandler("/opendata/", http.StatusMovedPermanently))
		pub.Handle("/", h.API.Handler())
		h.handler = pub
	})
	return h.handler
}

// Run does the hub's background work until ctx ends: it delivers
// citizens' notices, queues the scheduled reminders, runs retention now
// and daily, annuls protocol numbers other hubs left reserved, drops
// dead console sessions and accepts the residence changes the office left
// undecided past their term (silence.go). It returns once every piece has
// stopped.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, job := range []func(context.Context){h.runNotices, h.runReminders, h.retentionDaily, h.protocolRecovery, h.purgeSessions, h.silenceAssent} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if h.cfg.Guard == nil {
				job(ctx)
				return
			}
			if err := h.cfg.Guard(func() error { job(ctx); return nil }); err != nil {
				h.log.Error("background work stopped", "err", err)
			}
		}()
	}
	wg.Wait()
}

// Close writes behind what the hub keeps in memory for its store: the
// day's request counts of the limits. The caller closes the store.
func (h *Hub) Close() error {
	if h.API != nil && h.API.Limits != nil {
		if err := h.API.Limits.Store.Flush(context.Background()); err != nil {
			return fmt.Errorf("the day's request counts could not be written: %w", err)
		}
	}
	return nil
}

// wireOperators gives the API the operator store, the device verifier
// (reading device and operator status on every request), the hub's
// response key (the token key until a rotation set one apart; published in
// the JWKS) with the hand-overs that lead kiosks to it, and
// the limits.
func (h *Hub) wireOperators(api *hubapi.Server) {
	cfg := h.cfg
	api.Operators = h.Operators
	// Counter look-ups and issuances need a named clerk logged in at the
	// device (issue 13: a shared shop PIN is not enough).
	api.Clerks = h.Operators
	api.RequireClerk = !cfg.ClerkOptional
	refusals := &httpsig.RefusalCounter{}
	api.Refusals = refusals
	// One window for the requests the hub checks and the answers it signs.
	window := httpsig.DefaultWindow
	if cfg.Skew != 0 {
		window.Skew = cfg.Skew
	}
	// Used nonces live in the hub's store, so a request captured on the
	// wire is still a replay after a restart inside its validity window,
	// and to every hub on the same database.
	api.Verifier = &httpsig.Verifier{Keys: h.Operators, Nonces: cfg.Stores.Nonces(), Clock: h.now, Window: window, Metrics: refusals, Logger: h.log}
	api.HubSigner = &httpsig.Signer{Key: cfg.Keys.ResponseKey, KeyID: cfg.Keys.ResponseKeyID, Clock: h.now, Window: window}
	if len(cfg.Keys.Handovers) > 0 {
		api.KeyHandover = keyhandover.Encode(cfg.Keys.Handovers)
	}
	// The limits read the city's thresholds at each request, so `hub city
	// set --limit-…` holds from the next one; their alerts and daily counts
	// live in the store, their rate buckets in memory.
	cs := h.City
	api.Limits = &limits.Guard{Store: cfg.Stores.Limits(), Now: h.now, Settings: func() (limits.Settings, error) {
		c, err := cs.Current()
		return c.Limits, err
	}}
}

// wirePayments keeps payments in the hub's store and lets the desk use
// them: self-service requests with a cost are issued only once paid
// (issue 15), at the shop's till or, with PagoPA, by a pagoPA notice.
func (h *Hub) wirePayments(api *hubapi.Server) error {
	st := store.PaymentsOf(h.cfg.Stores)
	h.Desk.Payments = deskPayments{st}
	api.Payments = &payment.Service{Store: st, Now: h.now}
	if h.cfg.PagoPA != nil {
		set, err := h.Desk.Settings()
		if err != nil {
			return err
		}
		c := *h.cfg.PagoPA
		c.CompanyName = set.Issuer.Comune
		api.Payments.Gateway = &c
	}
	return nil
}

// deskPayments is what the desk needs of the payments: the check before a
// number is reserved, through the hub's store (the use is in the issuing
// transaction, tx.Payments().Use).
type deskPayments struct{ payment.Store }

func (d deskPayments) Check(id string, c payment.Claim, now time.Time) (payment.Payment, error) {
	return payment.Check(d.Store, id, c, now)
}

// purgeSessions drops dead console sessions now and hourly; a live hub
// would otherwise keep every session ever opened.
func (h *Hub) purgeSessions(ctx context.Context) {
	for {
		if n, err := h.Staff.PurgeSessions(); err != nil {
			h.log.Warn("admin: cannot purge sessions", "err", err)
		} else if n > 0 {
			h.log.Info("admin: sessions purged", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// hubPolicy is the operators' policy where no city settings apply: Milan's.
func hubPolicy() operators.Policy { return city.Milan().Policy() }

// CityDefaults are what unset city settings stand for: Milan's programme,
// with the comune and public URL the hub was started with.
func CityDefaults(belfiore, publicURL string) city.Config {
	d := city.Milan()
	if belfiore != "" {
		d.Belfiore = strings.ToUpper(belfiore)
	}
	d.PublicURL = publicURL
	return d
}

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/cardreader/pcsc"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/keystore"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/kiosk/ui"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
)

// appCommand is the app itself: `kiosk [flags]` runs it (see main.go).
const appCommand = "run"

func init() {
	register(command{Name: appCommand,
		Usage: "[--hub URL] [--profile DIR] [--mode operator|self-service] [--demo] [--lang it|en] [--high-contrast] [--windowed] [--nis NIS] [--shots DIR] [--secret-stdin | --secret-file FILE]",
		Help:  "run the kiosk app (the default: `kiosk --demo` is `kiosk run --demo`)", Run: (*cli).app})
}

// shopConfig is PROFILE/kiosk.json: what the set-up writes once (see
// kiosk.ShopConfig for its format).
type shopConfig = kiosk.ShopConfig

// loadShop reads the profile's kiosk.json. Without one, the demo writes the
// demo shop's; anything else is kiosk.ErrNoShopConfig, and the app starts
// into its set-up screen.
func loadShop(dir string, demo bool) (*shopConfig, error) {
	cfg, err := kiosk.ReadShopConfig(dir)
	if errors.Is(err, kiosk.ErrNoShopConfig) && demo {
		cfg = &shopConfig{Shop: "Edicola Demo", Address: "Piazza del Duomo 1, Milano",
			A4Printer:      "dir:" + filepath.Join(dir, "print", "a4"),
			ReceiptPrinter: "dir:" + filepath.Join(dir, "print", "receipts"), ReceiptModel: "tm-t20", Lat: 45.4642, Lon: 9.1900}
		if err := kiosk.WriteShopConfig(dir, *cfg); err != nil {
			return nil, fmt.Errorf("cannot write the demo shop's configuration: %w", err)
		}
		return cfg, nil
	}
	if errors.Is(err, kiosk.ErrNoShopConfig) {
		return nil, fmt.Errorf("%w: run kiosk (its set-up screen) or kiosk setup --profile %s, which write it from the hub's agreement and the printers found", err, dir)
	}
	return cfg, err
}

// openJobPrinter opens a printer URI, dir:PATH included, with the spool in
// the profile; lang is the kiosk's start language, for printers that answer.
func openJobPrinter(ctx context.Context, uri string, spool printer.Spool, lang string) (*printer.Printer, error) {
	if dir, ok := strings.CutPrefix(uri, "dir:"); ok {
		return &printer.Printer{URI: uri, Transport: &kiosk.DirTransport{Dir: dir}, Spool: spool}, nil
	}
	tr, _, err := openPrinter(ctx, uri, lang)
	if err != nil {
		return nil, err
	}
	return &printer.Printer{URI: uri, Transport: tr, Spool: spool}, nil
}

// station is the kiosk's profile opened: the enrolment with its keys
// unsealed, the shop's configuration, the outbox (the journal of every
// request, with the spool of print jobs in the same file), the printers,
// the caches and the day's journal of sales.
type station struct {
	prof    *hubclient.Profile
	shop    *shopConfig
	a4, rp  *printer.Printer
	outbox  *outbox.Outbox
	spool   *kiosk.JobSpool
	cache   *kiosk.Cache
	journal *kiosk.FileJournal
}

// spoolDir is where kiosks before the spool moved into the outbox file kept
// the jobs that did not print, sealed with the spool key; openStation moves
// them into the outbox.
func spoolDir(profile string) string { return filepath.Join(profile, "print-spool") }

// outboxPath is the outbox file in a profile.
func outboxPath(profile string) string { return filepath.Join(profile, "outbox.db") }

// openStation opens what the kiosk keeps in its profile directory dir.
func (c *cli) openStation(ctx context.Context, dir string, demo bool, lang string, sf *secretFlags, log *slog.Logger) (_ *station, err error) {
	prof, keys, err := c.openPrivateProfile(dir, sf)
	if err != nil {
		return nil, err
	}
	return c.openStationWith(ctx, dir, demo, lang, prof, keys, log)
}

// hubClient is the signed client of the kiosk enrolled in dir, on the
// kiosk's clock. A new hub key it accepts, handed over by the one pinned,
// is kept in the profile, so the kiosk keeps talking after restarts too.
func (c *cli) hubClient(prof *hubclient.Profile, dir string) *hubclient.Client {
	client := hubclient.New(prof)
	client.Clock = c.now
	client.OnHubKey = func(p *hubclient.Profile) {
		if err := keystore.SetHubKey(dir, p); err != nil {
			fmt.Fprintf(c.stderr, "kiosk: the hub's new key %s is in use but could not be kept in the profile: %s\n", p.HubKeyID, cmdline.Sentence(err.Error()))
			return
		}
		fmt.Fprintf(c.stderr, "kiosk: the hub's answers are signed by its new key %s, handed over by the one pinned; kept in the profile\n", p.HubKeyID)
	}
	return client
}

// openPrivateProfile is openProfile on a profile made the kiosk user's
// only: it holds keys and personal data, even when someone made it by hand
// with a looser mode.
func (c *cli) openPrivateProfile(dir string, sf *secretFlags) (*hubclient.Profile, keystore.Keys, error) {
	if _, serr := os.Stat(dir); serr == nil {
		if err := atomicfile.PrivateDir(dir); err != nil {
			return nil, keystore.Keys{}, err
		}
	}
	return c.openProfile(dir, sf)
}

// openStationWith is openStation with the profile already unsealed.
func (c *cli) openStationWith(ctx context.Context, dir string, demo bool, lang string, prof *hubclient.Profile, keys keystore.Keys, log *slog.Logger) (_ *station, err error) {
	shop, err := loadShop(dir, demo)
	if err != nil {
		return nil, err
	}
	st := &station{prof: prof, shop: shop, cache: &kiosk.Cache{Path: kiosk.CachePath(dir)},
		journal: &kiosk.FileJournal{Path: filepath.Join(dir, "sales.jsonl")}}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	// Every request is written here before it is sent, its personal data
	// encrypted with the outbox key; so are the print jobs, committed
	// with the hub's answer.
	if st.outbox, err = outbox.Open(outboxPath(dir), outbox.Options{Key: keys.Outbox, Logger: log}); err != nil {
		return nil, err
	}
	st.spool = &kiosk.JobSpool{Outbox: st.outbox}
	if err := migrateSpool(dir, keys.Spool, st.spool); err != nil {
		return nil, err
	}
	if st.a4, err = openJobPrinter(ctx, shop.A4Printer, st.spool, lang); err != nil {
		return nil, fmt.Errorf("A4 printer %s: %w", shop.A4Printer, err)
	}
	if st.rp, err = openJobPrinter(ctx, shop.ReceiptPrinter, st.spool, lang); err != nil {
		return nil, fmt.Errorf("receipt printer %s: %w", shop.ReceiptPrinter, err)
	}
	return st, nil
}

// migrateSpool moves the jobs an earlier kiosk kept in the profile's spool
// directory into the outbox's spool, and removes the directory once empty.
func migrateSpool(profile string, key []byte, to printer.Spool) error {
	if _, err := os.Stat(spoolDir(profile)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old, err := printer.NewDirSpool(spoolDir(profile), key)
	if err != nil {
		return err
	}
	jobs, err := old.List()
	if err != nil {
		return fmt.Errorf("the jobs kept in %s cannot be moved to the outbox: %w", spoolDir(profile), err)
	}
	for _, j := range jobs {
		if err := to.Put(j); err != nil {
			return err
		}
		if err := old.Delete(j.ID); err != nil {
			return err
		}
	}
	// Only an empty directory goes; anything else left there is for a person to look at.
	os.Remove(spoolDir(profile))
	return nil
}

func (s *station) Close() {
	if s.outbox != nil {
		s.outbox.Close()
	}
	for _, p := range []*printer.Printer{s.a4, s.rp} {
		if p != nil {
			p.Transport.Close()
		}
	}
}

// appOptions are the app's flags.
type appOptions struct {
	hubURL, profile, modeName, lang, nis, shots string
	demo, contrast, windowed                    bool
	cscaFiles                                   []string
}

func (c *cli) app(ctx context.Context, args []string) error {
	start := time.Now()
	var o appOptions
	fs := cmdline.FlagSet("kiosk")
	fs.StringVar(&o.hubURL, "hub", "", "the hub's URL (default: the one the profile enrolled with)")
	fs.StringVar(&o.profile, "profile", defaultProfileDir(), "kiosk profile `DIR`: enrolment, shop configuration, outbox, journal")
	fs.StringVar(&o.modeName, "mode", "", "operator or self-service (default: the shop configuration's, which the set-up takes from the enrolment)")
	fs.BoolVar(&o.demo, "demo", false, "virtual CIE in-process (the demo hub's clerk logs in with it, PIN "+virtual.DemoPIN+"), file printers under the profile")
	fs.StringVar(&o.lang, "lang", "it", "start language, it or en")
	fs.BoolVar(&o.contrast, "high-contrast", false, "start with the high-contrast palette")
	fs.BoolVar(&o.windowed, "windowed", false, "self-service in a window rather than full screen")
	fs.StringVar(&o.nis, "nis", "", "the virtual card's NIS in --demo (a person of the demo registry)")
	var cscaFiles listFlag
	fs.Var(&cscaFiles, "csca", "PEM file of trusted CSCA certificates (repeatable)")
	fs.StringVar(&o.shots, "shots", "", "walk through the main screens, save each as DIR/NAME.png, and quit (documentation)")
	sf := addSecretFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	o.cscaFiles = cscaFiles
	if o.lang != "it" && o.lang != "en" {
		return cmdline.Usagef("--lang %q is neither it nor en", o.lang)
	}
	if err := plainHubURL(o.hubURL); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	prof, keys, err := c.openPrivateProfile(o.profile, sf)
	if err != nil {
		return err
	}
	if o.modeName != "" {
		if _, err := kiosk.ParseMode(o.modeName); err != nil {
			return cmdline.Usagef("%s", err)
		}
	}
	if o.hubURL != "" {
		prof.HubURL = o.hubURL
	}
	// A profile enrolled but never set up starts into the set-up screen,
	// which writes kiosk.json from the hub's agreement and the printers
	// found; then the kiosk starts in the same window.
	_, err = loadShop(o.profile, o.demo)
	needSetup := errors.Is(err, kiosk.ErrNoShopConfig)
	if err != nil && !needSetup {
		return err
	}
	if needSetup && o.shots != "" {
		return fmt.Errorf("%w: --shots walks the screens of a set-up kiosk; run kiosk setup --profile %s first", kiosk.ErrNoShopConfig, o.profile)
	}

	cat, err := kiosk.LoadCatalog(assets.FS, "i18n")
	if err != nil {
		return err
	}
	var (
		mu       sync.Mutex
		running  *kioskRun
		startErr error
	)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		if running != nil {
			running.close()
		}
	}()
	// A set-up kiosk opens everything before any window, so that what
	// cannot open (a damaged outbox, a printer) is told without one.
	if !needSetup {
		if running, err = c.startKiosk(ctx, o, prof, keys, log); err != nil {
			return err
		}
	}
	a := fyneapp.NewWithID("it.sportello.kiosk")
	w := a.NewWindow(cat.T(kiosk.Lang(o.lang), "app_title"))
	w.Resize(fyne.NewSize(1024, 720))
	// show puts the running kiosk's screens in the window; on the UI goroutine.
	show := func(r *kioskRun) {
		u := ui.New(a, r.flow, cat)
		if r.mode == kiosk.SelfService {
			// Speech mode's voice (F1 or "Guida vocale"): espeak-ng, from
			// Debian's package of that name.
			u.SetSpeaker(&kiosk.Espeak{})
		}
		if o.contrast {
			u.SetHighContrast(true)
		}
		w.SetContent(u.Content())
		if r.mode == kiosk.SelfService && !o.windowed && o.shots == "" {
			w.SetFullScreen(true)
		}
		u.Start(r.ctx)
		if o.shots != "" {
			a.Lifecycle().SetOnStarted(func() {
				fmt.Fprintf(c.stdout, "window shown %d ms after start\n", time.Since(start).Milliseconds())
			})
			go func() {
				if err := walkScreens(r.ctx, r.flow, u, w, o.shots, r.mode, start, c); err != nil {
					fmt.Fprintf(c.stderr, "kiosk: screenshots: %s\n", cmdline.Sentence(err.Error()))
				}
				fyne.Do(a.Quit)
			}()
		}
	}
	if needSetup {
		client := c.hubClient(prof, o.profile)
		env := &setupEnv{client: client, dir: o.profile, cups: defaultCUPS}
		s, err := kiosk.NewSetup(env.deps(c.now), kiosk.Lang(o.lang))
		if err != nil {
			return err
		}
		su := ui.NewSetup(a, s, cat)
		su.Saved = func(kiosk.ShopConfig) {
			go func() {
				r, err := c.startKiosk(ctx, o, prof, keys, log)
				mu.Lock()
				running, startErr = r, err
				mu.Unlock()
				if err != nil {
					fyne.Do(a.Quit)
					return
				}
				fyne.Do(func() { show(r) })
			}()
		}
		w.SetContent(su.Content())
		su.Detect(ctx)
	} else {
		show(running)
	}
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	mu.Lock()
	defer mu.Unlock()
	return startErr
}

// kioskRun is the kiosk started: its flow, its mode, the context its
// sender and watchers run in, and what close stops and releases.
type kioskRun struct {
	flow  *kiosk.Flow
	mode  kiosk.Mode
	ctx   context.Context
	close func()
}

// startKiosk opens the set-up profile's station, the hub client, the card
// reader and the flow, and starts the sender; nothing of it is a window.
func (c *cli) startKiosk(ctx context.Context, o appOptions, prof *hubclient.Profile, keys keystore.Keys, log *slog.Logger) (_ *kioskRun, err error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	st, err := c.openStationWith(ctx, o.profile, o.demo, o.lang, prof, keys, log)
	if err != nil {
		return nil, err
	}
	closers = append(closers, st.Close)
	shop := st.shop
	mode := kiosk.Operator
	if m := firstNonEmpty(o.modeName, shop.Mode); m != "" {
		if mode, err = kiosk.ParseMode(m); err != nil {
			return nil, cmdline.Usagef("%s", err)
		}
	}

	client := c.hubClient(prof, o.profile)
	client.Retry = hubclient.Retry{Attempts: 2}

	// What the agreement allows and charges: from the hub when it answers,
	// else from the copy kept in the profile when it last did.
	cfg := kiosk.Config{Mode: mode, Shop: shop.Shop, Address: shop.Address, LegalName: shop.LegalName, PartitaIVA: shop.PartitaIVA, OperatorID: prof.OperatorID,
		Lang: kiosk.Lang(o.lang), IdleTimeout: time.Duration(shop.IdleSeconds) * time.Second}
	cache := st.cache
	fetchAgreement := kiosk.FetchAgreement(client, c.now)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	// The offline limits are the city's, with the agreement; the defaults
	// until the hub has ever said.
	var offline *kiosk.Agreement
	if a, err := cache.Agreement(sctx, fetchAgreement); err == nil {
		offline = &a
		cfg.ServiceCents, cfg.Types, cfg.AgreementAsOf, cfg.AgreementCached = a.FeeCents, a.Types, a.Fetched, a.Cached
		cfg.Policy = a.Policy(cfg.Policy)
		if cfg.Shop == "" {
			cfg.Shop = a.OperatorName
		}
		if a.Cached {
			log.Warn("the hub cannot be reached: fees and types come from the kept copy", "as_of", a.Fetched)
		}
	} else {
		log.Warn("the hub did not say what this device may issue; offering every type", "err", err)
	}
	cancel()
	if err := st.outbox.SetLimits(kiosk.OutboxLimits(offline)); err != nil {
		return nil, err
	}
	// The hub charges the agreement's fee on every channel: the preview
	// shows the same (a city's own self-service kiosks have a fee of 0).

	// Card reader.
	var cscas []*x509.Certificate
	for _, f := range o.cscaFiles {
		certs, err := loadCerts(f)
		if err != nil {
			return nil, err
		}
		cscas = append(cscas, certs...)
	}
	var prov cardreader.Provider
	var pinOpt cie.PINOptions
	if o.demo {
		ca, err := virtual.TestCSCA()
		if err != nil {
			return nil, err
		}
		cscas = append(cscas, ca)
		if pinOpt.Auth, err = virtual.TestDeviceAuth(); err != nil {
			return nil, err
		}
		card, err := virtual.New(virtual.Config{NIS: firstNonEmpty(o.nis, shop.DemoNIS)})
		if err != nil {
			return nil, cmdline.Usagef("%s", err)
		}
		prov = cardreader.NewInProcess("Sportello virtual CIE", card)
		fmt.Fprintf(c.stdout, "demo: virtual CIE with NIS %s (PIN %s): the demo hub's clerk logs in with it, and it identifies the citizen too; printing to %s\n",
			card.NIS(), virtual.DemoPIN, filepath.Join(o.profile, "print"))
	} else {
		p, err := pcsc.New()
		if err != nil {
			return nil, err
		}
		prov = p
	}
	closers = append(closers, func() { prov.Close() })
	// Each tap is bound to this device's key and stamped with the clock
	// its requests are signed with, as the hub judges a tap's age by its own.
	reader := &kiosk.CIEReader{Provider: prov, CSCAs: cscas, PIN: pinOpt, Now: c.now, KeyID: prof.KeyID, TapClock: client.HubNow}
	closers = append(closers, func() { reader.Close() })

	ob := st.outbox

	var places func(context.Context) (kiosk.Directory, error)
	fetchPlaces := kiosk.FetchDirectory(client, shop.Lat, shop.Lon, c.now)
	if shop.Lat != 0 || shop.Lon != 0 {
		places = func(ctx context.Context) (kiosk.Directory, error) { return cache.Directory(ctx, fetchPlaces) }
	}
	var flow *kiosk.Flow
	// On each status poll that reaches the hub: the backlog report (sent
	// when it changed), and the caches' refresh every quarter of an hour.
	reporter := &kiosk.BacklogReporter{Stats: ob.Stats, Send: client.ReportBacklog, Now: c.now}
	refresh := kiosk.Throttle(15*time.Minute, c.now, func(ctx context.Context) error {
		a, err := cache.Agreement(ctx, fetchAgreement)
		if err == nil && !a.Cached {
			flow.SetAgreement(a)
			if lerr := ob.SetLimits(kiosk.OutboxLimits(&a)); lerr != nil {
				log.Warn("the city's offline limits could not be applied", "err", lerr)
			}
		}
		if places != nil {
			_, derr := places(ctx)
			err = errors.Join(err, derr)
		}
		return err
	})
	onContact := func(ctx context.Context) {
		if err := reporter.Report(ctx); err != nil {
			log.Info("the offline backlog could not be reported to the hub", "err", err)
		}
		if err := refresh(ctx); err != nil {
			log.Info("the agreement and directory copies could not be refreshed", "err", err)
		}
	}
	k, err := c.counter(st, client, cfg, kiosk.Deps{Reader: reader, Clock: kiosk.ClockFunc(c.now), Log: log, Places: places, OnContact: onContact})
	if err != nil {
		return nil, err
	}
	flow = k.flow
	runCtx, stopRun := context.WithCancel(ctx)
	closers = append(closers, stopRun)
	go k.run(runCtx)
	// A real reader says when a card is placed: the start and identification
	// screens read it at once. The demo's virtual card is always "on the
	// reader", so there the buttons stay the way in.
	if !o.demo {
		go flow.WatchCards(runCtx, reader, 0)
	}
	return &kioskRun{flow: flow, mode: mode, ctx: runCtx, close: closeAll}, nil
}

// counter is the sale's machinery as the app runs it, and as the crash test
// runs it without a window: the flow over the signed hub client, the outbox
// as the journal of every request with its print spool, the printers, and
// the outbox's sender.
type counter struct {
	flow   *kiosk.Flow
	sender *outbox.Sender
	log    *slog.Logger
}

// crashEnv names a step of a sale at which the kiosk kills itself with
// SIGKILL: journal, sent, answered, delivered, print-a4 or print-receipt
// (see crashSteps). It is for the crash test only (cmd/kiosk
// TestKillAtEachStep), which proves that a restart finishes whatever a kill
// there leaves: one certificate, one charge, every print done once or
// waiting in `kiosk printer jobs`.
const crashEnv = "SPORTELLO_CRASH_AT"

// crashSteps are the steps crashEnv may name, from "Conferma" to the
// printed receipt.
var crashSteps = []string{"journal", "sent", "answered", "delivered", "print-a4", "print-receipt"}

// crashAt returns a function that kills this process if crashEnv names
// step, else nil.
func crashAt(step string) func() {
	if os.Getenv(crashEnv) != step {
		return nil
	}
	return func() {
		p, err := os.FindProcess(os.Getpid())
		if err == nil {
			p.Kill() // SIGKILL: no deferred function, no flush, no close
		}
		for {
			time.Sleep(time.Second) // the signal is on its way
		}
	}
}

// counter wires the flow for station st. deps brings what the caller
// chooses (card reader, clock, log, directory, contact hook); the hub, the
// printers, the outbox and the journal are the station's.
func (c *cli) counter(st *station, client *hubclient.Client, cfg kiosk.Config, deps kiosk.Deps) (*counter, error) {
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hub := kiosk.NewClientHub(client)
	hub.Sent = crashAt("sent")
	prof58, err := escpos.Lookup(firstNonEmpty(st.shop.ReceiptModel, "tm-t20"), 0)
	if err != nil {
		return nil, err
	}
	if kill := crashAt("print-a4"); kill != nil {
		st.a4.Sent = func(printer.Job) { kill() }
	}
	if kill := crashAt("print-receipt"); kill != nil {
		st.rp.Sent = func(printer.Job) { kill() }
	}
	// Self-service takes payment through the hub before anything prints;
	// the counter confirms its till's payments through it too.
	payments := kiosk.NewClientPayments(client)
	methods, err := st.shop.PayMethods()
	if err != nil {
		return nil, err
	}
	cfg.PayMethods = methods
	queue := &kiosk.Queue{Outbox: st.outbox, Hub: hub, Answered: crashAt("answered"), Payments: payments, PayMethods: methods}
	deps.Hub, deps.Outbox, deps.Journal, deps.Payments = hub, queue, st.journal, payments
	deps.Printers = &kiosk.DevicePrinters{A4: st.a4, Receipt: st.rp, Profile: prof58, Now: c.now}
	if os.Getenv(crashEnv) != "" {
		deps.Checkpoint = func(step string) {
			if kill := crashAt(step); kill != nil {
				kill()
			}
		}
	}
	flow, err := kiosk.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	k := &counter{flow: flow, log: log}
	deliver := kiosk.Deliverer(hub, flow.Render())
	if cfg.Mode == kiosk.SelfService {
		// Nobody watches a self-service kiosk's tray: what the sender
		// delivers is kept for its collection there, by claim code and
		// the same CIE, and nothing is printed (issue 15, item 5).
		deliver = kiosk.SelfServiceDeliverer(hub, payments, methods)
	}
	k.sender = st.outbox.NewSender(deliver, outbox.SenderOptions{Logger: log, OnResult: func(o outbox.Outcome) {
		settleOutcome(context.Background(), flow, o, log)
	}})
	return k, nil
}

// run first finishes what the last run left unfinished (the screen then
// says what), then drains the outbox until ctx ends.
func (k *counter) run(ctx context.Context) {
	if _, err := k.flow.Recover(ctx); err != nil && ctx.Err() == nil {
		k.log.Warn("finishing what the last run left failed", "err", err)
	}
	k.sender.Run(ctx)
}

// settleOutcome tells the flow what the hub made of a queued request: the
// day's journal records it, and an issued certificate's jobs, committed
// with the answer, are printed for the citizen who left with a claim
// receipt.
func settleOutcome(ctx context.Context, flow *kiosk.Flow, o outbox.Outcome, log *slog.Logger) {
	e := o.Entry
	c := kiosk.Claimed{Code: e.ClaimCode, Queued: e.EnqueuedAt, Settled: e.DoneAt, AmountCents: e.AmountCents}
	switch {
	case e.State == outbox.Delivered && e.Kind == kiosk.QueuePayKind:
		// Confirmed: the hub made the payment of a self-service request
		// queued while it was away. Nothing is sold until it is paid at
		// its collection, nothing printed.
		log.Info("a queued self-service request was confirmed; it waits for its collection", "claim", e.ClaimCode)
	case e.State == outbox.Delivered:
		var is kiosk.Issued
		if err := json.Unmarshal(o.Result.Body, &is); err != nil {
			log.Error("the hub's answer to a delivered request is not readable", "claim", e.ClaimCode, "err", err)
			return
		}
		c.State, c.Issued = kiosk.ClaimIssued, &is
		flow.Settle(c)
		var ids []string
		for _, j := range o.Result.Jobs {
			ids = append(ids, j.ID)
		}
		if len(ids) == 0 {
			return // kept for its collection (a self-service kiosk's)
		}
		if err := flow.PrintJobs(ctx, ids); err != nil {
			log.Error("a delivered request did not print; it waits in the spool (kiosk printer jobs)", "protocol", is.Protocol, "err", err)
		}
	case e.State == outbox.Refused:
		c.State = kiosk.ClaimRefused
		if e.Refusal != nil {
			c.Reason, c.Message = e.Refusal.Reason, e.Refusal.Message
		}
		flow.Settle(c)
		log.Warn("the hub refused a queued request", "claim", e.ClaimCode, "reason", c.Reason)
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// walkScreens drives the demo through the main screens and saves each as
// rendered in the real window, for the README.
func walkScreens(ctx context.Context, flow *kiosk.Flow, u *ui.UI, w fyne.Window, dir string, mode kiosk.Mode, start time.Time, c *cli) error {
	// The screens show a person's data: the kiosk user's only.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// Fyne's Capture of a GL window reads a buffer Mesa has already swapped
	// away under Xvfb, so the screen itself is read, as a user's screenshot
	// would be: xwd (x11-apps) and netpbm, cut to the window (at 0,0 with no
	// window manager).
	shot := func(name string) error {
		time.Sleep(700 * time.Millisecond) // let the window draw the change
		var size fyne.Size
		var scale float32
		fyne.DoAndWait(func() { size, scale = w.Canvas().Size(), w.Canvas().Scale() })
		path := filepath.Join(dir, name+".png")
		script := fmt.Sprintf("set -o pipefail; xwd -root -silent | xwdtopnm 2>/dev/null | pnmcut -left 0 -top 0 -width %d -height %d | pnmtopng",
			int(size.Width*scale), int(size.Height*scale))
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Stderr = &stderr
		png, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("capturing the screen with xwd and netpbm (Debian x11-apps, netpbm): %v: %s", err, stderr.Bytes())
		}
		// 0600 whether or not the file was there before, with a looser mode.
		if err := atomicfile.Write(path, png, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "screenshot %s\n", path)
		return nil
	}
	flow.RefreshStatus(ctx)
	var steps []struct {
		name string
		act  func() error
	}
	add := func(name string, act func() error) {
		steps = append(steps, struct {
			name string
			act  func() error
		}{name, act})
	}
	if mode == kiosk.SelfService {
		add("selfservice-start", func() error { return nil })
		add("selfservice-start-en-high-contrast", func() error {
			fyne.DoAndWait(func() { u.SetHighContrast(true) })
			return flow.SetLang(kiosk.English)
		})
		add("selfservice-pin", func() error {
			fyne.DoAndWait(func() { u.SetHighContrast(false) })
			return flow.TapCard(ctx)
		})
		add("selfservice-choose", func() error { return flow.EnterPIN(ctx, virtual.DemoPIN) })
		add("selfservice-dossier", func() error { return flow.ShowDossier(ctx) })
		add("selfservice-delegations", func() error { return flow.ShowDelegations(ctx) })
		add("selfservice-review", func() error {
			if err := flow.CloseRecords(); err != nil {
				return err
			}
			v := flow.View()
			return flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia}})
		})
		// Nothing prints before it is paid: the walk stops at the pay screen.
		add("selfservice-pay", func() error { return flow.Confirm(ctx) })
	} else {
		add("operator-login", func() error { return nil })
		add("operator-identify", func() error { return flow.LoginCard(ctx, virtual.DemoPIN) })
		add("operator-choose", func() error { return flow.TapCard(ctx) })
		add("operator-dossier", func() error { return flow.ShowDossier(ctx) })
		add("operator-review", func() error {
			if err := flow.CloseRecords(); err != nil {
				return err
			}
			v := flow.View()
			return flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza}})
		})
		add("operator-done", func() error { return flow.Confirm(ctx) })
		add("operator-summary", func() error { return flow.ShowSummary() })
	}
	for _, s := range steps {
		if err := s.act(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := shot(s.name); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/control"
	"github.com/sportello/sportello/internal/frontdoor"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/sdnotify"
	"github.com/sportello/sportello/internal/store"
)

// demoPersons is the size of the city --demo seeds on first start.
const demoPersons = hubcore.DemoPersons

func init() {
	register(
		command{Name: "serve", Usage: "[--data DIR] [--addr HOST:PORT] [--demo] [--public-url URL] [--city BELFIORE] [--tls-cert FILE --tls-key FILE | --tls-self-signed | --insecure-plain-http [--trusted-proxy CIDR]...] [--read-timeout D] [--write-timeout D] [--idle-timeout D] [--max-connections N] [--max-connections-per-address N] [--metrics-allow CIDR]... [--metrics-token-file FILE] [--audit-journal SOCKET] [--appio-url URL --appio-key-file FILE] [--smtp-addr HOST:PORT --smtp-from ADDRESS [--smtp-require-tls]] [--notify-retry D] [--pagopa-url URL --pagopa-key-file FILE --pagopa-creditor CF --pagopa-segregation-code NN --pagopa-iban IBAN --pagopa-category CODE] [--csca FILE]... [--seal-p12 FILE --seal-p12-password-file FILE]", Help: "run the hub's HTTP server", Run: (*cli).serve},
	)
}

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub serve")
	data := c.dataFlag(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	demo := fs.Bool("demo", false, "seed a synthetic city on first start and serve HTTPS with a certificate of its own; refuses a data directory with other data")
	publicURL := fs.String("public-url", os.Getenv("SPORTELLO_PUBLIC_URL"), "the hub's public URL, printed in every certificate's QR, unless hub city set stored one (default: the listening address)")
	city := fs.String("city", envOr("SPORTELLO_CITY", "F205"), "Belfiore code of the certifying comune, unless hub city set stored one")
	apiFlags := addServeFlags(fs)
	metrics := addMetricsFlags(fs)
	var cscaFiles listFlag
	fs.Var(&cscaFiles, "csca", "PEM `FILE` of the CSCA certificates CIEs are checked against (repeatable; --demo adds the virtual cards' test CSCA)")
	auditJournal := fs.String("audit-journal", "", "also copy each signed audit anchor to the systemd journal at this socket (usually "+anchorlog.JournalSocket+"); off by default")
	notices := addNotifyFlags(fs)
	pagoPA := addPagoPAFlags(fs)
	c.addSealFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if c.systemdErr != nil {
		return c.systemdErr
	}
	if err := c.seal.check(); err != nil {
		return err
	}
	if err := notices.check(); err != nil {
		return err
	}
	if err := pagoPA.check(); err != nil {
		return err
	}
	if err := apiFlags.check(*demo); err != nil {
		return err
	}
	if err := metrics.check(); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" { // an operator's explicit GOGC wins
		debug.SetGCPercent(hubcore.ServeGCPercent)
	}
	if c.store != nil {
		return errors.New("another hub is already serving from this data directory")
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	dataDir := c.path(*data)
	if *demo {
		if err := demoDir(dataDir); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v", *addr, err)
	}
	defer ln.Close() // Shutdown closes it too; this covers every early return
	if err := apiFlags.refusePlain(ln); err != nil {
		return err
	}
	if apiFlags.plainHTTP && len(apiFlags.proxies) == 0 {
		log.Warn("plain HTTP with no --trusted-proxy: no request counts as HTTPS, so cookies are not Secure and no HSTS is sent")
	}

	return c.withHub(ctx, dataDir, writeCreate, func(h *hubFile) error {
		h.auditJournal = *auditJournal
		ln, madeCert, err := apiFlags.listen(ln, dataDir, c.now) // the TLS listener, when serving HTTPS
		if err != nil {
			return err
		}
		scheme := apiFlags.scheme()
		ctl, err := control.Listen(filepath.Join(dataDir, control.SocketName))
		if err != nil {
			return err
		}
		if *publicURL == "" {
			*publicURL = scheme + "://" + ln.Addr().String()
		}
		cscas, err := c.loadCSCAs(cscaFiles, *demo)
		if err != nil {
			ctl.Close()
			return err
		}
		// The whole hub, from one constructor: hub serve adds the
		// listener, the control socket and the damage guard.
		damaged := make(chan error, 1) // a request, a command or background work met damage in the file: stop
		var guard func(func() error) error
		if h.file != "" { // damage is a bbolt file's; PostgreSQL keeps its own pages whole
			guard = func(fn func() error) error { return reportDamage(hubcore.Guard(h.file, fn), damaged) }
		}
		hb, err := c.newHub(ctx, h, hubcore.Config{Log: log, Guard: guard, Belfiore: *city, PublicURL: *publicURL,
			CSCAs: cscas, Notifiers: notices.notifiers(c.now), NotifyRetry: notices.retry, Reminders: notices.reminders, PagoPA: pagoPA.gateway(),
			MetricsAllow: []netip.Prefix(metrics.allow), MetricsToken: metrics.token, Skew: apiFlags.skew,
			// People try the demo at any hour; a city's hub keeps
			// issuance within each shop's opening hours.
			AnyHours: *demo, Demo: *demo, Out: c.stdout,
			Version: version, StorageProbe: storageProbe(h.Dir)})
		if err != nil {
			ctl.Close()
			return err
		}
		h.api, h.notifyChannels = hb.API, hb.Channels
		desk := hb.Desk
		if err := c.noteClockOffset(ctx, "hub serve", h.audit.Record, log); err != nil {
			ctl.Close()
			return err
		}
		front := frontdoor.Config{Proxies: apiFlags.proxies}
		handler := hb.Handler()
		if h.file != "" { // damage is a bbolt file's; PostgreSQL keeps its own pages whole
			handler = guardHTTP(handler, h.file, log, damaged)
		}
		srv := front.NewServer(front.Wrap(handler), apiFlags.limits, slog.NewLogLogger(log.Handler(), slog.LevelWarn))

		ctlCtx, stopCtl := context.WithCancel(context.Background())
		ctlDone := make(chan error, 1)
		go func() {
			ctlDone <- control.Serve(ctlCtx, ctl, func(ctx context.Context, req control.Request, stdout, stderr io.Writer) int {
				log.Info("staff command", "args", req.Args, "uid", req.UID)
				inner := &cli{stdout: stdout, stderr: stderr, dir: req.Dir, now: c.now, store: h, desk: desk, uid: req.UID, damaged: damaged}
				return inner.run(ctx, req.Args)
			})
		}()
		// The hub's background work (notices, retention, the protocol
		// register's recovery, stale sessions) runs with the hub's clock
		// and ends before the file closes.
		runCtx, stopRun := context.WithCancel(context.Background())
		runDone := make(chan struct{})
		go func() { defer close(runDone); hb.Run(runCtx) }()
		defer func() { stopRun(); <-runDone }()
		httpDone := make(chan error, 1)
		go func() { httpDone <- srv.Serve(ln) }()
		log.Info("hub listening", "url", scheme+"://"+ln.Addr().String(), "data", dataDir, "version", version)
		if madeCert != "" {
			// Kiosks trust this certificate with kiosk enrol --hub-ca FILE;
			// staff compare the fingerprint with what a shop was given.
			fmt.Fprintf(c.stdout, "TLS certificate: %s (SHA-256 %s)\n", madeCert, fingerprint(madeCert))
		}
		fmt.Fprintf(c.stdout, "hub listening on %s://%s\n", scheme, ln.Addr())
		// Listening, with the stores open and the background work
		// started: systemd may start what comes after the hub.
		if err := c.systemd.Notify(sdnotify.Ready, "STATUS=serving on "+scheme+"://"+ln.Addr().String()); err != nil {
			log.Warn("telling systemd the hub is ready", "err", err)
		}
		// The watchdog's ticker is the machine's time, not the hub's
		// clock: it paces systemd's timeout, which is the machine's.
		var watchdog <-chan time.Time
		if every := c.systemd.WatchdogInterval(); every > 0 {
			t := time.NewTicker(every)
			defer t.Stop()
			watchdog = t.C
		}

		var stopped error
	serving:
		for {
			select {
			case <-ctx.Done():
				log.Info("shutting down", "reason", "signal")
				break serving
			case stopped = <-damaged:
				log.Info("shutting down", "reason", "damaged file")
				break serving
			case err := <-httpDone:
				stopCtl()
				<-ctlDone
				return fmt.Errorf("the HTTP server stopped: %w", err)
			case <-watchdog:
				// A hub whose records cannot be read within the
				// interval is not well: no ping, and systemd restarts it
				// once its timeout passes.
				if err := alive(ctx, h, c.systemd.WatchdogInterval()); err != nil {
					log.Warn("watchdog: the hub's records do not answer", "err", err)
					continue
				}
				if err := c.systemd.Notify(sdnotify.Watchdog); err != nil {
					log.Warn("pinging systemd's watchdog", "err", err)
				}
			}
		}
		if err := c.systemd.Notify(sdnotify.Stopping); err != nil {
			log.Warn("telling systemd the hub is stopping", "err", err)
		}
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shutCtx)
		stopCtl()
		<-ctlDone
		// The limits write their daily counts behind; no request is left
		// to count, so what they hold goes to the file now.
		if ferr := hb.Close(); ferr != nil {
			log.Error("closing the hub", "err", ferr)
		}
		log.Info("hub stopped")
		if stopped != nil {
			return stopped
		}
		return err
	})
}

// alive reads the hub's records once, within limit: what the watchdog
// asks before each ping.
func alive(ctx context.Context, h *hubFile, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	return h.stores.View(ctx, func(store.Tx) error { return nil })
}

// demoMarker is the file hub serve --demo leaves in a data directory it
// made, so that it never seeds a synthetic city, demo shops with fresh
// enrolment codes and staff accounts with a published password into a
// city's real records.
const demoMarker = "DEMO"

// demoDir lets the demo use dataDir only when the demo made it or nothing
// of a hub is there yet, and marks it as the demo's.
func demoDir(dataDir string) error {
	marker := filepath.Join(dataDir, demoMarker)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	for _, p := range []string{registryPath(dataDir), keysDir(dataDir)} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("--demo refuses %s: it holds a hub's records that the demo did not make (there is no %s file there); give --data an empty directory", dataDir, demoMarker)
		}
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("cannot create the data directory %s: %v", dataDir, unwrapPath(err))
	}
	note := "This data directory was made by hub serve --demo: a synthetic city with demo shops and published staff passwords. Never put real data here.\n"
	if err := os.WriteFile(marker, []byte(note), 0o600); err != nil {
		return fmt.Errorf("cannot mark %s as the demo's: %v", dataDir, unwrapPath(err))
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/control"
	"github.com/sportello/sportello/internal/frontdoor"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/opendata"
	"github.com/sportello/sportello/internal/registry"
	requestdesk "github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
)

// demoPersons is the size of the city --demo seeds on first start: big
// enough to browse and to find omocodes, small enough to start in seconds.
const demoPersons = 3000

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
		debug.SetGCPercent(registrybolt.ServeGCPercent)
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
		if *demo {
			if err := seedDemo(ctx, h.Store, c.now(), log); err != nil {
				return err
			}
			if err := c.seedDemoOperators(h, log); err != nil {
				return err
			}
		}
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
		desk, err := c.newDesk(h, *publicURL, *city, log)
		if err != nil {
			ctl.Close()
			return err
		}
		if err := c.noteClockOffset(ctx, "hub serve", h.audit.Record, log); err != nil {
			ctl.Close()
			return err
		}
		stopNotifier, err := c.startNotifier(h, desk, notices, log)
		if err != nil {
			ctl.Close()
			return err
		}
		defer stopNotifier()
		api := &hubapi.Server{Store: h.Store, Stores: h.stores, Desk: desk, Log: log, Now: c.now, Version: version, StorageProbe: storageProbe(h.Dir)}
		metrics.apply(api)
		api.Appointments = store.AppointmentsOf(h.stores, c.now)
		if *demo {
			if err := demoOffices(ctx, api.Appointments); err != nil {
				ctl.Close()
				return err
			}
		}
		if err := c.operatorAPI(h, api, desk, apiFlags, log); err != nil {
			ctl.Close()
			return err
		}
		if err := c.paymentAPI(h, api, desk, pagoPA); err != nil {
			ctl.Close()
			return err
		}
		if api.CSCAs, err = c.loadCSCAs(cscaFiles, *demo); err != nil {
			ctl.Close()
			return err
		}
		// People try the demo at any hour; a city's hub keeps issuance
		// within each shop's opening hours.
		api.AnyHours = *demo
		// The same CSCA list identifies requesters by their CIE taps.
		desk.Identify = requesterVerifier(api.CSCAs, api, log)
		// Demographic requests (issue 17) go through the same desk's
		// identification and settings; a new address is checked against
		// the city's street list (the embedded one of the synthetic city).
		api.Requests = &requestdesk.Desk{Stores: desk.Stores, Issuance: desk, Street: synth.DefaultCity().Street, Now: c.now, Log: log}
		if err := c.adminConsole(h, api, desk, *demo, log); err != nil {
			ctl.Close()
			return err
		}
		front := frontdoor.Config{Proxies: apiFlags.proxies}
		damaged := make(chan error, 1) // a request met damage in the file: stop
		handler := api.Handler()
		// The open-data pages are public, beside the API (issue 17).
		pub := http.NewServeMux()
		pub.Handle("/opendata/", &opendata.Handler{Store: h.stores, Now: c.now, Log: log})
		pub.Handle("/opendata", http.RedirectHandler("/opendata/", http.StatusMovedPermanently))
		pub.Handle("/", handler)
		handler = pub
		if h.file != nil { // damage is a bbolt file's; PostgreSQL keeps its own pages whole
			handler = guardHTTP(handler, h.file.Path(), log, damaged)
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
		// Retention runs daily with the hub's clock; it ends before the
		// file closes.
		retCtx, stopRet := context.WithCancel(context.Background())
		retDone := make(chan struct{})
		go func() { defer close(retDone); c.retentionDaily(retCtx, h, log) }()
		defer func() { stopRet(); <-retDone }()
		// So does the protocol register's recovery of numbers left
		// reserved (by another hub, on a shared database).
		recCtx, stopRec := context.WithCancel(context.Background())
		recDone := make(chan struct{})
		go func() { defer close(recDone); c.protocolRecovery(recCtx, h, log) }()
		defer func() { stopRec(); <-recDone }()
		httpDone := make(chan error, 1)
		go func() { httpDone <- srv.Serve(ln) }()
		log.Info("hub listening", "url", scheme+"://"+ln.Addr().String(), "data", dataDir, "version", version)
		if madeCert != "" {
			// Kiosks trust this certificate with kiosk enrol --hub-ca FILE;
			// staff compare the fingerprint with what a shop was given.
			fmt.Fprintf(c.stdout, "TLS certificate: %s (SHA-256 %s)\n", madeCert, fingerprint(madeCert))
		}
		fmt.Fprintf(c.stdout, "hub listening on %s://%s\n", scheme, ln.Addr())

		var stopped error
		select {
		case <-ctx.Done():
			log.Info("shutting down", "reason", "signal")
		case stopped = <-damaged:
			log.Info("shutting down", "reason", "damaged file")
		case err := <-httpDone:
			stopCtl()
			<-ctlDone
			return fmt.Errorf("the HTTP server stopped: %w", err)
		}
		shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shutCtx)
		stopCtl()
		<-ctlDone
		// The limits write their daily counts behind; no request is left
		// to count, so what they hold goes to the file now.
		if h.api != nil && h.api.Limits != nil {
			if ferr := h.api.Limits.Store.Flush(shutCtx); ferr != nil {
				log.Error("the day's request counts could not be written", "err", ferr)
			}
		}
		log.Info("hub stopped")
		if stopped != nil {
			return stopped
		}
		return err
	})
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

// seedDemo fills an empty registry with the demo city, once.
func seedDemo(ctx context.Context, st registry.Store, now time.Time, log *slog.Logger) error {
	var n int
	if err := st.View(ctx, func(r registry.Reader) (err error) { n, err = r.CountPersons(); return }); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	cfg := synth.Config{Persons: demoPersons, Seed: 1, Today: registry.DateOf(now), City: synth.DefaultCity()}
	stats, err := synth.Seed(ctx, st, cfg, log)
	if err != nil {
		return fmt.Errorf("cannot seed the demo city: %w", err)
	}
	log.Info("demo city seeded", "persons", stats.Persons)
	return nil
}

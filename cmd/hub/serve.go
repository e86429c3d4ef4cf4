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

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/control"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/bolt"
	"github.com/sportello/sportello/internal/synth"
)

// demoPersons is the size of the city --demo seeds on first start: big
// enough to browse and to find omocodes, small enough to start in seconds.
const demoPersons = 3000

func init() {
	register(
		command{Name: "serve", Usage: "[--data DIR] [--addr HOST:PORT] [--demo] [--public-url URL] [--city BELFIORE] [--tls-cert FILE --tls-key FILE | --tls-self-signed]", Help: "run the hub's HTTP server", Run: (*cli).serve},
	)
}

func (c *cli) serve(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub serve")
	data := c.dataFlag(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	demo := fs.Bool("demo", false, "seed a synthetic city on first start")
	publicURL := fs.String("public-url", os.Getenv("SPORTELLO_PUBLIC_URL"), "the hub's public URL, printed in every certificate's QR, unless hub city set stored one (default: the listening address)")
	city := fs.String("city", envOr("SPORTELLO_CITY", "F205"), "Belfiore code of the certifying comune, unless hub city set stored one")
	apiFlags := addServeFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if err := apiFlags.check(); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" { // an operator's explicit GOGC wins
		debug.SetGCPercent(bolt.ServeGCPercent)
	}
	if c.store != nil {
		return errors.New("another hub is already serving from this data directory")
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	dataDir := c.path(*data)

	return c.withHub(ctx, dataDir, writeCreate, func(h *hubFile) error {
		if *demo {
			if err := seedDemo(ctx, h.Store, c.now(), log); err != nil {
				return err
			}
			if err := c.seedDemoOperators(h, log); err != nil {
				return err
			}
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %v", *addr, err)
		}
		if ln, err = apiFlags.listen(ln, dataDir, c.now); err != nil {
			return err
		}
		scheme := apiFlags.scheme()
		ctl, err := control.Listen(filepath.Join(dataDir, control.SocketName))
		if err != nil {
			ln.Close()
			return err
		}
		if *publicURL == "" {
			*publicURL = scheme + "://" + ln.Addr().String()
		}
		desk, err := c.newDesk(h, *publicURL, *city, log)
		if err != nil {
			ln.Close()
			ctl.Close()
			return err
		}
		api := &hubapi.Server{Store: h.Store, Desk: desk, Log: log, Now: c.now, Version: version}
		if err := c.operatorAPI(h, api, desk, apiFlags, log); err != nil {
			ln.Close()
			ctl.Close()
			return err
		}
		if err := c.adminConsole(h, api, desk, *demo, log); err != nil {
			ln.Close()
			ctl.Close()
			return err
		}
		srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

		ctlCtx, stopCtl := context.WithCancel(context.Background())
		ctlDone := make(chan error, 1)
		go func() {
			ctlDone <- control.Serve(ctlCtx, ctl, func(ctx context.Context, req control.Request, stdout, stderr io.Writer) int {
				log.Info("staff command", "args", req.Args)
				inner := &cli{stdout: stdout, stderr: stderr, dir: req.Dir, now: c.now, store: h, desk: desk, uid: req.UID}
				return inner.run(ctx, req.Args)
			})
		}()
		httpDone := make(chan error, 1)
		go func() { httpDone <- srv.Serve(ln) }()
		log.Info("hub listening", "url", scheme+"://"+ln.Addr().String(), "data", dataDir, "version", version)
		fmt.Fprintf(c.stdout, "hub listening on %s://%s\n", scheme, ln.Addr())

		select {
		case <-ctx.Done():
			log.Info("shutting down", "reason", "signal")
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
		log.Info("hub stopped")
		return err
	})
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

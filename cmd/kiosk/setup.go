package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/cardreader/pcsc"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/receipt"
	"github.com/sportello/sportello/printer/testpage"
	"github.com/sportello/sportello/printer/transport"
	"github.com/sportello/sportello/printer/transport/usb"
)

func init() {
	register(command{Name: "setup",
		Usage: "[--profile DIR] [--a4 URI] [--receipt URI] [--receipt-model MODEL] [--cups HOST:PORT] [--test-print] [--list] [--force] [--secret-stdin | --secret-file FILE]",
		Help:  "set up an enrolled kiosk without its screen: the shop from the hub's agreement, the printers found (or given), written to the profile's kiosk.json",
		Run:   (*cli).setup})
}

// defaultCUPS is where the machine's own CUPS listens. Windows has no CUPS:
// its printers are the spooler's queues, which the set-up lists anyway.
var defaultCUPS = func() string {
	if runtime.GOOS == "windows" {
		return ""
	}
	return "127.0.0.1:631"
}()

// setupEnv is what the set-up reads the world with: the enrolled profile's
// hub client and the CUPS server.
type setupEnv struct {
	client *hubclient.Client
	dir    string
	cups   string
	// given are printers named on the command line, offered beside those
	// found (a dir: or tcp:// printer is never found by looking).
	given []kiosk.FoundPrinter
	// model, when set, is the ESC/POS profile of every receipt printer.
	model string
}

// deps are the set-up's connections: the hub, the printers, PC/SC.
func (e *setupEnv) deps(now func() time.Time) kiosk.SetupDeps {
	return kiosk.SetupDeps{
		Shop: func(ctx context.Context) (kiosk.ShopIdentity, error) { return shopOf(ctx, e.client) },
		Printers: func(ctx context.Context) ([]kiosk.FoundPrinter, error) {
			found, err := findPrinters(ctx, e.cups)
			found = append(append([]kiosk.FoundPrinter(nil), e.given...), found...)
			for i := range found {
				if e.model != "" && found[i].Kind == kiosk.Receipts {
					found[i].Model = e.model
				}
			}
			return found, err
		},
		Readers: listReaders,
		TestPrint: func(ctx context.Context, kind kiosk.PrinterKind, p kiosk.FoundPrinter, lang kiosk.Lang) error {
			return testPrint(ctx, kind, p, lang, now)
		},
		Save:  func(cfg kiosk.ShopConfig) error { return kiosk.WriteShopConfig(e.dir, cfg) },
		Clock: kiosk.ClockFunc(now),
	}
}

// shopOf asks the hub who this device's shop is: the agreement's
// registered identity, and the mode its enrolment gives the device.
func shopOf(ctx context.Context, cl *hubclient.Client) (kiosk.ShopIdentity, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	d, err := cl.Self(ctx)
	if err != nil {
		return kiosk.ShopIdentity{}, err
	}
	if d.Shop == nil {
		return kiosk.ShopIdentity{}, errors.New("the hub did not say which shop this device belongs to (a hub older than the kiosk)")
	}
	mode := kiosk.Operator
	if d.Channel == api.ChannelSelfService {
		mode = kiosk.SelfService
	}
	return kiosk.ShopIdentity{OperatorID: d.OperatorID, Name: d.Shop.Name, LegalName: d.Shop.LegalName, PartitaIVA: d.Shop.PartitaIVA,
		Address: d.Shop.Address, Lat: d.Shop.Lat, Lon: d.Shop.Lon, Mode: mode}, nil
}

// findPrinters lists the CUPS queues at cups (host:port), the Windows
// spooler's printers (on Windows), then the USB printers and the kernel's
// printer devices. A4 printers are office
// printers behind CUPS (DESIGN.md); a USB or /dev/usb/lp printer the kiosk
// drives itself is a receipt printer, as is a queue whose make and model
// is a known ESC/POS one. What could not be listed is the error, beside
// what could.
func findPrinters(ctx context.Context, cups string) ([]kiosk.FoundPrinter, error) {
	var found []kiosk.FoundPrinter
	var errs []error
	if cups != "" {
		host, portS, err := net.SplitHostPort(cups)
		port, perr := strconv.Atoi(portS)
		if err != nil || perr != nil {
			return nil, fmt.Errorf("the CUPS server %q is not HOST:PORT", cups)
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		qs, err := transport.ListCUPS(lctx, host, port, "it")
		cancel()
		if err != nil {
			errs = append(errs, err)
		}
		for _, q := range qs {
			f := kiosk.FoundPrinter{URI: q.URI, Name: q.Name, Detail: strings.TrimSpace(q.MakeModel + " " + q.State.String()), Kind: kiosk.A4}
			if m := escpos.ForDeviceID(q.MakeModel + " " + q.Name); m != "generic" {
				f.Kind, f.Model = kiosk.Receipts, m
			}
			found = append(found, f)
		}
	}
	qs, err := transport.ListSpooler()
	if err != nil {
		errs = append(errs, err)
	}
	for _, q := range qs {
		f := kiosk.FoundPrinter{URI: q.URI(), Name: q.Name, Detail: strings.TrimSpace(q.Driver + " " + q.Port), Kind: kiosk.A4}
		if m := escpos.ForDeviceID(q.Driver + " " + q.Name); m != "generic" {
			f.Kind, f.Model = kiosk.Receipts, m
		}
		found = append(found, f)
	}
	devs, err := usb.List()
	if err != nil {
		errs = append(errs, fmt.Errorf("USB: %w", err))
	}
	for _, d := range devs {
		found = append(found, kiosk.FoundPrinter{URI: d.URI(), Name: strings.TrimSpace(d.ID.Manufacturer + " " + d.ID.Model), Detail: "USB",
			Kind: kiosk.Receipts, Model: escpos.ForDeviceID(d.ID.Model)})
	}
	for _, d := range transport.ListLP() {
		found = append(found, kiosk.FoundPrinter{URI: "lp://" + d.Path, Name: strings.TrimSpace(d.ID.Manufacturer + " " + d.ID.Model), Detail: d.Path,
			Kind: kiosk.Receipts, Model: escpos.ForDeviceID(d.ID.Model)})
	}
	return found, errors.Join(errs...)
}

// listReaders names the PC/SC card readers pcscd knows.
func listReaders(ctx context.Context) ([]string, error) {
	p, err := pcsc.New()
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Readers(ctx)
}

// testPrint prints an A4 test page, or a demo receipt, on p, dated by the
// kiosk's clock.
func testPrint(ctx context.Context, kind kiosk.PrinterKind, p kiosk.FoundPrinter, lang kiosk.Lang, clock func() time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pr, err := openJobPrinter(ctx, p.URI, printer.NewMemSpool(), string(lang))
	if err != nil {
		return err
	}
	defer pr.Transport.Close()
	now := clock()
	job := printer.Job{Printer: p.URI, Created: now, ID: printer.NewJobID(now)}
	if kind == kiosk.A4 {
		job.Format, job.Name = printer.FormatPDF, "Sportello test page"
		job.Data = testpage.PDF("Sportello: pagina di prova / test page", []string{
			"Stampante dei certificati / certificate printer: " + p.URI,
			"Data / date: " + now.In(rome()).Format("02/01/2006 15:04"),
			"Caratteri / characters: àèéìòù ÀÈÉÌÒÙ €",
		})
	} else {
		prof, err := escpos.Lookup(firstNonEmpty(p.Model, "tm-t20"), 0)
		if err != nil {
			return err
		}
		job.Format, job.Name = printer.FormatESCPOS, "Sportello demo receipt"
		if job.Data, err = receipt.Encode(receipt.Demo(now, receipt.Lang(lang)), prof); err != nil {
			return err
		}
	}
	if err := pr.Print(ctx, job); err != nil {
		var je *printer.JobError
		if errors.As(err, &je) {
			err = je.Err
		}
		return err
	}
	return nil
}

// rome is the time zone a shop's papers are dated in.
func rome() *time.Location {
	if l, err := time.LoadLocation("Europe/Rome"); err == nil {
		return l
	}
	return time.UTC
}

func (c *cli) setup(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("kiosk setup")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	a4 := fs.String("a4", "", "the certificate printer's `URI` (default: the first CUPS queue found); dir:PATH keeps each job as a file")
	rp := fs.String("receipt", "", "the receipt printer's `URI` (default: the first USB or /dev/usb/lp receipt printer found)")
	model := fs.String("receipt-model", "", "ESC/POS profile of the receipt printer: "+strings.Join(escpos.Models(), ", ")+" (default: from the device's ID, else tm-t20)")
	cups := fs.String("cups", defaultCUPS, "CUPS server `HOST:PORT` whose queues are offered (empty: none)")
	test := fs.Bool("test-print", false, "print a test page and a demo receipt, and stop if either fails")
	list := fs.Bool("list", false, "show the shop, the printers and card readers found, and write nothing")
	force := fs.Bool("force", false, "write kiosk.json again though the kiosk is set up (the shop's details are read from the hub again)")
	sf := addSecretFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *model != "" {
		if _, err := escpos.Lookup(*model, 0); err != nil {
			return cmdline.Usagef("%s", err)
		}
	}
	if _, err := os.Stat(filepath.Join(*profile, kiosk.ShopFile)); err == nil && !*force && !*list {
		return fmt.Errorf("the kiosk in %s is already set up (%s); use --force to write it again", *profile, filepath.Join(*profile, kiosk.ShopFile))
	}
	prof, _, err := c.openProfile(*profile, sf)
	if err != nil {
		return err
	}
	client := c.hubClient(prof, *profile)
	env := &setupEnv{client: client, dir: *profile, cups: *cups, model: *model}
	if *a4 != "" {
		env.given = append(env.given, kiosk.FoundPrinter{URI: *a4, Name: *a4, Detail: "--a4", Kind: kiosk.A4})
	}
	if *rp != "" {
		env.given = append(env.given, kiosk.FoundPrinter{URI: *rp, Name: *rp, Detail: "--receipt", Kind: kiosk.Receipts})
	}
	cat, err := kiosk.LoadCatalog(assets.FS, "i18n")
	if err != nil {
		return err
	}
	say := func(p *kiosk.Problem) string { return cat.Problem(kiosk.English, p) }
	s, err := kiosk.NewSetup(env.deps(c.now), kiosk.English)
	if err != nil {
		return err
	}
	s.Detect(ctx)
	v := s.View()
	if *list {
		printSetup(c, v, say)
		return nil
	}
	if v.ShopProblem != nil {
		return errors.New(say(v.ShopProblem))
	}
	if v.A4 == "" || v.Receipt == "" {
		printSetup(c, v, say)
		return cmdline.Usagef("no %s printer was found: name it with %s URI", map[bool]string{true: "certificate (A4)", false: "receipt"}[v.A4 == ""],
			map[bool]string{true: "--a4", false: "--receipt"}[v.A4 == ""])
	}
	if *test {
		for _, k := range []kiosk.PrinterKind{kiosk.A4, kiosk.Receipts} {
			if err := s.Test(ctx, k); err != nil {
				var p *kiosk.Problem
				errors.As(err, &p)
				return errors.New(say(p))
			}
			fmt.Fprintf(c.stdout, "%s test printed to %s\n", k, s.View().Tests[k].URI)
		}
	}
	cfg, err := s.Save()
	if err != nil {
		var p *kiosk.Problem
		errors.As(err, &p)
		return errors.New(say(p))
	}
	fmt.Fprintf(c.stdout, "set up as %s (%s, partita IVA %s), %s, mode %s\ncertificates print to %s, receipts to %s (%s)\nwritten to %s\n",
		cfg.Shop, cfg.LegalName, cfg.PartitaIVA, cfg.Address, cfg.Mode, cfg.A4Printer, cfg.ReceiptPrinter, firstNonEmpty(cfg.ReceiptModel, "tm-t20"),
		filepath.Join(*profile, kiosk.ShopFile))
	if v.ReaderProblem != nil {
		fmt.Fprintf(c.stdout, "card readers: %s\n", say(v.ReaderProblem))
	}
	return nil
}

// printSetup shows what the set-up found.
func printSetup(c *cli, v kiosk.SetupView, say func(*kiosk.Problem) string) {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	if v.Shop != nil {
		fmt.Fprintf(w, "shop:\t%s (%s, partita IVA %s), %s; mode %s\n", v.Shop.Name, v.Shop.LegalName, v.Shop.PartitaIVA, v.Shop.Address, v.Shop.Mode)
	} else {
		fmt.Fprintf(w, "shop:\t%s\n", say(v.ShopProblem))
	}
	fmt.Fprintln(w, "printers:")
	if v.PrinterProblem != nil {
		fmt.Fprintf(w, "  %s\n", say(v.PrinterProblem))
	}
	for _, p := range v.Printers {
		mark := ""
		switch p.URI {
		case v.A4:
			mark = "proposed for certificates (A4)"
		case v.Receipt:
			mark = "proposed for receipts"
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", p.URI, p.Kind, p.Name, p.Detail, mark)
	}
	fmt.Fprintln(w, "card readers:")
	if v.ReaderProblem != nil {
		fmt.Fprintf(w, "  %s\n", say(v.ReaderProblem))
	} else if len(v.Readers) == 0 {
		fmt.Fprintln(w, "  none connected")
	}
	for _, r := range v.Readers {
		fmt.Fprintf(w, "  %s\n", r)
	}
}

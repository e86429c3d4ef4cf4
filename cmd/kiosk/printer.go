package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/receipt"
	"github.com/sportello/sportello/printer/testpage"
	"github.com/sportello/sportello/printer/transport"
	"github.com/sportello/sportello/printer/transport/usb"
)

func init() {
	register(
		command{Name: "printer list", Usage: "[--cups HOST:PORT]",
			Help: "list USB printers with their IEEE 1284 IDs, /dev/usb/lp* devices, CUPS queues and, on Windows, the spooler's printers",
			Run:  (*cli).printerList},
		command{Name: "printer test", Usage: "--printer URI [--model tm-t20|tm-t88|generic] [--paper MM] [--lang it|en] [--format auto|escpos|pdf]",
			Help: "print a demo receipt (or an A4 test page to IPP and .pdf printers) and report the printer's status",
			Run:  (*cli).printerTest},
		command{Name: "printer jobs", Usage: "[--profile DIR] [--secret-stdin | --secret-file FILE]",
			Help: "list the kiosk's print jobs kept for reprint because the printer could not print them",
			Run:  (*cli).printerJobs},
		command{Name: "printer reprint", Usage: "--id ID [--printer URI] [--profile DIR] [--secret-stdin | --secret-file FILE]",
			Help: "print a kept job again, on its own printer or another one",
			Run:  (*cli).printerReprint},
	)
}

// openSpool opens the kiosk's spool in profile dir: it is in the outbox
// file, sealed with the profile's outbox key, so the profile is unsealed
// first. The outbox is one process's at a time: while the app runs, its
// screen prints and reprints. close releases it.
func (c *cli) openSpool(dir string, sf *secretFlags) (spool *kiosk.JobSpool, close func(), err error) {
	ob, keys, err := c.openOutboxFile(dir, sf, "the jobs")
	if err != nil {
		return nil, nil, err
	}
	spool = &kiosk.JobSpool{Outbox: ob}
	if err := migrateSpool(dir, keys.Spool, spool); err != nil {
		ob.Close()
		return nil, nil, err
	}
	return spool, func() { ob.Close() }, nil
}

func (c *cli) printerList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("printer list")
	cups := fs.String("cups", "127.0.0.1:631", "CUPS server `HOST:PORT`")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	host, portS, err := net.SplitHostPort(*cups)
	port, perr := strconv.Atoi(portS)
	if err != nil || perr != nil {
		return cmdline.Usagef("--cups %q is not HOST:PORT", *cups)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()

	if runtime.GOOS == "windows" {
		// On Windows every printer, USB ones included, is a spooler queue.
		fmt.Fprintln(w, "Windows printers:")
		qs, err := transport.ListSpooler()
		switch {
		case err != nil:
			fmt.Fprintf(w, "  cannot list: %s\n", cmdline.Sentence(err.Error()))
		case len(qs) == 0:
			fmt.Fprintln(w, "  none installed")
		}
		for _, q := range qs {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", q.URI(), q.Driver, q.Port, transport.SpoolerStatus(q.Status))
		}
	}

	fmt.Fprintln(w, "USB printers:")
	devs, err := usb.List()
	switch {
	case err != nil:
		fmt.Fprintf(w, "  cannot list: %s\n", cmdline.Sentence(err.Error()))
	case runtime.GOOS == "windows":
		fmt.Fprintln(w, "  reached through the Windows printers above (usb:// is not available on Windows)")
	case len(devs) == 0:
		fmt.Fprintln(w, "  none connected")
	}
	for _, d := range devs {
		id := d.ID.String()
		if d.Err != nil {
			id = "device ID unreadable: " + d.Err.Error()
		}
		fmt.Fprintf(w, "  %s\t%s\tprofile %s\n", d.URI(), id, escpos.ForDeviceID(d.ID.Model))
	}

	fmt.Fprintln(w, "Kernel printer devices:")
	lps := transport.ListLP()
	if len(lps) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, d := range lps {
		id := d.ID.String()
		if d.Err != nil {
			id = "device ID unreadable: " + d.Err.Error()
		}
		fmt.Fprintf(w, "  lp://%s\t%s\n", d.Path, id)
	}

	fmt.Fprintf(w, "CUPS queues at %s:\n", *cups)
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	qs, err := transport.ListCUPS(lctx, host, port, "it")
	switch {
	case err != nil:
		fmt.Fprintf(w, "  not reachable: %s\n", cmdline.Sentence(err.Error()))
	case len(qs) == 0:
		fmt.Fprintln(w, "  none")
	}
	for _, q := range qs {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", q.URI, q.MakeModel, q.DeviceURI, q.State)
	}
	return nil
}

// openPrinter opens a URI's transport, the USB one included, and says
// which ESC/POS profile the device itself suggests ("" when it cannot).
// lang is the language printers that answer in words (IPP) answer in.
func openPrinter(ctx context.Context, uri, lang string) (printer.Transport, string, error) {
	if strings.HasPrefix(strings.ToLower(uri), "usb://") {
		p, err := usb.Open(uri)
		if err != nil {
			return nil, "", err
		}
		if id, err := p.DeviceID(); err == nil {
			return p, escpos.ForDeviceID(id.Model), nil
		}
		return p, "", nil
	}
	t, err := transport.Open(ctx, uri, transport.Options{Language: lang})
	return t, "", err
}

func (c *cli) printerTest(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("printer test")
	uri := fs.String("printer", "", "printer `URI`")
	model := fs.String("model", "", "ESC/POS profile: "+strings.Join(escpos.Models(), ", ")+" (default: from the USB device ID, else tm-t20)")
	paper := fs.Int("paper", 0, "paper width in `mm` (default: the model's usual roll)")
	lang := fs.String("lang", "it", "receipt language, it or en")
	format := fs.String("format", "auto", "auto, escpos or pdf (auto: pdf for ipp:// and *.pdf files)")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *uri == "" {
		return cmdline.Usagef("--printer is required")
	}
	if *lang != "it" && *lang != "en" {
		return cmdline.Usagef("--lang %q is neither it nor en", *lang)
	}
	switch *format {
	case "auto":
		*format = "escpos"
		if l := strings.ToLower(*uri); strings.HasPrefix(l, "ipp") || strings.HasSuffix(l, ".pdf") {
			*format = "pdf"
		}
	case "escpos", "pdf":
	default:
		return cmdline.Usagef("--format %q is not auto, escpos or pdf", *format)
	}
	if *model != "" {
		if _, err := escpos.Lookup(*model, *paper); err != nil {
			return cmdline.Usagef("%s", err)
		}
	}
	tr, suggested, err := openPrinter(ctx, *uri, *lang)
	if err != nil {
		return err
	}
	defer tr.Close()

	now := c.now()
	job := printer.Job{Printer: *uri, Created: now, ID: printer.NewJobID(now)}
	var what string
	if *format == "pdf" {
		job.Format, job.Name = printer.FormatPDF, "Sportello test page"
		job.Data = testpage.PDF("Sportello: pagina di prova / test page", []string{
			"Stampante / printer: " + *uri,
			"Data / date: " + now.Format("02/01/2006 15:04"),
			"Caratteri / characters: àèéìòù ÀÈÉÌÒÙ €",
		})
		what = "an A4 test page"
	} else {
		name := *model
		if name == "" {
			name = suggested
		}
		if name == "" {
			name = "tm-t20"
		}
		prof, err := escpos.Lookup(name, *paper)
		if err != nil {
			return err
		}
		job.Format, job.Name = printer.FormatESCPOS, "Sportello demo receipt"
		if job.Data, err = receipt.Encode(receipt.Demo(now, receipt.Lang(*lang)), prof); err != nil {
			return err
		}
		what = fmt.Sprintf("a demo receipt for %s on %d mm paper", prof.Model, prof.Paper.WidthMM)
	}
	// A test page that does not print is not kept: the printer's
	// condition is the answer.
	p := &printer.Printer{URI: *uri, Transport: tr, Spool: printer.NewMemSpool(), Now: c.now}
	if err := p.Print(ctx, job); err != nil {
		var je *printer.JobError
		if errors.As(err, &je) {
			err = je.Err
		}
		return fmt.Errorf("the test did not print: %w", err)
	}
	fmt.Fprintf(c.stdout, "printed %s (%d bytes) to %s\n", what, len(job.Data), *uri)
	if st, err := tr.Status(ctx); err == nil {
		fmt.Fprintf(c.stdout, "printer status: %s\n", st)
	} else if !errors.Is(err, printer.ErrNoStatus) {
		fmt.Fprintf(c.stdout, "printer status: unknown (%v)\n", err)
	}
	return nil
}

func (c *cli) printerJobs(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("printer jobs")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	sf := addSecretFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	spool, done, err := c.openSpool(*profile, sf)
	if err != nil {
		return err
	}
	defer done()
	// Jobs that cannot be read are named after the ones that can.
	jobs, lerr := spool.List()
	if len(jobs) == 0 {
		if lerr != nil {
			return lerr
		}
		fmt.Fprintln(c.stdout, "no jobs waiting to print")
		return nil
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tCREATED\tPRINTER\tNAME\tSTATE\tATTEMPTS\tLAST ERROR")
	for _, j := range jobs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", j.ID, j.Created.Format(time.DateTime), j.Printer, j.Name, jobState(j), j.Attempts, j.LastError)
	}
	return errors.Join(w.Flush(), lerr)
}

// jobState says why a job is in the spool, in words for the operator.
func jobState(j printer.Job) string {
	switch {
	case !j.Started.IsZero():
		return "printing when the kiosk stopped at " + j.Started.Format(time.TimeOnly) + ": check the paper, reprint if missing"
	case j.Attempts > 0:
		return "failed"
	}
	return "waiting"
}

func (c *cli) printerReprint(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("printer reprint")
	id := fs.String("id", "", "job `ID` from printer jobs")
	uri := fs.String("printer", "", "printer `URI` (default: the job's own)")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	sf := addSecretFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return cmdline.Usagef("--id is required")
	}
	spool, done, err := c.openSpool(*profile, sf)
	if err != nil {
		return err
	}
	defer done()
	job, err := spool.Get(*id)
	if err != nil {
		return err
	}
	if *uri != "" {
		job.Printer = *uri
	}
	p, err := openJobPrinter(ctx, job.Printer, spool, "it")
	if err != nil {
		return err
	}
	defer p.Transport.Close()
	p.Now = c.now
	if err := p.PrintSpooled(ctx, job); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "reprinted job %s to %s\n", job.ID, job.Printer)
	return nil
}

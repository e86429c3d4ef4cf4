package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/receipt"
)

func init() {
	register(
		command{Name: "request file", Usage: "--kind KIND --form FILE.json --cf CF --document NUMBER [--attach FILE]... [--key KEY] [--clerk-cf CF --clerk-password-file FILE --clerk-totp CODE] [--printer URI] [--profile DIR] [--secret-stdin | --secret-file FILE]",
			Help: "file a demographic request (cambio_indirizzo, cambio_residenza, convivenza_di_fatto, certificato_storico, dat, rettifica_dati) at the counter for the person identified by codice fiscale and identity document; print the receipt with its protocol number",
			Run:  (*cli).requestFile},
		command{Name: "request show", Usage: "--id ID [--profile DIR] [--secret-stdin | --secret-file FILE]",
			Help: "show where a request this shop filed stands",
			Run:  (*cli).requestShow},
	)
}

func (c *cli) requestClient(dir string, sf *secretFlags) (*hubclient.Client, error) {
	prof, _, err := c.openProfile(dir, sf)
	if err != nil {
		return nil, err
	}
	return c.hubClient(prof, dir), nil
}

func (c *cli) requestFile(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("request file")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	sf := addSecretFlags(fs)
	kind := fs.String("kind", "", "the kind of request")
	formFile := fs.String("form", "", "the form, as JSON: the section of the kind (see the API's RequestFiling.form)")
	cf := fs.String("cf", "", "the requester's codice fiscale")
	document := fs.String("document", "", "the number of the requester's identity document, which the clerk checked")
	key := fs.String("key", "", "the request's idempotency key (a retry with the same key files it once); a new one when empty")
	clerkCF := fs.String("clerk-cf", "", "the clerk's codice fiscale, to log in with a password and a code")
	clerkPW := fs.String("clerk-password-file", "", "a file holding the clerk's password")
	clerkTOTP := fs.String("clerk-totp", "", "the clerk's current code")
	printTo := fs.String("printer", "", "print the receipt on this receipt printer (URI as for kiosk printer test)")
	var attach listFlag
	fs.Var(&attach, "attach", "a document to attach (PDF, JPEG or PNG); repeat for several")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case !request.Kind(*kind).Valid():
		return cmdline.Usagef("--kind %q is not one of %v", *kind, request.Kinds())
	case *formFile == "" || *cf == "" || *document == "":
		return cmdline.Usagef("--form, --cf and --document are required")
	}
	var form request.Form
	b, err := os.ReadFile(*formFile)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&form); err != nil {
		return fmt.Errorf("the form %s is not a request form: %v", *formFile, err)
	}
	var ups []api.Upload
	for _, f := range attach {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		ups = append(ups, api.Upload{Name: filepath.Base(f), Data: data})
	}
	cl, err := c.requestClient(*profile, sf)
	if err != nil {
		return err
	}
	if *clerkCF != "" {
		pw, err := os.ReadFile(*clerkPW)
		if err != nil {
			return fmt.Errorf("the clerk's password: %w", err)
		}
		s, err := cl.LogInClerk(ctx, api.ClerkLogin{CF: *clerkCF, Password: strings.TrimRight(string(pw), "\r\n"), TOTP: *clerkTOTP})
		if err != nil {
			return err
		}
		cl.SetClerk(s.Token)
		defer cl.EndClerkSession(context.WithoutCancel(ctx), s.Token) //nolint:errcheck // the session ends by itself too
	}
	if *key == "" {
		*key = printer.NewJobID(c.now())
	}
	rec, err := cl.FileRequest(ctx, api.RequestFiling{Kind: *kind, Channel: api.ChannelCounter, IdempotencyKey: *key,
		Requester: &api.RequesterEvidence{Method: api.EvidenceDocument, CF: strings.ToUpper(strings.TrimSpace(*cf)), Document: strings.TrimSpace(*document)},
		Form:      form, Attachments: ups})
	if err != nil {
		var ae *hubclient.APIError
		if errors.As(err, &ae) {
			return fmt.Errorf("the Comune refused the request (%s): %s", ae.Reason, ae.Message)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "request %s filed: protocol %s of %s\n", rec.ID, rec.Protocol, rec.Filed.In(time.Local).Format("02/01/2006 15:04"))
	fmt.Fprintf(c.stdout, "  %s\n  status: %s\n  sha256: %s\n", rec.Title, rec.StatusText, rec.SHA256)
	if !rec.SilenceAssent.IsZero() {
		fmt.Fprintf(c.stdout, "  registered by %s; accepted by silence on %s\n", rec.RegisterBy.Format("02/01/2006"), rec.SilenceAssent.Format("02/01/2006"))
	}
	if *printTo == "" {
		return nil
	}
	shop, err := shopOf(ctx, cl)
	if err != nil {
		return fmt.Errorf("the request is filed (protocol %s) but the receipt cannot be printed: %w", rec.Protocol, err)
	}
	tr, suggested, err := openPrinter(ctx, *printTo, "it")
	if err != nil {
		return fmt.Errorf("the request is filed (protocol %s) but the receipt cannot be printed: %w", rec.Protocol, err)
	}
	defer tr.Close()
	if suggested == "" {
		suggested = "tm-t20"
	}
	prof, err := escpos.Lookup(suggested, 0)
	if err != nil {
		return err
	}
	data, err := receipt.EncodeFiling(receipt.Filing{Shop: shop.Name, Address: shop.Address, OperatorID: shop.OperatorID, Title: rec.Title,
		Protocol: rec.Protocol, Filed: rec.Filed, SHA256: rec.SHA256, Status: rec.StatusText, Lang: receipt.Italian}, prof)
	if err != nil {
		return err
	}
	now := c.now()
	p := &printer.Printer{URI: *printTo, Transport: tr, Spool: printer.NewMemSpool(), Now: c.now}
	if err := p.Print(ctx, printer.Job{ID: printer.NewJobID(now), Printer: *printTo, Created: now, Format: printer.FormatESCPOS,
		Name: "ricevuta " + rec.Protocol, Data: data}); err != nil {
		return fmt.Errorf("the request is filed (protocol %s) but the receipt did not print: %w", rec.Protocol, err)
	}
	fmt.Fprintf(c.stdout, "receipt printed to %s\n", *printTo)
	return nil
}

func (c *cli) requestShow(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("request show")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	sf := addSecretFlags(fs)
	id := fs.String("id", "", "the request's id")
	outcomeTo := fs.String("outcome-to", "", "write the PDF the accepted request delivered (a historical certificate) to `FILE`, to print")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return cmdline.Usagef("--id is required")
	}
	cl, err := c.requestClient(*profile, sf)
	if err != nil {
		return err
	}
	rec, err := cl.Request(ctx, *id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "request %s: %s\n  protocol %s of %s\n  status: %s\n", rec.ID, rec.Title, rec.Protocol, rec.Filed.Format("02/01/2006 15:04"), rec.StatusText)
	if rec.Question != "" {
		fmt.Fprintf(c.stdout, "  the office asks: %s\n", rec.Question)
	}
	if rec.Decision != "" {
		fmt.Fprintf(c.stdout, "  decision: %s\n", rec.Decision)
	}
	if o := rec.Outcome; o != nil {
		if o.CertificateID != "" {
			fmt.Fprintf(c.stdout, "  certificate issued: %s (protocol %s)\n", o.CertificateID, o.CertificateProtocol)
		} else if o.Document != nil {
			fmt.Fprintf(c.stdout, "  certificate prepared by the office: %s (%d bytes)\n", o.Document.Name, o.Document.Size)
		}
	}
	if *outcomeTo == "" {
		return nil
	}
	if rec.Outcome == nil {
		return fmt.Errorf("request %s has delivered no document yet (status: %s)", rec.ID, rec.StatusText)
	}
	pdf, err := cl.RequestOutcome(ctx, rec.ID)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*outcomeTo, pdf, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "  written to %s\n", *outcomeTo)
	return nil
}

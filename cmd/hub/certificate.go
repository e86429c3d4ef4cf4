package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/blob/blobdir"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/store"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
)

func init() {
	register(
		command{Name: "certificate issue", Usage: "--data DIR --cf CF --type TYPE[,TYPE…] [--exemption CODE [--exemption-text TEXT [--diritti-exempt]]] [--use estero|immigrazione|giudiziario] [--contrassegno ID] [--requester CF | --administration TEXT] [--at YYYY-MM-DD] [--seal-p12 FILE --seal-p12-password-file FILE] [--force] --out FILE.pdf",
			Help: "issue a certificate at the registry office", Run: (*cli).certificateIssue},
		command{Name: "certificate revoke", Usage: "--data DIR --id ID --reason TEXT --authorised-by NAME", Help: "revoke an issued certificate, naming who authorised it", Run: (*cli).certificateRevoke},
		command{Name: "certificate show", Usage: "--data DIR --id ID", Help: "show an issued certificate's record", Run: (*cli).certificateShow},
		command{Name: "verify", Usage: "FILE.pdf [--data DIR [--ca ROOT.pem] | --ca CA.pem --jwks JWKS.json]",
			Help: "check a certificate PDF's signature and QR seal; exit 0 only if both hold", Run: (*cli).verify},
	)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// keysDir holds the hub's seal keys inside the data directory.
func keysDir(dataDir string) string { return filepath.Join(dataDir, "keys") }

// pdfDir holds the certificates' PDFs, by SHA-256, inside the data
// directory (blobdir).
// pdfDirEnv names the PDFs' directory when --pdf-dir is not given.
const pdfDirEnv = "SPORTELLO_PDF_DIR"

// pdfDir is where the certificates' PDFs of the hub in dataDir are kept:
// --pdf-dir, or DIR/pdf. Hubs serving from one database share one
// directory (a network mount), so a PDF one issued another serves.
func (c *cli) pdfDir(dataDir string) string {
	if c.pdfs != nil && *c.pdfs != "" {
		return c.path(*c.pdfs)
	}
	return filepath.Join(dataDir, "pdf")
}

// newDesk is the certificate desk of the hub built on an open hub file
// (hubcore.New). Inside hub serve the serving hub's desk is reused, so an
// import's new places reach it.
func (c *cli) newDesk(h *hubFile, publicURL, city string, log *slog.Logger) (*issuance.Service, error) {
	if c.desk != nil {
		return c.desk, nil
	}
	hb, err := c.newHub(context.Background(), h, hubcore.Config{PublicURL: publicURL, Belfiore: city, Log: log})
	if err != nil {
		return nil, err
	}
	return hb.Desk, nil
}

// newHub builds the hub on an open hub file with cfg's serving settings:
// the PDFs by content beside the hub's file, not in it (issue 16: ~100 GB
// a year in one file at a large city's pace), the hub's keys with the
// comune's seal when the command was given one, the audit log anchoring as
// it records, and the hub's clock.
func (c *cli) newHub(ctx context.Context, h *hubFile, cfg hubcore.Config) (*hubcore.Hub, error) {
	blobs, err := blobdir.Open(h.pdfDir)
	if err != nil {
		return nil, err
	}
	if cfg.Demo {
		if _, err := os.Stat(filepath.Join(keysDir(h.Dir), seal.TokenKeyFile)); errors.Is(err, fs.ErrNotExist) {
			since := hubcore.DemoKeysSince(c.now())
			if _, err := seal.LoadOrCreate(keysDir(h.Dir), func() time.Time { return since }); err != nil {
				return nil, err
			}
		}
	}
	keys, err := seal.LoadOrCreate(keysDir(h.Dir), c.now)
	if err != nil {
		return nil, err
	}
	if err := c.useSeal(keys, cfg.Log); err != nil {
		return nil, err
	}
	aud, err := c.auditStore(h, keys, cfg.Log)
	if err != nil {
		return nil, err
	}
	cfg.Stores, cfg.Registry, cfg.Blobs, cfg.Keys, cfg.Audit, cfg.Clock = h.stores, h.Store, blobs, keys, aud, c.now
	cfg.Anchors = anchorlog.Signed{Path: anchorPath(h.Dir), Keys: keys.PublicKeys()}
	cfg.ClockOffset = c.clockOffset
	hb, err := hubcore.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	h.city = hb.City
	return hb, nil
}

func (c *cli) certificateIssue(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub certificate issue")
	data := c.dataFlag(fs)
	cf := fs.String("cf", "", "codice fiscale of the subject")
	types := fs.String("type", "", "certificate type, or several separated by commas for a contestuale")
	exemption := fs.Int("exemption", 0, "ANPR bollo exemption code (1–10, 99)")
	exemptionText := fs.String("exemption-text", "", "the reason, required with code 99")
	dirittiExempt := fs.Bool("diritti-exempt", false, "with code 99: the law in --exemption-text waives the diritti di segreteria too (ANPR's esenzioneDiritti)")
	use := fs.String("use", "", "destination of use: estero, immigrazione or giudiziario (replaces the art. 40 sentence); empty for the ordinary use")
	contrassegno := fs.String("contrassegno", "", "14-digit identifier of a contrassegno telematico (marca da bollo); accepted only at a shop's counter, so the registry office refuses it")
	requesterCF := fs.String("requester", "", "codice fiscale of the person asking, if not the subject")
	administration := fs.String("administration", "", "the public administration asking and its request's reference (needed for exemption 10)")
	out := fs.String("out", "", "where to write the PDF")
	force := fs.Bool("force", false, "force the certificate as the registry officer (ANPR's forzaCertificazione): a partly certifiable record, an open procedure, or cittadinanza for a non-Italian")
	at := fs.String("at", "", "YYYY-MM-DD: the date a historical certificate (residenza_storica, stato_di_famiglia_storico) describes")
	publicURL := fs.String("public-url", envOr("SPORTELLO_PUBLIC_URL", "http://127.0.0.1:8080"), "the hub's public URL, printed in the QR")
	city := fs.String("city", envOr("SPORTELLO_CITY", "F205"), "Belfiore code of the certifying comune")
	c.addSealFlags(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if err := c.seal.check(); err != nil {
		return err
	}
	if c.desk != nil && c.seal.p12 != "" {
		return usagef("the running hub seals with the seal it was started with; give --seal-p12 to hub serve instead")
	}
	switch {
	case *cf == "":
		return usagef("--cf is required")
	case *types == "":
		return usagef("--type is required; the types are %s", typeNames())
	case *out == "":
		return usagef("--out is required")
	}
	var atDate registry.Date
	if *at != "" {
		d, err := registry.ParseDate(*at)
		if err != nil {
			return usagef("--at: %v", err)
		}
		atDate = d
	}
	outPath := c.path(*out)
	actor, err := c.staffActor()
	if err != nil {
		return err
	}
	return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		desk, err := c.newDesk(h, *publicURL, *city, nil)
		if err != nil {
			return err
		}
		res, err := desk.Issue(ctx, issuance.Request{
			SubjectCF: *cf, Types: strings.Split(*types, ","), RequesterCF: *requesterCF, Administration: *administration,
			Exemption: fees.Exemption{Code: *exemption, Text: *exemptionText, DirittiExempt: *dirittiExempt}, Channel: certificate.Office, Actor: actor,
			Use: *use, Contrassegno: *contrassegno, Force: *force,
			At: atDate,
		})
		if err != nil {
			return err
		}
		if err := atomicfile.Write(outPath, res.PDF, 0o644); err != nil {
			return fmt.Errorf("certificate %s (protocol %s) was issued but cannot be written to %s: %v; get it again with the same command using --id", res.Record.ID, res.Record.Protocol, outPath, err)
		}
		fmt.Fprintf(c.stdout, "issued %s, protocol %s, %s for %s (%s), total %s, written to %s\n",
			res.Record.ID, res.Record.Protocol, res.Record.Title, res.Record.SubjectName, res.Record.SubjectCF, fees.Euro(res.Record.TotalCents), outPath)
		return nil
	})
}

func typeNames() string {
	var names []string
	for _, t := range certificate.Types() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

func (c *cli) certificateRevoke(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub certificate revoke")
	data := c.dataFlag(fs)
	id := fs.String("id", "", "certificate id")
	reason := fs.String("reason", "", "why it is revoked (shown on the verification page)")
	by := fs.String("authorised-by", "", "the staff member who authorised the revocation (kept with it, art. 54 DPR 445/2000)")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usagef("--id is required")
	}
	if err := certificate.CheckRevocation(*reason, *by); err != nil {
		return usagef("%v (give --reason TEXT and --authorised-by NAME)", err)
	}
	return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		// The account running the command is recorded beside the
		// authoriser it names, as the console records the signed-in clerk:
		// the revocation reads the certificate's record.
		actor, err := c.staffActor()
		if err != nil {
			return err
		}
		aud, err := c.auditStore(h, nil, nil)
		if err != nil {
			return err
		}
		// The revocation and its audit entry commit together, or neither
		// does: the log never records a revocation that did not happen,
		// nor a revocation go unrecorded.
		var rec certificate.Record
		err = aud.stores.Update(ctx, func(tx store.Tx) error {
			before, err := tx.Certificates().Get(*id)
			if err != nil {
				return err
			}
			if before.Status == certificate.Revoked {
				return fmt.Errorf("%w: certificate %s was revoked on %s", certificate.ErrAlreadyRevoked, before.ID, before.RevokedAt.In(protocol.Rome).Format("02/01/2006 15:04"))
			}
			now := c.now()
			if _, err := tx.Audit().Append(audit.Entry{Time: now, Actor: actor, Subject: before.SubjectCF, Channel: "cli", Request: before.ID,
				Purpose: "revoca del certificato: " + strings.TrimSpace(*reason) + " (autorizzata da " + strings.TrimSpace(*by) + ")",
				Data:    "revoca del certificato " + before.ID}); err != nil {
				return err
			}
			rec, err = tx.Certificates().Revoke(*id, *reason, *by, now)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "revoked %s (protocol %s) at %s, authorised by %s\n", rec.ID, rec.Protocol, rec.RevokedAt.In(protocol.Rome).Format("2006-01-02 15:04:05"), rec.RevokedBy)
		return nil
	})
}

func (c *cli) certificateShow(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub certificate show")
	data := c.dataFlag(fs)
	id := fs.String("id", "", "certificate id")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usagef("--id is required")
	}
	return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		var rec certificate.Record
		err := h.stores.View(ctx, func(tx store.Tx) (err error) {
			rec, err = tx.Certificates().Get(*id)
			return err
		})
		if err != nil {
			return err
		}
		w := c.stdout
		fmt.Fprintf(w, "%s  %s\n", rec.ID, rec.Title)
		fmt.Fprintf(w, "  protocol   %s, issued %s\n", rec.Protocol, rec.Issued.In(protocol.Rome).Format("02/01/2006 15:04"))
		fmt.Fprintf(w, "  subject    %s (%s)\n", rec.SubjectName, rec.SubjectCF)
		fmt.Fprintf(w, "  channel    %s %s\n", rec.Channel, rec.OperatorID)
		if rec.ClerkID != "" {
			fmt.Fprintf(w, "  clerk      %s (%s)\n", rec.ClerkName, rec.ClerkID)
		}
		for _, l := range rec.Fees {
			fmt.Fprintf(w, "  fee        %-28s %10s %s\n", l.Label, fees.Euro(l.Cents), l.Note)
		}
		fmt.Fprintf(w, "  total      %s\n", fees.Euro(rec.TotalCents))
		if rec.Use != certificate.UseOrdinary {
			fmt.Fprintf(w, "  use        %s\n", rec.Use)
		}
		fmt.Fprintf(w, "  sha-256    %s\n", rec.DocSHA256)
		if rec.Signatory != "" {
			fmt.Fprintf(w, "  signed by  %s\n", rec.Signatory)
		}
		if rec.Seal != "" {
			fmt.Fprintf(w, "  seal       %s\n", rec.Seal)
		}
		fmt.Fprintf(w, "  status     %s", rec.Status)
		if rec.Status == certificate.Revoked {
			fmt.Fprintf(w, " on %s: %s", rec.RevokedAt.In(protocol.Rome).Format("02/01/2006 15:04"), rec.RevokeReason)
			if rec.RevokedBy != "" {
				fmt.Fprintf(w, " (authorised by %s)", rec.RevokedBy)
			}
		}
		fmt.Fprintln(w)
		return nil
	})
}

func (c *cli) verify(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub verify")
	data := c.dataFlag(fs)
	caFile := fs.String("ca", "", "the CA certificates (PEM) to trust: with --jwks instead of --data, or with --data beside the hub's own CA (the root of the comune's trust service)")
	jwksFile := fs.String("jwks", "", "the hub's published key set (JSON), with --ca")
	pos, err := cmdline.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one PDF file")
	}
	file := c.path(pos[0])
	pdf, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", file, unwrapPath(err))
	}
	var trust seal.Trust
	switch {
	case *jwksFile != "":
		if *caFile == "" {
			return usagef("--jwks needs --ca")
		}
		ca, err := os.ReadFile(c.path(*caFile))
		if err != nil {
			return fmt.Errorf("cannot read the CA certificate: %v", unwrapPath(err))
		}
		jwks, err := os.ReadFile(c.path(*jwksFile))
		if err != nil {
			return fmt.Errorf("cannot read the key set: %v", unwrapPath(err))
		}
		if trust, err = seal.NewTrust(ca, jwks); err != nil {
			return err
		}
	default:
		dir := keysDir(c.path(*data))
		if _, err := os.Stat(filepath.Join(dir, seal.CACertFile)); err != nil {
			return fmt.Errorf("there are no hub keys in %s; give --data DIR of the issuing hub, or --ca and --jwks", dir)
		}
		keys, err := seal.LoadOrCreate(dir, c.now)
		if err != nil {
			return err
		}
		trust = keys.Trust()
		if *caFile != "" {
			ca, err := os.ReadFile(c.path(*caFile))
			if err != nil {
				return fmt.Errorf("cannot read the CA certificate: %v", unwrapPath(err))
			}
			if trust, err = trust.WithRoots(ca); err != nil {
				return err
			}
		}
	}
	res, err := seal.VerifyPDF(pdf, trust)
	if err != nil {
		return fmt.Errorf("%s cannot be checked: %w", file, err)
	}
	for _, ch := range res.Checks {
		mark := "ok  "
		if !ch.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(c.stdout, "%s %-20s %s\n", mark, ch.Name, ch.Detail)
	}
	fmt.Fprintln(c.stdout, res.Summary)
	if !res.Valid {
		var failed []string
		for _, ch := range res.Checks {
			if !ch.OK {
				failed = append(failed, ch.Name)
			}
		}
		return fmt.Errorf("%s is not a valid certificate: the %s check failed (details above)", file, strings.Join(failed, ", "))
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(
		command{Name: "keys rotate", Usage: "--data DIR token|response|seal...", Help: "put a new token key (QR seals), response key (kiosk answers) or seal certificate in use; old certificates keep verifying, kiosks are handed the new response key", Run: (*cli).keysRotate},
		command{Name: "keys list", Usage: "--data DIR", Help: "show the keys in use, the retired ones and until when the JWKS lists them", Run: (*cli).keysList},
		command{Name: "keys seal-request", Usage: "--data DIR [--out FILE.csr]", Help: "with the CA key kept offline: make the key of a new seal certificate and write its request (PKCS#10 PEM)", Run: (*cli).keysSealRequest},
		command{Name: "keys issue-seal", Usage: "--ca ca.pem --ca-key FILE --csr FILE [--out FILE.pem]", Help: "on the machine holding the CA key: issue the seal certificate a seal request asks for", Run: (*cli).keysIssueSeal},
		command{Name: "keys install-seal", Usage: "--data DIR FILE.pem", Help: "put in use the seal certificate hub keys issue-seal made for this hub's pending request", Run: (*cli).keysInstallSeal},
	)
}

// keysRotate rotates each key named, in the order given, recording each
// rotation in the audit log. A serving hub runs it (the command is
// forwarded over the control socket) and signs with the new keys from its
// next start.
func (c *cli) keysRotate(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub keys rotate")
	data := c.dataFlag(fs)
	what, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(what) == 0 {
		return usagef("name the keys to rotate: token, response, seal")
	}
	for _, w := range what {
		if w != seal.UseToken && w != seal.UseResponse && w != seal.UseSeal {
			return usagef("%q is not a key to rotate: token, response or seal", w)
		}
	}
	if err := c.requireRegistry(*data); err != nil {
		return err
	}
	return c.withHub(ctx, *data, writeExisting, func(h *hubFile) error {
		dir := keysDir(h.Dir)
		if _, err := seal.LoadOrCreate(dir, c.now); err != nil { // a damaged directory is refused before anything changes
			return err
		}
		aud, err := c.auditStore(h, nil, nil)
		if err != nil {
			return fmt.Errorf("a rotation cannot be recorded in the audit log, so no key was rotated: %w", err)
		}
		for _, w := range what {
			var rot seal.Rotation
			switch w {
			case seal.UseToken:
				var until time.Time
				var forever bool
				if until, forever, err = c.lastExpiry(ctx, h); err == nil {
					rot, err = seal.RotateToken(dir, c.now(), until, forever)
				}
			case seal.UseResponse:
				rot, err = seal.RotateResponse(dir, c.now())
			case seal.UseSeal:
				rot, err = seal.RotateSeal(dir, c.now())
			}
			if err != nil {
				return err
			}
			if err := c.noteRotation(ctx, aud, rot); err != nil {
				return err
			}
		}
		return c.afterRotation(what)
	})
}

// lastExpiry is when the last certificate sealed so far stops being
// valid: six months after the newest one, or never when any of unlimited
// validity (birth, death) is on record. The retired token key stays in
// the JWKS until then. Records purged by retention are no longer seen;
// their certificates are past any six months by then.
func (c *cli) lastExpiry(ctx context.Context, h *hubFile) (time.Time, bool, error) {
	now := c.now()
	until := now.Add(seal.SixMonths)
	forever := false
	err := h.stores.View(ctx, func(tx store.Tx) error {
		certs := tx.Certificates()
		oldest, any, err := certs.OldestIssued(time.Time{})
		if err != nil || !any {
			return err
		}
		today := protocol.DayOf(now)
		for d := protocol.DayOf(oldest); !today.Before(d); d = protocol.DayOf(d.End()) {
			recs, err := certs.ByDay(d)
			if err != nil {
				return err
			}
			for _, r := range recs {
				if certificate.UnlimitedValidity(r.Types) {
					forever = true
					return nil
				}
			}
		}
		return nil
	})
	return until, forever, err
}

func (c *cli) noteRotation(ctx context.Context, aud *hubAudit, rot seal.Rotation) error {
	what := map[string]string{seal.UseToken: "chiave dei sigilli QR", seal.UseResponse: "chiave delle risposte ai chioschi", seal.UseSeal: "certificato del sigillo"}[rot.Use]
	purpose := fmt.Sprintf("rotazione della %s: %s → %s", what, orNone(rot.Old), rot.New)
	switch {
	case rot.Use == seal.UseToken && rot.Forever:
		purpose += "; la chiave ritirata resta pubblicata senza scadenza (certificati a validità illimitata)"
	case rot.Use == seal.UseToken:
		purpose += "; la chiave ritirata resta pubblicata fino al " + rot.Until.In(protocol.Rome).Format("02/01/2006 15:04")
	case rot.Use == seal.UseResponse:
		purpose += "; passaggio firmato dalla chiave precedente"
	}
	actor, err := c.staffActor()
	if err != nil {
		return err
	}
	if err := aud.Record(ctx, audit.Entry{Time: c.now(), Actor: actor, Subject: "-", Data: "chiavi del hub", Channel: "cli", Purpose: purpose}); err != nil {
		return fmt.Errorf("the %s rotation is done but could not be recorded in the audit log: %w", rot.Use, err)
	}
	switch {
	case rot.Use == seal.UseToken && rot.Forever:
		fmt.Fprintf(c.stdout, "token key %s → %s; the retired key stays in the JWKS for ever (certificates of unlimited validity were sealed with it)\n", rot.Old, rot.New)
	case rot.Use == seal.UseToken:
		fmt.Fprintf(c.stdout, "token key %s → %s; the retired key stays in the JWKS until %s\n", rot.Old, rot.New, rot.Until.Format(time.RFC3339))
	case rot.Use == seal.UseResponse:
		fmt.Fprintf(c.stdout, "response key %s → %s; kiosks take the new key from the hand-over signed by the old one\n", rot.Old, rot.New)
	default:
		fmt.Fprintf(c.stdout, "seal certificate %s → %s\n", orNone(rot.Old), rot.New)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(nessuno)"
	}
	return s
}

// afterRotation makes a serving hub seal with the new token key and seal
// at once (its JWKS listing what was retired), and says when the new
// response key signs. Without a serving desk (no hub serves this data
// directory, or --db, whose rotation is never forwarded) nothing was
// reloaded: a hub serving these keys keeps sealing with the old ones
// until it restarts, and the operator must be told so.
func (c *cli) afterRotation(what []string) error {
	if c.desk == nil || c.desk.Keys == nil {
		fmt.Fprintln(c.stdout, "no serving hub took the new keys: a hub serving this data keeps sealing with the old ones until it restarts (systemctl restart sportello-hub)")
		return nil
	}
	if err := c.desk.Keys.Reload(); err != nil {
		return fmt.Errorf("the keys were rotated but the serving hub cannot read them: %w; restart it (systemctl restart sportello-hub)", err)
	}
	fmt.Fprintln(c.stdout, "the serving hub seals with the new keys from now on")
	if slices.Contains(what, seal.UseResponse) {
		fmt.Fprintln(c.stdout, "the new response key signs answers from the hub's next start: restart it (systemctl restart sportello-hub); kiosks follow by themselves")
	}
	return nil
}

func (c *cli) keysList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub keys list")
	data := c.dataFlag(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	dir := keysDir(c.path(*data))
	if _, err := os.Stat(dir); err != nil { // listing must not make keys
		return fmt.Errorf("there are no hub keys in %s", dir)
	}
	k, err := seal.LoadOrCreate(dir, c.now)
	if err != nil {
		return err
	}
	w := c.stdout
	fmt.Fprintf(w, "token key      %s\nresponse key   %s\n", k.KeyID, k.ResponseKeyID)
	sc := k.Seal.Certificate()
	fmt.Fprintf(w, "seal           %s, valid until %s\n", sc.SerialNumber.Text(16), sc.NotAfter.Format(time.RFC3339))
	fmt.Fprintf(w, "CA key here    %v\n", k.CAKeyHere())
	published := map[string]bool{}
	for _, j := range k.JWKS().Keys {
		published[j.Kid] = true
	}
	for _, r := range k.Retired {
		switch {
		case r.Use == seal.UseSeal:
			fmt.Fprintf(w, "retired seal   retired %s\n", r.Retired.Format(time.RFC3339))
		case r.Use == seal.UseToken && r.Forever:
			fmt.Fprintf(w, "retired token  %s, retired %s, in the JWKS for ever\n", r.Kid, r.Retired.Format(time.RFC3339))
		case r.Use == seal.UseToken && published[r.Kid]:
			fmt.Fprintf(w, "retired token  %s, retired %s, in the JWKS until %s\n", r.Kid, r.Retired.Format(time.RFC3339), r.Until.Format(time.RFC3339))
		default:
			fmt.Fprintf(w, "retired %-6s %s, retired %s, no longer published\n", r.Use, r.Kid, r.Retired.Format(time.RFC3339))
		}
	}
	for _, ho := range k.Handovers {
		fmt.Fprintf(w, "hand-over      %s → %s at %s\n", ho.From, ho.To, ho.At.Format(time.RFC3339))
	}
	return nil
}

func (c *cli) keysSealRequest(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub keys seal-request")
	data := c.dataFlag(fs)
	out := fs.String("out", "", "write the request here instead of standard output")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	dir := keysDir(c.path(*data))
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("there are no hub keys in %s", dir)
	}
	csr, err := seal.SealRequest(dir)
	if err != nil {
		return err
	}
	if err := c.writeOut(*out, csr); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(c.stdout, "seal request written to %s: issue it with hub keys issue-seal on the machine holding the CA key, then hub keys install-seal here\n", *out)
	}
	return nil
}

func (c *cli) keysIssueSeal(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub keys issue-seal")
	caFile := fs.String("ca", "", "the hub CA certificate (ca.pem)")
	caKey := fs.String("ca-key", "", "the hub CA's private key (ca-key.pem), kept on this offline machine")
	csrFile := fs.String("csr", "", "the request hub keys seal-request wrote")
	out := fs.String("out", "", "write the seal certificate here instead of standard output")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *caFile == "" || *caKey == "" || *csrFile == "" {
		return usagef("hub keys issue-seal needs --ca, --ca-key and --csr")
	}
	var in [3][]byte
	for i, f := range []string{*caFile, *caKey, *csrFile} {
		b, err := os.ReadFile(c.path(f))
		if err != nil {
			return fmt.Errorf("cannot read %s: %v", f, unwrapPath(err))
		}
		in[i] = b
	}
	cert, err := seal.IssueSeal(in[2], in[0], in[1], c.now())
	if err != nil {
		return err
	}
	return c.writeOut(*out, cert)
}

func (c *cli) keysInstallSeal(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub keys install-seal")
	data := c.dataFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("hub keys install-seal takes one file: the seal certificate hub keys issue-seal wrote")
	}
	cert, err := os.ReadFile(c.path(pos[0]))
	if err != nil {
		return fmt.Errorf("cannot read the seal certificate: %v", unwrapPath(err))
	}
	if err := c.requireRegistry(*data); err != nil {
		return err
	}
	return c.withHub(ctx, *data, writeExisting, func(h *hubFile) error {
		aud, err := c.auditStore(h, nil, nil)
		if err != nil {
			return fmt.Errorf("the new seal cannot be recorded in the audit log, so it was not installed: %w", err)
		}
		rot, err := seal.InstallSeal(keysDir(h.Dir), cert, c.now())
		if err != nil {
			return err
		}
		if err := c.noteRotation(ctx, aud, rot); err != nil {
			return err
		}
		return c.afterRotation([]string{seal.UseSeal})
	})
}

// writeOut writes b to path, or to standard output when path is empty.
func (c *cli) writeOut(path string, b []byte) error {
	if path == "" {
		_, err := c.stdout.Write(b)
		return err
	}
	if err := atomicfile.Write(c.path(path), b, 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, unwrapPath(err))
	}
	return nil
}

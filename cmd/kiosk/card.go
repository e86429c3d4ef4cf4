package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/cardreader/ccid"
	"github.com/sportello/sportello/internal/cardreader/pcsc"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/cmdline"
)

func init() {
	register(
		command{Name: "card read", Usage: "[--reader NAME] [--csca FILE]... [--demo] [--wait DURATION] [--pin-stdin] [--ias-ca-key FILE] [--ccid] [--virtual MODE]",
			Help: "read the CIE in a reader: NIS, chip authenticity and the issuer's signature", Run: (*cli).cardRead},
		command{Name: "card simulate", Usage: "[--vpcd HOST:PORT] [--mode genuine|cloned|tampered|expired|pin-blocked] [--nis NIS] [--new-chip]",
			Help: "attach a virtual CIE to pcscd through the vsmartcard-vpcd driver until interrupted", Run: (*cli).cardSimulate},
	)
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func (c *cli) cardRead(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("card read")
	reader := fs.String("reader", "", "reader name as PC/SC or, with --ccid, this program lists it (default: the first reader holding a card)")
	var cscaFiles listFlag
	fs.Var(&cscaFiles, "csca", "PEM file of trusted CSCA certificates (repeatable)")
	demo := fs.Bool("demo", false, "also trust the virtual card's TEST CSCA (demo and test only)")
	wait := fs.Duration("wait", 0, "wait this long for a card to be inserted")
	pinStdin := fs.Bool("pin-stdin", false, "read the 8-digit PIN from standard input and verify it (level 2)")
	virt := fs.String("virtual", "", "read an in-process virtual card in this mode instead of a reader (implies --demo)")
	useCCID := fs.Bool("ccid", false, "talk to USB CCID readers directly instead of through pcscd")
	caKeyFile := fs.String("ias-ca-key", "", "file holding, in hex, the private exponent of the CIE's external-authentication CA key (needed for --pin-stdin on real cards)")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *wait < 0 {
		return cmdline.Usagef("--wait must not be negative")
	}
	var cscas []*x509.Certificate
	for _, f := range cscaFiles {
		certs, err := loadCerts(f)
		if err != nil {
			return err
		}
		cscas = append(cscas, certs...)
	}
	if *demo || *virt != "" {
		ca, err := virtual.TestCSCA()
		if err != nil {
			return err
		}
		cscas = append(cscas, ca)
	}

	var prov cardreader.Provider
	if *virt != "" {
		mode, err := virtual.ParseMode(*virt)
		if err != nil {
			return cmdline.Usagef("%s", err)
		}
		card, err := virtual.New(virtual.Config{Mode: mode})
		if err != nil {
			return err
		}
		prov = cardreader.NewInProcess("Sportello virtual CIE", card)
	} else if *useCCID {
		prov = ccid.NewUSBProvider()
	} else {
		p, err := pcsc.New()
		if err != nil {
			return err
		}
		prov = p
	}
	defer prov.Close()

	card, name, err := connect(ctx, prov, *reader, *wait)
	if err != nil {
		return err
	}
	defer card.Close()
	fmt.Fprintf(c.stdout, "reader: %s\nATR: % X\n", name, card.ATR())
	res, err := cie.ReadLevel1(ctx, card, cie.Options{CSCAs: cscas, Now: c.now()})
	if err != nil {
		return err
	}
	printResult(c.stdout, res)
	if len(cscas) == 0 {
		fmt.Fprintln(c.stdout, "note: no trusted CSCA configured; pass --csca FILE (or --demo for the virtual card's test CSCA)")
	}
	if *pinStdin {
		pin, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("could not read the PIN from standard input: %w", err)
		}
		auth, err := deviceAuth(*caKeyFile, *demo || *virt != "")
		if err != nil {
			return err
		}
		pinb := []byte(strings.TrimSpace(pin))
		perr := cie.VerifyPIN(ctx, card, pinb, cie.PINOptions{Auth: auth})
		clear(pinb)
		var pe *cie.PINError
		switch {
		case perr == nil:
			fmt.Fprintln(c.stdout, "PIN: accepted")
		case errors.As(perr, &pe):
			fmt.Fprintf(c.stdout, "PIN: refused: %s\n", pe)
		default:
			return perr
		}
		if perr != nil && res.Verified() {
			return errors.New("the PIN was not accepted")
		}
	}
	if !res.Verified() {
		return fmt.Errorf("the card did not pass verification: %s", res.Problems[0].Detail)
	}
	return nil
}

// stdin is where --pin-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// deviceAuth loads the IAS CA exponent from file or, in demo mode, takes the
// virtual card's test one.
func deviceAuth(file string, demo bool) (cie.DeviceAuth, error) {
	if file == "" {
		if demo {
			return virtual.TestDeviceAuth()
		}
		return cie.DeviceAuth{}, nil // VerifyPIN says what is missing
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return cie.DeviceAuth{}, fmt.Errorf("could not read the IAS CA key file: %w", err)
	}
	d, err := hex.DecodeString(strings.Join(strings.Fields(strings.ReplaceAll(string(b), ",", " ")), ""))
	if err != nil || len(d) == 0 {
		return cie.DeviceAuth{}, fmt.Errorf("%s does not hold the CA exponent in hex", file)
	}
	return cie.DeviceAuth{CAExponent: d}, nil
}

func connect(ctx context.Context, prov cardreader.Provider, reader string, wait time.Duration) (cardreader.Card, string, error) {
	card, err := prov.Connect(ctx, reader)
	if err == nil || wait == 0 || !errors.Is(err, cardreader.ErrNoCard) {
		if err == nil && reader == "" {
			reader = firstReader(ctx, prov)
		}
		return card, reader, err
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var readers []string
	if reader != "" {
		readers = []string{reader}
	}
	var got string
	prov.Watch(wctx, readers, func(e cardreader.Event) bool {
		if e.Kind == cardreader.Inserted {
			got = e.Reader
			return false
		}
		return true
	})
	if got == "" {
		return nil, "", fmt.Errorf("no card was inserted within %s", wait)
	}
	card, err = prov.Connect(ctx, got)
	return card, got, err
}

func firstReader(ctx context.Context, prov cardreader.Provider) string {
	if names, err := prov.Readers(ctx); err == nil && len(names) == 1 {
		return names[0]
	}
	return "(first reader with a card)"
}

func printResult(w io.Writer, r *cie.Result) {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "NO"
	}
	fmt.Fprintf(w, "NIS: %s\n", r.NIS)
	fmt.Fprintf(w, "chip genuine: %s\n", yes(r.ChipGenuine))
	if r.ChipGenuine {
		fmt.Fprintln(w, "  internal authentication verified with key 1005")
	}
	fmt.Fprintf(w, "signed by the issuer: %s\n", yes(r.IssuerSigned))
	if r.IssuerSigned {
		fmt.Fprintf(w, "  %s hashes of NIS and key match; %s by %q, valid until %s, chained to %q\n",
			r.HashAlgorithm, r.SignatureAlgorithm, r.Signer, r.SignerValidUntil.UTC().Format("2006-01-02"), r.CSCA)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  problem (%s): %s\n", p.Code, p.Detail)
	}
	verdict := "VERIFIED"
	if !r.Verified() {
		verdict = "NOT VERIFIED"
	}
	fmt.Fprintf(w, "result: %s\n", verdict)
}

func loadCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("could not read the CSCA file: %w", err)
	}
	// The hub reads its --csca files with the same parser, so a file one
	// accepts the other accepts too.
	certs, err := cie.ParseCSCAs(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

func (c *cli) cardSimulate(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("card simulate")
	addr := fs.String("vpcd", virtual.DefaultVPCD, "where the vpcd driver waits for the card (slot 1 is port 35964)")
	modeName := fs.String("mode", string(virtual.Genuine), "genuine, cloned, tampered, expired or pin-blocked")
	nis := fs.String("nis", virtual.DemoNIS, "the 12-digit NIS the card holds (e.g. a person of the demo registry)")
	newChip := fs.Bool("new-chip", false, "act as a newer JCOP4 card: select through the MF, SHA-512 and RSA-PSS")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	mode, err := virtual.ParseMode(*modeName)
	if err != nil {
		return cmdline.Usagef("%s", err)
	}
	card, err := virtual.New(virtual.Config{NIS: *nis, Mode: mode, NewChip: *newChip})
	if err != nil {
		return cmdline.Usagef("%s", err)
	}
	fmt.Fprintf(c.stdout, "virtual CIE (%s, NIS %s) attaching to vpcd at %s; interrupt to remove it\n", mode, card.NIS(), *addr)
	for ctx.Err() == nil {
		err := virtual.Attach(ctx, *addr, card, virtual.VPCDOptions{Retry: 10 * time.Second})
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			return err
		}
		// The reader dropped the card (pcscd restarted): insert it again.
		fmt.Fprintln(c.stdout, "the reader closed the connection; attaching again")
		card.Reset()
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	fmt.Fprintln(c.stdout, "virtual CIE removed")
	return nil
}

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/kiosk"
)

// runKioskNow runs a kiosk command on the real clock (the hub judges a
// signed request's age by its own), with stdin.
func runKioskNow(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, now: time.Now}
	code := c.run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestFirstRunWithoutHandEditedFile: a kiosk enrolled with the demo hub's
// code is set up by `kiosk setup` alone (the shop's name, legal name,
// partita IVA and address from the hub, the printers given, a test page
// and a demo receipt printed), and then runs: a clerk logs in and a
// certificate is issued and printed. Nobody writes kiosk.json; before the
// set-up, the kiosk says it is not set up rather than asking for a file.
// Then the city suspends the shop, and the kiosk's status says so, with
// the reason staff gave.
func TestFirstRunWithoutHandEditedFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	const passphrase = "una frase lunga abbastanza per il test\n"
	data := t.TempDir()
	h := startHub(t, data)
	profile := filepath.Join(t.TempDir(), "kiosk")
	args := []string{"enrol", "--hub", h.url, "--code", h.code, "--profile", profile, "--name", "banco-1", "--seal", "passphrase", "--secret-stdin"}
	if strings.HasPrefix(h.url, "https:") {
		args = append(args, "--hub-ca", filepath.Join(data, "tls", "cert.pem"))
	}
	if code, stdout, stderr := runKioskNow(t, passphrase, args...); code != 0 {
		t.Fatalf("kiosk enrol: exit %d\n%s%s", code, stdout, stderr)
	}

	// Enrolled, not set up: the kiosk asks for its set-up, not for a file.
	c := &cli{stdin: strings.NewReader(passphrase), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, now: time.Now}
	if _, err := c.openStation(context.Background(), profile, false, "it", &secretFlags{stdin: ptr(true)}, nil); !errors.Is(err, kiosk.ErrNoShopConfig) || !strings.Contains(err.Error(), "kiosk setup") {
		t.Fatalf("opening a kiosk never set up: %v, want ErrNoShopConfig naming kiosk setup", err)
	}

	// What the hub registered for the shop, to compare with what the
	// set-up writes.
	code, listed, stderr := runKioskNow(t, passphrase, "setup", "--list", "--profile", profile, "--cups", "", "--secret-stdin")
	if code != 0 || !strings.Contains(listed, "shop:") || !strings.Contains(listed, "mode operator") {
		t.Fatalf("kiosk setup --list: exit %d\n%s%s", code, listed, stderr)
	}
	if _, err := os.Stat(filepath.Join(profile, kiosk.ShopFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("kiosk setup --list wrote kiosk.json")
	}

	a4, rcpt := filepath.Join(profile, "print", "a4"), filepath.Join(profile, "print", "receipts")
	code, stdout, stderr := runKioskNow(t, passphrase, "setup", "--profile", profile, "--a4", "dir:"+a4, "--receipt", "dir:"+rcpt,
		"--cups", "", "--test-print", "--secret-stdin")
	if code != 0 {
		t.Fatalf("kiosk setup: exit %d\n%s%s", code, stdout, stderr)
	}
	cfg, err := kiosk.ReadShopConfig(profile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Shop == "" || cfg.LegalName == "" || cfg.Address == "" || !regexp.MustCompile(`^\d{11}$`).MatchString(cfg.PartitaIVA) ||
		cfg.Mode != string(kiosk.Operator) || cfg.A4Printer != "dir:"+a4 || cfg.ReceiptPrinter != "dir:"+rcpt || cfg.SetUp.IsZero() {
		t.Fatalf("kiosk.json as set up: %+v", cfg)
	}
	for _, w := range []string{cfg.Shop, cfg.LegalName, cfg.PartitaIVA, cfg.Address} {
		if !strings.Contains(listed, w) {
			t.Errorf("kiosk.json says %q, which the hub did not (kiosk setup --list):\n%s", w, listed)
		}
	}
	if len(files(t, a4, ".pdf")) != 1 || len(files(t, rcpt, ".bin")) != 1 {
		t.Fatalf("the test print made %v and %v", files(t, a4, ".pdf"), files(t, rcpt, ".bin"))
	}
	// Set up once: a second run is refused unless forced.
	if code, _, stderr := runKioskNow(t, passphrase, "setup", "--profile", profile, "--cups", "", "--secret-stdin"); code == 0 || !strings.Contains(stderr, "--force") {
		t.Errorf("a second kiosk setup: exit %d, %q; want a refusal naming --force", code, stderr)
	}

	// The kiosk runs with the file the set-up wrote: the clerk logs in,
	// a residenza is issued and printed on the set-up's printers.
	ctx := context.Background()
	c = &cli{stdin: strings.NewReader(passphrase), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, now: time.Now}
	st, err := c.openStation(ctx, profile, false, "it", &secretFlags{stdin: ptr(true)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	client := hubclient.New(st.prof)
	dev, err := client.Self(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Shop == nil || dev.Shop.Name != cfg.Shop || dev.Shop.PartitaIVA != cfg.PartitaIVA {
		t.Errorf("the hub's shop %+v, kiosk.json %+v", dev.Shop, cfg)
	}
	card, err := virtual.New(virtual.Config{NIS: h.residentNIS(t)})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := virtual.TestCSCA()
	reader := &kiosk.CIEReader{Provider: cardreader.NewInProcess("virtual", card), CSCAs: []*x509.Certificate{ca}, KeyID: st.prof.KeyID, TapClock: client.HubNow}
	defer reader.Close()
	if reader.PIN.Auth, err = virtual.TestDeviceAuth(); err != nil {
		t.Fatal(err)
	}
	k, err := c.counter(st, client, kiosk.Config{Mode: kiosk.Operator, Shop: cfg.Shop, Address: cfg.Address, OperatorID: st.prof.OperatorID, ServiceCents: int64(dev.FeeCents)},
		kiosk.Deps{Reader: reader, Clock: kiosk.ClockFunc(time.Now)})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	if err := k.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.flow.Choose(kiosk.Choice{SubjectCF: k.flow.View().Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := k.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if v := k.flow.View(); v.Result == nil || v.Result.Issued == nil {
		t.Fatalf("after confirming: step %s, result %+v, problem %v", v.Step, v.Result, v.Problem)
	}
	if len(files(t, a4, ".pdf")) != 2 || len(files(t, rcpt, ".bin")) != 2 {
		t.Errorf("the certificate did not print on the set-up's printers: %v, %v", files(t, a4, ".pdf"), files(t, rcpt, ".bin"))
	}

	// The city suspends the shop: the next status poll says suspended,
	// not connected, with the reason staff gave; reinstated, it is
	// connected again.
	const why = "canone di adesione non versato: chiamare l'ufficio anagrafe"
	h.run(t, "operator", "suspend", "--data", h.data, st.prof.OperatorID, "--by", "test", "--reason", why)
	if s := k.flow.RefreshStatus(ctx); !s.Suspended || s.Notice != why {
		t.Errorf("status after the shop's suspension: %+v, want suspended with %q", s, why)
	}
	h.run(t, "operator", "activate", "--data", h.data, st.prof.OperatorID, "--by", "test", "--reason", "paid")
	if s := k.flow.RefreshStatus(ctx); s.Suspended || !s.HubOnline {
		t.Errorf("status after reinstatement: %+v", s)
	}
}

func ptr[T any](v T) *T { return &v }

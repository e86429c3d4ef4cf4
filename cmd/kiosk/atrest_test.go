package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
)

// brokenPrinter takes no job, and remembers what it was given.
type brokenPrinter struct {
	mu   sync.Mutex
	jobs [][]byte
}

func (b *brokenPrinter) Send(_ context.Context, j printer.Job) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jobs = append(b.jobs, append([]byte(nil), j.Data...))
	return errors.New("the printer does not answer")
}
func (b *brokenPrinter) Status(context.Context) (printer.Status, error) {
	return printer.Status{}, printer.ErrNoStatus
}
func (b *brokenPrinter) Close() error { return nil }

// secretArgs parses secret flags as the kiosk's commands do.
func secretArgs(t *testing.T, args ...string) *secretFlags {
	t.Helper()
	fs := cmdline.FlagSet("test")
	sf := addSecretFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return sf
}

// TestProfileAtRest: the kiosk enrolled with `kiosk enrol` (its passphrase
// piped on stdin), its profile opened as the app opens it, a certificate
// issued and printed, one that did not print and was reprinted, a request
// queued while the hub was away. Then every file and directory in the
// profile is the kiosk user's only; no print job is left in the spool; and
// a copy of the profile folder, without the passphrase, neither opens the
// queued personal data nor signs a request the hub accepts.
func TestProfileAtRest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	os.Unsetenv(demoSecretEnv) // the attacker has no passphrase in the environment
	ctx := context.Background()
	data := t.TempDir()
	h := startHub(t, data)
	dir := filepath.Join(t.TempDir(), "kiosk")
	const pass = "mercato coperto 1954"
	args := []string{"enrol", "--hub", h.url, "--code", h.code, "--profile", dir, "--name", "at-rest", "--seal", "passphrase", "--secret-stdin"}
	// A demo hub serving HTTPS keeps its self-signed certificate here.
	if ca := filepath.Join(data, "tls", "cert.pem"); strings.HasPrefix(h.url, "https:") {
		args = append(args, "--hub-ca", ca)
	}
	var out, errb bytes.Buffer
	enrol := &cli{stdin: strings.NewReader(pass + "\n"), stdout: &out, stderr: &errb, now: time.Now}
	code, stdout, stderr := enrol.run(ctx, args), out.String(), errb.String()
	if code != 0 || !strings.Contains(stdout, "sealed with the staff's passphrase") {
		t.Fatalf("kiosk enrol: exit %d\n%s%s", code, stdout, stderr)
	}

	c := &cli{stdin: strings.NewReader(pass + "\n"), stdout: io.Discard, stderr: io.Discard}
	st, err := c.openStation(ctx, dir, true, "it", secretArgs(t, "--secret-stdin"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	client := hubclient.New(st.prof)
	client.Retry = hubclient.Retry{Attempts: 1}
	hub := kiosk.NewClientHub(client)
	if _, err := st.cache.Agreement(ctx, kiosk.FetchAgreement(client, time.Now)); err != nil {
		t.Fatal(err)
	}
	card, err := virtual.New(virtual.Config{NIS: h.residentNIS(t)})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := virtual.TestCSCA()
	reader := &kiosk.CIEReader{Provider: cardreader.NewInProcess("virtual", card), CSCAs: []*x509.Certificate{ca},
		KeyID: st.prof.KeyID, TapClock: client.HubNow}
	defer reader.Close()
	if reader.PIN.Auth, err = virtual.TestDeviceAuth(); err != nil {
		t.Fatal(err)
	}
	prof58, _ := escpos.Lookup("tm-t20", 0)
	dev, err := client.Self(ctx)
	if err != nil {
		t.Fatal(err)
	}
	flow, err := kiosk.New(kiosk.Config{Mode: kiosk.Operator, Shop: st.shop.Shop, OperatorID: st.prof.OperatorID, ServiceCents: int64(dev.FeeCents)},
		kiosk.Deps{Hub: hub, Reader: reader, Printers: &kiosk.DevicePrinters{A4: st.a4, Receipt: st.rp, Profile: prof58},
			Outbox: &kiosk.Queue{Outbox: st.outbox, Hub: hub}, Journal: st.journal})
	if err != nil {
		t.Fatal(err)
	}
	if err := flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	customer := func() error {
		if err := flow.TapCard(ctx); err != nil {
			return err
		}
		v := flow.View()
		if err := flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
			return err
		}
		return flow.Confirm(ctx)
	}
	if err := customer(); err != nil {
		t.Fatal(err)
	}
	flow.Next()

	// The A4 printer fails: the certificate waits in the spool, sealed.
	working := st.a4.Transport
	broken := &brokenPrinter{}
	st.a4.Transport = broken
	if err := customer(); err == nil {
		t.Fatal("a certificate printed on a broken printer")
	}
	spooled, _ := st.spool.List()
	if len(spooled) != 1 || len(broken.jobs) != 1 || !bytes.HasPrefix(broken.jobs[0], []byte("%PDF")) || !bytes.Equal(spooled[0].Data, broken.jobs[0]) {
		t.Fatalf("after a failed print the spool holds %d jobs", len(spooled))
	}
	pdf := broken.jobs[0]
	b, _ := os.ReadFile(outboxPath(dir))
	if bytes.Contains(b, pdf[:64]) || bytes.Contains(b, pdf[len(pdf)/2:len(pdf)/2+64]) || bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(pdf[:60]))) || bytes.Contains(b, []byte("%PDF")) {
		t.Error("the spooled certificate is readable in the clear")
	}
	// Fixed, the operator's reprint prints it, and the spool lets it go.
	st.a4.Transport = working
	if err := flow.Reprint(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := st.spool.List(); len(left) != 0 {
		t.Errorf("after the reprint the spool still holds %d jobs", len(left))
	}
	flow.Next()
	// It fails again, and this one is not reprinted before closing.
	st.a4.Transport = broken
	if err := customer(); err == nil {
		t.Fatal("a certificate printed on a broken printer")
	}
	st.a4.Transport = working
	flow.Next()

	// The hub goes away while a citizen is at the counter: the request
	// waits in the outbox.
	if err := flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	v := flow.View()
	if err := flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	h.stop()
	if err := flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	flow.Next()
	if s, _ := st.outbox.Stats(); s.Pending != 1 {
		t.Fatalf("outbox: %+v", s)
	}
	st.Close()

	// Every file and directory the kiosk wrote is its user's only.
	for _, pattern := range []string{"device.json", "kiosk.json", "outbox.db", "cache.json", "sales.jsonl", "print/a4/*.pdf", "print/receipts/*.bin"} {
		if m, _ := filepath.Glob(filepath.Join(dir, pattern)); len(m) == 0 {
			t.Errorf("the profile has no %s: the flow did not write what it should", pattern)
		}
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		return nil
	})

	// The folder copied elsewhere.
	stolen := filepath.Join(t.TempDir(), "stolen")
	copyDir(t, dir, stolen)
	h2 := startHub(t, data)
	attackCopy(t, stolen, h2.url)

	// The kiosk's own start, without the passphrase, opens nothing.
	thief := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
	if _, err := thief.openStation(ctx, stolen, true, "it", secretArgs(t), nil); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("the copy opened without the passphrase: %v", err)
	}
	wrong := &cli{stdin: strings.NewReader("mercato coperto 1955\n"), stdout: io.Discard, stderr: io.Discard}
	if _, err := wrong.openStation(ctx, stolen, true, "it", secretArgs(t, "--secret-stdin"), nil); err == nil {
		t.Error("the copy opened with a wrong passphrase")
	}
	// With it, the queued request is all there.
	st, err = c.openStation(ctx, stolen, true, "it", secretArgs(t, "--secret-file", passFile(t, pass)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := queuedPayloads(t, st.outbox); len(got) != 1 || !bytes.Contains(got[0], []byte(`"cf"`)) {
		t.Errorf("the outbox opened with the passphrase holds %q", got)
	}
	if jobs, err := st.a4.Spool.List(); err != nil || len(jobs) != 1 || !bytes.HasPrefix(jobs[0].Data, []byte("%PDF")) {
		t.Errorf("the spool opened with the passphrase: %d jobs, %v", len(jobs), err)
	}
}

func passFile(t *testing.T, pass string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(f, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// attackCopy is what someone holding a copy of the profile folder, and
// nothing else, tries: every value in device.json that could be a key
// (base64 or hex, 16 bytes or more) as the outbox's key, as the spool's,
// and as the device's signing key against the real hub.
func attackCopy(t *testing.T, stolen, hubURL string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(stolen, "device.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var pub struct {
		KeyID      string `json:"key_id"`
		OperatorID string `json:"operator_id"`
		HubKey     []byte `json:"hub_key"`
		HubKeyID   string `json:"hub_key_id"`
		HubCAPEM   string `json:"hub_ca_pem"`
	}
	json.Unmarshal(raw, &pub)
	var candidates [][]byte
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			for _, dec := range []func(string) ([]byte, error){base64.StdEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString} {
				if b, err := dec(v); err == nil && len(b) >= 16 {
					candidates = append(candidates, b)
				}
			}
		}
	}
	walk(doc)
	if len(candidates) == 0 {
		t.Fatal("device.json holds no key-like value at all: the attack tries nothing")
	}
	ctx := context.Background()
	for _, k := range candidates {
		if ob, err := outbox.Open(filepath.Join(stolen, "outbox.db"), outbox.Options{Key: k}); err == nil {
			ob.Close()
			t.Errorf("a %d-byte value of device.json opens the copied outbox", len(k))
		}
		if len(k) == printer.SpoolKeyLen {
			if sp, err := printer.NewDirSpool(filepath.Join(stolen, "print-spool"), k); err == nil {
				if jobs, err := sp.List(); err == nil && len(jobs) > 0 {
					t.Errorf("a %d-byte value of device.json opens the copied print spool", len(k))
				}
			}
		}
		if len(k) == ed25519.SeedSize {
			c := hubclient.New(&hubclient.Profile{HubURL: hubURL, KeyID: pub.KeyID, OperatorID: pub.OperatorID, HubKey: pub.HubKey, HubKeyID: pub.HubKeyID,
				HubCAPEM: pub.HubCAPEM, DeviceKey: k})
			c.Retry = hubclient.Retry{Attempts: 1}
			if _, err := c.Self(ctx); err == nil {
				t.Errorf("a 32-byte value of device.json signs requests the hub accepts as device %s", pub.KeyID)
			}
		}
	}
}

// TestClearProfileMigrates: a profile written before the keys were sealed
// (device.json with the device key in the clear, the outbox encrypted with
// it, a print job kept as clear JSON) is sealed when the kiosk starts: the
// clear key is gone from the folder, the queued request still opens, the
// job is sealed, and device.json's values no longer open the outbox.
func TestClearProfileMigrates(t *testing.T) {
	os.Unsetenv(demoSecretEnv)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "kiosk")
	os.MkdirAll(dir, 0o755)
	_, dev, _ := ed25519.GenerateKey(nil)
	hubPub, _, _ := ed25519.GenerateKey(nil)
	legacy, _ := json.MarshalIndent(map[string]any{"hub_url": "https://hub.example.it", "key_id": "dev-3", "operator_id": "op-0001",
		"name": "Cassa 1", "device_key": dev.Seed(), "hub_key": hubPub, "enrolled_at": time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}, "", "  ")
	os.WriteFile(filepath.Join(dir, "device.json"), legacy, 0o600)
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{Key: dev.Seed()})
	if err != nil {
		t.Fatal(err)
	}
	personal := []byte(`{"cf":"RSSMRA80A01F205X"}`)
	if _, err := ob.Enqueue(ctx, outbox.Op{Kind: kiosk.QueueKind, IdempotencyKey: "k-1", Payload: personal, PersonalData: true, AmountCents: 1660}); err != nil {
		t.Fatal(err)
	}
	ob.Close()
	os.MkdirAll(spoolDir(dir), 0o755)
	job, _ := json.Marshal(printer.Job{ID: "20260105T090000-0a1b2c3d", Format: printer.FormatPDF, Data: []byte("%PDF-1.7 ROSSI MARIO")})
	os.WriteFile(filepath.Join(spoolDir(dir), "20260105T090000-0a1b2c3d.json"), job, 0o644)

	var stderr bytes.Buffer
	c := &cli{stdin: strings.NewReader("portici di bologna\n"), stdout: io.Discard, stderr: &stderr}
	st, err := c.openStation(ctx, dir, true, "it", secretArgs(t, "--secret-stdin"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "held the device key in the clear; now the keys are sealed") {
		t.Errorf("no word of the migration: %q", stderr.String())
	}
	if !bytes.Equal(st.prof.DeviceKey, dev.Seed()) {
		t.Error("the device key changed")
	}
	if got := queuedPayloads(t, st.outbox); len(got) != 1 || !bytes.Equal(got[0], personal) {
		t.Fatalf("the queued requests after migration: %q", got)
	}
	if jobs, err := st.a4.Spool.List(); err != nil || len(jobs) != 1 {
		t.Errorf("the kept job after migration: %v %v", jobs, err)
	}
	st.Close()
	b, _ := os.ReadFile(filepath.Join(dir, "device.json"))
	if bytes.Contains(b, []byte(base64.StdEncoding.EncodeToString(dev.Seed()))) || bytes.Contains(b, []byte("device_key")) {
		t.Errorf("device.json still holds the device key:\n%s", b)
	}
	if m, _ := filepath.Glob(filepath.Join(spoolDir(dir), "*.json")); len(m) != 0 {
		t.Errorf("clear spooled jobs left: %v", m)
	}
	attackCopy(t, dir, "http://127.0.0.1:1")
	// The next start asks for the passphrase it was sealed with.
	again := &cli{stdin: strings.NewReader("portici di bologna\n"), stdout: io.Discard, stderr: io.Discard}
	st, err = again.openStation(ctx, dir, true, "it", secretArgs(t, "--secret-stdin"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// queuedPayloads is what the outbox's sender would deliver: each pending
// request's payload, decrypted. The delivery fails, so they stay queued.
func queuedPayloads(t *testing.T, ob *outbox.Outbox) [][]byte {
	t.Helper()
	var got [][]byte
	s := ob.NewSender(outbox.DelivererFunc(func(_ context.Context, e outbox.Entry) (outbox.Result, error) {
		got = append(got, e.Payload)
		return outbox.Result{}, errors.New("the hub is away")
	}), outbox.SenderOptions{})
	s.Drain(context.Background())
	return got
}

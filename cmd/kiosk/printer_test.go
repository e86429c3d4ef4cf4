package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/keystore"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos/escposdec"
	"github.com/sportello/sportello/printer/receipt"
	"github.com/sportello/sportello/printer/transport/transporttest"
)

func runPrinterCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runKioskIn(t, "", args...)
}

// runKioskIn runs a kiosk command with stdin; stdin is never a terminal, so
// nothing is prompted.
func runKioskIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, now: func() time.Time {
		return time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC)
	}}
	code := c.run(context.Background(), args)
	return code, out.String(), errb.String()
}

// sealedProfile is an enrolled profile, its keys sealed with passphrase
// (quickly: the KDF's cost is the tests' to choose).
func sealedProfile(t *testing.T, passphrase string) (string, keystore.Keys) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kiosk")
	_, dev, _ := ed25519.GenerateKey(nil)
	hubPub, _, _ := ed25519.GenerateKey(nil)
	p := &hubclient.Profile{HubURL: "https://hub.example.it", KeyID: "dev-1", OperatorID: "op-0001", DeviceKey: dev.Seed(), HubKey: hubPub}
	keys, err := keystore.NewKeys(p.DeviceKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &keystore.Passphrase{Secret: []byte(passphrase), KDF: keystore.KDF{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}}
	if err := keystore.Save(dir, p, keys, s); err != nil {
		t.Fatal(err)
	}
	return dir, keys
}

func TestPrinterTestFile(t *testing.T) {
	for _, tt := range []struct {
		model, euro, qrKind string
	}{
		{"tm-t20", "16,00 €", "qr"},        // native GS ( k
		{"generic", "16,00 EUR", "raster"}, // PC437, QR as an image
	} {
		t.Run(tt.model, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.bin")
			code, stdout, stderr := runPrinterCmd(t, "printer", "test", "--printer", "file://"+path, "--model", tt.model)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "printed a demo receipt") {
				t.Errorf("stdout %q", stdout)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := escposdec.Decode(data)
			if err != nil {
				t.Fatalf("receipt does not decode: %v", err)
			}
			text := doc.Text()
			// The CLI's clock says 14:05 UTC: the receipt prints Rome's
			// time, 15:05 (CET).
			for _, want := range []string{"Edicola Città Studi", "Operatore: OP-0042", "12/03/2026 15:05",
				"Certificato di residenza", "Prot. 2026/000123", tt.euro, "TOTALE", "18,52", "autenticità"} {
				if !strings.Contains(text, want) {
					t.Errorf("receipt lacks %q:\n%s", want, text)
				}
			}
			if len(doc.Images) != 1 || doc.Images[0].Kind != tt.qrKind {
				t.Fatalf("receipt images: %+v", doc.Images)
			}
			png, err := escposdec.PNG(doc.Images[0].Img, 16)
			if err != nil {
				t.Fatal(err)
			}
			got, err := escposdec.Scan(png)
			if err != nil {
				t.Fatal(err)
			}
			if want := receipt.Demo(time.Time{}, receipt.Italian).VerifyURL; got != want {
				t.Errorf("QR reads %q, want the verification link %q", got, want)
			}
			if !strings.Contains(strings.ReplaceAll(text, "\n", ""), got) {
				t.Errorf("the receipt does not print the link %q that its QR holds", got)
			}
		})
	}
}

func TestPrinterTestPDFFile(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext is not installed; run make deps")
	}
	path := filepath.Join(t.TempDir(), "page.pdf")
	if code, _, stderr := runPrinterCmd(t, "printer", "test", "--printer", "file://"+path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out, err := exec.Command("pdftotext", path, "-").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pagina di prova") || !strings.Contains(string(out), "€") {
		t.Errorf("pdftotext: %v\n%s", err, out)
	}
}

func TestPrinterPaperOutAndReprint(t *testing.T) {
	fake := transporttest.Start(t)
	fake.PaperOutAfter(300)
	// A test page that does not print says why, and is not kept.
	code, _, stderr := runPrinterCmd(t, "printer", "test", "--printer", fake.URI())
	if code != 1 || !strings.Contains(stderr, "paper out") || strings.Contains(stderr, "kept as") {
		t.Fatalf("exit %d, stderr %q; want 1 and a paper-out message", code, stderr)
	}

	// The kiosk's own jobs wait in its profile's sealed spool: printer jobs
	// and printer reprint unseal the profile to read them.
	const pass = "banco-lotto-42"
	profile, keys := sealedProfile(t, pass)
	sp, err := printer.NewDirSpool(filepath.Join(profile, "print-spool"), keys.Spool)
	if err != nil {
		t.Fatal(err)
	}
	data := fake.Received()
	if len(data) == 0 {
		t.Fatal("the printer received nothing")
	}
	job := printer.Job{ID: "20260312T140500-0a1b2c3d", Name: "ricevuta 2026/0000001", Format: printer.FormatESCPOS, Printer: fake.URI(),
		Created: time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC), Data: data, Attempts: 1, LastError: "the printer reports paper out after printing"}
	if err := sp.Put(job); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runPrinterCmd(t, "printer", "jobs", "--profile", profile); code != 1 || !strings.Contains(stderr, "--secret-stdin") {
		t.Errorf("printer jobs without the passphrase: exit %d, %q", code, stderr)
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(pass+"\n"), 0o644)
	if code, _, stderr := runPrinterCmd(t, "printer", "jobs", "--profile", profile, "--secret-file", secretFile); code != 1 || !strings.Contains(stderr, "chmod 600") {
		t.Errorf("a passphrase file others can read: exit %d, %q", code, stderr)
	}
	os.Chmod(secretFile, 0o600)
	code, stdout, stderr := runPrinterCmd(t, "printer", "jobs", "--profile", profile, "--secret-file", secretFile)
	if code != 0 || !strings.Contains(stdout, job.ID) || !strings.Contains(stdout, "paper out") {
		t.Fatalf("printer jobs: exit %d\n%s%s", code, stdout, stderr)
	}

	fake.PaperOutAfter(-1)
	fake.Reset()
	code, stdout, stderr = runKioskIn(t, pass+"\n", "printer", "reprint", "--id", job.ID, "--profile", profile, "--secret-stdin")
	if code != 0 || !strings.Contains(stdout, "reprinted") {
		t.Fatalf("reprint: exit %d, %s%s", code, stdout, stderr)
	}
	if !bytes.Equal(fake.Received(), data) {
		t.Error("the reprint is not the same job")
	}
	if ents, _ := os.ReadDir(filepath.Join(profile, "print-spool")); len(ents) != 0 {
		t.Errorf("after the reprint the spool still holds %v", ents)
	}
	if _, stdout, _ := runKioskIn(t, pass+"\n", "printer", "jobs", "--profile", profile, "--secret-stdin"); !strings.Contains(stdout, "no jobs") {
		t.Errorf("printer jobs after reprint: %s", stdout)
	}
}

func TestPrinterUsage(t *testing.T) {
	for _, args := range [][]string{
		{"printer", "test"},
		{"printer", "test", "--printer", "file:///tmp/x", "--model", "laserjet"},
		{"printer", "test", "--printer", "file:///tmp/x", "--lang", "de"},
		{"printer", "reprint"},
		{"printer", "list", "--cups", "nohost"},
	} {
		if code, _, stderr := runPrinterCmd(t, args...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
	if code, _, stderr := runPrinterCmd(t, "printer", "test", "--printer", "lpt://x"); code != 1 || !strings.Contains(stderr, "scheme") {
		t.Errorf("unknown scheme: exit %d, %q", code, stderr)
	}
}

func TestPrinterList(t *testing.T) {
	// No USB printers exist here and CUPS may or may not run: the listing
	// still succeeds and has all three sections.
	code, stdout, stderr := runPrinterCmd(t, "printer", "list", "--cups", "127.0.0.1:1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"USB printers:", "Kernel printer devices:", "CUPS queues at 127.0.0.1:1:", "not reachable"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("printer list lacks %q:\n%s", want, stdout)
		}
	}
}

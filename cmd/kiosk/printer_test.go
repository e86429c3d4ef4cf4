package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos/escposdec"
	"github.com/sportello/sportello/printer/receipt"
	"github.com/sportello/sportello/printer/transport/transporttest"
)

func runPrinterCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb, now: func() time.Time {
		return time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC)
	}}
	code := c.run(context.Background(), args)
	return code, out.String(), errb.String()
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
			code, stdout, stderr := runPrinterCmd(t, "printer", "test", "--printer", "file://"+path, "--model", tt.model, "--spool", t.TempDir())
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
			for _, want := range []string{"Edicola Città Studi", "Operatore: OP-0042", "12/03/2026 14:05",
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
	if code, _, stderr := runPrinterCmd(t, "printer", "test", "--printer", "file://"+path, "--spool", t.TempDir()); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out, err := exec.Command("pdftotext", path, "-").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pagina di prova") || !strings.Contains(string(out), "€") {
		t.Errorf("pdftotext: %v\n%s", err, out)
	}
}

func TestPrinterPaperOutAndReprint(t *testing.T) {
	fake := transporttest.Start(t)
	spool := t.TempDir()
	fake.PaperOutAfter(300)
	code, _, stderr := runPrinterCmd(t, "printer", "test", "--printer", fake.URI(), "--spool", spool)
	if code != 1 || !strings.Contains(stderr, "paper out") || !strings.Contains(stderr, "kept as") {
		t.Fatalf("exit %d, stderr %q; want 1 and a paper-out message saying the job is kept", code, stderr)
	}
	id := regexp.MustCompile(`kept as (\S+) for reprint`).FindStringSubmatch(stderr)
	if id == nil {
		t.Fatalf("stderr %q names no job", stderr)
	}
	code, stdout, _ := runPrinterCmd(t, "printer", "jobs", "--spool", spool)
	if code != 0 || !strings.Contains(stdout, id[1]) || !strings.Contains(stdout, "paper out") {
		t.Fatalf("printer jobs: exit %d\n%s", code, stdout)
	}
	first := fake.Received()

	fake.PaperOutAfter(-1)
	fake.Reset()
	code, stdout, stderr = runPrinterCmd(t, "printer", "reprint", "--id", id[1], "--spool", spool)
	if code != 0 || !strings.Contains(stdout, "reprinted") {
		t.Fatalf("reprint: exit %d, %s%s", code, stdout, stderr)
	}
	if !bytes.Equal(fake.Received(), first) {
		t.Error("the reprint is not the same job")
	}
	sp, _ := printer.NewDirSpool(spool)
	if jobs, _ := sp.List(); len(jobs) != 0 {
		t.Errorf("%d jobs still kept after the reprint", len(jobs))
	}
	if _, stdout, _ := runPrinterCmd(t, "printer", "jobs", "--spool", spool); !strings.Contains(stdout, "no jobs") {
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
	if code, _, stderr := runPrinterCmd(t, "printer", "test", "--printer", "lpt://x", "--spool", t.TempDir()); code != 1 || !strings.Contains(stderr, "scheme") {
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

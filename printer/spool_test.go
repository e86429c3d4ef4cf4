package printer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var spoolKey = bytes.Repeat([]byte{7}, SpoolKeyLen)

// certificate stands for an A4 job: a PDF naming a person.
var certificate = []byte("%PDF-1.7 certificato di residenza: ROSSI MARIO, RSSMRA80A01F205X, via Roma 1, Milano")

// TestDirSpoolSealed: a certificate that could not print is kept in the
// spool sealed (no file holds its bytes, in the clear or in base64),
// readable by the kiosk's user only, still there after a restart, not
// readable with another key, and gone once printed.
func TestDirSpoolSealed(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "print-spool")
	sp, err := NewDirSpool(dir, spoolKey)
	if err != nil {
		t.Fatal(err)
	}
	p := &Printer{URI: "ipp://printer.local/ipp/print", Transport: &fakeTransport{sendErr: errors.New("connection refused")}, Spool: sp}
	err = p.Print(ctx, Job{Name: "certificato 2026/0000001", Format: FormatPDF, Data: certificate})
	var je *JobError
	if !errors.As(err, &je) {
		t.Fatalf("Print = %v, want the job kept", err)
	}
	files := 0
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		if d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, clear := range [][]byte{certificate, []byte(base64.StdEncoding.EncodeToString(certificate)), []byte("RSSMRA80A01F205X"), []byte("certificato 2026")} {
			if bytes.Contains(b, clear) {
				t.Errorf("%s holds %.20q… in the clear", path, clear)
			}
		}
		return nil
	})
	if files != 1 {
		t.Fatalf("the spool holds %d files, want the one job", files)
	}

	// After a restart the job is still there; another kiosk's key opens nothing.
	again, err := NewDirSpool(dir, spoolKey)
	if err != nil {
		t.Fatal(err)
	}
	if j, err := again.Get(je.ID); err != nil || !bytes.Equal(j.Data, certificate) || j.Attempts != 1 {
		t.Fatalf("reopened: %+v %v", j, err)
	}
	other, err := NewDirSpool(dir, bytes.Repeat([]byte{8}, SpoolKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(je.ID); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Errorf("another key: %v", err)
	}
	if _, err := NewDirSpool(dir, []byte("short")); err == nil {
		t.Error("a short key was accepted")
	}

	// Printed: nothing is left on disk.
	p.Spool = again
	p.Transport = &fakeTransport{}
	if err := p.Reprint(ctx, je.ID); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("after printing the spool holds %v", ents)
	}
}

// TestDirSpoolSealsClearJobs: jobs an earlier kiosk kept as clear JSON are
// sealed when the spool opens, and the clear files removed.
func TestDirSpoolSealsClearJobs(t *testing.T) {
	dir := t.TempDir()
	j := Job{ID: "20260407T100000-0a1b2c3d", Name: "certificato", Format: FormatPDF, Created: time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC), Data: certificate}
	b, _ := json.Marshal(j)
	if err := os.WriteFile(filepath.Join(dir, j.ID+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	sp, err := NewDirSpool(dir, spoolKey)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != j.ID+".job" {
		t.Fatalf("the spool holds %v, want the job sealed", ents)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, ents[0].Name())); bytes.Contains(b, []byte("RSSMRA80A01F205X")) {
		t.Error("the sealed job holds the certificate in the clear")
	}
	if got, err := sp.Get(j.ID); err != nil || !bytes.Equal(got.Data, certificate) {
		t.Errorf("the sealed job: %+v %v", got, err)
	}
}

// TestPrintForgetsKeptCopies: the kiosk's own reprint button sends the
// same document as a new job; once it prints, the copy the spool kept
// from the failed attempt is deleted too, instead of waiting there with
// the citizen's data.
func TestPrintForgetsKeptCopies(t *testing.T) {
	ctx := context.Background()
	sp := NewMemSpool()
	tr := &fakeTransport{after: Status{PaperOut: true}}
	p := &Printer{URI: "usb://04b8:0e28", Transport: tr, Spool: sp}
	if err := p.Print(ctx, Job{Name: "ricevuta", Format: FormatESCPOS, Data: certificate}); err == nil {
		t.Fatal("printing without paper succeeded")
	}
	// Another document for another printer stays.
	if err := sp.Put(Job{ID: "other", Printer: "ipp://a4", Data: certificate}); err != nil {
		t.Fatal(err)
	}
	*tr = fakeTransport{}
	if err := p.Print(ctx, Job{Name: "ricevuta", Format: FormatESCPOS, Data: certificate}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := sp.List(); len(jobs) != 1 || jobs[0].ID != "other" {
		t.Errorf("after the document printed the spool holds %+v", jobs)
	}
}

package main

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/cie/virtual"
)

// TestLoadCSCAs: --cie-csca reads every certificate of each PEM file,
// refuses a file with none, and --demo adds the virtual card's test CSCA.
func TestLoadCSCAs(t *testing.T) {
	ca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "csca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
	os.WriteFile(good, append(block, block...), 0o600)
	bad := filepath.Join(dir, "not.pem")
	os.WriteFile(bad, []byte("hello"), 0o600)

	if got, err := loadCSCAs(nil, false); err != nil || len(got) != 0 {
		t.Errorf("no file, no demo: %d CSCAs, %v", len(got), err)
	}
	if got, err := loadCSCAs(nil, true); err != nil || len(got) != 1 || !got[0].Equal(ca) {
		t.Errorf("--demo: %d CSCAs, %v", len(got), err)
	}
	if got, err := loadCSCAs([]string{good}, false); err != nil || len(got) != 2 {
		t.Errorf("a file of two: %d CSCAs, %v", len(got), err)
	}
	if _, err := loadCSCAs([]string{bad}, false); err == nil || !strings.Contains(err.Error(), "no PEM CERTIFICATE") {
		t.Errorf("a file with no certificate: %v", err)
	}
	if _, err := loadCSCAs([]string{filepath.Join(dir, "missing.pem")}, false); err == nil {
		t.Error("a missing file was accepted")
	}
}

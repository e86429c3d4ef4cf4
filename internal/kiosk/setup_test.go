package kiosk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var setupShop = ShopIdentity{OperatorID: "op-7", Name: "Edicola Loreto", LegalName: "Rossi Giornali S.r.l.", PartitaIVA: "01199250158",
	Address: "Piazzale Loreto 9, 20131 Milano", Lat: 45.4857, Lon: 9.2163, Mode: SelfService}

var setupPrinters = []FoundPrinter{
	{URI: "ipp://127.0.0.1:631/printers/Ufficio", Name: "Ufficio", Detail: "HP LaserJet", Kind: A4},
	{URI: "usb://EPSON/TM-T20III?serial=X1", Name: "TM-T20III", Kind: Receipts, Model: "tm-t20"},
	{URI: "ipp://127.0.0.1:631/printers/Retro", Name: "Retro", Kind: A4},
}

// TestSetupWritesTheShopFromTheHub: the set-up proposes the first printer
// of each kind, test-prints on the chosen one, and writes kiosk.json with
// the shop exactly as the hub registered it and the mode of the enrolment;
// nothing of it is typed.
func TestSetupWritesTheShopFromTheHub(t *testing.T) {
	dir := t.TempDir()
	var tested []string
	hubDown := true
	s, err := NewSetup(SetupDeps{
		Shop: func(context.Context) (ShopIdentity, error) {
			if hubDown {
				return ShopIdentity{}, errors.New("cannot reach the hub")
			}
			return setupShop, nil
		},
		Printers: func(context.Context) ([]FoundPrinter, error) { return setupPrinters, nil },
		Readers:  func(context.Context) ([]string, error) { return []string{"ACS ACR39U ICC Reader 00 00"}, nil },
		TestPrint: func(_ context.Context, k PrinterKind, p FoundPrinter, _ Lang) error {
			tested = append(tested, string(k)+" "+p.URI)
			return nil
		},
		Save:  func(c ShopConfig) error { return WriteShopConfig(dir, c) },
		Clock: ClockFunc(func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) }),
	}, Italian)
	if err != nil {
		t.Fatal(err)
	}
	// With the hub down the printers are still found, and saving is
	// refused: the shop's identity is never invented.
	if err := s.Detect(context.Background()); err == nil {
		t.Fatal("Detect with the hub down: no error")
	}
	v := s.View()
	if v.ShopProblem == nil || v.ShopProblem.Key != "setup_hub_failed" || v.A4 != setupPrinters[0].URI || v.Receipt != setupPrinters[1].URI || len(v.Readers) != 1 {
		t.Fatalf("view with the hub down: %+v", v)
	}
	var p *Problem
	if _, err := s.Save(); !errors.As(err, &p) || p.Key != "setup_no_shop" {
		t.Fatalf("Save without the shop: %v, want setup_no_shop", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ShopFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused save wrote kiosk.json")
	}
	hubDown = false
	if err := s.Detect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Choose(A4, "ipp://elsewhere/printers/X"); err == nil {
		t.Error("a printer that was not found was accepted")
	}
	if err := s.Choose(A4, setupPrinters[2].URI); err != nil {
		t.Fatal(err)
	}
	for _, k := range []PrinterKind{A4, Receipts} {
		if err := s.Test(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"a4 " + setupPrinters[2].URI, "receipt " + setupPrinters[1].URI}; len(tested) != 2 || tested[0] != want[0] || tested[1] != want[1] {
		t.Errorf("tested %v, want %v", tested, want)
	}
	if _, err := s.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadShopConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := ShopConfig{Shop: "Edicola Loreto", LegalName: "Rossi Giornali S.r.l.", PartitaIVA: "01199250158", Address: "Piazzale Loreto 9, 20131 Milano",
		Mode: "self-service", A4Printer: setupPrinters[2].URI, ReceiptPrinter: setupPrinters[1].URI, ReceiptModel: "tm-t20",
		Lat: 45.4857, Lon: 9.2163, SetUp: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	if *got != want {
		t.Errorf("kiosk.json\n got %+v\nwant %+v", *got, want)
	}
	if fi, err := os.Stat(filepath.Join(dir, ShopFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kiosk.json mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

// TestNoShopConfig: a profile without kiosk.json says so with
// ErrNoShopConfig, which starts the set-up rather than failing.
func TestNoShopConfig(t *testing.T) {
	if _, err := ReadShopConfig(t.TempDir()); !errors.Is(err, ErrNoShopConfig) {
		t.Fatalf("%v, want ErrNoShopConfig", err)
	}
}

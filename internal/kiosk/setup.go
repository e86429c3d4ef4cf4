package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/atomicfile"
)

// ShopFile is the name of the shop's configuration in the kiosk's profile.
const ShopFile = "kiosk.json"

// ShopConfig is the profile's kiosk.json. The set-up (its screen, or
// `kiosk setup`) writes it after enrolment: the shop's identity comes from
// the hub's agreement, the printers from what the machine has, so nobody
// writes it by hand. Fleet managers may still write or edit it; the kiosk
// reads it at every start.
type ShopConfig struct {
	// Shop is the name on the screens and receipts, and LegalName,
	// PartitaIVA and Address the operator as the city registered it:
	// all from the hub's agreement.
	Shop       string `json:"shop"`
	LegalName  string `json:"legal_name,omitempty"`
	PartitaIVA string `json:"partita_iva,omitempty"`
	Address    string `json:"address,omitempty"`
	// Mode is operator (a shop's counter) or self-service, from the
	// enrolment: a self-service kiosk operator's devices are self-service.
	Mode string `json:"mode,omitempty"`
	// A4Printer and ReceiptPrinter are printer URIs: ipp://HOST:PORT/printers/QUEUE
	// (a CUPS queue), usb://…, lp:///dev/usb/lp0, tcp://HOST:9100, or
	// dir:PATH, which keeps every job as a file.
	A4Printer      string `json:"a4_printer"`
	ReceiptPrinter string `json:"receipt_printer"`
	// ReceiptModel is the ESC/POS profile (tm-t20, tm-t88, generic).
	ReceiptModel string `json:"receipt_model,omitempty"`
	// IdleSeconds wipes a self-service session, or logs a clerk out, after
	// that long untouched; the default when 0.
	IdleSeconds int    `json:"idle_seconds,omitempty"`
	DemoNIS     string `json:"demo_nis,omitempty"` // the virtual card's NIS in --demo
	// Lat and Lon place the shop for the directory of nearby points of
	// service; without them the kiosk shows no directory.
	Lat float64 `json:"lat,omitempty"`
	Lon float64 `json:"lon,omitempty"`
	// Payment is how a self-service kiosk takes payment: "till" (api.PayAtTill,
	// a kiosk inside a shop whose till takes the money and whose counter
	// confirms the code), "pagopa" (api.PayPagoPA, an unattended kiosk:
	// a pagoPA notice paid in a banking app), or empty for pagoPA first
	// and the till when the city offers no pagoPA (DefaultPayMethods).
	Payment string `json:"payment,omitempty"`
	// SetUp is when the set-up wrote the file; zero when written by hand.
	SetUp time.Time `json:"set_up,omitzero"`
}

// ErrNoShopConfig is ReadShopConfig's error when the profile has no
// kiosk.json yet: the kiosk then starts into its set-up.
var ErrNoShopConfig = errors.New("the kiosk is not set up")

// ReadShopConfig reads dir's kiosk.json.
func ReadShopConfig(dir string) (*ShopConfig, error) {
	path := filepath.Join(dir, ShopFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: the profile %s has no %s", ErrNoShopConfig, dir, ShopFile)
	}
	if err != nil {
		return nil, err
	}
	var cfg ShopConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s is not the expected JSON: %w", path, err)
	}
	return &cfg, nil
}

// WriteShopConfig writes dir's kiosk.json whole or not at all (a stop
// half-way leaves the old file, or none), readable by the kiosk's user only.
func WriteShopConfig(dir string, cfg ShopConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, ShopFile), append(b, '\n'), 0o600)
}

// ShopIdentity is the shop as the hub's agreement registers it, and the
// mode its enrolment gives the device.
type ShopIdentity struct {
	OperatorID string
	Name       string
	LegalName  string
	PartitaIVA string
	Address    string
	Lat, Lon   float64
	Mode       Mode
}

// PrinterKind is what a printer is for.
type PrinterKind string

const (
	A4       PrinterKind = "a4"      // certificates, on A4 paper
	Receipts PrinterKind = "receipt" // ESC/POS receipts on a roll
)

// FoundPrinter is a printer the machine has.
type FoundPrinter struct {
	URI    string
	Name   string      // the CUPS queue, or the device's model
	Detail string      // make and model, state, as the printer says
	Kind   PrinterKind // what it looks like; either may be chosen for either use
	Model  string      // ESC/POS profile the device suggests, for receipt printers
}

// SetupDeps are the set-up's connections to the world.
type SetupDeps struct {
	// Shop asks the hub who this enrolled device is.
	Shop func(ctx context.Context) (ShopIdentity, error)
	// Printers lists the printers the machine has: CUPS queues, USB and
	// kernel printer devices.
	Printers func(ctx context.Context) ([]FoundPrinter, error)
	// Readers lists the card readers (PC/SC names).
	Readers func(ctx context.Context) ([]string, error)
	// TestPrint prints a test page (A4) or a demo receipt on p.
	TestPrint func(ctx context.Context, kind PrinterKind, p FoundPrinter, lang Lang) error
	// Save writes the configuration (WriteShopConfig into the profile).
	Save  func(ShopConfig) error
	Clock Clock
}

// Tested is the outcome of a test print.
type Tested struct {
	URI     string
	Problem *Problem // nil when it printed
}

// SetupView is what the set-up screen shows.
type SetupView struct {
	Lang           Lang
	Shop           *ShopIdentity
	ShopProblem    *Problem
	Printers       []FoundPrinter
	PrinterProblem *Problem
	Readers        []string
	ReaderProblem  *Problem
	A4, Receipt    string // the chosen printers' URIs
	Tests          map[PrinterKind]Tested
	Problem        *Problem // why the last step failed
	Saved          *ShopConfig
}

// Setup is the first run of an enrolled kiosk: it asks the hub who the shop
// is, finds printers and card readers, test-prints, and writes kiosk.json.
type Setup struct {
	deps SetupDeps
	mu   sync.Mutex
	v    SetupView
	// OnChange is called after every change of the view, outside the lock.
	OnChange func()
}

// NewSetup makes a set-up in lang.
func NewSetup(deps SetupDeps, lang Lang) (*Setup, error) {
	if deps.Shop == nil || deps.Printers == nil || deps.Save == nil {
		return nil, errors.New("the set-up needs the hub, the printers and somewhere to save")
	}
	if lang == "" {
		lang = Italian
	}
	return &Setup{deps: deps, v: SetupView{Lang: lang, Tests: map[PrinterKind]Tested{}}}, nil
}

// View returns a copy of what the screen shows.
func (s *Setup) View() SetupView {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.v
	v.Printers = slices.Clone(s.v.Printers)
	v.Readers = slices.Clone(s.v.Readers)
	v.Tests = make(map[PrinterKind]Tested, len(s.v.Tests))
	for k, t := range s.v.Tests {
		v.Tests[k] = t
	}
	return v
}

func (s *Setup) change(fn func(v *SetupView)) {
	s.mu.Lock()
	fn(&s.v)
	s.mu.Unlock()
	if s.OnChange != nil {
		s.OnChange()
	}
}

// SetLang switches the screen's language.
func (s *Setup) SetLang(l Lang) error {
	if l != Italian && l != English {
		return fmt.Errorf("language %q is neither it nor en", l)
	}
	s.change(func(v *SetupView) { v.Lang = l })
	return nil
}

// Detect asks the hub who the shop is and looks for printers and card
// readers. What fails is shown with its reason; the rest is kept.
func (s *Setup) Detect(ctx context.Context) error {
	shop, serr := s.deps.Shop(ctx)
	printers, perr := s.deps.Printers(ctx)
	var readers []string
	var rerr error
	if s.deps.Readers != nil {
		readers, rerr = s.deps.Readers(ctx)
	}
	s.change(func(v *SetupView) {
		v.Shop, v.ShopProblem = nil, nil
		if serr != nil {
			v.ShopProblem = setupProblem("setup_hub_failed", serr)
		} else {
			v.Shop = &shop
		}
		v.Printers, v.PrinterProblem = printers, nil
		if perr != nil {
			v.PrinterProblem = setupProblem("setup_printers_failed", perr)
		}
		v.Readers, v.ReaderProblem = readers, nil
		if rerr != nil {
			v.ReaderProblem = setupProblem("setup_readers_failed", rerr)
		}
		// The first printer of each kind is proposed; a choice already
		// made stays while its printer is still there.
		for _, k := range []PrinterKind{A4, Receipts} {
			cur := v.chosen(k)
			if *cur != "" && slices.ContainsFunc(printers, func(p FoundPrinter) bool { return p.URI == *cur }) {
				continue
			}
			*cur = ""
			for _, p := range printers {
				if p.Kind == k {
					*cur = p.URI
					break
				}
			}
		}
	})
	return errors.Join(serr, perr, rerr)
}

func (v *SetupView) chosen(k PrinterKind) *string {
	if k == A4 {
		return &v.A4
	}
	return &v.Receipt
}

// printer returns the found printer with uri.
func (v *SetupView) printer(uri string) (FoundPrinter, bool) {
	i := slices.IndexFunc(v.Printers, func(p FoundPrinter) bool { return p.URI == uri })
	if i < 0 {
		return FoundPrinter{}, false
	}
	return v.Printers[i], true
}

// Choose picks the printer with uri for kind; it must be one found.
func (s *Setup) Choose(kind PrinterKind, uri string) error {
	var err error
	s.change(func(v *SetupView) {
		if _, ok := v.printer(uri); !ok {
			err = setupProblem("setup_printer_unknown", nil, uri)
			v.Problem = err.(*Problem)
			return
		}
		*v.chosen(kind) = uri
		delete(v.Tests, kind)
		v.Problem = nil
	})
	return err
}

// Test prints a test page on the printer chosen for kind.
func (s *Setup) Test(ctx context.Context, kind PrinterKind) error {
	v := s.View()
	p, ok := v.printer(*v.chosen(kind))
	if !ok {
		err := setupProblem("setup_no_printer", nil)
		s.change(func(v *SetupView) { v.Problem = err })
		return err
	}
	var prob *Problem
	if s.deps.TestPrint == nil {
		prob = setupProblem("setup_test_failed", errors.New("this kiosk cannot print a test"))
	} else if err := s.deps.TestPrint(ctx, kind, p, v.Lang); err != nil {
		prob = setupProblem("setup_test_failed", err)
	}
	s.change(func(v *SetupView) { v.Tests[kind] = Tested{URI: p.URI, Problem: prob}; v.Problem = nil })
	if prob != nil {
		return prob
	}
	return nil
}

// Save writes kiosk.json: the shop from the hub, the chosen printers. It
// refuses until the hub has said who the shop is and both printers are
// chosen, naming what is missing.
func (s *Setup) Save() (*ShopConfig, error) {
	v := s.View()
	var prob *Problem
	_, aok := v.printer(v.A4)
	rp, rok := v.printer(v.Receipt)
	switch {
	case v.Shop == nil:
		prob = setupProblem("setup_no_shop", nil)
	case !aok || !rok:
		prob = setupProblem("setup_no_printer", nil)
	}
	if prob != nil {
		s.change(func(v *SetupView) { v.Problem = prob })
		return nil, prob
	}
	cfg := ShopConfig{Shop: v.Shop.Name, LegalName: v.Shop.LegalName, PartitaIVA: v.Shop.PartitaIVA, Address: v.Shop.Address,
		Mode: string(v.Shop.Mode), A4Printer: v.A4, ReceiptPrinter: v.Receipt, ReceiptModel: rp.Model, Lat: v.Shop.Lat, Lon: v.Shop.Lon}
	if s.deps.Clock != nil {
		cfg.SetUp = s.deps.Clock.Now().UTC().Truncate(time.Second)
	}
	if err := s.deps.Save(cfg); err != nil {
		prob = setupProblem("setup_save_failed", err)
		s.change(func(v *SetupView) { v.Problem = prob })
		return nil, prob
	}
	s.change(func(v *SetupView) { v.Saved = &cfg; v.Problem = nil })
	return &cfg, nil
}

// setupProblem is a set-up step's failure: the catalogue's sentence for
// key, with the cause's own words as its argument.
func setupProblem(key string, err error, args ...any) *Problem {
	if err != nil {
		args = append(args, strings.TrimSuffix(err.Error(), "."))
	}
	return problem(key, "", err, args...)
}

// PayMethods are the payment methods kiosk.json's Payment names, in the
// order a self-service kiosk offers them; an error for a value it does not
// know.
func (c ShopConfig) PayMethods() ([]string, error) {
	switch c.Payment {
	case "":
		return DefaultPayMethods(), nil
	case api.PayAtTill, api.PayPagoPA:
		return []string{c.Payment}, nil
	}
	return nil, fmt.Errorf("%s: payment %q is neither %q nor %q", ShopFile, c.Payment, api.PayAtTill, api.PayPagoPA)
}

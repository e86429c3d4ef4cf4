package citybolt

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/bolt/opbolt"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func ptr[T any](v T) *T { return &v }

func open(t *testing.T, path string) (*bbolt.DB, *Store, *opbolt.Store) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	defaults := city.Milan()
	defaults.PublicURL = "http://127.0.0.1:8080"
	cs, err := New(db, clock, defaults)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := opbolt.New(db, clock, operators.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	ops.PolicyIn = cs.PolicyIn
	return db, cs, ops
}

func addShop(t *testing.T, ops *opbolt.Store, fee int) *operators.Operator {
	t.Helper()
	o := &operators.Operator{LegalName: "Edicola Rossi", PartitaIVA: "01199250158", Category: operators.Edicola,
		Address: operators.Address{Street: "Corso Buenos Aires", Number: "33", CAP: "20124", City: "Milano", Lat: 45.4781, Lon: 9.2096},
		Agreement: &operators.Agreement{Signed: registry.DateOf(now.AddDate(0, -1, 0)), Expires: registry.DateOf(now.AddDate(2, 0, 0)),
			FeeCents: fee, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff:anna"); err != nil {
		t.Fatal(err)
	}
	return o
}

// The cap and the agreements are checked against each other in the file:
// a cap below an agreement is refused naming the shop, an agreement above
// the stored cap is refused, and the settings survive a reopen.
func TestCapAndAgreements(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	db, cs, ops := open(t, path)
	shop := addShop(t, ops, 200)

	_, err := cs.Set(city.Edit{FeeCapCents: ptr(150)}, "staff:anna")
	if !errors.Is(err, city.ErrInvalid) || !strings.Contains(err.Error(), shop.ID+" Edicola Rossi (2,00 EUR)") {
		t.Fatalf("cap below the shop's fee: %v", err)
	}
	if got, _ := cs.Current(); got.FeeCapCents != 200 {
		t.Errorf("a refused cap was stored: %d", got.FeeCapCents)
	}
	if _, err := ops.SetStatus(shop.ID, operators.Revoked, "staff:anna", "closed"); err != nil {
		t.Fatal(err)
	}
	cfg, err := cs.Set(city.Edit{FeeCapCents: ptr(150), Address: ptr("Via Larga 12")}, "staff:anna")
	if err != nil || cfg.FeeCapCents != 150 || cfg.Address != "Via Larga 12" {
		t.Fatalf("cap once the shop is revoked: %+v %v", cfg, err)
	}
	if p := ops.CurrentPolicy(); p.FeeCapCents != 150 {
		t.Errorf("operators' policy cap %d, want 150", p.FeeCapCents)
	}
	o := &operators.Operator{LegalName: "Tabacchi", PartitaIVA: "12345680156", Category: operators.Tabaccheria,
		Address: operators.Address{Street: "Corso di Porta Romana", Number: "116", CAP: "20122", City: "Milano", Lat: 45.45, Lon: 9.2},
		Agreement: &operators.Agreement{Signed: registry.DateOf(now), Expires: registry.DateOf(now.AddDate(1, 0, 0)),
			FeeCents: 200, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff:anna"); err == nil || !strings.Contains(err.Error(), "1,50") && !strings.Contains(err.Error(), "1.50") {
		t.Errorf("an agreement above the stored cap: %v", err)
	}

	db.Close()
	_, cs, _ = open(t, path)
	stored, err := cs.Stored()
	if err != nil {
		t.Fatal(err)
	}
	if stored.FeeCapCents != 150 || stored.PublicURL != "" || len(stored.History) != 2 || stored.History[0].By != "staff:anna" {
		t.Errorf("after reopening: %+v", stored)
	}
	cur, _ := cs.Current()
	if cur.PublicURL != "http://127.0.0.1:8080" || cur.Belfiore != "F205" {
		t.Errorf("unset fields do not follow the defaults: %+v", cur)
	}
}

package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/kiosk"
)

// The screens' hub keeps the citizen's records: one delegation given and
// one received, and a dossier with something in every section.
func (h *hub) GiveDelegation(_ context.Context, req api.DelegationRequest, _ string) (*api.Delegation, error) {
	h.gave = append(h.gave, req)
	return &api.Delegation{ID: "dl-2", DelegatorCF: "RSSMRA50B17A558W", DelegateCF: req.DelegateCF, Scope: req.Scope, Until: req.Until, State: "attiva"}, nil
}

func (h *hub) Delegations(context.Context, api.DelegationsRequest) (*api.Delegations, error) {
	return &api.Delegations{CF: "RSSMRA50B17A558W", Name: "ROSSI MARIO", Given: delegationsGiven(), Received: delegationsReceived()}, nil
}

func (h *hub) RevokeDelegation(_ context.Context, id string, _ api.DelegationsRequest) (*api.Delegation, error) {
	h.revoked = append(h.revoked, id)
	return &api.Delegation{ID: id, State: "revocata"}, nil
}

func delegationsGiven() []api.Delegation {
	return []api.Delegation{{ID: "dl-1", DelegatorCF: "RSSMRA50B17A558W", DelegatorName: "ROSSI MARIO", DelegateCF: "BNCLCU80A01F205X", DelegateName: "BIANCHI LUCA",
		Scope: api.DelegationScope{Certificates: []string{"residenza", "stato_di_famiglia"}, Appointments: true}, Until: "2027-03-31",
		Created: now.AddDate(0, -1, 0), State: "attiva",
		Uses: []api.DelegationUse{{At: now.AddDate(0, 0, -3), Service: "certificato di residenza", Ref: "2026/0001201"}}}}
}

func delegationsReceived() []api.Delegation {
	return []api.Delegation{{ID: "dl-9", DelegatorCF: "VRDGPP30C12F205K", DelegatorName: "VERDI GIUSEPPE", DelegateCF: "RSSMRA50B17A558W",
		Scope: api.DelegationScope{Certificates: []string{"esistenza_in_vita"}}, Until: "2026-12-31", Created: now.AddDate(0, -6, 0), State: "attiva"}}
}

func (h *hub) Dossier(context.Context, api.DossierQuery) (*api.Dossier, error) {
	return &api.Dossier{Generated: now,
		Person: api.DossierPerson{CF: "RSSMRA50B17A558W", Surname: "ROSSI", GivenNames: "MARIO", Sex: "M", BirthDate: "1950-02-17", BirthPlace: "Milano (MI)",
			Citizenship: "italiana", CivilStatus: "coniugato", Address: "Via Padova 21, 20127 Milano", ResidentSince: "1998-05-04"},
		Household: []api.DossierMember{{CF: "MRTMRA83T56A269B", Name: "MORETTI MARIA", BirthDate: "1983-12-16", Relationship: "moglie"}},
		Documents: []api.DossierDocument{{Kind: "carta d'identità elettronica", Number: "CA12345AB", Issued: "2017-03-10", Expires: "2027-02-17", State: "in scadenza", DaysLeft: 86}},
		Certificates: []api.DossierCertificate{
			{ID: "c7", Protocol: "2026/0001201", Title: "Certificato di residenza", Issued: now.AddDate(0, 0, -3), SubjectCF: "RSSMRA50B17A558W", SubjectName: "ROSSI MARIO",
				Channel: "counter", Delegation: "dl-1", Status: "valid", CopyAvailable: true},
			{ID: "c3", Protocol: "2026/0000310", Title: "Certificato di stato di famiglia", Issued: now.AddDate(0, -5, 0), SubjectCF: "MRTMRA83T56A269B", SubjectName: "MORETTI MARIA",
				RequesterCF: "RSSMRA50B17A558W", Channel: "self_service", Status: "valid"},
		},
		Requests: []api.DossierRequest{{ID: "rq-1", Protocol: "2026/0001188", Kind: "cambio_indirizzo", Title: "Cambio di indirizzo nel Comune",
			Filed: now.AddDate(0, 0, -10), Status: "in attesa di integrazione"}},
		Appointments: []api.DossierAppointment{{Ref: "AP-7K2M", Service: "Rinnovo della carta d'identità elettronica", Office: "Anagrafe centrale, via Larga 12",
			At: time.Date(2026, 12, 2, 9, 20, 0, 0, time.UTC), Status: "prenotato"}},
		DelegationsGiven: delegationsGiven(), DelegationsReceived: delegationsReceived(),
		AccessLog: []api.AccessLine{
			{Time: now, Kind: "read", Place: "Edicola Centrale", Channel: "self_service", What: "fascicolo", Why: "consultazione del proprio fascicolo del cittadino"},
			{Time: now.AddDate(0, 0, -3), Kind: "certificate", Place: "Tabaccheria Bianchi", Clerk: "Luca Verdi", Channel: "counter", What: "certificato di residenza",
				Why: "rilascio certificato anagrafico", Reference: "2026/0001201"},
		},
		AccessTotal: 7,
	}, nil
}

func (h *hub) DossierPDF(context.Context, api.DossierQuery) ([]byte, error) {
	return []byte("%PDF-1.7 fascicolo"), nil
}

// The dossier after CIE and PIN (self-service: no print button) and at a
// counter (with the clerk's print button), in both languages.
func TestDossierScreens(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		mode  kiosk.Mode
		steps func(f *kiosk.Flow) error
	}{
		{"selfservice_dossier_it", kiosk.SelfService, func(f *kiosk.Flow) error {
			pinned(f)
			return f.ShowDossier(ctx)
		}},
		{"operator_dossier_en", kiosk.Operator, func(f *kiosk.Flow) error {
			loggedIn(f)
			f.SetLang(kiosk.English)
			f.TapCard(ctx)
			return f.ShowDossier(ctx)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			f := newFlow(t, tt.mode, &hub{})
			u := New(a, f, catalog(t))
			w := test.NewTempWindow(t, u.Content())
			w.Resize(fyne.NewSize(1024, 720))
			if err := tt.steps(f); err != nil {
				t.Fatal(err)
			}
			f.RefreshStatus(ctx)
			golden(t, w, tt.name)
		})
	}
}

// a4 records what is printed on the A4 printer.
type a4 struct {
	printers
	names []string
}

func (p *a4) PrintA4(_ context.Context, name string, _ []byte) error {
	p.names = append(p.names, name)
	return nil
}

// TestDossierByTaps opens the dossier from the choice screen with its
// button, at a counter prints it with the clerk's button, and goes back;
// at a self-service kiosk the screen has no print button at all.
func TestDossierByTaps(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []kiosk.Mode{kiosk.Operator, kiosk.SelfService} {
		t.Run(string(mode), func(t *testing.T) {
			a := test.NewTempApp(t)
			h := &hub{}
			prn := &a4{}
			cfg := kiosk.Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150}
			f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: prn, Outbox: &outbox{hub: h}, Clock: &clock{now}, Places: places})
			if err != nil {
				t.Fatal(err)
			}
			cat := catalog(t)
			u := New(a, f, cat)
			u.spawn = inline
			test.NewTempWindow(t, u.Content())
			if mode == kiosk.Operator {
				loggedIn(f)
				f.TapCard(ctx)
			} else {
				pinned(f)
			}
			v := f.View()
			open := findButton(u.Content(), cat.T(v.Lang, "dossier_button"))
			if open == nil {
				t.Fatal("no dossier button on the choice screen")
			}
			test.Tap(open)
			if v = f.View(); v.Step != kiosk.StepDossier || v.Dossier == nil {
				t.Fatalf("after the dossier button: step %s, problem %v", v.Step, v.Problem)
			}
			for _, s := range []string{"ROSSI MARIO", "MORETTI MARIA · moglie · 16/12/1983", "CA12345AB · scade il 17/02/2027 · in scadenza",
				"Certificato di residenza · protocollo 2026/0001201", "riguarda MORETTI MARIA", "Cambio di indirizzo nel Comune",
				"in attesa di integrazione", "AP-7K2M", "A BIANCHI LUCA per certificati (residenza, stato di famiglia); appuntamenti, fino al 31/03/2027",
				"Da VERDI GIUSEPPE", "Luca Verdi", "Altre 5 registrazioni"} {
				if !showsText(u.Content(), s) {
					t.Errorf("the dossier does not show %q", s)
				}
			}
			print := findButton(u.Content(), cat.T(v.Lang, "dossier_print"))
			if mode == kiosk.SelfService {
				if print != nil {
					t.Fatal("a self-service kiosk offers to print the dossier")
				}
			} else {
				if print == nil {
					t.Fatal("no print button at the counter")
				}
				test.Tap(print)
				if len(prn.names) != 1 || prn.names[0] != "fascicolo-RSSMRA50B17A558W" {
					t.Fatalf("printed %v", prn.names)
				}
				if p := f.View().Problem; p != nil {
					t.Fatalf("printing left a problem: %v", p)
				}
			}
			test.Tap(findButton(u.Content(), cat.T(v.Lang, "back_button")))
			if v = f.View(); v.Step != kiosk.StepChoose || v.Dossier != nil {
				t.Fatalf("back from the dossier: step %s", v.Step)
			}
		})
	}
}

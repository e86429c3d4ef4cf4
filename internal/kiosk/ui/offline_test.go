package ui

import (
	"context"
	"fmt"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/kiosk"
)

// downHub is the hub away from the start of the visit: nobody can be
// looked up (the clerk logged in before it went).
type downHub struct{ *hub }

func (downHub) LookupPerson(context.Context, kiosk.PersonQuery) (*kiosk.Person, error) {
	return nil, fmt.Errorf("%w: dial refused", kiosk.ErrOffline)
}

// TestGoldenOfflineNewCustomer: a new customer served while the hub is
// away (issue 15 item 5): the choice of the certificates they may have
// for themselves, and the claim screen saying the certificate waits for
// the Comune to confirm who they are, at the counter (codice fiscale and
// document) and in self-service (CIE and PIN), in Italian and English.
func TestGoldenOfflineNewCustomer(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		mode  kiosk.Mode
		steps func(f *kiosk.Flow) error
		want  kiosk.Step
	}{
		{"offline_new_customer_choose", kiosk.Operator, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			return f.IdentifyByCF(ctx, "CCCFBA85D03L219P", "CB98765XY")
		}, kiosk.StepChoose},
		{"offline_new_customer_claim", kiosk.Operator, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			f.IdentifyByCF(ctx, "CCCFBA85D03L219P", "CB98765XY")
			f.Choose(kiosk.Choice{SubjectCF: "CCCFBA85D03L219P", Types: []certificate.Type{certificate.Residenza}})
			return f.Confirm(ctx)
		}, kiosk.StepDone},
		{"selfservice_offline_new_customer_choose", kiosk.SelfService, func(f *kiosk.Flow) error {
			f.TapCard(ctx)
			return f.EnterPIN(ctx, "12345678")
		}, kiosk.StepChoose},
		{"selfservice_offline_new_customer_claim", kiosk.SelfService, func(f *kiosk.Flow) error {
			f.TapCard(ctx)
			f.EnterPIN(ctx, "12345678")
			f.Choose(kiosk.Choice{Types: []certificate.Type{certificate.StatoDiFamiglia}})
			return f.Confirm(ctx)
		}, kiosk.StepDone},
	}
	for _, tt := range tests {
		for _, lang := range kiosk.Langs {
			name := tt.name + "_" + string(lang)
			t.Run(name, func(t *testing.T) {
				a := test.NewTempApp(t)
				h := &hub{offline: true}
				cfg := kiosk.Config{Mode: tt.mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150,
					Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia, certificate.Nascita, certificate.Cittadinanza, certificate.StatoCivile}}
				f, err := kiosk.New(cfg, kiosk.Deps{Hub: downHub{h}, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: &clock{now},
					Payments: payments{h}})
				if err != nil {
					t.Fatal(err)
				}
				u := New(a, f, catalog(t))
				w := test.NewTempWindow(t, u.Content())
				w.Resize(fyne.NewSize(1024, 720))
				f.SetLang(lang)
				if err := tt.steps(f); err != nil {
					t.Fatal(err)
				}
				f.RefreshStatus(ctx)
				v := f.View()
				if v.Step != tt.want || v.Person == nil || v.Person.Provisional == "" {
					t.Fatalf("step %s, person %+v, want %s with a provisional person (%v)", v.Step, v.Person, tt.want, v.Problem)
				}
				golden(t, w, name)
			})
		}
	}
}

package ui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/kiosk"
)

// payments answers one pending payment by the method asked.
type payments struct{ h *hub }

func (p payments) CreatePayment(_ context.Context, _ kiosk.IssueRequest, method string) (*api.Payment, error) {
	if p.h.offline {
		return nil, fmt.Errorf("%w: down", kiosk.ErrOffline)
	}
	pay := &api.Payment{ID: "p1", Method: method, State: api.PaymentPending, AmountCents: 1652, Created: now, Expires: now.Add(30 * time.Minute)}
	if method == api.PayAtTill {
		pay.Code = "K7P-4QX"
	} else {
		pay.NoticeNumber, pay.CreditorFiscalCode = "301000000000012345", "01199250158"
		pay.QR = "PAGOPA|002|301000000000012345|01199250158|1652"
	}
	return pay, nil
}
func (p payments) Payment(context.Context, string) (*api.Payment, error) {
	return nil, kiosk.ErrOffline
}
func (p payments) CancelPayment(context.Context, string) error { return nil }
func (p payments) ConfirmTill(context.Context, string) (*api.Payment, error) {
	return nil, kiosk.ErrOffline
}
func (p payments) PendingTill(context.Context) ([]api.Payment, error) { return nil, nil }

// keptOutbox knows one request the hub confirmed while the citizen was
// away, kept for its collection.
type keptOutbox struct{ outbox }

func (o *keptOutbox) Lookup(_ context.Context, code string) (*kiosk.Claimed, error) {
	return &kiosk.Claimed{Code: "K7Q-XM2-PA4", State: kiosk.ClaimQueued, Queued: now.Add(-2 * time.Hour), AmountCents: 1652, Kept: true,
		Payment: &api.Payment{ID: "p1", Method: api.PayPagoPA, State: api.PaymentPending, AmountCents: 1652}}, nil
}
func (o *keptOutbox) Kept(context.Context, string) (kiosk.IssueRequest, error) {
	return kiosk.IssueRequest{Key: "k1", SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}, Channel: certificate.SelfService,
		Requester: &api.RequesterEvidence{Method: api.EvidenceCIE, NIS: "012345678901", PINProved: true}}, nil
}

func TestGoldenPayScreens(t *testing.T) {
	ctx := context.Background()
	choose := func(f *kiosk.Flow) {
		f.TapCard(ctx)
		f.EnterPIN(ctx, "12345678")
		f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
	}
	tests := []struct {
		name    string
		method  string
		offline bool
		steps   func(f *kiosk.Flow) error
		want    kiosk.Step
	}{
		{"selfservice_pay_till", api.PayAtTill, false, func(f *kiosk.Flow) error { choose(f); return f.Confirm(ctx) }, kiosk.StepPay},
		{"selfservice_pay_pagopa", api.PayPagoPA, false, func(f *kiosk.Flow) error { choose(f); return f.Confirm(ctx) }, kiosk.StepPay},
		// The hub away at "Conferma": a claim receipt, collected here later.
		{"selfservice_queued_collect", api.PayPagoPA, true, func(f *kiosk.Flow) error { choose(f); return f.Confirm(ctx) }, kiosk.StepDone},
		{"selfservice_collect_code", api.PayPagoPA, false, func(f *kiosk.Flow) error { return f.StartCollect() }, kiosk.StepCollect},
		{"selfservice_collect_tap", api.PayPagoPA, false, func(f *kiosk.Flow) error {
			f.StartCollect()
			return f.Collect(ctx, "K7Q-XM2-PA4")
		}, kiosk.StepCollect},
	}
	for _, tt := range tests {
		for _, lang := range kiosk.Langs {
			name := tt.name
			if lang != kiosk.Italian {
				name += "_" + string(lang)
			}
			t.Run(name, func(t *testing.T) {
				a := test.NewTempApp(t)
				h := &hub{offline: tt.offline}
				var ob kiosk.Outbox = &outbox{hub: h}
				if tt.want == kiosk.StepCollect {
					ob = &keptOutbox{outbox{hub: h}}
				}
				cfg := kiosk.Config{Mode: kiosk.SelfService, Shop: "Edicola Centrale", OperatorID: "op-1", PayMethods: []string{tt.method},
					Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia}}
				f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: ob, Clock: &clock{now}, Payments: payments{h}})
				if err != nil {
					t.Fatal(err)
				}
				u := New(a, f, catalog(t))
				w := test.NewTempWindow(t, u.Content())
				w.Resize(fyne.NewSize(1024, 720))
				if err := f.SetLang(lang); err != nil {
					t.Fatal(err)
				}
				if err := tt.steps(f); err != nil {
					t.Fatal(err)
				}
				f.RefreshStatus(ctx)
				if got := f.View().Step; got != tt.want {
					t.Fatalf("step %s, want %s (%v)", got, tt.want, f.View().Problem)
				}
				golden(t, w, name)
			})
		}
	}
}

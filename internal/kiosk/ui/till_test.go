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

// tillPays are the shop's till payments waiting for the counter.
type tillPays struct{ pending []api.Payment }

func (p *tillPays) CreatePayment(context.Context, kiosk.IssueRequest, string) (*api.Payment, error) {
	return nil, fmt.Errorf("not at a counter")
}
func (p *tillPays) Payment(context.Context, string) (*api.Payment, error) {
	return nil, fmt.Errorf("not at a counter")
}
func (p *tillPays) CancelPayment(context.Context, string) error { return nil }
func (p *tillPays) ConfirmTill(_ context.Context, code string) (*api.Payment, error) {
	for i, q := range p.pending {
		if q.Code == code {
			p.pending = append(p.pending[:i:i], p.pending[i+1:]...)
			q.State = api.PaymentPaid
			return &q, nil
		}
	}
	return nil, &kiosk.Refusal{Status: 404, Reason: api.ReasonPaymentUnknown, Message: "no payment has this code"}
}
func (p *tillPays) PendingTill(context.Context) ([]api.Payment, error) {
	return append([]api.Payment(nil), p.pending...), nil
}

func tillPayments() *tillPays {
	return &tillPays{pending: []api.Payment{
		{ID: "p1", Method: api.PayAtTill, State: api.PaymentPending, AmountCents: 1652, Code: "H7KM4Q", Created: now.Add(-4 * time.Minute),
			Types: []string{"residenza"}},
		{ID: "p2", Method: api.PayAtTill, State: api.PaymentPending, AmountCents: 1652, Code: "B3NR8T", Created: now.Add(-2 * time.Minute),
			Types: []string{"stato_di_famiglia", "residenza"}},
		{ID: "p3", Method: api.PayAtTill, State: api.PaymentPending, AmountCents: 52, Code: "TZ2XKA", Created: now.Add(-1 * time.Minute),
			Types: []string{"nascita"}},
	}}
}

// TestGoldenTill: the shop's counter with a clerk logged in, in Italian
// and English: the identification screen's button counting the till
// payments waiting, the till screen after one was confirmed by its code
// (what was paid, for what, the others still waiting), a wrong code's
// refusal, and the day's summary with its totals by method.
func TestGoldenTill(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		steps func(f *kiosk.Flow) error
		want  kiosk.Step
	}{
		{"operator_identify_till", func(f *kiosk.Flow) error { return nil }, kiosk.StepIdentify},
		{"operator_till_confirmed", func(f *kiosk.Flow) error {
			if err := f.ShowTill(ctx); err != nil {
				return err
			}
			return f.ConfirmTill(ctx, "h7k m4q")
		}, kiosk.StepTill},
		{"operator_till_wrong_code", func(f *kiosk.Flow) error {
			f.ShowTill(ctx)
			f.ConfirmTill(ctx, "ZZZ999")
			return nil
		}, kiosk.StepTill},
		{"operator_summary_by_method", func(f *kiosk.Flow) error {
			f.ShowTill(ctx)
			f.ConfirmTill(ctx, "H7KM4Q")
			f.CloseTill()
			f.TapCard(ctx)
			f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
			f.Confirm(ctx)
			f.Next()
			return f.ShowSummary()
		}, kiosk.StepSummary},
	}
	for _, tt := range tests {
		for _, lang := range kiosk.Langs {
			name := tt.name + "_" + string(lang)
			t.Run(name, func(t *testing.T) {
				a := test.NewTempApp(t)
				h := &hub{}
				cfg := kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150}
				f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: &clock{now}, Payments: tillPayments()})
				if err != nil {
					t.Fatal(err)
				}
				u := New(a, f, catalog(t))
				w := test.NewTempWindow(t, u.Content())
				w.Resize(fyne.NewSize(1024, 720))
				f.SetLang(lang)
				if err := f.LoginCard(ctx, "12345678"); err != nil {
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

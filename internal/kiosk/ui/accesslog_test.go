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

// AccessLog gives the screens a log with each kind of line.
func (h *hub) AccessLog(_ context.Context, req api.AccessLogRequest) (*kiosk.AccessLog, error) {
	lines := []api.AccessLine{
		{Time: now, Kind: "access_log", Place: "Edicola Centrale", Channel: req.Channel, What: "registro degli accessi ai propri dati, ultimi 12 mesi",
			Why: "consultazione da parte dell'interessato del registro degli accessi ai propri dati (art. 15 Regolamento UE 2016/679)"},
		{Time: now.Add(-26 * time.Hour), Kind: "certificate", Place: "Tabaccheria Bianchi", Clerk: "Luca Verdi", Channel: "counter",
			What: "certificato di stato di famiglia", Why: "rilascio certificato anagrafico (art. 33 DPR 223/1989)", Reference: "2026/0001234"},
		{Time: now.Add(-26*time.Hour - 3*time.Minute), Kind: "read", Place: "Tabaccheria Bianchi", Clerk: "Luca Verdi", Channel: "counter",
			What: "nome e data di nascita, come componente della famiglia di MRTMRA83T56A269B",
			Why:  "identificazione del richiedente per il rilascio di certificati anagrafici, art. 33 DPR 223/1989"},
		{Time: now.AddDate(0, -4, 0), Kind: "refusal", Place: "Servizi Civici — Ufficio Anagrafe, Comune di Milano", Channel: "office",
			What: "certificato di residenza", Why: "rilascio certificato anagrafico (art. 33 DPR 223/1989)"},
	}
	return &kiosk.AccessLog{CF: "RSSMRA50B17A558W", Name: "ROSSI MARIO", From: "2025-11-23", To: "2026-11-23", Page: 1, Pages: 2, Total: 9, Lines: lines}, nil
}

// The access log screen after CIE and PIN (self-service, no print button)
// and at a counter (with the clerk's print button).
func TestAccessLogScreens(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		mode  kiosk.Mode
		steps func(f *kiosk.Flow) error
	}{
		{"selfservice_choose", kiosk.SelfService, func(f *kiosk.Flow) error {
			f.TapCard(ctx)
			return f.EnterPIN(ctx, "12345678")
		}},
		{"selfservice_access_log", kiosk.SelfService, func(f *kiosk.Flow) error {
			f.TapCard(ctx)
			f.EnterPIN(ctx, "12345678")
			return f.ShowAccessLog(ctx)
		}},
		{"operator_access_log_en", kiosk.Operator, func(f *kiosk.Flow) error {
			f.LoginCard(ctx, "12345678")
			f.SetLang(kiosk.English)
			f.TapCard(ctx)
			return f.ShowAccessLog(ctx)
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

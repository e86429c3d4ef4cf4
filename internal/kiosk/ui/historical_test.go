package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/kiosk"
)

// TestHistoricalChoose: the choice screen offers the death certificate and
// the two historical ones, and shows the date field only while a
// historical type is ticked; the review names the date. Golden images in
// both languages.
func TestHistoricalChoose(t *testing.T) {
	ctx := context.Background()
	for _, lang := range []kiosk.Lang{kiosk.Italian, kiosk.English} {
		a := test.NewTempApp(t)
		h := &hub{}
		cfg := kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150,
			Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia, certificate.Morte, certificate.ResidenzaStorica, certificate.StatoDiFamigliaStorico}}
		f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: &clock{now}, Places: places})
		if err != nil {
			t.Fatal(err)
		}
		u := New(a, f, catalog(t))
		w := test.NewTempWindow(t, u.Content())
		w.Resize(fyne.NewSize(1024, 720))
		f.SetLang(lang)
		f.LoginCard(ctx, "12345678")
		if err := f.TapCard(ctx); err != nil {
			t.Fatal(err)
		}
		fyne.DoAndWait(func() {
			u.types = map[certificate.Type]bool{certificate.Residenza: true}
			u.Refresh()
		})
		if u.atBox.Visible() {
			t.Errorf("%s: the date field shows with no historical type ticked", lang)
		}
		fyne.DoAndWait(func() {
			u.types = map[certificate.Type]bool{certificate.ResidenzaStorica: true}
			u.at.SetText("31/03/2015")
			u.Refresh()
		})
		if !u.atBox.Visible() {
			t.Errorf("%s: no date field with residenza storica ticked", lang)
		}
		golden(t, w, "operator_choose_historical_"+string(lang))
		if err := f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.ResidenzaStorica}, At: "31/03/2015"}); err != nil {
			t.Fatal(err)
		}
		golden(t, w, "operator_review_historical_"+string(lang))
	}
}

package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/kiosk"
)

// eligHub answers the look-up as a hub that judges eligibility does:
// Mario holds two citizenships, Maria was born and lives abroad, and the
// shop's agreement leaves out the death and historical certificates.
type eligHub struct{ hub }

func (h *eligHub) LookupPerson(ctx context.Context, q kiosk.PersonQuery) (*kiosk.Person, error) {
	p, _ := h.hub.LookupPerson(ctx, q)
	notHere := []kiosk.Missing{{Type: certificate.Morte, Reason: certificate.ReasonOperatorNotAllowed},
		{Type: certificate.ResidenzaStorica, Reason: certificate.ReasonOperatorNotAllowed}}
	p.Eligibility = kiosk.Eligibility{Told: true, Missing: append([]kiosk.Missing{{Type: certificate.Cittadinanza, Reason: certificate.ReasonSeveralCitizenships}}, notHere...)}
	p.Family[0].Eligibility = kiosk.Eligibility{Told: true, Missing: append([]kiosk.Missing{{Type: certificate.Nascita, Reason: certificate.ReasonBornAbroadAIRE}}, notHere...)}
	return p, nil
}

func findCheck(o fyne.CanvasObject, text string) *widget.Check {
	var found *widget.Check
	walk(o, func(o fyne.CanvasObject) {
		if c, ok := o.(*widget.Check); ok && c.Text == text {
			found = c
		}
	})
	return found
}

// TestEligibilityChoose: the choose screen offers only the certificates
// the hub said the chosen subject may have and says in one line why each
// other is missing, in the catalogue's words; ticking stato libero
// disables stato civile (they cannot share a certificate), saying so; a
// court use leaves only "Esente da bollo" and the codes that go with it.
// Choosing another subject changes the list in place. The review shows
// the exemption chosen. Golden images in Italian and English.
func TestEligibilityChoose(t *testing.T) {
	ctx := context.Background()
	for _, lang := range []kiosk.Lang{kiosk.Italian, kiosk.English} {
		t.Run(string(lang), func(t *testing.T) {
			a := test.NewTempApp(t)
			h := &eligHub{}
			cfg := kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150,
				Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia, certificate.Nascita, certificate.Cittadinanza, certificate.StatoCivile, certificate.StatoLibero}}
			f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: &h.hub}, Clock: &clock{now}, Places: places})
			if err != nil {
				t.Fatal(err)
			}
			cat := catalog(t)
			u := New(a, f, cat)
			w := test.NewTempWindow(t, u.Content())
			// Taller than the other goldens, so the picture shows the
			// whole screen: the exemption's code and every missing line.
			w.Resize(fyne.NewSize(1024, 1000))
			f.SetLang(lang)
			f.LoginCard(ctx, "12345678")
			if err := f.TapCard(ctx); err != nil {
				t.Fatal(err)
			}
			label := func(ty certificate.Type) string { return cat.T(lang, "type_"+string(ty)) }
			if findCheck(u.Content(), label(certificate.Cittadinanza)) != nil {
				t.Error("cittadinanza is offered for Mario, whom the hub said may not have it")
			}
			if !showsText(u.Content(), cat.T(lang, "hub_"+certificate.ReasonSeveralCitizenships)) {
				t.Error("the screen does not say why cittadinanza is missing")
			}
			if !showsText(u.Content(), label(certificate.Morte)) {
				t.Error("the screen does not name the types this shop does not issue")
			}
			libero, civile := findCheck(u.Content(), label(certificate.StatoLibero)), findCheck(u.Content(), label(certificate.StatoCivile))
			if libero == nil || civile == nil || civile.Disabled() {
				t.Fatal("stato libero and stato civile are not both offered")
			}
			test.Tap(libero)
			if !civile.Disabled() || !showsText(u.Content(), cat.T(lang, "choose_incompatible", label(certificate.StatoLibero))) {
				t.Error("stato civile can still be ticked beside stato libero, or the screen does not say why not")
			}
			fyne.DoAndWait(func() {
				u.types[certificate.Residenza] = true
				u.use = certificate.UseGiudiziario
				u.exCode = 3
				u.Refresh()
			})
			if !u.exempt || !showsText(u.Content(), cat.T(lang, "choose_use_needs_exemption")) {
				t.Error("a court use does not leave the exemption alone")
			}
			golden(t, w, "operator_choose_eligibility_"+string(lang))

			// "Esente da bollo" with no reason chosen: no cost, the
			// reason is asked for.
			fyne.DoAndWait(func() {
				u.use, u.exempt, u.exCode = certificate.UseOrdinary, true, 0
				u.Refresh()
			})
			if err := f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}, Exempt: true}); err == nil {
				t.Fatal("exempt without a reason went on to the cost")
			}
			if v := f.View(); v.Step != kiosk.StepChoose || v.Preview != nil {
				t.Fatalf("exempt without a reason: step %s, preview %v", v.Step, v.Preview)
			}
			golden(t, w, "operator_choose_exempt_no_reason_"+string(lang))

			// Maria: cittadinanza offered, nascita missing.
			fyne.DoAndWait(func() {
				u.subject = "MRTMRA83T56A269B"
				u.types = map[certificate.Type]bool{certificate.Nascita: true}
				u.Refresh()
			})
			if findCheck(u.Content(), label(certificate.Cittadinanza)) == nil || findCheck(u.Content(), label(certificate.Nascita)) != nil {
				t.Error("the list does not follow the subject")
			}
			if u.types[certificate.Nascita] {
				t.Error("a tick Maria may not have was kept")
			}

			// The review names the exemption, code and words.
			if err := f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza},
				Exempt: true, Exemption: fees.Exemption{Code: 3}, Use: string(certificate.UseGiudiziario)}); err != nil {
				t.Fatal(err)
			}
			if !formShows(u.Content(), "3 · "+cat.T(lang, "exemption_reason_3")) {
				t.Error("the review does not show the exemption chosen")
			}
			golden(t, w, "operator_review_exemption_"+string(lang))
		})
	}
}

// formShows reports whether a form's item on the screen shows s.
func formShows(o fyne.CanvasObject, s string) bool {
	found := false
	walk(o, func(o fyne.CanvasObject) {
		if f, ok := o.(*widget.Form); ok {
			for _, it := range f.Items {
				found = found || showsText(it.Widget, s)
			}
		}
	})
	return found
}

package ui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/kiosk"
)

// changes returns a wait that blocks until the flow's view satisfies
// cond with no action running, and the screen has been redrawn from that
// view. The action Enter started runs off the UI goroutine; each change it
// makes is handed to the test's goroutine, which redraws the screen there
// (the test driver's fyne.Do would run it on the action's goroutine, beside
// the test's own typing). Call it before the action.
func changes(t *testing.T, f *kiosk.Flow) func(cond func(kiosk.View) bool) {
	ch := make(chan struct{}, 256)
	redraw := f.OnChange
	f.OnChange = func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return func(cond func(kiosk.View) bool) {
		t.Helper()
		for {
			select {
			case <-ch:
				v := f.View() // what the redraw below shows at least
				redraw()
				if cond(v) && !v.Busy {
					return
				}
			case <-time.After(10 * time.Second): // a hang, not a timing: the action never changed the view
				t.Fatalf("the view never got there: step %s, problem %v", f.View().Step, f.View().Problem)
			}
		}
	}
}

func enter(e *widget.Entry) { e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }

// TestEnterSubmits: Enter in a form's field moves on to the form's next
// empty field, and submits it once every field is filled: the clerk's
// password log-in, the codice fiscale and document, the date of a
// historical certificate.
func TestEnterSubmits(t *testing.T) {
	a := test.NewTempApp(t)
	h := &hub{}
	cfg := kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150,
		Types: []certificate.Type{certificate.Residenza, certificate.ResidenzaStorica}}
	f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: &clock{now}})
	if err != nil {
		t.Fatal(err)
	}
	u := New(a, f, catalog(t))
	u.spawn = inline // see UI.spawn: race-free under Fyne's test driver
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 720))
	wait := changes(t, f)

	// Log-in: codice fiscale, Enter → the password; password, Enter → the
	// app's code; code, Enter → logged in.
	test.Type(u.clerkCF, "RSSMRA50B17A558W")
	enter(u.clerkCF)
	if w.Canvas().Focused() != u.clerkPass || f.View().Step != kiosk.StepLogin {
		t.Fatalf("Enter after the codice fiscale: focus on %v, step %s", w.Canvas().Focused(), f.View().Step)
	}
	test.Type(u.clerkPass, "segreto")
	enter(u.clerkPass)
	if w.Canvas().Focused() != u.clerkTOTP {
		t.Fatalf("Enter after the password: focus on %v", w.Canvas().Focused())
	}
	test.Type(u.clerkTOTP, "123456")
	enter(u.clerkTOTP)
	wait(func(v kiosk.View) bool { return v.Step == kiosk.StepIdentify })

	// Identification: codice fiscale, Enter → the document; Enter → the choice.
	test.Type(u.cfEntry, "RSSMRA50B17A558W")
	enter(u.cfEntry)
	if w.Canvas().Focused() != u.docEntry || f.View().Step != kiosk.StepIdentify {
		t.Fatalf("Enter after the codice fiscale: focus on %v, step %s", w.Canvas().Focused(), f.View().Step)
	}
	test.Type(u.docEntry, "CA12345AB")
	enter(u.docEntry)
	wait(func(v kiosk.View) bool { return v.Step == kiosk.StepChoose })

	// The date of a historical certificate, as Italians write it.
	fyne.DoAndWait(func() {
		u.types = map[certificate.Type]bool{certificate.ResidenzaStorica: true}
		u.Refresh()
	})
	test.Type(u.at, "31/03/2015")
	enter(u.at)
	wait(func(v kiosk.View) bool { return v.Step == kiosk.StepReview })
	if got := f.View().Choice.At; got != "2015-03-31" {
		t.Errorf("the date went on as %q", got)
	}
	if !hasTextDeep(u.Content(), "31/03/2015") {
		t.Error("the review does not show the date as 31/03/2015")
	}
}

// TestGreetingAndBirthDates: the choice screen greets by the time of day
// in Rome and shows the family's birth dates as 16/12/1983.
func TestGreetingAndBirthDates(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		lang  kiosk.Lang
		at    time.Time
		greet string
	}{
		{kiosk.Italian, time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), "Buongiorno, MARIO ROSSI"},
		{kiosk.Italian, time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), "Buon pomeriggio, MARIO ROSSI"},
		{kiosk.Italian, time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC), "Buonasera, MARIO ROSSI"},
		{kiosk.English, time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC), "Good evening, MARIO ROSSI"},
	} {
		a := test.NewTempApp(t)
		h := &hub{}
		f, err := kiosk.New(kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", Types: []certificate.Type{certificate.Residenza}},
			kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: &clock{tt.at}})
		if err != nil {
			t.Fatal(err)
		}
		u := New(a, f, catalog(t))
		test.NewTempWindow(t, u.Content()).Resize(fyne.NewSize(1024, 720))
		f.SetLang(tt.lang)
		f.LoginCard(ctx, "12345678")
		if err := f.TapCard(ctx); err != nil {
			t.Fatal(err)
		}
		if !hasTextDeep(u.Content(), tt.greet) {
			t.Errorf("%s at %s: no %q", tt.lang, tt.at, tt.greet)
		}
		if !hasTextDeep(u.Content(), "MARIA MORETTI (16/12/1983)") || hasTextDeep(u.Content(), "1983-12-16") {
			t.Errorf("%s: the family's birth date is not written 16/12/1983", tt.lang)
		}
	}
}

// hasTextDeep is hasText through scrolls and into radio and check
// options and form items.
func hasTextDeep(o fyne.CanvasObject, s string) bool {
	switch o := o.(type) {
	case *widget.Label:
		return strings.Contains(o.Text, s)
	case *widget.RadioGroup:
		return slices.ContainsFunc(o.Options, func(x string) bool { return strings.Contains(x, s) })
	case *widget.CheckGroup:
		return slices.ContainsFunc(o.Options, func(x string) bool { return strings.Contains(x, s) })
	case *widget.Form:
		for _, it := range o.Items {
			if strings.Contains(it.Text, s) || hasTextDeep(it.Widget, s) {
				return true
			}
		}
	case *container.Scroll:
		return hasTextDeep(o.Content, s)
	case *fyne.Container:
		for _, c := range o.Objects {
			if hasTextDeep(c, s) {
				return true
			}
		}
	}
	return false
}

// TestSmallThingsScreens: the screens issue 15's small things changed, in
// both languages: the log-in's hints, a mistyped codice fiscale explained
// at the identification and for the "other person" of the choice, and the
// places directory.
func TestSmallThingsScreens(t *testing.T) {
	ctx := context.Background()
	for _, lang := range kiosk.Langs {
		for _, tt := range []struct {
			name  string
			steps func(f *kiosk.Flow, u *UI)
			want  kiosk.Step
		}{
			{"operator_login_hints", func(f *kiosk.Flow, u *UI) {}, kiosk.StepLogin},
			{"operator_identify_wrong_cf", func(f *kiosk.Flow, u *UI) {
				f.LoginCard(ctx, "12345678")
				f.IdentifyByCF(ctx, "RSSMRA50B17A558X", "CA12345AB")
			}, kiosk.StepIdentify},
			{"operator_choose_other_cf", func(f *kiosk.Flow, u *UI) {
				f.LoginCard(ctx, "12345678")
				f.TapCard(ctx)
				fyne.DoAndWait(func() {
					u.subject = ""
					u.otherCF.SetText("RSSMRA50B171558W")
					u.types = map[certificate.Type]bool{certificate.Residenza: true}
					u.Refresh()
				})
				f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B171558W", Types: []certificate.Type{certificate.Residenza}})
			}, kiosk.StepChoose},
			{"operator_places", func(f *kiosk.Flow, u *UI) {
				f.LoginCard(ctx, "12345678")
				f.ShowPlaces(ctx)
			}, kiosk.StepPlaces},
		} {
			name := tt.name + "_" + string(lang)
			t.Run(name, func(t *testing.T) {
				a := test.NewTempApp(t)
				h := &hub{}
				cfg := kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150,
					Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia, certificate.Nascita, certificate.Cittadinanza, certificate.StatoCivile}}
				f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: &clock{now}, Places: nearby})
				if err != nil {
					t.Fatal(err)
				}
				u := New(a, f, catalog(t))
				w := test.NewTempWindow(t, u.Content())
				w.Resize(fyne.NewSize(1024, 720))
				f.SetLang(lang)
				tt.steps(f, u)
				f.RefreshStatus(ctx)
				if got := f.View().Step; got != tt.want {
					t.Fatalf("step %s, want %s (%v)", got, tt.want, f.View().Problem)
				}
				golden(t, w, name)
			})
		}
	}
}

// nearby is the directory as a current hub answers it: each place's
// category code, the certificates it issues and the total price there.
func nearby(context.Context) (kiosk.Directory, error) {
	total := func(c int64) *int64 { return &c }
	return kiosk.Directory{Fetched: now, Places: []kiosk.Place{
		{Name: "Tabacchi Loreto", Category: "Tabaccheria", Kind: "tabaccheria", Address: "Piazzale Loreto 9, Milano", DistanceM: 454, Open: true,
			Spans: []string{"07:00-13:00", "15:00-19:30"}, Transit: "M1, M2", Types: []string{"residenza", "stato_di_famiglia"}, TotalCents: total(1852)},
		{Name: "Anagrafe centrale", Category: "Ufficio anagrafe", Kind: "registry_office", Address: "Via Larga 12, Milano", DistanceM: 1349,
			Spans: []string{"08:30-15:30"}, TotalCents: total(1652)},
		{Name: "Totem Stazione Centrale", Category: "Totem self-service", Kind: "self_service_kiosk", Address: "Piazza Duca d'Aosta 1, Milano", DistanceM: 3100,
			Open: true, Spans: []string{"00:00-24:00"}, Types: []string{"residenza", "stato_di_famiglia", "nascita"}, TotalCents: total(1652)},
	}}, nil
}

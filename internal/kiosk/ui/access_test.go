package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/request"
)

// recorder is the Speaker of the tests: it keeps what speech mode said.
type recorder struct {
	said  []utterance
	stops int
}

type utterance struct {
	lang kiosk.Lang
	text string
}

func (r *recorder) Say(l kiosk.Lang, s string) error {
	r.said = append(r.said, utterance{l, s})
	return nil
}
func (r *recorder) Stop() { r.stops++ }

func (r *recorder) last() string {
	if len(r.said) == 0 {
		return ""
	}
	return r.said[len(r.said)-1].text
}

// rig is a UI in a test window with its flow, clock and voice.
type accessRig struct {
	u     *UI
	f     *kiosk.Flow
	w     fyne.Window
	voice *recorder
	clock *clock
	cat   *kiosk.Catalog
}

func newAccessRig(t *testing.T, mode kiosk.Mode, h *hub, lang kiosk.Lang) *accessRig {
	t.Helper()
	a := test.NewTempApp(t)
	c := &clock{now}
	cfg := kiosk.Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150, Lang: lang,
		Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia, certificate.Nascita, certificate.Cittadinanza, certificate.StatoCivile}}
	var pays kiosk.Payments = payments{h: h}
	if mode == kiosk.Operator {
		pays = tillPayments() // the counter confirms its self-service kiosks' till payments
	}
	f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: c, Places: places,
		Payments: pays})
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog(t)
	u := New(a, f, cat)
	u.spawn = inline // the action and its redraw finish before the next key (see UI.spawn)
	voice := &recorder{}
	u.SetSpeaker(voice)
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 720))
	u.Refresh()
	return &accessRig{u: u, f: f, w: w, voice: voice, clock: c, cat: cat}
}

// press is a key as Fyne's desktop driver delivers it: Tab moves Fyne's
// focus unless the focused widget takes Tab; every other key goes to the
// focused widget, or to the window when nothing is focused.
func (r *accessRig) press(name fyne.KeyName) {
	c := r.w.Canvas()
	f := c.Focused()
	if name == fyne.KeyTab {
		if tb, ok := f.(fyne.Tabbable); !ok || !tb.AcceptsTab() {
			c.FocusNext()
			return
		}
	}
	ev := &fyne.KeyEvent{Name: name}
	if f != nil {
		f.TypedKey(ev)
	} else if h := c.OnTypedKey(); h != nil {
		h(ev)
	}
}

// typeKeys types characters as the driver does.
func (r *accessRig) typeKeys(s string) {
	c := r.w.Canvas()
	for _, ch := range s {
		if f := c.Focused(); f != nil {
			f.TypedRune(ch)
		} else if h := c.OnTypedRune(); h != nil {
			h(ch)
		}
	}
}

// tabTo presses Tab until the ring is on the target labelled label; it
// fails the test if a whole round does not reach it.
func (r *accessRig) tabTo(t *testing.T, label string) {
	t.Helper()
	n := len(r.u.targets())
	for i := 0; i <= n; i++ {
		r.press(fyne.KeyTab)
		if cur, _, idx := r.u.ringTarget(); idx >= 0 && (cur.label == label || strings.HasPrefix(cur.label, label+" (")) {
			return
		}
	}
	var labels []string
	for _, tg := range r.u.targets() {
		labels = append(labels, tg.label)
	}
	t.Fatalf("on %s, Tab never reaches %q; it reaches %q", r.f.View().Step, label, labels)
}

// key is the number key speech mode gives the choice labelled label.
func (r *accessRig) key(t *testing.T, label string) string {
	t.Helper()
	for i, c := range kiosk.Spoken(r.f.View(), r.cat, r.u.speakOpts(false)).Choices {
		if c == label && i < 9 {
			return fmt.Sprint(i + 1)
		}
	}
	t.Fatalf("no number key for %q on %s", label, r.f.View().Step)
	return ""
}

func (r *accessRig) step(t *testing.T, want kiosk.Step) {
	t.Helper()
	if v := r.f.View(); v.Step != want {
		t.Fatalf("on step %s, want %s (problem %v)", v.Step, want, v.Problem)
	}
}

func (r *accessRig) T(key string, args ...any) string { return r.cat.T(r.f.View().Lang, key, args...) }

// screenChoices is what the screen shows to be read and chosen: its
// headings, and the labels of its buttons, boxes and options, apart from
// the header's own controls (speech, text size, contrast, log-out).
func (r *accessRig) screenChoices() (headings, choices []string) {
	v := r.f.View()
	header := map[string]bool{r.T("speech_button"): true, r.T("high_contrast"): true, r.T("logout_button"): true}
	for _, k := range textSizeKeys {
		header[r.T("text_size_"+k)] = true
	}
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() || o == r.u.acc.countdown {
			return
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(w.Content)
		case *widget.Form:
			for _, it := range w.Items {
				walk(it.Widget)
			}
		case *widget.Label:
			if w.SizeName == theme.SizeNameHeadingText {
				headings = append(headings, w.Text)
			}
		case *widget.Button:
			if v.Step == kiosk.StepPIN && len([]rune(w.Text)) == 1 {
				return // the on-screen keypad, which the number keys are
			}
			if !header[w.Text] && w.Text != "" && !w.Disabled() {
				choices = append(choices, w.Text)
			}
		case *widget.CheckGroup:
			choices = append(choices, w.Options...)
		case *widget.RadioGroup:
			for _, o := range w.Options {
				name, _, _ := strings.Cut(o, " (")
				if strings.HasSuffix(o, ")") && v.Person != nil && name != v.Person.Name() {
					o = name // a family member: the birth date is said differently
				}
				choices = append(choices, o)
			}
		}
	}
	walk(r.u.root)
	return headings, choices
}

// screens reaches every step of each mode with the flow's actions.
var screens = []struct {
	name  string
	mode  kiosk.Mode
	h     func() *hub
	steps func(f *kiosk.Flow) error
	want  kiosk.Step
}{
	{"start", kiosk.SelfService, nil, func(f *kiosk.Flow) error { return nil }, kiosk.StepStart},
	{"pin", kiosk.SelfService, nil, func(f *kiosk.Flow) error { return f.TapCard(context.Background()) }, kiosk.StepPIN},
	{"choose", kiosk.SelfService, nil, pinned, kiosk.StepChoose},
	{"review", kiosk.SelfService, nil, func(f *kiosk.Flow) error {
		pinned(f)
		return f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
	}, kiosk.StepReview},
	{"access_log", kiosk.SelfService, nil, func(f *kiosk.Flow) error {
		pinned(f)
		return f.ShowAccessLog(context.Background())
	}, kiosk.StepAccessLog},
	{"places", kiosk.SelfService, nil, func(f *kiosk.Flow) error { return f.ShowPlaces(context.Background()) }, kiosk.StepPlaces},
	{"pay", kiosk.SelfService, nil, func(f *kiosk.Flow) error {
		pinned(f)
		f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
		return f.Confirm(context.Background())
	}, kiosk.StepPay},
	{"collect", kiosk.SelfService, nil, func(f *kiosk.Flow) error { return f.StartCollect() }, kiosk.StepCollect},
	{"login", kiosk.Operator, nil, func(f *kiosk.Flow) error { return nil }, kiosk.StepLogin},
	{"identify", kiosk.Operator, nil, loggedIn, kiosk.StepIdentify},
	{"choose_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		return f.TapCard(context.Background())
	}, kiosk.StepChoose},
	{"review_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		f.TapCard(context.Background())
		return f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza, certificate.StatoCivile}})
	}, kiosk.StepReview},
	{"done_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		f.TapCard(context.Background())
		f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
		return f.Confirm(context.Background())
	}, kiosk.StepDone},
	{"queued_counter", kiosk.Operator, func() *hub { return &hub{offline: true} }, func(f *kiosk.Flow) error {
		loggedIn(f)
		f.TapCard(context.Background())
		f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W", Types: []certificate.Type{certificate.Residenza}})
		return f.Confirm(context.Background())
	}, kiosk.StepDone},
	{"summary", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		return f.ShowSummary()
	}, kiosk.StepSummary},
	{"claim", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		return f.Redeem(context.Background(), "K7Q-XM2-PA4")
	}, kiosk.StepClaim},
	{"places_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		return f.ShowPlaces(context.Background())
	}, kiosk.StepPlaces},
	{"till", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		return f.ShowTill(context.Background())
	}, kiosk.StepTill},
	{"access_log_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		f.TapCard(context.Background())
		return f.ShowAccessLog(context.Background())
	}, kiosk.StepAccessLog},
	{"dossier", kiosk.SelfService, nil, func(f *kiosk.Flow) error {
		pinned(f)
		return f.ShowDossier(context.Background())
	}, kiosk.StepDossier},
	{"dossier_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		f.TapCard(context.Background())
		return f.ShowDossier(context.Background())
	}, kiosk.StepDossier},
	{"delegations", kiosk.SelfService, nil, func(f *kiosk.Flow) error {
		pinned(f)
		return f.ShowDelegations(context.Background())
	}, kiosk.StepDelegations},
	{"delegations_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		f.TapCard(context.Background())
		f.ShowDossier(context.Background())
		return f.ShowDelegations(context.Background())
	}, kiosk.StepDelegations},
	{"requests", kiosk.SelfService, nil, func(f *kiosk.Flow) error {
		pinned(f)
		return f.ShowRequests(context.Background())
	}, kiosk.StepRequests},
	{"request_filed_counter", kiosk.Operator, nil, func(f *kiosk.Flow) error {
		loggedIn(f)
		f.TapCard(context.Background())
		f.ShowRequests(context.Background())
		return f.FileRequest(context.Background(), kiosk.RequestDraft{Kind: request.Historical, What: kiosk.HistoricalResidence, Purpose: "pensione"})
	}, kiosk.StepRequestFiled},
}

func pinned(f *kiosk.Flow) error {
	f.TapCard(context.Background())
	return f.EnterPIN(context.Background(), "12345678")
}

func loggedIn(f *kiosk.Flow) error { return f.LoginCard(context.Background(), "12345678") }

// TestSpeechReadsEveryScreen is the test issue 15 asks for: on every
// screen of both modes, in Italian and English, speech mode says a text
// (recorded from the Speaker) that holds the screen's title and every
// choice the screen shows, with amounts in words, and every kiosk.Step is
// among them.
func TestSpeechReadsEveryScreen(t *testing.T) {
	seen := map[kiosk.Step]bool{}
	for _, lang := range kiosk.Langs {
		for _, sc := range screens {
			t.Run(string(lang)+"_"+sc.name, func(t *testing.T) {
				h := &hub{}
				if sc.h != nil {
					h = sc.h()
				}
				r := newAccessRig(t, sc.mode, h, lang)
				r.u.SetSpeech(true)
				if err := sc.steps(r.f); err != nil {
					t.Fatal(err)
				}
				r.step(t, sc.want)
				seen[sc.want] = true
				said := r.voice.last()
				if strings.TrimSpace(said) == "" {
					t.Fatal("nothing said")
				}
				headings, choices := r.screenChoices()
				if len(headings) == 0 {
					t.Fatal("the screen has no heading")
				}
				for _, hd := range headings {
					if strings.ContainsAny(hd, "0123456789") {
						continue // a date or a code in it is said in words or spelled
					}
					if !strings.Contains(said, hd) {
						t.Errorf("title %q not said in %q", hd, said)
					}
				}
				for _, c := range choices {
					if !strings.Contains(said, kiosk.SayAmounts(c, lang)) {
						t.Errorf("choice %q not said in %q", c, said)
					}
				}
				if strings.Contains(said, " EUR") {
					t.Errorf("an amount said as figures: %q", said)
				}
				if strings.Contains(said, "RSSMRA50B17A558W") || strings.Contains(said, "12345678") {
					t.Errorf("the codice fiscale or the PIN said unasked: %q", said)
				}
			})
		}
	}
	// The screen shown over every step to a suspended shop.
	for _, lang := range kiosk.Langs {
		h := &suspendedHub{hub: &hub{}, suspended: true, notice: "canone non versato"}
		a := test.NewTempApp(t)
		f, err := kiosk.New(kiosk.Config{Mode: kiosk.SelfService, Shop: "Edicola", Lang: lang}, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h.hub}, Clock: &clock{now}})
		if err != nil {
			t.Fatal(err)
		}
		u := New(a, f, catalog(t))
		voice := &recorder{}
		u.SetSpeaker(voice)
		test.NewTempWindow(t, u.Content())
		u.SetSpeech(true)
		f.RefreshStatus(context.Background())
		cat := catalog(t)
		if said := voice.last(); !strings.Contains(said, cat.T(lang, "suspended_title")) || !strings.Contains(said, "canone non versato") {
			t.Errorf("%s: the suspended screen is said as %q", lang, said)
		}
	}
	for _, s := range kiosk.Steps {
		if s == kiosk.StepWorking {
			continue // passed through while issuing: TestKeyboardOnly hears it
		}
		if !seen[s] {
			t.Errorf("no speech test reaches step %s", s)
		}
	}
}

// TestKeyboardOnly drives a whole visit in each mode and language with key
// events only (no tap), from the first screen to the end and back, and
// hears each screen said as it comes: every step is reachable by keys.
func TestKeyboardOnly(t *testing.T) {
	for _, lang := range kiosk.Langs {
		t.Run("selfservice_"+string(lang), func(t *testing.T) {
			r := newAccessRig(t, kiosk.SelfService, &hub{}, lang)
			r.press(fyne.KeyF1) // the speech key
			if !r.u.Speech() || !strings.Contains(r.voice.last(), r.T("start_title")) {
				t.Fatalf("F1 did not start speech mode with the start screen: %q", r.voice.last())
			}
			// The directory and back: its number, then Escape.
			r.typeKeys(r.key(t, r.T("places_button")))
			r.step(t, kiosk.StepPlaces)
			if !strings.Contains(r.voice.last(), r.T("places_title")) {
				t.Errorf("places screen not said: %q", r.voice.last())
			}
			r.press(fyne.KeyEscape)
			r.step(t, kiosk.StepStart)
			// The other language by its number, then the card button by Tab and Enter.
			other := kiosk.English
			if lang == kiosk.English {
				other = kiosk.Italian
			}
			r.typeKeys(r.key(t, r.T("lang_"+string(other))))
			if r.f.View().Lang != other {
				t.Fatalf("the language key left %s", r.f.View().Lang)
			}
			r.typeKeys(r.key(t, r.T("lang_"+string(lang))))
			if r.f.View().Lang != lang {
				t.Fatalf("the language key left %s", r.f.View().Lang)
			}
			r.tabTo(t, r.T("start_button"))
			if !strings.Contains(r.voice.last(), r.T("start_button")) {
				t.Errorf("the focused button is not said: %q", r.voice.last())
			}
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepPIN)
			if !strings.Contains(r.voice.last(), r.T("pin_title")) {
				t.Errorf("PIN screen not said: %q", r.voice.last())
			}
			// The PIN: typed on the number keys, counted aloud, never said.
			r.typeKeys("1234")
			if got := r.voice.last(); got != r.T("speak_pin_typed", 4) {
				t.Errorf("after 4 digits speech says %q", got)
			}
			r.typeKeys("5678")
			for _, s := range r.voice.said {
				if strings.Contains(s.text, "1234") || strings.Contains(s.text, "5678") {
					t.Fatalf("the PIN was said: %q", s.text)
				}
			}
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepChoose)
			// The codice fiscale only when asked (F3).
			for _, s := range r.voice.said {
				if strings.Contains(s.text, kiosk.Spell("RSSMRA50B17A558W", lang)) {
					t.Fatalf("the codice fiscale was said unasked: %q", s.text)
				}
			}
			r.press(fyne.KeyF3)
			if !strings.Contains(r.voice.last(), kiosk.Spell("RSSMRA50B17A558W", lang)) {
				t.Errorf("F3 did not say the codice fiscale: %q", r.voice.last())
			}
			// The access log by its button (Tab), and back with Escape.
			r.tabTo(t, r.T("access_log_button"))
			r.press(fyne.KeySpace)
			r.step(t, kiosk.StepAccessLog)
			r.press(fyne.KeyEscape)
			r.step(t, kiosk.StepChoose)
			// Residenza's number key ticks it, and it is said ticked.
			r.typeKeys(r.key(t, r.T("type_residenza")))
			if !r.u.types[certificate.Residenza] || !strings.Contains(r.voice.last(), r.T("speak_selected")) {
				t.Fatalf("key 1 did not tick %s (types %v, said %q)", r.T("type_residenza"), r.u.types, r.voice.last())
			}
			r.tabTo(t, r.T("choose_button"))
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepReview)
			if !strings.Contains(r.voice.last(), r.T("review_title")) {
				t.Errorf("review not said: %q", r.voice.last())
			}
			r.press(fyne.KeyEscape)
			r.step(t, kiosk.StepChoose)
			r.tabTo(t, r.T("choose_button"))
			r.press(fyne.KeySpace)
			r.step(t, kiosk.StepReview)
			r.tabTo(t, r.T("confirm_button"))
			r.press(fyne.KeyReturn)
			if s := r.f.View().Step; s == kiosk.StepReview {
				t.Fatalf("Enter on confirm stayed on review (%v)", r.f.View().Problem)
			}
			heard := false
			for _, s := range r.voice.said {
				heard = heard || strings.Contains(s.text, r.T("working_title"))
			}
			if !heard {
				t.Error("the working screen was not said")
			}
			if r.f.View().Step == kiosk.StepDone {
				r.tabTo(t, r.T("finish_button"))
				r.press(fyne.KeyReturn)
				r.step(t, kiosk.StepStart)
			}
		})
		t.Run("operator_"+string(lang), func(t *testing.T) {
			r := newAccessRig(t, kiosk.Operator, &hub{}, lang)
			r.tabTo(t, r.T("login_pin"))
			r.typeKeys("12345678")
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepIdentify)
			// The day's summary and back.
			r.tabTo(t, r.T("summary_button"))
			r.press(fyne.KeySpace)
			r.step(t, kiosk.StepSummary)
			r.press(fyne.KeyEscape)
			r.step(t, kiosk.StepIdentify)
			// A claim code typed in its field, Enter.
			r.tabTo(t, r.T("identify_claim"))
			r.typeKeys("K7Q-XM2-PA4")
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepClaim)
			r.press(fyne.KeyEscape)
			r.step(t, kiosk.StepIdentify)
			// The directory and back.
			r.tabTo(t, r.T("places_button"))
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepPlaces)
			r.press(fyne.KeyEscape)
			r.step(t, kiosk.StepIdentify)
			// Codice fiscale and document typed in their fields.
			r.tabTo(t, r.T("identify_cf"))
			r.typeKeys("RSSMRA50B17A558W")
			r.press(fyne.KeyTab)
			r.typeKeys("CA12345AB")
			r.tabTo(t, r.T("identify_button"))
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepChoose)
			// Stato civile ticked with Space, the cost, confirm, next customer.
			r.tabTo(t, r.T("type_stato_civile"))
			r.press(fyne.KeySpace)
			r.tabTo(t, r.T("choose_button"))
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepReview)
			if got := r.f.View().Choice.Types; len(got) != 1 || got[0] != certificate.StatoCivile {
				t.Fatalf("chose %v by keys", got)
			}
			r.tabTo(t, r.T("confirm_button"))
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepDone)
			r.tabTo(t, r.T("next_button"))
			r.press(fyne.KeyReturn)
			r.step(t, kiosk.StepIdentify)
		})
	}
}

// TestCountdown: 20 s before the idle wipe the screen asks "Ti serve più
// tempo?" with the seconds left, said aloud in speech mode; any key gives
// more time, and so does the button.
func TestCountdown(t *testing.T) {
	for _, lang := range kiosk.Langs {
		t.Run(string(lang), func(t *testing.T) {
			r := newAccessRig(t, kiosk.SelfService, &hub{}, lang)
			pinned(r.f)
			r.u.SetSpeech(true)
			r.clock.t = r.clock.t.Add(45 * time.Second)
			r.f.Tick()
			if !r.u.acc.countdown.Visible() || !hasText(r.u.acc.countdown, r.T("idle_left", 15)) || !hasText(r.u.acc.countdown, r.T("idle_title")) {
				t.Fatal("the countdown does not show 15 seconds left")
			}
			if !strings.Contains(r.voice.last(), r.T("idle_title")) || !strings.Contains(r.voice.last(), r.T("idle_left", 15)) {
				t.Errorf("the countdown is said as %q", r.voice.last())
			}
			golden(t, r.w, "selfservice_countdown_"+string(lang))
			r.press(fyne.KeyDown) // any key
			if r.u.acc.countdown.Visible() || r.f.View().IdleLeft != 0 {
				t.Fatal("a key did not give more time")
			}
			if r.f.View().Step != kiosk.StepChoose {
				t.Fatalf("the key did something else: %s", r.f.View().Step)
			}
			r.clock.t = r.clock.t.Add(50 * time.Second)
			r.f.Tick()
			r.clock.t = r.clock.t.Add(time.Second)
			r.f.Tick()
			if !hasText(r.u.acc.countdown, r.T("idle_left", 9)) {
				t.Fatal("the countdown does not count")
			}
			test.Tap(r.u.acc.cdMore)
			if r.u.acc.countdown.Visible() {
				t.Fatal("the button did not give more time")
			}
			r.clock.t = r.clock.t.Add(60 * time.Second)
			if !r.f.Tick() || r.f.View().Step != kiosk.StepStart {
				t.Fatal("not wiped after the timeout")
			}
		})
	}
}

// TestAccessGoldens: a screen with speech mode on (its button lit), and
// the choose screen in large and extra-large text, in both languages; the
// text size and speech go back to normal for the next citizen.
func TestAccessGoldens(t *testing.T) {
	for _, lang := range kiosk.Langs {
		t.Run(string(lang), func(t *testing.T) {
			r := newAccessRig(t, kiosk.SelfService, &hub{}, lang)
			r.press(fyne.KeyF1)
			r.tabTo(t, r.T("start_button"))
			golden(t, r.w, "selfservice_speech_"+string(lang))
			pinned(r.f)
			r.u.SetTextSize(1)
			golden(t, r.w, "selfservice_large_text_"+string(lang))
			r.u.SetTextSize(2)
			golden(t, r.w, "selfservice_xlarge_text_"+string(lang))
			if r.u.theme.Scale <= r.u.acc.base*1.3 {
				t.Fatalf("extra large text at scale %v (normal %v)", r.u.theme.Scale, r.u.acc.base)
			}
			// The next citizen starts with normal text and no speech.
			stops := r.voice.stops
			r.f.Next()
			r.step(t, kiosk.StepStart)
			if r.u.theme.Scale != r.u.acc.base || r.u.acc.size != 0 || r.u.Speech() || r.voice.stops == stops {
				t.Fatalf("after the visit: scale %v (normal %v), size %d, speech %v", r.u.theme.Scale, r.u.acc.base, r.u.acc.size, r.u.Speech())
			}
			// Within a visit they stay: a cancelled PIN keeps them.
			r.u.SetTextSize(1)
			r.u.SetSpeech(true)
			r.f.TapCard(context.Background())
			r.f.Back()
			if r.u.acc.size != 1 || !r.u.Speech() {
				t.Fatal("text size or speech lost within the visit")
			}
		})
	}
}

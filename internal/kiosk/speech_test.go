package kiosk

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/certificate"
)

// TestIdleCountdown: 20 s before the self-service timeout the view counts
// down (WCAG 2.2.1 through EN 301 549 11.2.2.1: warned, 20 s to extend
// with a simple action); any activity ends the countdown and restarts the
// timer; without it the session is wiped at the timeout.
func TestIdleCountdown(t *testing.T) {
	r := newRig(t, SelfService)
	changes := 0
	r.flow.OnChange = func() { changes++ }
	r.flow.TapCard(ctx)
	r.flow.EnterPIN(ctx, "12345678")
	r.step(t, StepChoose)
	visit := r.flow.View().Visit

	r.clock.Add(39 * time.Second)
	if r.flow.Tick(); r.flow.View().IdleLeft != 0 {
		t.Fatalf("countdown 21 s before the timeout: %v left", r.flow.View().IdleLeft)
	}
	r.clock.Add(time.Second)
	before := changes
	if r.flow.Tick() {
		t.Fatal("wiped at the warning")
	}
	if got := r.flow.View().IdleLeft; got != 20*time.Second {
		t.Fatalf("countdown shows %v left, want 20s", got)
	}
	if changes == before {
		t.Error("the countdown's start was not told to the screen")
	}
	r.clock.Add(5 * time.Second)
	before = changes
	r.flow.Tick()
	if got := r.flow.View().IdleLeft; got != 15*time.Second || changes == before {
		t.Fatalf("after 5 s the countdown shows %v (screen told: %v)", got, changes != before)
	}
	// "Sì, altro tempo" (or any key): the countdown goes, the timer restarts.
	before = changes
	r.flow.Touch()
	if r.flow.View().IdleLeft != 0 || changes == before {
		t.Fatal("activity did not end the countdown")
	}
	r.clock.Add(39 * time.Second)
	if r.flow.Tick() || r.flow.View().IdleLeft != 0 || r.flow.View().Step != StepChoose {
		t.Fatalf("the timer did not restart: %+v", r.flow.View())
	}
	r.clock.Add(20 * time.Second)
	r.flow.Tick()
	if r.flow.View().IdleLeft != time.Second {
		t.Fatal("no countdown before the second timeout")
	}
	r.clock.Add(time.Second)
	if !r.flow.Tick() {
		t.Fatal("not wiped at the timeout")
	}
	v := r.flow.View()
	if v.Step != StepStart || v.IdleLeft != 0 || v.Visit == visit {
		t.Fatalf("after the wipe: step %s, %v left, visit %d (was %d)", v.Step, v.IdleLeft, v.Visit, visit)
	}
	// The start screen has nothing to wipe, so nothing to count down.
	r.clock.Add(time.Hour)
	if r.flow.Tick(); r.flow.View().IdleLeft != 0 {
		t.Error("countdown on the start screen")
	}
}

func TestEuroWords(t *testing.T) {
	for _, c := range []struct {
		cents  int64
		it, en string
	}{
		{1852, "18 euro e 52 centesimi", "18 euros and 52 cents"},
		{1600, "16 euro", "16 euros"},
		{101, "1 euro e 1 centesimo", "1 euro and 1 cent"},
		{52, "52 centesimi", "52 cents"},
		{0, "0 euro", "0 euros"},
		{123456, "1234 euro e 56 centesimi", "1234 euros and 56 cents"},
	} {
		if got := EuroWords(c.cents, Italian); got != c.it {
			t.Errorf("EuroWords(%d, it) = %q, want %q", c.cents, got, c.it)
		}
		if got := EuroWords(c.cents, English); got != c.en {
			t.Errorf("EuroWords(%d, en) = %q, want %q", c.cents, got, c.en)
		}
	}
	if got := SayAmounts("In bollo (16,00 EUR), totale 1.234,56 EUR", Italian); got != "In bollo (16 euro), totale 1234 euro e 56 centesimi" {
		t.Errorf("SayAmounts: %q", got)
	}
	if got := SayAmounts("With stamp duty (16.00 EUR)", English); got != "With stamp duty (16 euros)" {
		t.Errorf("SayAmounts: %q", got)
	}
	if got := Spell("k7qx-m2pa", Italian); got != "K, 7, Q, X, trattino, M, 2, P, A" {
		t.Errorf("Spell: %q", got)
	}
	if got := SayDate("1950-02-17", Italian); got != "17 febbraio 1950" {
		t.Errorf("SayDate: %q", got)
	}
	if got := SayProtocol("2026/0000042", English); got != "42 of 2026" {
		t.Errorf("SayProtocol: %q", got)
	}
}

// TestSpokenSelfService walks a self-service visit and checks what each
// screen says: its title, its choices numbered, amounts in words, and
// never the PIN or (unless asked) the codice fiscale.
func TestSpokenSelfService(t *testing.T) {
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Langs {
		t.Run(string(lang), func(t *testing.T) {
			r := newRig(t, SelfService)
			r.flow.SetLang(lang)
			say := func(o SpeakOptions) string {
				v := r.flow.View()
				return Spoken(v, cat, o).Text(cat)
			}
			T := func(k string, a ...any) string { return cat.T(lang, k, a...) }
			must := func(text string, parts ...string) {
				t.Helper()
				for _, p := range parts {
					if !strings.Contains(text, p) {
						t.Errorf("%s: %q not said in %q", r.flow.View().Step, p, text)
					}
				}
			}
			s := say(SpeakOptions{})
			must(s, T("start_title"), T("start_tap"), T("speak_choice", 1, T("lang_it")), T("speak_choice", 2, T("lang_en")),
				T("speak_choice", 3, T("start_button")))
			r.flow.TapCard(ctx)
			s = say(SpeakOptions{PINDigits: 3})
			must(s, T("pin_title"), T("speak_pin_typed", 3), T("pin_button"))
			r.flow.EnterPIN(ctx, "12345678")
			r.step(t, StepChoose)
			s = say(SpeakOptions{})
			must(s, T("choose_hello_morning", "MARIO ROSSI"), T("type_residenza"), T("choose_button"))
			if strings.Contains(s, r.flow.View().Person.CF) || strings.Contains(s, Spell(r.flow.View().Person.CF, lang)) {
				t.Errorf("the codice fiscale is said unasked: %q", s)
			}
			must(say(SpeakOptions{CF: true}), Spell(r.flow.View().Person.CF, lang))
			if err := r.flow.Choose(Choice{SubjectCF: r.flow.View().Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
				t.Fatal(err)
			}
			s = say(SpeakOptions{})
			v := r.flow.View()
			must(s, T("review_title"), T("type_residenza"), EuroWords(v.Preview.TotalCents, lang), T("confirm_button"))
			if strings.Contains(s, " EUR") {
				t.Errorf("an amount is said as figures: %q", s)
			}
			if strings.Contains(s, "12345678") {
				t.Errorf("the PIN is said: %q", s)
			}
			// The pay screen: the amount in words, the till code spelled.
			r.flow.cfg.PayMethods = []string{api.PayAtTill}
			if err := r.flow.Confirm(ctx); err != nil {
				t.Fatal(err)
			}
			p := r.flow.View().Payment
			must(say(SpeakOptions{}), T("pay_title"), EuroWords(p.AmountCents, lang), T("pay_till"), Spell(p.Code, lang), T("pay_waiting"),
				T("speak_choice", 1, T("pay_cancel")))
			r.flow.CancelPayment(ctx)
			r.flow.Next()
			r.flow.SetLang(lang)
			r.flow.StartCollect()
			must(say(SpeakOptions{}), T("collect_title"), T("collect_hint"), T("collect_find"))
		})
	}
}

// TestEspeakSpeaks runs the real espeak-ng (Debian package espeak-ng, in
// the Makefile's test packages) in both voices into a WAV file and checks
// the audio is as long as a sentence takes to say; a second Say stops the
// first.
func TestEspeakSpeaks(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	for _, lang := range Langs {
		wav := filepath.Join(dir, string(lang)+".wav")
		e := &Espeak{WAV: wav}
		text := map[Lang]string{Italian: "Riepilogo e costo. Totale: 18 euro e 52 centesimi. Tasto 1: Conferma e stampa.",
			English: "Review and cost. Total: 18 euros and 52 cents. Key 1: Confirm and print."}[lang]
		if err := e.Say(lang, text); err != nil {
			t.Fatal(err)
		}
		e.Wait()
		b, err := os.ReadFile(wav)
		if err != nil {
			t.Fatal(err)
		}
		// A RIFF WAVE header of 44 bytes, then 16-bit mono samples at
		// espeak-ng's 22050 Hz: the sentence takes some seconds.
		if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
			t.Fatalf("%s: not a WAV file (%d bytes)", lang, len(b))
		}
		secs := float64(len(b)-44) / (22050 * 2)
		if secs < 3 || secs > 15 {
			t.Errorf("%s: %.1f s of audio for a sentence of %d words", lang, secs, len(strings.Fields(text)))
		}
		t.Logf("%s: %.1f s of audio", lang, secs)
	}
	// Stop kills an utterance in progress.
	e := &Espeak{WAV: filepath.Join(dir, "long.wav"), Speed: 80}
	if err := e.Say(Italian, strings.Repeat("Una frase molto lunga da leggere piano. ", 200)); err != nil {
		t.Fatal(err)
	}
	e.Stop() // returns once the process is gone: a Stop that did not kill it would hang here
	if e.cmd != nil {
		t.Error("Stop left the utterance running")
	}
}

package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/kiosk"
)

// access is the accessibility state of a UI (EN 301 549 clause 5.1, closed
// functionality; the European Accessibility Act, directive (EU) 2019/882,
// applies to self-service terminals since 28 June 2025): speech mode, text
// size, the keyboard's focus ring and the idle countdown. Speech and text
// size are the citizen's own choices: kept for the visit, reset for the
// next one (EN 301 549 5.1.3.13 asks the volume back to default after each
// use; the same holds for what a citizen chose here).
type access struct {
	speaker kiosk.Speaker
	speech  bool
	size    int     // index in textSizes
	base    float32 // the theme's scale at text size normal
	visit   int
	ring    string // the focused target's key ("" when none)
	spoken  string // the last screen text said, to say a screen once
	idle    bool   // the countdown is on and was said
	enter   bool   // a new screen whose redraw is still to come (after a text-size reset)

	catcher   *keyCatcher
	keysLayer *fyne.Container
	frame     *canvas.Rectangle
	ringLayer *fyne.Container
	countdown *fyne.Container // the "Ti serve più tempo?" overlay
	cdTitle   *widget.Label
	cdLeft    *widget.Label
	cdMore    *widget.Button
	cdBack    *canvas.Rectangle
	cdWrap    *fyne.Container // sized to the text size
}

// textSizes are the text-size choices, as factors of the mode's scale:
// normal, large, extra large.
var textSizes = []float32{1, 1.2, 1.4}

var textSizeKeys = []string{"normal", "large", "xlarge"}

func (u *UI) initAccess() {
	a := &u.acc
	a.base = u.theme.Scale
	a.visit = u.flow.View().Visit
	a.catcher = newKeyCatcher(u)
	a.keysLayer = container.NewWithoutLayout(a.catcher) // size 0: it never takes a touch
	a.frame = canvas.NewRectangle(color.Transparent)
	a.frame.Hide()
	a.ringLayer = container.NewWithoutLayout(a.frame)
	a.cdTitle = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	a.cdTitle.SizeName = theme.SizeNameHeadingText
	a.cdLeft = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	a.cdLeft.Wrapping = fyne.TextWrapWord
	a.cdMore = widget.NewButtonWithIcon("", theme.HistoryIcon(), func() { u.flow.Touch() })
	a.cdMore.Importance = widget.HighImportance
	box := container.NewVBox(a.cdTitle, a.cdLeft, a.cdMore)
	a.cdBack = canvas.NewRectangle(color.Transparent)
	panel := container.NewStack(a.cdBack, container.NewPadded(box))
	a.cdWrap = container.NewGridWrap(fyne.NewSize(620, 260), panel)
	a.countdown = container.NewStack(newTapArea(func() { u.flow.Touch() }), container.NewCenter(a.cdWrap))
	a.countdown.Hide()
}

// SetSpeaker gives speech mode its voice (kiosk.Espeak in the app, a
// recorder in tests); without one speech mode only shows as on.
func (u *UI) SetSpeaker(s kiosk.Speaker) { u.acc.speaker = s }

// SetSpeech turns speech mode on or off; on, it says the screen at once.
func (u *UI) SetSpeech(on bool) {
	u.acc.speech = on
	u.acc.spoken = ""
	v := u.flow.View()
	if on {
		u.say(v.Lang, u.t(v, "speech_on")+" "+u.spokenText(v, u.speakOpts(false)))
	} else {
		u.say(v.Lang, u.t(v, "speech_off"))
	}
	u.headerShown = nil // the button shows the mode
	u.Refresh()
}

// Speech reports whether speech mode is on.
func (u *UI) Speech() bool { return u.acc.speech }

// SetTextSize picks normal (0), large (1) or extra large (2) text.
func (u *UI) SetTextSize(i int) {
	if i < 0 || i >= len(textSizes) || i == u.acc.size && u.theme.Scale == u.acc.base*textSizes[i] {
		return
	}
	u.acc.size = i
	u.app.Settings().SetTheme(&Theme{Scale: u.acc.base * textSizes[i], HighContrast: u.theme.HighContrast})
	u.theme = u.app.Settings().Theme().(*Theme)
	v := u.flow.View()
	if u.acc.speech {
		u.say(v.Lang, u.t(v, "text_size_spoken", u.t(v, "text_size_name_"+textSizeKeys[i])))
	}
	u.headerShown = nil // the buttons show the size
	u.Refresh()
}

// accessControls are the header's speech and text-size buttons, on every
// self-service screen: "Guida vocale" with a loudspeaker, and A / A+ / A++.
func (u *UI) accessControls(v kiosk.View) []fyne.CanvasObject {
	if v.Mode != kiosk.SelfService {
		return nil
	}
	speech := widget.NewButtonWithIcon(u.t(v, "speech_button"), theme.VolumeUpIcon(), func() { u.SetSpeech(!u.acc.speech) })
	if u.acc.speech {
		speech.Importance = widget.HighImportance
	}
	objs := []fyne.CanvasObject{speech}
	for i, k := range textSizeKeys {
		b := widget.NewButton(u.t(v, "text_size_"+k), func() { u.SetTextSize(i) })
		if i == u.acc.size {
			b.Importance = widget.HighImportance
		}
		objs = append(objs, b)
	}
	return objs
}

// accessRefresh runs after each redraw: it adds the key catcher, the focus
// frame and the countdown above the screen, resets the citizen's choices
// for a new visit, and says what changed in speech mode.
func (u *UI) accessRefresh(v kiosk.View, entered bool) {
	a := &u.acc
	if v.Visit != a.visit {
		// A new visit: the last citizen's speech and text size go.
		a.visit = v.Visit
		redraw := a.speech || a.size != 0
		if a.speech {
			a.speech = false
			if a.speaker != nil {
				a.speaker.Stop()
			}
		}
		if a.size != 0 {
			a.size = 0
			u.app.Settings().SetTheme(&Theme{Scale: a.base, HighContrast: u.theme.HighContrast})
			u.theme = u.app.Settings().Theme().(*Theme)
		}
		if redraw {
			a.enter = a.enter || entered
			u.headerShown = nil // the header's buttons show the choices
			u.Refresh()         // again; the visit is now the same, so once
			return
		}
	}
	entered = entered || a.enter
	a.enter = false
	if len(u.root.Objects) == 0 || u.root.Objects[0] != a.keysLayer {
		objs := u.root.Objects[:0:0]
		for _, o := range u.root.Objects {
			if o != a.keysLayer && o != a.ringLayer && o != a.countdown {
				objs = append(objs, o)
			}
		}
		u.root.Objects = append([]fyne.CanvasObject{a.keysLayer}, append(objs, a.ringLayer, a.countdown)...)
		u.root.Refresh()
	}

	// The countdown: "Ti serve più tempo?", the seconds left, "Sì, altro tempo".
	if v.IdleLeft > 0 {
		secs := int((v.IdleLeft + time.Second - 1) / time.Second)
		a.cdTitle.SetText(u.t(v, "idle_title"))
		a.cdLeft.SetText(u.t(v, "idle_left", secs))
		a.cdMore.SetText(u.t(v, "idle_more"))
		a.cdBack.FillColor = u.theme.Color(theme.ColorNameBackground, theme.VariantLight)
		a.cdBack.StrokeColor = u.theme.Color(theme.ColorNamePrimary, theme.VariantLight)
		a.cdBack.StrokeWidth = 4
		a.cdBack.Refresh()
		f := u.theme.Scale / 1.5 // sized for self-service's scale, grown with the text
		a.cdWrap.Layout = layout.NewGridWrapLayout(fyne.NewSize(620*f, 260*f))
		a.countdown.Show()
		a.countdown.Refresh()
	} else if a.countdown.Visible() {
		a.countdown.Hide()
	}

	if c := fyne.CurrentApp().Driver().CanvasForObject(u.root); c != nil {
		c.SetOnTypedKey(u.typedKey)
		c.SetOnTypedRune(u.typedRune)
		if entered {
			u.ringLeave()
			if v.Step == kiosk.StepPIN { // the PIN field takes the number keys at once
				for _, t := range u.targets() {
					if t.obj == fyne.CanvasObject(u.cardPIN) {
						a.ring = t.key()
						u.cardPIN.FocusGained()
					}
				}
			}
		}
		if f := c.Focused(); entered || f == nil || !u.inTree(f) {
			c.Focus(a.catcher)
		}
	}
	u.drawRing()

	if !a.speech {
		return
	}
	if v.IdleLeft > 0 {
		if !a.idle {
			a.idle = true
			u.say(v.Lang, kiosk.SpokenIdle(v, u.cat))
		}
		return
	}
	if a.idle {
		a.idle = false
		a.spoken = "" // after "more time", the screen again
	}
	u.speakScreen(v, entered)
}

// inTree reports whether o is on the screen now (a widget focused by a
// touch is gone once the screen is rebuilt).
func (u *UI) inTree(o fyne.Focusable) bool {
	if o == fyne.Focusable(u.acc.catcher) {
		return true
	}
	co, ok := o.(fyne.CanvasObject)
	if !ok {
		return false
	}
	for _, t := range u.targets() {
		if t.obj == co {
			return true
		}
	}
	return false
}

// speakScreen says the screen when it is new or says something new (a
// refusal, another language), or always when again is set (F2).
func (u *UI) speakScreen(v kiosk.View, again bool) {
	// Compared without the PIN's count: the digits typed are said one by
	// one (sayTyped), not the whole screen again.
	seen := u.spokenText(v, u.speakOpts(false))
	if !again && seen == u.acc.spoken {
		return
	}
	u.acc.spoken = seen
	u.say(v.Lang, u.spokenText(v, u.speakOpts(true)))
}

// spokenText is the screen's speech (kiosk.Spoken), or, for a screen it
// does not know, the screen's own texts in reading order.
func (u *UI) spokenText(v kiosk.View, o kiosk.SpeakOptions) string {
	s := kiosk.Spoken(v, u.cat, o)
	if s.Title != "" {
		return s.Text(u.cat)
	}
	var parts []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case *container.Scroll:
			walk(w.Content)
		case *widget.Label:
			parts = append(parts, w.Text)
		case *widget.Button:
			parts = append(parts, w.Text)
		}
	}
	for _, o := range u.root.Objects {
		if o != u.acc.countdown {
			walk(o)
		}
	}
	return kiosk.SayAmounts(strings.Join(parts, ". "), v.Lang)
}

// speakOpts are what the screen adds to the flow's view for its speech:
// the subject chosen and, when pin, how many PIN digits are typed.
func (u *UI) speakOpts(pin bool) kiosk.SpeakOptions {
	o := kiosk.SpeakOptions{Subject: u.subject}
	if pin {
		o.PINDigits = len(u.cardPIN.Text)
	}
	return o
}

// sayTarget says the focused item: its label and its state.
func (u *UI) sayTarget(t target) {
	if !u.acc.speech || t.obj == nil {
		return
	}
	v := u.flow.View()
	text := t.label
	switch w := t.obj.(type) {
	case *widget.Check:
		text += ", " + u.selected(v, w.Checked)
	case *widget.RadioGroup:
		text += ", " + u.selected(v, w.Selected == t.label)
	case *widget.CheckGroup:
		sel := false
		for _, s := range w.Selected {
			sel = sel || s == t.label
		}
		text += ", " + u.selected(v, sel)
	case *widget.Select:
		text = t.form + ": " + w.Selected
	case *widget.Entry:
		text = u.t(v, "speak_field") + " " + t.label
		if w == u.cardPIN {
			text += ". " + u.t(v, "speak_pin_typed", len(w.Text))
		}
	}
	u.say(v.Lang, kiosk.SayAmounts(text, v.Lang))
}

func (u *UI) selected(v kiosk.View, on bool) string {
	if on {
		return u.t(v, "speak_selected")
	}
	return u.t(v, "speak_not_selected")
}

// sayTyped tells what a key did in a field: for the PIN only how many
// digits there are (EN 301 549 5.1.3.8: masked entry is never spoken).
func (u *UI) sayTyped(t target) {
	if !u.acc.speech {
		return
	}
	e, ok := t.obj.(*widget.Entry)
	if !ok {
		return
	}
	v := u.flow.View()
	if e.Password {
		u.say(v.Lang, u.t(v, "speak_pin_typed", len(e.Text)))
		return
	}
	u.say(v.Lang, fmt.Sprint(len(e.Text)))
}

// speakCF says the person's codice fiscale, at the citizen's request (F3).
func (u *UI) speakCF(v kiosk.View) {
	if !u.acc.speech || v.Person == nil {
		return
	}
	u.say(v.Lang, u.t(v, "speak_cf", kiosk.Spell(v.Person.CF, v.Lang)))
}

func (u *UI) say(lang kiosk.Lang, text string) {
	if u.acc.speaker == nil || strings.TrimSpace(text) == "" {
		return
	}
	_ = u.acc.speaker.Say(lang, text) // a kiosk without a voice still shows everything
}

// tapArea covers the screen under the countdown: a touch anywhere is a
// yes to "more time".
type tapArea struct {
	widget.BaseWidget
	fn func()
}

func newTapArea(fn func()) *tapArea {
	t := &tapArea{fn: fn}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapArea) Tapped(*fyne.PointEvent) { t.fn() }

func (t *tapArea) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color.NRGBA{0, 0, 0, 150}))
}

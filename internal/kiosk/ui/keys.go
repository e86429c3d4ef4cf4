package ui

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/kiosk"
)

// Keyboard operation. EN 301 549 V3.2.1 clause 5.1.6 asks closed
// functionality to be operable without vision, and clause 5.1.6.2 that
// focus moved by a key can be moved away by the same keys; a self-service
// kiosk's keypad has number keys, Enter and a cancel key, a full keyboard
// Tab and the arrows too. Fyne hands every key to the focused widget, and a
// button ignores digits and Enter, so the screens keep the keyboard in one
// place: an invisible widget (keyCatcher) holds Fyne's focus and moves a
// focus of its own (the ring) over the screen's buttons, boxes, options,
// drop-downs and fields, in reading order, drawn as a frame round the
// focused one.
//
// Keys, on every screen:
//   - Tab / Shift-Tab, arrows: next / previous item (and spoken, in speech mode);
//   - Enter or Space: press the button, tick the box, pick the option, next
//     choice of a drop-down; in a field Enter submits it;
//   - 1–9 (self-service): the choice with that number, as speech mode reads
//     them (kiosk.Speech.Choices);
//   - Escape: back, cancel or close, where the screen has it;
//   - F1: speech mode on/off (the tactile key: on kiosk keypads the key
//     with the raised mark; here the first function key); F2 repeats the
//     screen; F3 says the codice fiscale (only when asked: 5.1.3.9);
//   - any key while "Ti serve più tempo?" shows: more time.
//
// A touch or a click on a widget gives Fyne's focus to it and the keys go
// to that widget as usual, until the next screen.

// keyCatcher is the invisible widget that holds the focus and passes every
// key to the UI; it accepts Tab so Fyne does not move the focus itself.
type keyCatcher struct {
	widget.BaseWidget
	u *UI
}

var (
	_ fyne.Focusable = (*keyCatcher)(nil)
	_ fyne.Tabbable  = (*keyCatcher)(nil)
)

func newKeyCatcher(u *UI) *keyCatcher {
	k := &keyCatcher{u: u}
	k.ExtendBaseWidget(k)
	return k
}

func (k *keyCatcher) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color.Transparent))
}
func (k *keyCatcher) MinSize() fyne.Size         { return fyne.Size{} }
func (k *keyCatcher) FocusGained()               {}
func (k *keyCatcher) FocusLost()                 { k.u.ringLeave() }
func (k *keyCatcher) TypedRune(r rune)           { k.u.typedRune(r) }
func (k *keyCatcher) TypedKey(ev *fyne.KeyEvent) { k.u.typedKey(ev) }
func (k *keyCatcher) AcceptsTab() bool           { return true }

// target is one thing the ring can focus: a widget, or one option of a
// radio or check group.
type target struct {
	obj    fyne.CanvasObject
	option int    // index in a group's Options; -1 for a whole widget
	label  string // what it says: the button's text, the option, the field's label
	form   string // for a field or drop-down, the label above it
	dup    int    // how many targets before it have the same key
}

// key names a target across rebuilds of the screen: the same label on the
// same kind of widget.
func (t target) key() string {
	kind := "?"
	switch t.obj.(type) {
	case *widget.Button:
		kind = "button"
	case *widget.Check:
		kind = "check"
	case *widget.RadioGroup:
		kind = "radio"
	case *widget.CheckGroup:
		kind = "checkgroup"
	case *widget.Select:
		kind = "select"
	case *widget.Entry:
		kind = "entry"
	}
	return fmt.Sprintf("%s\x00%s\x00%s\x00%d", kind, t.label, t.form, t.dup)
}

// targets lists what the ring can reach on the screen now, in reading
// order (top to bottom, then left to right); hidden and disabled widgets
// are left out.
func (u *UI) targets() []target {
	var ts []target
	var walk func(o fyne.CanvasObject, form string)
	last := "" // the last label passed: what a field or drop-down under it is for
	walk = func(o fyne.CanvasObject, form string) {
		if o == nil || !o.Visible() {
			return
		}
		if d, ok := o.(fyne.Disableable); ok && d.Disabled() {
			return
		}
		switch w := o.(type) {
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c, "")
			}
		case *container.Scroll:
			walk(w.Content, "")
		case *widget.Label:
			if w.Text != "" {
				last = w.Text
			}
		case *widget.Form:
			for _, it := range w.Items {
				walk(it.Widget, it.Text)
			}
		case *widget.Button:
			label := w.Text
			if label == "" && w.Icon != nil {
				label = w.Icon.Name()
			}
			ts = append(ts, target{obj: w, option: -1, label: label})
		case *widget.Check:
			ts = append(ts, target{obj: w, option: -1, label: w.Text})
		case *widget.RadioGroup:
			for i, opt := range w.Options {
				ts = append(ts, target{obj: w, option: i, label: opt})
			}
		case *widget.CheckGroup:
			for i, opt := range w.Options {
				ts = append(ts, target{obj: w, option: i, label: opt})
			}
		case *widget.Select:
			if form == "" {
				form = last
			}
			ts = append(ts, target{obj: w, option: -1, label: form, form: form})
		case *widget.Entry:
			if form == "" {
				form = last
			}
			label := form
			if label == "" {
				label = w.PlaceHolder
			}
			ts = append(ts, target{obj: w, option: -1, label: label, form: form})
		}
	}
	for _, o := range u.root.Objects {
		walk(o, "")
	}
	d := fyne.CurrentApp().Driver()
	pos := func(t target) fyne.Position {
		p := d.AbsolutePositionForObject(t.obj)
		if t.option >= 0 {
			p.Y += optionOffset(t)
		}
		return p
	}
	// Reading order: rows a few pixels apart are the same row.
	slices.SortStableFunc(ts, func(a, b target) int {
		pa, pb := pos(a), pos(b)
		if dy := pa.Y - pb.Y; dy > 4 || dy < -4 {
			if dy < 0 {
				return -1
			}
			return 1
		}
		switch {
		case pa.X < pb.X:
			return -1
		case pa.X > pb.X:
			return 1
		}
		return 0
	})
	seen := map[string]int{}
	for i := range ts {
		k := ts[i].key()
		ts[i].dup = seen[k]
		seen[k]++
	}
	return ts
}

// optionOffset is how far down its group an option is drawn: groups lay
// their options out one under the other, each as tall as the others.
func optionOffset(t target) float32 {
	n := 1
	switch w := t.obj.(type) {
	case *widget.RadioGroup:
		n = len(w.Options)
	case *widget.CheckGroup:
		n = len(w.Options)
	}
	return t.obj.Size().Height / float32(n) * float32(t.option)
}

// ringTarget is the focused target, found again on the rebuilt screen.
func (u *UI) ringTarget() (target, []target, int) {
	ts := u.targets()
	if u.acc.ring == "" {
		return target{}, ts, -1
	}
	for i, t := range ts {
		if t.key() == u.acc.ring {
			return t, ts, i
		}
	}
	return target{}, ts, -1
}

// ringMove focuses the target by steps from the focused one (or the first
// or last when none is).
func (u *UI) ringMove(by int) {
	cur, ts, i := u.ringTarget()
	if len(ts) == 0 {
		return
	}
	switch {
	case i < 0 && by > 0:
		i = 0
	case i < 0:
		i = len(ts) - 1
	default:
		i = (i + by + len(ts)) % len(ts)
	}
	u.ringSet(cur, ts[i])
}

// ringSet moves the ring from cur to t, shows it and says it.
func (u *UI) ringSet(cur, t target) {
	if e, ok := cur.obj.(*widget.Entry); ok && cur.key() != t.key() {
		e.FocusLost()
	}
	u.acc.ring = t.key()
	if e, ok := t.obj.(*widget.Entry); ok {
		e.FocusGained() // its cursor shows; the keys still come through the catcher
	}
	u.drawRing()
	u.sayTarget(t)
}

// ringLeave forgets the ring when Fyne's focus went to a widget (a touch).
func (u *UI) ringLeave() {
	cur, _, _ := u.ringTarget()
	if e, ok := cur.obj.(*widget.Entry); ok {
		e.FocusLost()
	}
	u.acc.ring = ""
	u.drawRing()
}

// drawRing puts the frame round the focused target, or hides it.
func (u *UI) drawRing() {
	r := u.acc.frame
	t, _, i := u.ringTarget()
	if i < 0 {
		r.Hide()
		return
	}
	d := fyne.CurrentApp().Driver()
	origin := d.AbsolutePositionForObject(u.root)
	p := d.AbsolutePositionForObject(t.obj).Subtract(origin)
	size := t.obj.Size()
	if t.option >= 0 {
		p.Y += optionOffset(t)
		size.Height = optionOffset(target{obj: t.obj, option: 1})
	}
	const pad = 3
	// The frame in the text colour (dark on the light palette, yellow
	// accent on the high-contrast one): it must stand out from a blue
	// button as much as from the background (WCAG 2.2 1.4.11, 3:1).
	r.StrokeColor = u.theme.Color(theme.ColorNameForeground, theme.VariantLight)
	if u.theme.HighContrast {
		r.StrokeColor = u.theme.Color(theme.ColorNameFocus, theme.VariantLight)
	}
	r.StrokeWidth = 4
	r.FillColor = color.Transparent
	r.Move(p.SubtractXY(pad, pad))
	r.Resize(size.AddWidthHeight(2*pad, 2*pad))
	r.Show()
	r.Refresh()
}

// activate does what Enter or Space does on a target.
func (u *UI) activate(t target) {
	u.flow.Touch()
	switch w := t.obj.(type) {
	case *widget.Button:
		if w.OnTapped != nil && !w.Disabled() {
			w.OnTapped()
		}
		return // the screen may have changed: say nothing of the old one
	case *widget.Check:
		w.SetChecked(!w.Checked)
	case *widget.RadioGroup:
		w.SetSelected(w.Options[t.option])
	case *widget.CheckGroup:
		opt := w.Options[t.option]
		sel := slices.Clone(w.Selected)
		if i := slices.Index(sel, opt); i >= 0 {
			sel = slices.Delete(sel, i, i+1)
		} else {
			sel = append(sel, opt)
		}
		w.SetSelected(sel)
	case *widget.Select:
		w.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight}) // the next option
	case *widget.Entry:
		w.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		return
	}
	u.sayTarget(u.findTarget(t.key()))
}

func (u *UI) findTarget(key string) target {
	for _, t := range u.targets() {
		if t.key() == key {
			return t
		}
	}
	return target{}
}

// typedKey is a key the catcher (or the window, when nothing is focused)
// received.
func (u *UI) typedKey(ev *fyne.KeyEvent) {
	v := u.flow.View()
	if v.IdleLeft > 0 {
		u.flow.Touch() // "Ti serve più tempo?": any key says yes
		return
	}
	switch ev.Name {
	case fyne.KeyF1:
		u.SetSpeech(!u.acc.speech)
		return
	case fyne.KeyF2:
		u.speakScreen(v, true)
		return
	case fyne.KeyF3:
		u.speakCF(v)
		return
	}
	u.flow.Touch()
	cur, _, i := u.ringTarget()
	if e, ok := cur.obj.(*widget.Entry); ok && i >= 0 {
		switch ev.Name {
		case fyne.KeyTab, fyne.KeyUp, fyne.KeyDown, fyne.KeyEscape:
		default:
			e.TypedKey(ev) // Enter submits, Backspace deletes, arrows move the cursor
			u.sayTyped(cur)
			return
		}
	}
	switch ev.Name {
	case fyne.KeyTab, fyne.KeyDown, fyne.KeyRight:
		u.ringMove(1)
	case fyne.KeyUp, fyne.KeyLeft:
		u.ringMove(-1)
	case fyne.KeyReturn, fyne.KeyEnter, fyne.KeySpace:
		if i >= 0 {
			u.activate(cur)
			return
		}
		// Nothing focused: Enter is the screen's main button.
		for _, t := range u.targets() {
			if b, ok := t.obj.(*widget.Button); ok && b.Importance == widget.HighImportance {
				u.activate(t)
				return
			}
		}
	case fyne.KeyEscape:
		u.back(v)
	}
}

// typedRune is a character: a digit picks a choice (self-service), and in
// a field it is typed.
func (u *UI) typedRune(r rune) {
	v := u.flow.View()
	if v.IdleLeft > 0 {
		u.flow.Touch()
		return
	}
	u.flow.Touch()
	cur, _, i := u.ringTarget()
	if e, ok := cur.obj.(*widget.Entry); ok && i >= 0 {
		if e == u.cardPIN && (r < '0' || r > '9' || len(e.Text) >= 8) {
			return
		}
		e.TypedRune(r)
		u.sayTyped(cur)
		return
	}
	if r == ' ' {
		u.typedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
		return
	}
	if r < '1' || r > '9' || v.Mode != kiosk.SelfService {
		return
	}
	choices := kiosk.Spoken(v, u.cat, u.speakOpts(false)).Choices
	n := int(r - '1')
	if n >= len(choices) {
		return
	}
	if t, ok := u.targetFor(choices[n]); ok {
		cur, _, _ := u.ringTarget()
		u.ringSet(cur, t)
		u.activate(t)
	}
}

// targetFor finds the target a spoken choice names: the same label, or a
// label that adds details in brackets (a family member's birth date).
func (u *UI) targetFor(choice string) (target, bool) {
	for _, t := range u.targets() {
		if t.label == choice || strings.HasPrefix(t.label, choice+" (") {
			return t, true
		}
	}
	return target{}, false
}

// back presses the screen's back, cancel or close button, if it has one.
func (u *UI) back(v kiosk.View) {
	labels := []string{u.t(v, "back_button"), u.t(v, "cancel_button"), u.t(v, "access_log_close")}
	for _, t := range u.targets() {
		if b, ok := t.obj.(*widget.Button); ok && slices.Contains(labels, b.Text) {
			u.activate(t)
			return
		}
	}
}

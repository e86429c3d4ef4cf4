package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

// statusPrinters are the test printers with a state the status poll reads.
type statusPrinters struct {
	*printers
	state string
}

func (p *statusPrinters) Status(context.Context) string { return p.state }

// inline runs an action on the test's goroutine, which plays the UI
// goroutine under Fyne's test driver (see UI.spawn).
func inline(fn func()) { fn() }

// laidOut finds the objects of type T shown under o (through widgets'
// renderers, skipping what is hidden), in the order they are drawn.
func laidOut[T fyne.CanvasObject](o fyne.CanvasObject) []T {
	var found []T
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		if t, ok := o.(T); ok {
			found = append(found, t)
		}
		switch o := o.(type) {
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(o).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return found
}

// TestStatusPollLeavesTheScreenAlone is issue 15's "a status poll leaves
// an open drop-down and a scrolled list untouched": on the choice screen
// the clerk has typed half a codice fiscale, scrolled the left column and
// opened the destination-of-use drop-down when status polls come in with
// the hub going offline and back, the queue growing and the printer
// running out of paper. The status bar follows each poll; the drop-down is
// still open, on the very Select shown in the window, the column is still
// scrolled as far and the field still holds what was typed. Choosing from
// the drop-down then reaches the Select on the screen.
func TestStatusPollLeavesTheScreenAlone(t *testing.T) {
	ctx := context.Background()
	a := test.NewTempApp(t)
	h := &hub{}
	prn := &statusPrinters{printers: &printers{}}
	ob := &outbox{hub: h}
	cfg := kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150,
		Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia, certificate.Nascita, certificate.Cittadinanza, certificate.StatoCivile}}
	f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: prn, Outbox: ob, Clock: &clock{now}})
	if err != nil {
		t.Fatal(err)
	}
	u := New(a, f, catalog(t))
	w := test.NewTempWindow(t, u.Content())
	// Short enough that the choice screen's left column scrolls.
	w.Resize(fyne.NewSize(1024, 560))
	f.RefreshStatus(ctx)
	if err := f.LoginCard(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	if err := f.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if f.View().Step != kiosk.StepChoose {
		t.Fatalf("on %s, not on the choice screen", f.View().Step)
	}
	c := w.Canvas()
	pos := func(o fyne.CanvasObject) fyne.Position { return a.Driver().AbsolutePositionForObject(o) }

	// Half a codice fiscale typed in the "someone else" field.
	test.Type(u.otherCF, "RSSMRA50")
	// The left column scrolled down.
	scrolls := laidOut[*container.Scroll](u.Content())
	if len(scrolls) == 0 {
		t.Fatal("the choice screen has no scrolling column")
	}
	left := scrolls[0]
	test.Scroll(c, pos(left).AddXY(20, 20), 0, -120)
	offset := left.Offset
	if offset.Y <= 0 {
		t.Fatalf("the left column did not scroll (offset %v, content %v in %v)", offset, left.Content.Size(), left.Size())
	}
	// The destination-of-use drop-down opened by a tap on it.
	selects := laidOut[*widget.Select](u.Content())
	if len(selects) != 1 {
		t.Fatalf("%d drop-downs shown, want the destination of use only", len(selects))
	}
	sel := selects[0]
	test.TapCanvas(c, pos(sel).AddXY(10, 10))
	// The menu takes the keyboard focus; its overlay is what the canvas
	// shows above the window.
	menu, ok := c.Focused().(*widget.PopUpMenu)
	overlay := c.Overlays().Top()
	if !ok || overlay == nil || !overlay.Visible() {
		t.Fatalf("tapping the drop-down opened no menu (focus %T, overlay %T)", c.Focused(), overlay)
	}
	builds := u.drawCount

	cat := catalog(t)
	polls := []struct {
		offline bool
		queued  int
		printer string
		want    []string
	}{
		{true, 1, "", []string{cat.T(kiosk.Italian, "status_hub_offline"), cat.T(kiosk.Italian, "status_queued", 1)}},
		{true, 2, "carta esaurita", []string{cat.T(kiosk.Italian, "status_queued", 2), cat.T(kiosk.Italian, "status_printer", "carta esaurita")}},
		{false, 0, "", []string{cat.T(kiosk.Italian, "status_hub_online"), cat.T(kiosk.Italian, "status_printer_ok")}},
	}
	for i, p := range polls {
		h.offline, ob.n, prn.state = p.offline, p.queued, p.printer
		f.RefreshStatus(ctx)
		for _, s := range p.want {
			if !hasText(u.Content(), s) {
				t.Errorf("poll %d: the status bar does not say %q", i, s)
			}
		}
		if top := c.Overlays().Top(); top != overlay || !overlay.Visible() || c.Focused() != menu {
			t.Fatalf("poll %d: the open drop-down went (overlay now %T, focus %T)", i, top, c.Focused())
		}
		if s := laidOut[*widget.Select](u.Content()); len(s) != 1 || s[0] != sel {
			t.Fatalf("poll %d: the drop-down on the screen is not the one the clerk opened", i)
		}
		if s := laidOut[*container.Scroll](u.Content()); len(s) == 0 || s[0] != left || left.Offset != offset {
			t.Fatalf("poll %d: the scrolled column was replaced or moved (offset %v, was %v)", i, left.Offset, offset)
		}
		if got := u.otherCF.Text; got != "RSSMRA50" {
			t.Fatalf("poll %d: the typed field holds %q", i, got)
		}
	}
	if u.drawCount != builds {
		t.Errorf("the status polls rebuilt the screen %d times", u.drawCount-builds)
	}
	// The clerk picks the second destination from the menu left open.
	menu.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	menu.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	menu.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnter})
	shown := laidOut[*widget.Select](u.Content())
	if len(shown) != 1 || shown[0].Selected != sel.Options[1] || u.use != certificate.Uses()[1] {
		t.Errorf("the choice made in the menu is not on the screen (shown %q, use %q, want %q)", shown[0].Selected, u.use, sel.Options[1])
	}
}

// TestRefusalLeavesTheScreenAlone: "Vedi il costo" with no certificate
// ticked is refused; the buttons are disabled while the action runs and
// given back after it, the banner tells why, and the scrolled column and
// the open choices stay as they were (a refusal is no new screen).
func TestRefusalLeavesTheScreenAlone(t *testing.T) {
	ctx := context.Background()
	a := test.NewTempApp(t)
	f := newFlow(t, kiosk.Operator, &hub{})
	u := New(a, f, catalog(t))
	u.spawn = inline
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 560))
	f.LoginCard(ctx, "12345678")
	f.TapCard(ctx)
	c := w.Canvas()
	left := laidOut[*container.Scroll](u.Content())[0]
	test.Scroll(c, a.Driver().AbsolutePositionForObject(left).AddXY(20, 20), 0, -120)
	offset := left.Offset
	if offset.Y <= 0 {
		t.Fatal("the left column did not scroll")
	}
	builds := u.drawCount
	var next *widget.Button
	for _, b := range laidOut[*widget.Button](u.Content()) {
		if b.Text == catalog(t).T(kiosk.Italian, "choose_button") {
			next = b
		}
	}
	if next == nil {
		t.Fatal("no button to see the cost")
	}
	test.Tap(next)
	if p := f.View().Problem; p == nil || p.Key != "no_type" {
		t.Fatalf("problem %v, want no_type", p)
	}
	if !shows(u.Content(), catalog(t).Problem(kiosk.Italian, f.View().Problem)) {
		t.Error("the banner does not say why")
	}
	if s := laidOut[*container.Scroll](u.Content()); len(s) == 0 || s[0] != left || left.Offset != offset {
		t.Errorf("the refusal replaced or moved the scrolled column (offset %v, was %v)", left.Offset, offset)
	}
	if next.Disabled() {
		t.Error("the button stays disabled after the action")
	}
	if u.drawCount != builds {
		t.Errorf("the refusal rebuilt the screen %d times", u.drawCount-builds)
	}
}

// TestPlacesAgeInPlace: the directory's kept copy ages while it is read;
// the note saying how old it is follows the clock at each poll, the list
// keeping its scroll.
func TestPlacesAgeInPlace(t *testing.T) {
	ctx := context.Background()
	a := test.NewTempApp(t)
	h := &hub{}
	clk := &clock{now}
	f, err := kiosk.New(kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1"},
		kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h}, Clock: clk, Places: places})
	if err != nil {
		t.Fatal(err)
	}
	u := New(a, f, catalog(t))
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 420))
	f.LoginCard(ctx, "12345678")
	if err := f.ShowPlaces(ctx); err != nil {
		t.Fatal(err)
	}
	list := laidOut[*container.Scroll](u.Content())[0]
	test.Scroll(w.Canvas(), a.Driver().AbsolutePositionForObject(list).AddXY(20, 20), 0, -60)
	offset := list.Offset
	if offset.Y <= 0 {
		t.Fatal("the list did not scroll")
	}
	cat := catalog(t)
	fetched := now.Add(-2 * time.Hour).In(protocol.Rome).Format("02/01/2006 15:04")
	if !shows(u.Content(), cat.T(kiosk.Italian, "places_cached", fetched, "2 h 00 min")) {
		t.Fatal("the note does not say the copy is 2 hours old")
	}
	clk.t = now.Add(15 * time.Minute)
	f.RefreshStatus(ctx)
	if !shows(u.Content(), cat.T(kiosk.Italian, "places_cached", fetched, "2 h 15 min")) {
		t.Error("the note did not follow the clock")
	}
	if s := laidOut[*container.Scroll](u.Content()); len(s) == 0 || s[0] != list || list.Offset != offset {
		t.Errorf("the poll replaced or moved the list (offset %v, was %v)", list.Offset, offset)
	}
}

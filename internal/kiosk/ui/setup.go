package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/kiosk"
)

// SetupUI is the first-run screen of an enrolled kiosk: the shop as the
// hub registered it, the printers found with a test print each, the card
// readers, and "Salva e avvia", which writes kiosk.json.
type SetupUI struct {
	setup *kiosk.Setup
	cat   *kiosk.Catalog
	root  *fyne.Container
	ctx   context.Context
	busy  bool
	// Saved is called, on the UI goroutine, with what was written.
	Saved func(kiosk.ShopConfig)
}

// NewSetup makes the set-up screen of s; call Content for the window's
// content and Detect to look for the shop, printers and readers.
func NewSetup(a fyne.App, s *kiosk.Setup, cat *kiosk.Catalog) *SetupUI {
	a.Settings().SetTheme(&Theme{Scale: 1.1})
	u := &SetupUI{setup: s, cat: cat, root: container.NewStack(), ctx: context.Background()}
	s.OnChange = func() { fyne.Do(u.Refresh) }
	u.Refresh()
	return u
}

// Content is the window's content.
func (u *SetupUI) Content() fyne.CanvasObject { return u.root }

// Detect asks the hub and looks for printers and readers, off the UI
// goroutine; the screen follows when they answer.
func (u *SetupUI) Detect(ctx context.Context) {
	u.ctx = ctx
	u.work(func(ctx context.Context) { u.setup.Detect(ctx) })
}

// work runs fn off the UI goroutine with the buttons disabled meanwhile.
func (u *SetupUI) work(fn func(ctx context.Context)) {
	u.busy = true
	u.Refresh()
	go func() {
		fn(u.ctx)
		fyne.Do(func() { u.busy = false; u.Refresh() })
	}()
}

func (u *SetupUI) t(v kiosk.SetupView, key string, args ...any) string {
	return u.cat.T(v.Lang, key, args...)
}

// Refresh draws the screen from the set-up's view. The set-up changes only
// on the user's own actions, so redrawing it whole loses nothing. Must run
// on the UI goroutine.
func (u *SetupUI) Refresh() {
	v := u.setup.View()
	u.root.Objects = []fyne.CanvasObject{container.NewPadded(u.screen(v))}
	u.root.Refresh()
}

func (u *SetupUI) problem(v kiosk.SetupView, p *kiosk.Problem) fyne.CanvasObject {
	l := widget.NewLabel(u.cat.Problem(v.Lang, p))
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (u *SetupUI) screen(v kiosk.SetupView) fyne.CanvasObject {
	var langs []fyne.CanvasObject
	for _, l := range kiosk.Langs {
		b := widget.NewButton(u.t(v, "lang_"+string(l)), func() { u.setup.SetLang(l) })
		if l == v.Lang {
			b.Importance = widget.HighImportance
		}
		langs = append(langs, b)
	}
	intro := widget.NewLabel(u.t(v, "setup_intro"))
	intro.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(langs...), heading(u.t(v, "setup_title"))),
		intro, widget.NewSeparator())

	// The shop: read from the hub, never typed.
	shop := []fyne.CanvasObject{section(u.t(v, "setup_shop"))}
	if v.Shop != nil {
		mode := u.t(v, "mode_operator")
		if v.Shop.Mode == kiosk.SelfService {
			mode = u.t(v, "mode_self_service")
		}
		form := container.New(layout.NewFormLayout())
		for _, row := range [][2]string{
			{"setup_shop_name", v.Shop.Name}, {"setup_legal_name", v.Shop.LegalName}, {"setup_piva", v.Shop.PartitaIVA},
			{"setup_address", v.Shop.Address}, {"setup_mode", mode},
		} {
			value := widget.NewLabel(row[1])
			value.Wrapping = fyne.TextWrapWord
			form.Add(widget.NewLabelWithStyle(u.t(v, row[0]), fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}))
			form.Add(value)
		}
		note := widget.NewLabelWithStyle(u.t(v, "setup_shop_note"), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		note.Wrapping = fyne.TextWrapWord
		shop = append(shop, form, note)
	}
	if v.ShopProblem != nil {
		shop = append(shop, u.problem(v, v.ShopProblem))
	}

	// The card readers, as PC/SC names them.
	readers := []fyne.CanvasObject{section(u.t(v, "setup_readers"))}
	switch {
	case v.ReaderProblem != nil:
		readers = append(readers, u.problem(v, v.ReaderProblem))
	case len(v.Readers) == 0 && !u.busy:
		l := widget.NewLabel(u.t(v, "setup_no_readers"))
		l.Wrapping = fyne.TextWrapWord
		readers = append(readers, l)
	}
	for _, r := range v.Readers {
		l := widget.NewLabelWithStyle("• "+r, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		l.Wrapping = fyne.TextWrapWord
		readers = append(readers, l)
	}

	// The printers: a choice of those found, and a test print each.
	var printers []fyne.CanvasObject
	if len(v.Printers) == 0 && !u.busy {
		l := widget.NewLabel(u.t(v, "setup_none_found"))
		l.Wrapping = fyne.TextWrapWord
		printers = append(printers, l)
	}
	if v.PrinterProblem != nil {
		printers = append(printers, u.problem(v, v.PrinterProblem))
	}
	for _, k := range []kiosk.PrinterKind{kiosk.A4, kiosk.Receipts} {
		printers = append(printers, u.printerRow(v, k))
	}
	left := container.NewVBox(append(append(shop, widget.NewSeparator()), readers...)...)
	body := container.NewGridWithColumns(2, left, container.NewVBox(printers...))

	// What failed, and the buttons, stay in sight below the scrolled part.
	var bottom []fyne.CanvasObject
	if v.Problem != nil {
		bottom = append(bottom, u.problem(v, v.Problem))
	}
	if v.Saved != nil {
		l := widget.NewLabel(u.t(v, "setup_saved"))
		l.Importance = widget.SuccessImportance
		bottom = append(bottom, l)
	}
	rescan := widget.NewButtonWithIcon(u.t(v, "setup_rescan"), theme.ViewRefreshIcon(), func() {
		u.work(func(ctx context.Context) { u.setup.Detect(ctx) })
	})
	save := big(u.t(v, "setup_save"), func() {
		cfg, err := u.setup.Save()
		if err == nil && u.Saved != nil {
			u.Saved(*cfg)
		}
	})
	if u.busy || v.Saved != nil {
		rescan.Disable()
		save.Disable()
	}
	if v.Shop == nil || v.A4 == "" || v.Receipt == "" {
		save.Disable()
	}
	bottom = append(bottom, widget.NewSeparator(), container.NewHBox(rescan, layout.NewSpacer(), save))
	return container.NewBorder(top, container.NewVBox(bottom...), nil, nil, container.NewVScroll(body))
}

// printerRow is one use's printer: a drop-down of those found, the test
// button and what the test did.
func (u *SetupUI) printerRow(v kiosk.SetupView, k kiosk.PrinterKind) fyne.CanvasObject {
	label := "setup_a4"
	chosen := v.A4
	if k == kiosk.Receipts {
		label, chosen = "setup_receipt", v.Receipt
	}
	var options []string
	uris := map[string]string{}
	selected := ""
	for _, p := range v.Printers {
		o := p.Name
		if p.Detail != "" {
			o += " · " + p.Detail
		}
		if o != p.URI {
			o += " (" + p.URI + ")"
		}
		options = append(options, o)
		uris[o] = p.URI
		if p.URI == chosen {
			selected = o
		}
	}
	sel := widget.NewSelect(options, nil)
	sel.PlaceHolder = u.t(v, "setup_choose_printer")
	sel.Selected = selected
	sel.OnChanged = func(o string) { u.setup.Choose(k, uris[o]) }
	test := widget.NewButtonWithIcon(u.t(v, "setup_test"), theme.DocumentPrintIcon(), func() {
		u.work(func(ctx context.Context) { u.setup.Test(ctx, k) })
	})
	if chosen == "" || u.busy {
		test.Disable()
	}
	if len(options) == 0 {
		sel.Disable()
	}
	row := []fyne.CanvasObject{section(u.t(v, label)), container.NewBorder(nil, nil, nil, test, sel)}
	if t, ok := v.Tests[k]; ok && t.URI == chosen {
		if t.Problem != nil {
			row = append(row, u.problem(v, t.Problem))
		} else {
			l := widget.NewLabel(u.t(v, "setup_test_ok", t.URI))
			l.Importance = widget.SuccessImportance
			l.Wrapping = fyne.TextWrapWord
			row = append(row, l)
		}
	}
	return container.NewVBox(row...)
}

// section is a section's title.
func section(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

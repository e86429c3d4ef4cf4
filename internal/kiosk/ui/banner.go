package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// banner is the problem shown over the top of the page: an opaque box
// with a red border, so the heading it covers does not show through, and
// a sink for taps, so a finger on the banner never presses a button
// hidden under it.
type banner struct {
	widget.BaseWidget
	label *widget.Label
}

var _ fyne.Tappable = (*banner)(nil)

func newBanner() *banner {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.TextStyle.Bold = true
	b := &banner{label: l}
	b.ExtendBaseWidget(b)
	return b
}

// SetText changes the banner's sentence.
func (b *banner) SetText(s string) {
	if b.label.Text != s {
		b.label.SetText(s)
	}
}

// Text is the sentence shown.
func (b *banner) Text() string { return b.label.Text }

// Tapped swallows the tap: see banner.
func (b *banner) Tapped(*fyne.PointEvent) {}

func (b *banner) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(color.Transparent)
	tint := canvas.NewRectangle(color.Transparent)
	r := &bannerRenderer{bg: bg, tint: tint,
		WidgetRenderer: widget.NewSimpleRenderer(container.NewStack(bg, tint, container.NewPadded(b.label)))}
	r.colours()
	return r
}

type bannerRenderer struct {
	fyne.WidgetRenderer
	bg, tint *canvas.Rectangle
}

// colours follows the theme (high contrast included): the page's
// background, a light wash of the error colour and its border.
func (r *bannerRenderer) colours() {
	th := fyne.CurrentApp().Settings().Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.bg.FillColor = th.Color(theme.ColorNameBackground, v)
	e := th.Color(theme.ColorNameError, v)
	cr, cg, cb, _ := e.RGBA()
	r.tint.FillColor = color.NRGBA{R: uint8(cr >> 8), G: uint8(cg >> 8), B: uint8(cb >> 8), A: 0x24}
	r.tint.StrokeColor = e
	r.tint.StrokeWidth = 2
	r.tint.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.bg.CornerRadius = r.tint.CornerRadius
}

func (r *bannerRenderer) Refresh() {
	r.colours()
	r.bg.Refresh()
	r.tint.Refresh()
	r.WidgetRenderer.Refresh()
}

// overTop lays its objects over the top of the space it is given, each as
// wide as it and as tall as its text needs at that width: a wrapped
// label knows how many lines it takes only once it knows its width, so
// each is sized twice. Its own minimum size is nothing: it lies over the
// page and claims none of it.
type overTop struct{}

func (overTop) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		o.Move(fyne.NewPos(0, 0))
		o.Resize(fyne.NewSize(size.Width, o.MinSize().Height))
		o.Resize(fyne.NewSize(size.Width, min(o.MinSize().Height, size.Height)))
	}
}

func (overTop) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.Size{} }

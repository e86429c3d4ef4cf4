package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

func (u *UI) placesButton(v kiosk.View, others ...fyne.CanvasObject) []fyne.CanvasObject {
	if !v.HasPlaces {
		return others
	}
	b := widget.NewButtonWithIcon(u.t(v, "places_button"), theme.SearchIcon(), func() { u.run(u.flow.ShowPlaces) })
	u.busy(v, b)
	return append(others, b)
}

// placesScreen lists the nearest points of service, saying how old the
// list is when it is the kept copy.
func (u *UI) placesScreen(v kiosk.View) fyne.CanvasObject {
	d := v.Places
	list := container.NewVBox()
	if d.Cached {
		text := func(v kiosk.View) string {
			return u.t(v, "places_cached", d.Fetched.In(protocol.Rome).Format("02/01/2006 15:04"), age(v.PlacesAge))
		}
		note := widget.NewLabel(text(v))
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		list.Add(note)
		// The copy ages while the list is read: in place, the list keeps
		// its scroll.
		u.onRefresh(func(v kiosk.View) { setText(note, text(v)) })
	}
	for _, p := range d.Places {
		if p.TotalCents != nil {
			// What the price is: said once, above the places.
			note := widget.NewLabelWithStyle(u.t(v, "places_price_note"), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
			note.Wrapping = fyne.TextWrapWord
			list.Add(note)
			break
		}
	}
	for _, p := range d.Places {
		state := u.t(v, "places_closed")
		if p.Open {
			state = u.t(v, "places_open")
		}
		name := widget.NewLabelWithStyle(fmt.Sprintf("%s · %s", p.Name, state), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		category := p.Category
		if p.Kind != "" && u.cat.Has(v.Lang, "category_"+p.Kind) {
			category = u.t(v, "category_"+p.Kind)
		}
		detail := fmt.Sprintf("%s · %s · %s", category, p.Address, kiosk.Distance(p.DistanceM, v.Lang))
		if p.Transit != "" {
			detail += " · " + p.Transit
		}
		if len(p.Spans) > 0 {
			detail += " · " + u.t(v, "places_today", strings.Join(p.Spans, ", "))
		}
		dl := widget.NewLabel(detail)
		dl.Wrapping = fyne.TextWrapWord
		list.Add(name)
		list.Add(dl)
		if offer := u.placeOffer(v, p); offer != "" {
			ol := widget.NewLabel(offer)
			ol.Wrapping = fyne.TextWrapWord
			list.Add(ol)
		}
	}
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	return container.NewBorder(heading(u.t(v, "places_title")), container.NewHBox(back), nil, nil, container.NewVScroll(list))
}

// placeOffer says which certificates p issues, by name, and what a
// citizen pays there in all for an ordinary one; "" when the hub said
// neither (a kept copy from an older hub).
func (u *UI) placeOffer(v kiosk.View, p kiosk.Place) string {
	var parts []string
	if len(p.Types) > 0 {
		names := make([]string, 0, len(p.Types))
		for _, t := range p.Types {
			if u.cat.Has(v.Lang, "type_"+t) {
				names = append(names, u.t(v, "type_"+t))
			} else {
				names = append(names, strings.ReplaceAll(t, "_", " ")) // a type newer than this kiosk
			}
		}
		parts = append(parts, u.t(v, "places_types", strings.Join(names, ", ")))
	} else if p.TotalCents != nil {
		// No agreement limits what the city's own office issues.
		parts = append(parts, u.t(v, "places_all_types"))
	}
	if p.TotalCents != nil {
		parts = append(parts, u.t(v, "places_total", fees.Euro(*p.TotalCents)))
	}
	return strings.Join(parts, " · ")
}

// age says how old a copy is, in the units an operator reads at a glance.
func age(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

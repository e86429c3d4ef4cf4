package ui

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// luminance is WCAG 2.2's relative luminance of an sRGB colour.
func luminance(c color.Color) float64 {
	r, g, b, _ := color.NRGBAModel.Convert(c).RGBA()
	lin := func(v uint32) float64 {
		s := float64(v>>8) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2.2's contrast ratio (L1 + 0.05) / (L2 + 0.05).
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestContrast: the text the screens show, on what it is shown, reaches
// WCAG 2.2 success criterion 1.4.3's 4.5:1 (EN 301 549 clause 11.1.4.3) in
// the normal and the high-contrast palette: body text, text on buttons and
// on the main (primary) buttons, refusals (danger labels, in the error
// colour), success and warning notes, placeholders, and the focus frame
// against the background (1.4.11 asks 3:1 of it).
func TestContrast(t *testing.T) {
	for _, hc := range []bool{false, true} {
		th := &Theme{Scale: 1.5, HighContrast: hc}
		c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, theme.VariantLight) }
		bg := c(theme.ColorNameBackground)
		pairs := []struct {
			what   string
			fg, bg color.Color
			min    float64
		}{
			{"text on the background", c(theme.ColorNameForeground), bg, 4.5},
			{"text on a button", c(theme.ColorNameForeground), c(theme.ColorNameButton), 4.5},
			{"text on a main button", c(theme.ColorNameForegroundOnPrimary), c(theme.ColorNamePrimary), 4.5},
			{"refusal text", c(theme.ColorNameError), bg, 4.5},
			{"success text", c(theme.ColorNameSuccess), bg, 4.5},
			{"warning text", c(theme.ColorNameWarning), bg, 4.5},
			{"text in a field", c(theme.ColorNameForeground), c(theme.ColorNameInputBackground), 4.5},
			{"placeholder in a field", c(theme.ColorNamePlaceHolder), c(theme.ColorNameInputBackground), 4.5},
			{"focus frame", c(theme.ColorNamePrimary), bg, 3},
		}
		for _, p := range pairs {
			r := contrast(p.fg, p.bg)
			t.Logf("high contrast %v: %s %.2f:1", hc, p.what, r)
			if r < p.min {
				t.Errorf("high contrast %v: %s has contrast %.2f:1, below %.1f:1", hc, p.what, r, p.min)
			}
		}
	}
}

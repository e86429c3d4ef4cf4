// Package ui renders the kiosk's flows (package kiosk) with Fyne: one screen
// per step, a status bar, large touch targets in self-service, a theme with
// larger text and a high-contrast variant, translations it/en.
//
// Views hold no logic: they show a kiosk.View and call the flow's actions,
// on their own goroutine so a card read or a print never freezes the window;
// the flow's OnChange brings the result back with fyne.Do.
package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Theme scales the default theme's sizes (text, padding, so buttons grow
// with their labels) and can swap its colours for a high-contrast palette:
// white on black with yellow accents, as accessibility guidance for public
// terminals suggests.
type Theme struct {
	Scale        float32 // 1 is Fyne's default; self-service uses about 1.5
	HighContrast bool
}

var _ fyne.Theme = (*Theme)(nil)

var (
	hcBackground = color.NRGBA{0, 0, 0, 255}
	hcForeground = color.NRGBA{255, 255, 255, 255}
	hcAccent     = color.NRGBA{255, 214, 0, 255}
	hcInput      = color.NRGBA{28, 28, 28, 255}
	hcButton     = color.NRGBA{40, 40, 40, 255}
	hcError      = color.NRGBA{255, 110, 110, 255}
	hcSuccess    = color.NRGBA{90, 230, 120, 255}

	// The normal palette is Fyne's light one with the colours that carry
	// text darkened until they reach WCAG 2.2's 4.5:1 on white (success
	// criterion 1.4.3, EN 301 549 clause 11.1.4.3): Fyne's own red, green,
	// amber, blue and placeholder grey give 3.7, 1.5, 2.2, 4.47 and 3.2
	// (TestContrast computes them).
	lightPrimary     = color.NRGBA{0x1f, 0x4f, 0xd0, 255}
	lightError       = color.NRGBA{0xc6, 0x28, 0x28, 255}
	lightSuccess     = color.NRGBA{0x2e, 0x7d, 0x32, 255}
	lightWarning     = color.NRGBA{0xa1, 0x4a, 0x00, 255}
	lightPlaceHolder = color.NRGBA{0x63, 0x63, 0x63, 255}
)

func (t *Theme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if !t.HighContrast {
		// The light variant always: a kiosk in a shop window is read in daylight.
		switch n {
		case theme.ColorNamePrimary, theme.ColorNameHyperlink:
			return lightPrimary
		case theme.ColorNameError:
			return lightError
		case theme.ColorNameSuccess:
			return lightSuccess
		case theme.ColorNameWarning:
			return lightWarning
		case theme.ColorNamePlaceHolder:
			return lightPlaceHolder
		}
		return theme.DefaultTheme().Color(n, theme.VariantLight)
	}
	switch n {
	case theme.ColorNameBackground, theme.ColorNameOverlayBackground, theme.ColorNameMenuBackground, theme.ColorNameHeaderBackground:
		return hcBackground
	case theme.ColorNameForeground, theme.ColorNameForegroundOnError, theme.ColorNameForegroundOnSuccess:
		return hcForeground
	case theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnWarning:
		return hcBackground
	case theme.ColorNamePrimary, theme.ColorNameFocus, theme.ColorNameHyperlink, theme.ColorNameSelection, theme.ColorNameWarning:
		return hcAccent
	case theme.ColorNameInputBackground:
		return hcInput
	case theme.ColorNameButton:
		return hcButton
	case theme.ColorNameInputBorder, theme.ColorNameSeparator:
		return hcForeground
	case theme.ColorNameDisabled, theme.ColorNamePlaceHolder:
		return color.NRGBA{190, 190, 190, 255}
	case theme.ColorNameDisabledButton:
		return color.NRGBA{60, 60, 60, 255}
	case theme.ColorNameError:
		return hcError
	case theme.ColorNameSuccess:
		return hcSuccess
	case theme.ColorNameHover, theme.ColorNamePressed:
		return color.NRGBA{255, 214, 0, 90}
	}
	return theme.DefaultTheme().Color(n, theme.VariantDark)
}

func (t *Theme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

func (t *Theme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (t *Theme) Size(n fyne.ThemeSizeName) float32 {
	s := theme.DefaultTheme().Size(n)
	scale := t.Scale
	if scale <= 0 {
		scale = 1
	}
	switch n {
	case theme.SizeNameText, theme.SizeNameHeadingText, theme.SizeNameSubHeadingText, theme.SizeNameCaptionText,
		theme.SizeNameInlineIcon, theme.SizeNamePadding, theme.SizeNameInnerPadding, theme.SizeNameLineSpacing,
		theme.SizeNameInputBorder:
		return s * scale
	}
	return s
}

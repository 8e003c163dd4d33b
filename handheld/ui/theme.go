package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// handheldTheme is light and high-contrast, with big type and big
// targets: read at arm's length in a cold room, tapped with gloves.
type handheldTheme struct{}

var _ fyne.Theme = handheldTheme{}

// Colours of the verdicts; never the only signal (icon and word too).
var (
	colAccepted = color.NRGBA{R: 0x1b, G: 0x6e, B: 0x20, A: 0xff} // dark green
	colWarning  = color.NRGBA{R: 0x8a, G: 0x4b, B: 0x00, A: 0xff} // dark amber
	colRefused  = color.NRGBA{R: 0xb0, G: 0x00, B: 0x20, A: 0xff} // red
	colAlert    = color.NRGBA{R: 0x6a, G: 0x00, B: 0x80, A: 0xff} // purple: hold, recall, suspect
	colDone     = color.NRGBA{R: 0x0d, G: 0x47, B: 0xa1, A: 0xff} // blue
	colTint     = map[string]color.NRGBA{
		"accepted": {R: 0xe3, G: 0xf4, B: 0xe4, A: 0xff},
		"warning":  {R: 0xff, G: 0xf0, B: 0xd0, A: 0xff},
		"refused":  {R: 0xfd, G: 0xe0, B: 0xe4, A: 0xff},
		"alert":    {R: 0xf3, G: 0xe0, B: 0xf7, A: 0xff},
		"done":     {R: 0xe0, G: 0xec, B: 0xfb, A: 0xff},
	}
	colOnline  = colAccepted
	colOffline = color.NRGBA{R: 0x45, G: 0x45, B: 0x45, A: 0xff}
	colHeader  = color.NRGBA{R: 0x1e, G: 0x22, B: 0x28, A: 0xff}
	colWhite   = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
)

func (handheldTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground:
		return colWhite
	case theme.ColorNameForeground:
		return color.NRGBA{A: 0xff}
	case theme.ColorNameButton:
		return color.NRGBA{R: 0xe4, G: 0xe7, B: 0xec, A: 0xff}
	case theme.ColorNamePrimary:
		return colDone
	case theme.ColorNameInputBackground:
		return color.NRGBA{R: 0xf4, G: 0xf5, B: 0xf7, A: 0xff}
	case theme.ColorNameInputBorder:
		return color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	case theme.ColorNamePlaceHolder:
		return color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	case theme.ColorNameSeparator:
		return color.NRGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

func (handheldTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

func (handheldTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

func (handheldTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 19
	case theme.SizeNameSubHeadingText:
		return 23
	case theme.SizeNameHeadingText:
		return 28
	case theme.SizeNameCaptionText:
		return 15
	case theme.SizeNamePadding:
		return 5
	case theme.SizeNameInnerPadding:
		return 12
	case theme.SizeNameInlineIcon:
		return 28
	case theme.SizeNameScrollBar:
		return 14
	case theme.SizeNameInputBorder:
		return 2
	}
	return theme.DefaultTheme().Size(n)
}

package ui

import (
	"time"

	"fyne.io/fyne/v2"

	"github.com/custodyhq/custody/handheld/scan/wedge"
)

// keystrokes collects a keyboard-wedge scan: an imager types its data
// as fast keystrokes ending in Enter. Keys further apart than gap start
// over (a person typing stray keys is not a scan).
type keystrokes struct {
	gap  time.Duration
	buf  []rune
	last time.Time
}

// rune adds a keystroke typed at t.
func (k *keystrokes) rune(r rune, t time.Time) {
	if len(k.buf) > 0 && t.Sub(k.last) > k.gap {
		k.buf = k.buf[:0]
	}
	if len(k.buf) < wedge.MaxLine {
		k.buf = append(k.buf, r)
	}
	k.last = t
}

// enter ends a scan at t: the line, or "" when the keys were not a scan.
func (k *keystrokes) enter(t time.Time) string {
	defer func() { k.buf = k.buf[:0] }()
	if len(k.buf) == 0 || t.Sub(k.last) > k.gap {
		return ""
	}
	return string(k.buf)
}

// typedRune receives keys typed while no field has the focus: the wedge.
func (u *UI) typedRune(r rune) {
	if !u.cfg.WedgeOff {
		u.keys.rune(r, u.cfg.Now())
	}
}

func (u *UI) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if line := u.keys.enter(u.cfg.Now()); line != "" {
			u.wedgeLine(line)
		}
	case fyne.KeyTab:
		u.keys.rune('\t', u.cfg.Now())
	}
}

// wedgeLine handles one wedge scan.
func (u *UI) wedgeLine(line string) {
	if u.cur != nil && u.cur.name == "settings" && u.selfTest != nil {
		u.selfTest(line)
		return
	}
	res, err := wedge.Parse(line, u.cfg.Wedge)
	if err != nil {
		return
	}
	u.scanned(res.Scan)
}

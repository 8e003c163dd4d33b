package ui

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// The methods below drive the app as a person would — tap a button by
// its words, type into the scan field, pull the scanner's trigger — for
// tests, screenshots and demos. They must be called on the UI goroutine.

// Tap taps the first visible button whose label starts with label and
// reports whether there was one.
func (u *UI) Tap(label string) bool {
	b := u.Button(label)
	if b == nil || b.Disabled() {
		return false
	}
	u.touch()
	b.Tapped(&fyne.PointEvent{})
	return true
}

// Button finds the first visible button whose label starts with label.
func (u *UI) Button(label string) *widget.Button {
	var found *widget.Button
	walk(u.root, func(o fyne.CanvasObject) bool {
		if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, label) {
			found = b
			return false
		}
		return true
	})
	return found
}

// Texts lists the visible labels' texts in the screen's body, in order.
func (u *UI) Texts() []string {
	var out []string
	walk(u.body, func(o fyne.CanvasObject) bool {
		switch w := o.(type) {
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.Button:
			out = append(out, w.Text)
		}
		return true
	})
	return out
}

// Type types line into the scan field and presses Enter, as someone
// keying in a damaged label does.
func (u *UI) Type(line string) {
	u.entry.SetText(line)
	u.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
}

// Fill types text into the visible entry whose placeholder starts with
// placeholder and reports whether there was one.
func (u *UI) Fill(placeholder, text string) bool {
	var found *widget.Entry
	walk(u.body, func(o fyne.CanvasObject) bool {
		if e, ok := o.(*widget.Entry); ok && strings.HasPrefix(e.PlaceHolder, placeholder) {
			found = e
			return false
		}
		return true
	})
	if found == nil {
		return false
	}
	found.SetText(text)
	return true
}

// Trigger plays line as a keyboard-wedge scanner types it: one keystroke
// every gap starting at start, then Enter. The app's clock must be the
// caller's (Config.Now) for the gap to count.
func (u *UI) Trigger(line string, start time.Time, gap time.Duration, clock *time.Time) {
	t := start
	for _, r := range line {
		*clock = t
		u.typedRune(r)
		t = t.Add(gap)
	}
	*clock = t
	u.typedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
}

// walk visits the visible objects under o until fn returns false.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject) bool) bool {
	if o == nil || !o.Visible() {
		return true
	}
	if !fn(o) {
		return false
	}
	switch c := o.(type) {
	case *fyne.Container:
		for _, k := range c.Objects {
			if !walk(k, fn) {
				return false
			}
		}
	case *container.Scroll:
		return walk(c.Content, fn)
	}
	return true
}

package ui

import (
	"fmt"
	"image/color"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/sync/client"
)

// header is the always-visible sync strip: online or offline, events
// waiting, last sync, the signed-in user, and the site's refusal of
// this device when there is one.
type header struct {
	obj      fyne.CanvasObject
	bg       *canvas.Rectangle
	conn     binding.String // "ONLINE" / "OFFLINE"
	waiting  binding.String
	last     binding.String
	user     binding.String
	refused  *fyne.Container
	refusedT binding.String
}

func newHeader() *header {
	h := &header{conn: binding.NewString(), waiting: binding.NewString(), last: binding.NewString(),
		user: binding.NewString(), refusedT: binding.NewString()}
	h.bg = canvas.NewRectangle(colOffline)
	white := func(b binding.String, bold bool) *canvas.Text {
		t := canvas.NewText("", colWhite)
		t.TextSize = 19
		t.TextStyle.Bold = bold
		b.AddListener(binding.NewDataListener(func() {
			s, _ := b.Get()
			t.Text = s
			t.Refresh()
		}))
		return t
	}
	row1 := container.NewHBox(white(h.conn, true), layout.NewSpacer(), white(h.waiting, true))
	row2 := container.NewHBox(white(h.last, false), layout.NewSpacer(), white(h.user, false))
	strip := container.NewStack(h.bg, container.NewPadded(container.NewVBox(row1, row2)))
	rbg := canvas.NewRectangle(colRefused)
	rt := widget.NewLabelWithData(h.refusedT)
	rt.Wrapping = fyne.TextWrapWord
	rt.TextStyle.Bold = true
	rtext := canvas.NewText("", colWhite)
	rtext.TextStyle.Bold = true
	rtext.TextSize = 19
	h.refusedT.AddListener(binding.NewDataListener(func() {
		s, _ := h.refusedT.Get()
		rtext.Text = s
		rtext.Refresh()
	}))
	h.refused = container.NewStack(rbg, container.NewPadded(container.NewHBox(widget.NewIcon(theme.NewColoredResource(theme.ErrorIcon(), theme.ColorNameBackground)), rtext)))
	h.refused.Hide()
	h.obj = container.NewVBox(strip, h.refused)
	return h
}

// set shows a sync state.
func (h *header) set(s client.State, haveSite, enrolled bool, now time.Time, user string) {
	switch {
	case !enrolled:
		_ = h.conn.Set("● NOT ENROLLED")
		h.bg.FillColor = colOffline
	case !haveSite:
		_ = h.conn.Set("● NO SITE SET")
		h.bg.FillColor = colOffline
	case s.Online:
		_ = h.conn.Set("● ONLINE")
		h.bg.FillColor = colOnline
	default:
		_ = h.conn.Set("○ OFFLINE")
		h.bg.FillColor = colOffline
	}
	h.bg.Refresh()
	switch s.Queued {
	case 0:
		_ = h.waiting.Set("nothing waiting")
	case 1:
		_ = h.waiting.Set("1 event waiting")
	default:
		_ = h.waiting.Set(fmt.Sprintf("%d events waiting", s.Queued))
	}
	_ = h.last.Set("last sync " + ago(s.LastSync, now))
	_ = h.user.Set(user)
	if s.Refused {
		_ = h.refusedT.Set("Site refused this device: call a lead")
		h.refused.Show()
	} else {
		h.refused.Hide()
	}
}

// ago says when t was, in people's terms.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case t.Local().YearDay() == now.Local().YearDay():
		return "at " + t.Local().Format("15:04")
	}
	return t.Local().Format("2 Jan 15:04")
}

// refreshHeader shows the current sync state and user.
func (u *UI) refreshHeader() {
	var st client.State
	if u.sync != nil {
		st = u.sync.State()
	}
	user := ""
	if u.eng != nil {
		if us := u.eng.User(); us != nil {
			user = us.Name
		}
	}
	u.header.set(st, u.sync != nil && u.hasSite(), u.eng != nil, u.cfg.Now(), user)
}

func (u *UI) hasSite() bool {
	if s, ok := u.sync.(interface{ HasSite() bool }); ok {
		return s.HasSite()
	}
	return true
}

// SyncChanged refreshes the header; call it (through fyne.Do) when the
// sync client reports a new state.
func (u *UI) SyncChanged() {
	u.refreshHeader()
	if u.cur != nil && u.cur.name == "sync" {
		u.refreshScreen(u.cur)
	}
}

// kind is the verdict class a step is shown as: the cue decides, so the
// banner and the sound always agree.
func kind(s engine.Step) string {
	switch s.Cue {
	case engine.CueOK:
		return "accepted"
	case engine.CueWarn:
		return "warning"
	case engine.CueAlert:
		return "alert"
	case engine.CueDone:
		return "done"
	case engine.CueRefuse:
		return "refused"
	}
	switch s.Verdict {
	case engine.Accepted:
		return "accepted"
	case engine.Warning:
		return "warning"
	}
	return "refused"
}

// banner is the verdict of the last scan or action: a coloured bar with
// an icon and the verdict in words, then the engine's reason in large
// type.
type banner struct {
	obj    *fyne.Container
	bar    *canvas.Rectangle
	tint   *canvas.Rectangle
	icon   *widget.Icon
	word   *canvas.Text
	reason *widget.Label
	last   engine.Step
	kind   string
}

func newBanner() *banner {
	b := &banner{bar: canvas.NewRectangle(colAccepted), tint: canvas.NewRectangle(colWhite)}
	b.icon = widget.NewIcon(nil)
	b.word = canvas.NewText("", colWhite)
	b.word.TextSize = 30
	b.word.TextStyle.Bold = true
	b.reason = widget.NewLabel("")
	b.reason.Wrapping = fyne.TextWrapWord
	b.reason.SizeName = theme.SizeNameSubHeadingText
	b.reason.TextStyle.Bold = true
	top := container.NewStack(b.bar, container.NewHBox(b.icon, b.word))
	b.obj = container.NewVBox(top, container.NewStack(b.tint, b.reason))
	b.obj.Hide()
	return b
}

func (b *banner) clear() {
	b.kind = ""
	b.last = engine.Step{}
	b.obj.Hide()
}

func (b *banner) set(s engine.Step) {
	b.last = s
	b.kind = kind(s)
	var col color.NRGBA
	var icon fyne.Resource
	switch b.kind {
	case "accepted":
		col, icon = colAccepted, theme.ConfirmIcon()
	case "warning":
		col, icon = colWarning, theme.WarningIcon()
	case "alert":
		col, icon = colAlert, theme.ErrorIcon()
	case "done":
		col, icon = colDone, theme.MediaRecordIcon()
	default:
		col, icon = colRefused, theme.CancelIcon()
	}
	b.bar.FillColor = col
	b.bar.Refresh()
	b.tint.FillColor = colTint[b.kind]
	b.tint.Refresh()
	b.icon.SetResource(theme.NewColoredResource(icon, theme.ColorNameBackground))
	b.word.Text = strings.ToUpper(b.kind)
	b.word.Refresh()
	b.reason.SetText(sentence(strings.ReplaceAll(s.Reason, "in_stock", "in stock")))
	b.obj.Show()
}

// Kind is the verdict on show ("" when none): accepted, warning,
// refused, alert or done.
func (u *UI) Kind() string { return u.banner.kind }

// Reason is the reason on show.
func (u *UI) Reason() string { return u.banner.reason.Text }

// LastStep is the step on show.
func (u *UI) LastStep() engine.Step { return u.banner.last }

// sentence capitalises the first letter.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// bigButton is a button at least 56 units high: a gloved thumb's target.
func bigButton(label string, tapped func()) *widget.Button {
	return widget.NewButton(label, tapped)
}

func bigButtonIcon(label string, icon fyne.Resource, tapped func()) *widget.Button {
	return widget.NewButtonWithIcon(label, icon, tapped)
}

// tall wraps o so that it is at least h units high.
func tall(o fyne.CanvasObject, h float32) fyne.CanvasObject {
	return container.NewStack(spacerSize(1, h), o)
}

func spacerSize(w, h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(nil)
	r.SetMinSize(fyne.NewSize(w, h))
	return r
}

// targetHeight is the minimum height of anything tapped: ≥ 48 dp.
const targetHeight = 60

// action is a full-width big button.
func action(label string, icon fyne.Resource, imp widget.Importance, tapped func()) fyne.CanvasObject {
	b := widget.NewButtonWithIcon(label, icon, tapped)
	b.Importance = imp
	b.Alignment = widget.ButtonAlignLeading
	return tall(b, targetHeight)
}

func homeIcon() fyne.Resource   { return theme.HomeIcon() }
func cameraIcon() fyne.Resource { return theme.MediaPhotoIcon() }

// para is a wrapping label.
func para(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// bigText is a wrapping label in the sub-heading size.
func bigText(s string) *widget.Label {
	l := para(s)
	l.SizeName = theme.SizeNameSubHeadingText
	l.TextStyle.Bold = true
	return l
}

// HeaderTexts are the header's words: connection, events waiting, last
// sync, user, and the site's refusal when shown.
func (u *UI) HeaderTexts() []string {
	var out []string
	for _, b := range []binding.String{u.header.conn, u.header.waiting, u.header.last, u.header.user} {
		s, _ := b.Get()
		out = append(out, s)
	}
	if u.header.refused.Visible() {
		s, _ := u.header.refusedT.Get()
		out = append(out, s)
	}
	return out
}

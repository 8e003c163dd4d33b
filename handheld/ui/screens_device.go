package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/scan/wedge"
	"github.com/custodyhq/custody/handheld/syncdev"
	"github.com/custodyhq/custody/sync/client"
)

// openMessages are the site's messages for this device not yet marked
// done by the person holding it.
func (u *UI) openMessages() []syncdev.Message {
	if u.sync == nil {
		return nil
	}
	var out []syncdev.Message
	for _, m := range u.sync.Messages() {
		if !u.done[[2]uint64{uint64(m.Epoch), m.Seq}] {
			out = append(out, m)
		}
	}
	return out
}

// messageText says what the site said, as a task.
func messageText(m syncdev.Message) string {
	what := "The site took your scan #%d with a conflict"
	if m.Kind() == "rejected" {
		what = "The site refused your scan #%d"
	}
	s := fmt.Sprintf(what, m.Seq)
	if m.Text != "" {
		s += ": " + m.Text
	}
	return s
}

// showMessages lists the site's messages as tasks, each with a Done.
func (u *UI) showMessages() {
	box := container.NewVBox()
	var fill func()
	fill = func() {
		box.Objects = nil
		msgs := u.openMessages()
		if len(msgs) == 0 {
			box.Add(bigText("Nothing from the site is waiting for you."))
		}
		for _, m := range msgs {
			m := m
			box.Add(bigText(messageText(m)))
			box.Add(para("Received " + ago(m.At, u.cfg.Now())))
			box.Add(action("Done", theme.ConfirmIcon(), widget.HighImportance, func() {
				u.touch()
				u.done[[2]uint64{uint64(m.Epoch), m.Seq}] = true
				fill()
			}))
			box.Add(widget.NewSeparator())
		}
		box.Refresh()
	}
	fill()
	u.show(&screen{name: "messages", title: "From the site", home: true, body: box})
}

// showSync is the sync detail.
func (u *UI) showSync() {
	box := container.NewVBox()
	s := &screen{name: "sync", title: "Sync", home: true, body: box}
	s.refresh = func() func() {
		var st client.State
		if u.sync != nil {
			st = u.sync.State()
		}
		msgs := u.openMessages()
		return func() {
			box.Objects = syncRows(st, u.sync != nil && u.hasSite(), u.cfg.Device, u.cfg.Now())
			if u.sync != nil && u.hasSite() {
				box.Add(action("Sync now", theme.ViewRefreshIcon(), widget.HighImportance, func() {
					u.touch()
					u.sync.Now()
					u.banner.set(notice("trying to reach the site now"))
				}))
			}
			if len(msgs) > 0 {
				box.Add(action(count(len(msgs), "message from the site", "messages from the site"), theme.MailComposeIcon(), widget.DangerImportance, u.showMessages))
			}
			box.Refresh()
		}
	}
	u.show(s)
}

func syncRows(st client.State, haveSite bool, device string, now time.Time) []fyne.CanvasObject {
	var rows []fyne.CanvasObject
	switch {
	case !haveSite:
		rows = append(rows, bigText("No site is set for this handheld: what you do is kept here."))
	case st.Online:
		rows = append(rows, bigText("Online: connected to the site"))
	default:
		rows = append(rows, bigText("Offline: work goes on, and everything is sent when the site is reachable"))
	}
	switch st.Queued {
	case 0:
		rows = append(rows, para("Every event is at the site."))
	default:
		rows = append(rows, bigText(fmt.Sprintf("%s waiting to be sent", count(int(st.Queued), "event", "events"))))
	}
	rows = append(rows, para("Last sync: "+ago(st.LastSync, now)))
	if !st.Online && !st.RetryAt.IsZero() && st.RetryAt.After(now) {
		rows = append(rows, para(fmt.Sprintf("Next try in %d s", int(st.RetryAt.Sub(now).Seconds()+0.5))))
	}
	if st.Refused {
		rows = append(rows, bigText("The site refused this device: its certificate is missing, unknown or revoked. A lead must enroll it again."))
	}
	if st.Problem != "" {
		rows = append(rows, bigText("Sending has stopped: "+st.Problem+". Call a lead."))
	}
	if st.LastError != "" && !st.Online {
		what := st.LastError
		if strings.Contains(what, "dial") {
			what = "the site did not answer (" + what + ")"
		}
		rows = append(rows, para("Last problem: "+what))
	}
	if st.Cluster != "" {
		rows = append(rows, para("Site: "+st.Cluster))
	}
	if device != "" {
		rows = append(rows, para("This handheld: "+device))
	}
	return rows
}

// showSettings: idle sign-out, the scanner's group separator and its
// self-test, and the sounds.
func (u *UI) showSettings() {
	idle := para("")
	showIdle := func() {
		if u.cfg.IdleSignOut < 0 {
			idle.SetText("Sign out when idle: never")
			return
		}
		idle.SetText("Sign out when idle for " + u.cfg.IdleSignOut.String())
	}
	showIdle()
	idleRow := container.NewGridWithColumns(4)
	for _, d := range []time.Duration{5 * time.Minute, 10 * time.Minute, 30 * time.Minute, -1} {
		d := d
		label := fmt.Sprintf("%d min", int(d.Minutes()))
		if d < 0 {
			label = "never"
		}
		idleRow.Add(tall(widget.NewButton(label, func() { u.touch(); u.cfg.IdleSignOut = d; showIdle() }), targetHeight))
	}
	gs := widget.NewEntry()
	gs.SetText(strings.Join(u.cfg.Wedge.GS, " "))
	gs.OnChanged = func(s string) { u.cfg.Wedge.GS = strings.Fields(s) }
	report := container.NewVBox(para("Self-test: tap Start, then scan the test card (custody-scan test-card) three times with the scanner."))
	var lines []string
	startTest := action("Start the scanner self-test", theme.MediaPlayIcon(), widget.HighImportance, func() {
		u.touch()
		lines = nil
		u.win.Canvas().Unfocus()
		report.Objects = []fyne.CanvasObject{bigText("Scan the test card now (0 of 3).")}
		report.Refresh()
		u.selfTest = func(line string) {
			lines = append(lines, line+"\n")
			if len(lines) < 3 {
				report.Objects = []fyne.CanvasObject{bigText(fmt.Sprintf("Scan the test card again (%d of 3).", len(lines)))}
				report.Refresh()
				return
			}
			u.selfTest = nil
			r := wedge.SelfTest(lines)
			report.Objects = selfTestRows(r)
			report.Refresh()
			if r.OK {
				u.verdict(engine.Step{Verdict: engine.Accepted, Cue: engine.CueDone, Reason: "the scanner is set up right"}, nil)
			} else {
				u.verdict(engine.Step{Verdict: engine.Warning, Cue: engine.CueWarn, Reason: "the scanner needs setting up: see below"}, nil)
			}
		}
	})
	sounds := container.NewGridWithColumns(3)
	for _, c := range []engine.Cue{engine.CueOK, engine.CueWarn, engine.CueRefuse, engine.CueAlert, engine.CueDone} {
		c := c
		sounds.Add(tall(widget.NewButton(string(c), func() { u.touch(); u.cfg.Sound.Play(c) }), targetHeight))
	}
	body := container.NewVBox(
		bigText("Idle sign-out"), idle, idleRow, widget.NewSeparator(),
		bigText("Scanner"), para("What the scanner sends for the group separator (several: separated by spaces):"), tall(gs, targetHeight),
		startTest, report, widget.NewSeparator(),
		bigText("Sounds"), para("Plays through: "+u.cfg.Sound.Name()), sounds,
	)
	u.show(&screen{name: "settings", title: "Settings", home: true, body: body, leave: func() { u.selfTest = nil }})
}

func selfTestRows(r wedge.Report) []fyne.CanvasObject {
	var rows []fyne.CanvasObject
	if r.OK {
		rows = append(rows, bigText("The scanner is set up right."))
	} else {
		rows = append(rows, bigText("The scanner needs setting up:"))
	}
	for _, p := range r.Problems {
		rows = append(rows, para("• "+p))
	}
	return rows
}

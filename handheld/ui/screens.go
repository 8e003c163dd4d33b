package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/shared/event"
)

func refusal(reason string) engine.Step {
	return engine.Step{Verdict: engine.Refused, Cue: engine.CueRefuse, Reason: reason}
}

func notice(reason string) engine.Step {
	return engine.Step{Verdict: engine.Accepted, Cue: engine.CueOK, Reason: reason}
}

// showEnroll is the first screen of a device that was never enrolled:
// the enrollment line is read from the console's QR code with the
// camera, or typed or pasted.
func (u *UI) showEnroll() {
	line := widget.NewMultiLineEntry()
	line.Wrapping = fyne.TextWrapBreak
	line.SetMinRowsVisible(3)
	line.SetPlaceHolder("custody-hh enroll --server https://… --token … --ca-fingerprint …")
	prog := widget.NewProgressBar()
	prog.Hide()
	what := para("")
	busy := false
	enroll := func(text string) {
		text = strings.TrimSpace(text)
		if busy || text == "" {
			return
		}
		busy = true
		prog.SetValue(0)
		prog.Show()
		what.SetText("Enrolling…")
		u.stopCamera()
		u.run(func() func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			eng, sy, err := u.cfg.Enroll(ctx, text, func(f float64, step string) {
				fyne.Do(func() {
					prog.SetValue(f)
					what.SetText(step)
				})
			})
			return func() {
				busy = false
				if err != nil {
					prog.Hide()
					what.SetText("")
					u.banner.set(refusal("enrollment did not work: " + err.Error()))
					u.cfg.Sound.Play(engine.CueRefuse)
					return
				}
				u.eng, u.sync = eng, sy
				u.showSignIn()
				u.banner.set(engine.Step{Verdict: engine.Accepted, Cue: engine.CueDone, Reason: "this handheld is enrolled and has its data: sign in"})
				u.cfg.Sound.Play(engine.CueDone)
			}
		})
	}
	body := container.NewVBox(
		bigText("Point the camera at the enrollment QR code on the console, or type or paste the enrollment line."),
		line,
		action("Enroll with this line", theme.ConfirmIcon(), widget.HighImportance, func() { u.touch(); enroll(line.Text) }),
		action("Read the QR code with the camera", cameraIcon(), widget.MediumImportance, func() { u.touch(); u.startCamera() }),
		what, prog,
	)
	u.show(&screen{name: "enroll", title: "Enroll this handheld", body: body, hint: "Enrollment line", qr: true,
		scan: func(s scan.Scan) {
			line.SetText(s.Text)
			enroll(s.Text)
		}})
}

// showSignIn asks for user and PIN; the engine checks them offline.
func (u *UI) showSignIn() {
	user := widget.NewEntry()
	user.SetPlaceHolder("user, e.g. op1")
	pin := widget.NewPasswordEntry()
	pin.SetPlaceHolder("PIN")
	signIn := func() {
		u.touch()
		id, p := strings.TrimSpace(user.Text), pin.Text
		pin.SetText("")
		u.run(func() func() {
			s, err := u.eng.Login(id, p)
			return func() {
				if err == nil && s.Verdict != engine.Refused {
					u.showHome()
				}
				u.verdict(s, err)
			}
		})
	}
	user.OnSubmitted = func(string) { u.win.Canvas().Focus(pin) }
	pin.OnSubmitted = func(string) { signIn() }
	body := container.NewVBox(
		widget.NewLabel("User"), tall(user, targetHeight),
		widget.NewLabel("PIN"), tall(pin, targetHeight),
		spacer(8),
		action("Sign in", theme.LoginIcon(), widget.HighImportance, signIn),
	)
	u.show(&screen{name: "signin", title: "Sign in", body: body})
	u.signIn = &signInForm{user: user, pin: pin, submit: signIn}
}

// signInForm is the sign-in screen's fields, for tests.
type signInForm struct {
	user, pin *widget.Entry
	submit    func()
}

// SignIn fills in the sign-in form and taps Sign in.
func (u *UI) SignIn(user, pin string) {
	if u.signIn == nil || u.Screen() != "signin" {
		return
	}
	u.signIn.user.SetText(user)
	u.signIn.pin.SetText(pin)
	u.signIn.submit()
}

// showHome lists the tasks the user's role allows, each with its count.
func (u *UI) showHome() {
	box := container.NewVBox(para("Loading your work…"))
	s := &screen{name: "home", title: "Home", body: box}
	s.refresh = func() func() {
		w, err := u.eng.Work()
		us := u.eng.User()
		msgs := u.openMessages()
		return func() {
			if err != nil {
				u.banner.set(refusal("the device could not read its work: " + err.Error()))
				return
			}
			if us == nil {
				u.showSignIn()
				return
			}
			var items []fyne.CanvasObject
			items = append(items, para(fmt.Sprintf("%s · %s", us.Name, us.Role)))
			if len(msgs) > 0 {
				items = append(items, action(count(len(msgs), "message from the site", "messages from the site"), theme.MailComposeIcon(),
					widget.DangerImportance, u.showMessages))
			}
			items = append(items,
				action("Receive · "+count(len(w.ASNs), "ASN", "ASNs")+" to receive", theme.DownloadIcon(), widget.HighImportance, u.showReceiveList),
				action("Verify a case", theme.ListIcon(), widget.MediumImportance, u.showVerify),
				action("Pick · "+count(len(w.Orders), "order", "orders")+" to pick", theme.ContentCutIcon(), widget.HighImportance, u.showPickList),
				action("Pack", theme.StorageIcon(), widget.MediumImportance, u.showPack),
				action("Ship · "+count(len(w.Shipments), "shipment", "shipments")+" to load", theme.UploadIcon(), widget.MediumImportance, u.showShipList),
				action("Quarantine", theme.WarningIcon(), widget.MediumImportance, u.showQuarantine),
				action("Returns", theme.MailReplyIcon(), widget.MediumImportance, u.showReturns),
				action("Look up", theme.SearchIcon(), widget.MediumImportance, u.showLookup),
				action("Exceptions · "+count(len(w.Exceptions), "open", "open"), theme.ErrorIcon(), widget.MediumImportance, func() { u.showExceptions(w) }),
				container.NewGridWithColumns(3,
					action("Sync", theme.ViewRefreshIcon(), widget.LowImportance, u.showSync),
					action("Settings", theme.SettingsIcon(), widget.LowImportance, u.showSettings),
					action("Sign out", theme.LogoutIcon(), widget.LowImportance, func() {
						s := u.eng.Logout()
						u.showSignIn()
						u.banner.set(s)
					})),
			)
			box.Objects = items
			box.Refresh()
		}
	}
	u.show(s)
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// taskScreen is a scanning screen: the engine's task is already set.
func (u *UI) taskScreen(name, title, hint string, objs ...fyne.CanvasObject) *screen {
	return &screen{name: name, title: title, hint: hint, home: true, body: container.NewVBox(objs...)}
}

// start runs an engine call that sets a task and, unless it is refused,
// shows the task's screen.
func (u *UI) start(call func() (engine.Step, error), then func(engine.Step) *screen) {
	u.touch()
	u.run(func() func() {
		s, err := call()
		return func() {
			if err != nil || s.Verdict == engine.Refused {
				u.verdict(s, err)
				return
			}
			u.show(then(s))
			u.verdict(s, err)
		}
	})
}

// ---- receive

func (u *UI) showReceiveList() {
	u.showWorkList("receive-list", "Receive: choose the ASN", "No ASN is waiting to be received.", func(w engine.Work) []choice {
		var cs []choice
		for _, a := range w.ASNs {
			cs = append(cs, choice{fmt.Sprintf("%s · from %s · %d items", a.ID, a.Supplier, a.Items), theme.DownloadIcon(), func() { u.startReceive(a.ID) }})
		}
		return cs
	})
}

// choice is one entry of a work list: its label, icon and what it opens.
type choice struct {
	label string
	icon  fyne.Resource
	open  func()
}

// showWorkList is a home-level list of the work of one kind waiting on
// this device (the engine's Work), a big button each, or empty when none
// waits; it reads the work again each time it is shown.
func (u *UI) showWorkList(name, title, empty string, choices func(engine.Work) []choice) {
	box := container.NewVBox()
	s := &screen{name: name, title: title, home: true, body: box}
	s.refresh = func() func() {
		w, err := u.eng.Work()
		return func() {
			if err != nil {
				u.banner.set(refusal(err.Error()))
				return
			}
			box.Objects = nil
			cs := choices(w)
			if len(cs) == 0 {
				box.Add(bigText(empty))
			}
			for _, c := range cs {
				box.Add(action(c.label, c.icon, widget.HighImportance, c.open))
			}
			box.Refresh()
		}
	}
	u.show(s)
}

func (u *UI) startReceive(asn string) {
	u.start(func() (engine.Step, error) { return u.eng.StartReceive(asn) }, func(engine.Step) *screen {
		prog := bigText("")
		detail := para("")
		bar := widget.NewProgressBar()
		short := container.NewVBox()
		var s *screen
		closeASN := action("Close the ASN", theme.ConfirmIcon(), widget.WarningImportance, func() {
			u.touch()
			u.run(func() func() {
				st, err := u.eng.Close()
				return func() {
					u.verdict(st, err)
					if st.Verdict == engine.Refused {
						return
					}
					short.Objects = nil
					if len(st.Missing) > 0 {
						short.Add(bigText(fmt.Sprintf("Shortage: %s not received", count(len(st.Missing), "item", "items"))))
						for i, k := range st.Missing {
							if i == 30 {
								short.Add(para(fmt.Sprintf("… and %d more", len(st.Missing)-30)))
								break
							}
							short.Add(para(keyText(k)))
						}
					}
					short.Add(action("Back to the ASNs", theme.NavigateBackIcon(), widget.MediumImportance, u.showReceiveList))
					short.Refresh()
					u.scanBar.Hide()
				}
			})
		})
		s = u.taskScreen("receive", "Receive "+asn, "Scan a pallet, case or unit",
			prog, bar, detail, closeASN, short)
		s.refresh = func() func() {
			p, err := u.eng.ASNProgress(asn)
			return func() {
				if err != nil {
					return
				}
				main, lines := progressText(p)
				prog.SetText(main)
				detail.SetText(lines)
				for _, l := range p.Levels {
					if l.Name == "cases" || len(p.Levels) == 1 {
						bar.SetValue(float64(l.Received) / float64(max(l.Expected, 1)))
					}
				}
			}
		}
		return s
	})
}

// progressText says how much of an ASN arrived: the cases (or the level
// with the most between one and a hundred) big, every level below.
func progressText(p engine.ASNProgress) (string, string) {
	var main string
	var lines []string
	for _, l := range p.Levels {
		t := fmt.Sprintf("%d of %d %s", l.Received, l.Expected, l.Name)
		lines = append(lines, t)
		if main == "" || l.Name == "cases" {
			main = t
		}
	}
	return main, strings.Join(lines, " · ")
}

// ---- verify

func (u *UI) showVerify() {
	u.start(func() (engine.Step, error) { return u.eng.StartVerify(), nil }, func(engine.Step) *screen {
		what := bigText("Scan the label of the case you opened.")
		scanned := para("")
		result := container.NewVBox()
		n := 0
		var container0 string
		finish := action("Finish and compare", theme.ConfirmIcon(), widget.WarningImportance, func() {
			u.touch()
			u.run(func() func() {
				st, err := u.eng.Close()
				return func() {
					u.verdict(st, err)
					if st.Verdict == engine.Refused {
						return
					}
					result.Objects = nil
					result.Add(mismatch("Missing", st.Missing))
					result.Add(mismatch("Extra", st.Extra))
					result.Add(action("Verify another case", theme.ListIcon(), widget.MediumImportance, u.showVerify))
					result.Refresh()
				}
			})
		})
		s := u.taskScreen("verify", "Verify a case", "Scan the case, then its packs", what, scanned, finish, result)
		s.after = func(st engine.Step) {
			{
				if st.Verdict == engine.Refused {
					return
				}
				if st.Subject != "" && container0 == "" {
					container0 = keyText(st.Subject)
					what.SetText("Case " + container0 + ": now scan each pack inside.")
					return
				}
				if container0 != "" && st.Subject != "" {
					n++
					scanned.SetText(count(n, "pack scanned", "packs scanned"))
				}
			}
		}
		return s
	})
}

func mismatch(what string, keys []event.Key) fyne.CanvasObject {
	box := container.NewVBox(bigText(fmt.Sprintf("%s: %d", what, len(keys))))
	for i, k := range keys {
		if i == 20 {
			box.Add(para(fmt.Sprintf("… and %d more", len(keys)-20)))
			break
		}
		box.Add(para(keyText(k)))
	}
	return box
}

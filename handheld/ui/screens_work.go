package ui

import (
	"fmt"
	"image"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/custodyhq/custody/handheld/engine"
	"github.com/custodyhq/custody/handheld/label"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// keyText shows a key as people read it off the pack.
func keyText(k event.Key) string {
	if k.IsSSCC() {
		return "SSCC " + k.SSCCValue()
	}
	if g := k.GTIN(); g != "" {
		return "GTIN " + g + " · serial " + k.Serial()
	}
	return string(k)
}

// dateText shows a YYMMDD expiry as a date.
func dateText(yymmdd string) string {
	if t, err := time.Parse("060102", yymmdd); err == nil {
		return t.Format("2 Jan 2006")
	}
	if len(yymmdd) == 6 && strings.HasSuffix(yymmdd, "00") {
		if t, err := time.Parse("0601", yymmdd[:4]); err == nil {
			return "end of " + t.Format("Jan 2006")
		}
	}
	return yymmdd
}

// ---- pick

func (u *UI) showPickList() {
	u.showWorkList("pick-list", "Pick: choose the order", "No order is waiting to be picked.", func(w engine.Work) []choice {
		var cs []choice
		for _, o := range w.Orders {
			cs = append(cs, choice{fmt.Sprintf("%s · for %s · %d of %d lines done", o.ID, o.Customer, o.LinesDone, o.Lines),
				theme.ContentCutIcon(), func() { u.startPick(o.ID) }})
		}
		return cs
	})
}

func (u *UI) startPick(order string) {
	u.start(func() (engine.Step, error) { return u.eng.StartPick(order) }, func(engine.Step) *screen {
		next := bigText("")
		where := para("")
		lines := container.NewVBox()
		shortBox := container.NewVBox()
		var line string
		shortBtn := action("Short pick this line…", theme.ContentRemoveIcon(), widget.WarningImportance, func() {
			u.touch()
			shortBox.Objects = []fyne.CanvasObject{bigText("Why can line " + line + " not be filled?")}
			for _, why := range []string{"not on the shelf", "damaged packs", "not enough stock"} {
				why := why
				shortBox.Add(action(sentence(why), theme.ContentRemoveIcon(), widget.MediumImportance, func() {
					shortBox.Objects = nil
					shortBox.Refresh()
					cur := u.cur
					u.run(func() func() {
						st, err := u.eng.ShortPick(line, why)
						return func() {
							u.verdict(st, err)
							u.refreshScreen(cur)
						}
					})
				}))
			}
			shortBox.Refresh()
		})
		s := u.taskScreen("pick", "Pick "+order, "Scan each pack you pick", next, where, shortBtn, shortBox, lines)
		s.refresh = func() func() {
			g, err := u.eng.PickGuide(order)
			return func() {
				if err != nil {
					return
				}
				line = g.Line
				lines.Objects = nil
				for _, l := range g.Lines {
					mark := "·"
					if l.Done() {
						mark = "✓"
					}
					t := fmt.Sprintf("%s Line %s: %d of %d picked", mark, l.Line, l.Picked, l.Qty)
					if l.Short > 0 {
						t += fmt.Sprintf(", %d short (%s)", l.Short, l.Reason)
					}
					lines.Add(para(t))
				}
				lines.Refresh()
				if g.Done {
					next.SetText("Order complete: every line is picked or shorted.")
					where.SetText("Pack the order next.")
					shortBtn.Hide()
					return
				}
				shortBtn.Show()
				name := g.Product
				if name == "" {
					name = "GTIN " + g.GTIN
				}
				next.SetText(fmt.Sprintf("Line %s: %d more × %s to pick", g.Line, g.Want, name))
				var b strings.Builder
				if g.Lot != "" {
					fmt.Fprintf(&b, "The order asks for lot %s. ", g.Lot)
				}
				if g.Suggest != "" {
					fmt.Fprintf(&b, "Take from %s: lot %s, expires %s (earliest expiry first).", g.Location, g.SugLot, dateText(g.Expiry))
				} else {
					b.WriteString("No pack of this line is available here: short pick it or call a lead.")
				}
				where.SetText(b.String())
			}
		}
		return s
	})
}

// ---- pack

func (u *UI) showPack() {
	img := canvas.NewImageFromImage(image.NewGray(image.Rect(0, 0, 1, 1)))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(400, 270))
	img.Hide()
	what := bigText("Start a new container: the handheld numbers its SSCC and shows the label.")
	packed := para("")
	n := 0
	var cont event.Key
	var closeBtn fyne.CanvasObject
	newBtn := action("New container (SSCC)", theme.ContentAddIcon(), widget.HighImportance, func() {
		u.touch()
		u.run(func() func() {
			st, err := u.eng.NewContainer()
			var lbl image.Image
			if err == nil && st.Verdict != engine.Refused && st.Container.IsSSCC() {
				if g, lerr := (label.SSCC{SSCC: st.Container.SSCCValue()}).PNG(); lerr == nil {
					lbl = g
				}
			}
			return func() {
				u.verdict(st, err)
				if st.Verdict == engine.Refused || err != nil {
					return
				}
				cont, n = st.Container, 0
				what.SetText("Packing into " + keyText(cont) + ". Stick this label on it, then scan each pack.")
				packed.SetText("Nothing packed yet.")
				if lbl != nil {
					img.Image = lbl
					img.Show()
					img.Refresh()
				}
				closeBtn.Show()
			}
		})
	})
	closeBtn = action("Close the container", theme.ConfirmIcon(), widget.WarningImportance, func() {
		u.touch()
		u.step(u.eng.Close, func(engine.Step) {
			what.SetText(fmt.Sprintf("%s closed with %s.", keyText(cont), count(n, "pack", "packs")))
			cont = ""
			closeBtn.Hide()
		})
	})
	closeBtn.Hide()
	s := u.taskScreen("pack", "Pack", "Scan each pack to put in", what, newBtn, img, packed, closeBtn)
	s.after = func(st engine.Step) {
		{
			if cont != "" && st.Action == "pack" && st.Subject != "" && st.Subject != cont && st.Verdict != engine.Refused {
				n++
				packed.SetText(count(n, "pack", "packs") + " in " + keyText(cont))
			}
		}
	}
	u.show(s)
}

// ---- ship

func (u *UI) showShipList() {
	u.showWorkList("ship-list", "Ship: choose the shipment", "No shipment is waiting to be loaded.", func(w engine.Work) []choice {
		var cs []choice
		for _, sh := range w.Shipments {
			cs = append(cs, choice{fmt.Sprintf("%s · to %s", sh.ID, sh.Destination), theme.UploadIcon(), func() { u.startShip(sh.ID, sh.Destination) }})
		}
		return cs
	})
}

func (u *UI) startShip(id, destination string) {
	u.start(func() (engine.Step, error) { return u.eng.StartShip(id, "") }, func(engine.Step) *screen {
		loaded := para("")
		n := 0
		s := u.taskScreen("ship", "Ship "+id, "Scan each container as it is loaded",
			bigText("Loading for "+destination+": scan each container as it goes on the truck."), loaded,
			action("Finish loading", theme.ConfirmIcon(), widget.WarningImportance, func() { u.step(u.eng.Close, func(engine.Step) { u.showShipList() }) }))
		s.after = func(st engine.Step) {
			if st.Action == "ship" && st.Subject != "" && st.Verdict != engine.Refused {
				n++
				loaded.SetText(count(n, "container", "containers") + " loaded")
			}
		}
		return s
	})
}

// ---- quarantine

var holdReasons = []struct{ id, words string }{
	{"damaged", "Damaged"}, {"suspect", "Suspect (possibly falsified)"}, {"expired", "Expired"},
	{"recall", "Recall"}, {"investigation", "Investigation"},
}

func (u *UI) showQuarantine() {
	box := container.NewVBox(bigText("Put on hold: choose why, then scan each pack, case or pallet."))
	for _, r := range holdReasons {
		r := r
		box.Add(action("Hold: "+r.words, theme.WarningIcon(), widget.HighImportance, func() {
			u.start(func() (engine.Step, error) { return u.eng.StartHold(r.id, ""), nil }, func(engine.Step) *screen {
				return u.taskScreen("hold", "Hold: "+r.words, "Scan what to hold", bigText("Scan each pack, case or pallet to put on hold ("+strings.ToLower(r.words)+")."))
			})
		}))
	}
	gtin := widget.NewEntry()
	gtin.SetPlaceHolder("GTIN (14 digits)")
	lot := widget.NewEntry()
	lot.SetPlaceHolder("Lot")
	box.Add(widget.NewSeparator())
	box.Add(bigText("Hold a whole lot"))
	box.Add(tall(gtin, targetHeight))
	box.Add(tall(lot, targetHeight))
	box.Add(action("Hold this lot (suspect)", theme.WarningIcon(), widget.HighImportance, func() {
		g, l := strings.TrimSpace(gtin.Text), strings.TrimSpace(lot.Text)
		u.touch()
		u.step(func() (engine.Step, error) { return u.eng.HoldLot(g, l, "suspect", "held on the handheld") }, nil)
	}))
	if us := u.eng.User(); us != nil && us.Role.CanRelease() {
		box.Add(widget.NewSeparator())
		box.Add(bigText("Shift lead"))
		lead := []struct {
			label string
			call  func() engine.Step
			hint  string
		}{
			{"Release holds", func() engine.Step { return u.eng.StartRelease("") }, "Scan what to release"},
			{"Revert a decommission", u.eng.StartRevert, "Scan what to bring back"},
			{"Destroy (damaged)", func() engine.Step { return u.eng.StartDestroy("damaged beyond use") }, "Scan what is destroyed"},
			{"Decommission (sample)", func() engine.Step { return u.eng.StartDecommission("taken as a sample") }, "Scan what is decommissioned"},
		}
		for _, l := range lead {
			l := l
			box.Add(action(l.label, theme.ConfirmIcon(), widget.WarningImportance, func() {
				u.start(func() (engine.Step, error) { return l.call(), nil }, func(s engine.Step) *screen {
					return u.taskScreen("lead", l.label, l.hint, bigText(sentence(s.Reason)+"."))
				})
			}))
		}
	}
	u.show(&screen{name: "quarantine", title: "Quarantine", home: true, body: box})
}

// ---- returns

func (u *UI) showReturns() {
	u.start(func() (engine.Step, error) { return u.eng.StartReturn(), nil }, func(engine.Step) *screen {
		return u.taskScreen("returns", "Returns", "Scan each returned pack",
			bigText("Scan each returned pack: the handheld says whether it goes back to stock or to quarantine."))
	})
}

// ---- look-up

func (u *UI) showLookup() {
	u.start(func() (engine.Step, error) { return u.eng.StartLookup(), nil }, func(engine.Step) *screen {
		info := container.NewVBox(bigText("Scan anything: a pack, a case or a pallet."))
		s := u.taskScreen("lookup", "Look up", "Scan or type a code", info)
		s.after = func(st engine.Step) {
			{
				if in := st.Info; in != nil {
					info.Objects = infoRows(in)
					info.Refresh()
				}
			}
		}
		return s
	})
}

// infoRows lays out a look-up: what it is, its holds first and loud,
// where it is, what it is in and holds, and its history.
func infoRows(in *engine.Info) []fyne.CanvasObject {
	rows := []fyne.CanvasObject{bigText(keyText(in.Key))}
	if !in.Known {
		return append(rows, bigText("This site has no record of it."))
	}
	if in.Holds != "" || in.Inherited != "" {
		var why []string
		if in.Holds != "" {
			why = append(why, in.Holds)
		}
		if in.Inherited != "" {
			why = append(why, in.Inherited+" of its lot or product")
		}
		l := bigText("ON HOLD (" + strings.Join(why, "; ") + "): do not use or ship it")
		l.Importance = widget.DangerImportance
		rows = append(rows, l)
	}
	join := func(parts ...string) string {
		var out []string
		for _, p := range parts {
			if p != "" {
				out = append(out, p)
			}
		}
		return strings.Join(out, " · ")
	}
	pre := func(label, v string) string {
		if v == "" {
			return ""
		}
		return label + v
	}
	exp := ""
	if in.Expiry != "" {
		exp = "expires " + dateText(in.Expiry)
	}
	for _, line := range []string{
		join(sentence(strings.ReplaceAll(in.Status.String(), "_", " ")), pre("at ", in.Location)),
		join(in.Product, pre("lot ", in.Lot), exp),
		join(pre("client ", in.Client), pre("ASN ", in.ASN), pre("order ", in.Order), pre("shipment ", in.Shipment)),
		pre("Inside ", keyText(in.Container)),
	} {
		if line != "" && line != "Inside " {
			rows = append(rows, para(line))
		}
	}
	if in.ContentCount > 0 {
		rows = append(rows, bigText(fmt.Sprintf("Holds %d", in.ContentCount)))
		for i, k := range in.Contents {
			if i == 10 {
				rows = append(rows, para(fmt.Sprintf("  … and %d more", in.ContentCount-10)))
				break
			}
			rows = append(rows, para("  "+keyText(k)))
		}
	}
	for _, x := range in.Exceptions {
		rows = append(rows, para("Exception: "+ruleWords(x.Rule)+": "+x.Detail))
	}
	if len(in.History) > 0 {
		rows = append(rows, bigText("History"))
		for i := len(in.History) - 1; i >= 0 && i >= len(in.History)-10; i-- {
			h := in.History[i]
			rows = append(rows, para(fmt.Sprintf("%s · %s by %s on %s", h.At.Time().Local().Format("2 Jan 15:04"),
				strings.ReplaceAll(h.Kind.String(), "_", " "), h.User, h.Device)))
		}
	}
	return rows
}

// ruleWords names an exception rule in words.
func ruleWords(r unit.Rule) string {
	return strings.ToLower(strings.ReplaceAll(string(r), "_", " "))
}

// ---- exceptions

func (u *UI) showExceptions(w engine.Work) {
	box := container.NewVBox()
	if len(w.Exceptions) == 0 {
		box.Add(bigText("No open exception on this handheld."))
	}
	for _, x := range w.Exceptions {
		box.Add(bigText(sentence(ruleWords(x.Rule))))
		box.Add(para(x.Detail))
		box.Add(widget.NewSeparator())
	}
	u.show(&screen{name: "exceptions", title: "Open exceptions", home: true, body: box})
}

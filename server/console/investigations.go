package console

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Suspect product investigations: the list with each 24-hour clock,
// overdue first, and one investigation's record with the steps a lead
// takes (the API's, command.TypeInvestigation) and its Form 3911 draft.

type investigationRow struct {
	state.Investigation
	Clock compliance.Clock
}

type investigationsView struct {
	Items   []investigationRow
	Status  string
	CanLead bool
}

func (c *Console) investigationsPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := investigationsView{Status: x.Query("status"), CanLead: u.Role.CanRelease()}
	now := c.cfg.Now()
	err := c.node.State().View(func(r *state.Reader) error {
		list, err := r.Investigations(func(i *state.Investigation) bool {
			return u.Sees(i.Client) && (v.Status == "" || i.Status == v.Status)
		})
		for _, i := range list {
			v.Items = append(v.Items, investigationRow{Investigation: i, Clock: compliance.ClockOf(&i, now)})
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.SliceStable(v.Items, func(i, j int) bool { return v.Items[i].Clock.Overdue && !v.Items[j].Clock.Overdue })
	return c.render(x, "investigations", "Investigations", v)
}

type investigationView struct {
	investigationRow
	Form    compliance.Form3911
	CanLead bool
}

func (c *Console) investigationPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := investigationView{CanLead: u.Role.CanRelease()}
	now := c.cfg.Now()
	err := c.node.State().View(func(r *state.Reader) error {
		i, err := r.Investigation(x.Params("id"))
		if err != nil {
			return err
		}
		if !u.Sees(i.Client) {
			return ErrNotFound
		}
		v.investigationRow = investigationRow{Investigation: i, Clock: compliance.ClockOf(&i, now)}
		v.Form, err = compliance.BuildForm3911(r, i, now)
		return err
	})
	if err != nil {
		return err
	}
	return c.render(x, "investigation", "Investigation "+v.ID, v)
}

// investigationAction takes a lead's step: clear, illegitimate, notified
// or dispose (form fields note, to, disposition).
func (c *Console) investigationAction(x *fiber.Ctx) error {
	u := currentUser(x)
	if !u.Role.CanRelease() {
		return fmt.Errorf("%w: an investigation's steps need a lead or an admin", ErrForbidden)
	}
	var i state.Investigation
	if err := c.node.State().View(func(r *state.Reader) error { var err error; i, err = r.Investigation(x.Params("id")); return err }); err != nil {
		return err
	}
	if !u.Sees(i.Client) {
		return ErrNotFound
	}
	st := command.InvestigationStep{ID: i.ID, Action: x.FormValue("action"), By: u.ID, At: c.clock.Now(),
		Note: strings.TrimSpace(x.FormValue("note")), To: x.FormValue("to"), Disposition: x.FormValue("disposition")}
	if st.Action == command.ActionClear {
		id, err := event.NewID(c.cfg.Now(), rand.Reader)
		if err != nil {
			return err
		}
		st.Event = id
	}
	var out state.Investigation
	if err := c.proposeResult(x.UserContext(), command.TypeInvestigation, st, &out); err != nil {
		return err
	}
	return x.Redirect("/investigations/"+url.PathEscape(i.ID)+"?done="+url.QueryEscape(st.Action), fiber.StatusSeeOther)
}

// investigationPDF downloads the Form 3911 draft as a filled PDF.
func (c *Console) investigationPDF(x *fiber.Ctx) error {
	u := currentUser(x)
	var f compliance.Form3911
	err := c.node.State().View(func(r *state.Reader) error {
		i, err := r.Investigation(x.Params("id"))
		if err != nil {
			return err
		}
		if !u.Sees(i.Client) {
			return ErrNotFound
		}
		f, err = compliance.BuildForm3911(r, i, c.cfg.Now())
		return err
	})
	if err != nil {
		return err
	}
	b, err := f.PDF()
	if err != nil {
		return err
	}
	x.Set(fiber.HeaderContentType, "application/pdf")
	x.Set(fiber.HeaderContentDisposition, `attachment; filename="`+safeName(f.Investigation)+`-form3911.pdf"`)
	return x.Send(b)
}

// openInvestigation opens an investigation from an exception: on the
// exception's unit or container, which is quarantined at once.
func (c *Console) openInvestigation(x *fiber.Ctx) error {
	u := currentUser(x)
	if !u.Role.CanRelease() {
		return fmt.Errorf("%w: opening an investigation needs a lead or an admin", ErrForbidden)
	}
	desc := strings.TrimSpace(x.FormValue("description"))
	if desc == "" || len(desc) > event.MaxField {
		return fmt.Errorf("%w: describe what is suspected (up to %d characters)", ErrBadRequest, event.MaxField)
	}
	var xc unit.Exception
	if err := c.node.State().View(func(r *state.Reader) error {
		var err error
		xc, err = r.Exception(x.FormValue("exception"))
		return err
	}); err != nil {
		return err
	}
	if !u.Sees(xc.Client) {
		return ErrNotFound
	}
	now := c.cfg.Now()
	id, err := event.NewID(now, rand.Reader)
	if err != nil {
		return err
	}
	hold, err := event.NewID(now, rand.Reader)
	if err != nil {
		return err
	}
	scope := state.ScopeUnits
	if xc.Unit.IsContainer() {
		scope = state.ScopeContainer
	}
	st := command.InvestigationStep{ID: "INV-" + id.String()[:18], Action: command.ActionOpen, By: u.ID, At: c.clock.Now(), Note: desc,
		Client: xc.Client, Scope: scope, Keys: []event.Key{xc.Unit}, Trigger: command.TriggerException, Exception: xc.ID, Event: hold}
	var out state.Investigation
	if err := c.proposeResult(x.UserContext(), command.TypeInvestigation, st, &out); err != nil {
		return err
	}
	return x.Redirect("/investigations/"+url.PathEscape(out.ID)+"?done="+url.QueryEscape("opened"), fiber.StatusSeeOther)
}

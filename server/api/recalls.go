package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// recallReport is what a lot recall found: every unit of the lot by
// status and location, what is here (in stock, picked, packed) and held,
// what came back, and what
// left, per ship-to with shipment, date and serials (for the
// notifications).
type recallReport struct {
	Recall     state.Recall   `json:"recall"`
	Found      int            `json:"found"`
	ByStatus   map[string]int `json:"byStatus"`
	ByLocation map[string]int `json:"byLocation"`
	Here       int            `json:"here"`
	Held       int            `json:"held"`
	Shipped    int            `json:"shipped"`
	Returned   int            `json:"returned"`
	ShipTo     []recallShipTo `json:"shipTo"`
	// units are the lot's units, for the CSV form.
	units []recallUnit
}

type recallShipTo struct {
	Destination string           `json:"destination"`
	Shipments   []recallShipment `json:"shipments"`
}

type recallShipment struct {
	ID      string      `json:"id"`
	Shipped time.Time   `json:"shipped"`
	Serials []event.Key `json:"serials"`
}

type recallUnit struct {
	unit.State
	holds       event.Holds
	destination string
}

// openRecall opens the recall of a lot ({gtin, lot, client, note}; the
// client defaults to the product's): the lot is held at once, on every
// replica and handheld. Asking again answers the open recall.
func (s *Server) openRecall(c *fiber.Ctx) error {
	var body struct {
		GTIN   string `json:"gtin"`
		Lot    string `json:"lot"`
		Client string `json:"client"`
		Note   string `json:"note"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if err := event.CheckGTIN(body.GTIN); err != nil {
		return badField("gtin", "%v", err)
	}
	if body.Lot == "" {
		return badField("lot", "required")
	}
	if err := event.CheckLot(body.Lot); err != nil {
		return badField("lot", "%v", err)
	}
	if err := event.CheckText(body.Note); err != nil {
		return badField("note", "%v", err)
	}
	var p master.Product
	err := s.node.State().View(func(r *state.Reader) error { var err error; p, err = r.Product(body.GTIN); return err })
	if errors.Is(err, state.ErrNotFound) || err == nil && (!sees(c)(p.Client) || body.Client != "" && body.Client != p.Client) {
		return badField("gtin", "%s is not a product of a client granted to you", body.GTIN)
	}
	if err != nil {
		return err
	}
	rc := state.Recall{ID: state.RecallID(body.GTIN, body.Lot), Client: p.Client, GTIN: body.GTIN, Lot: body.Lot, Note: body.Note,
		By: user(c).ID, At: s.clock.Now()}
	raw, err := s.propose(c, command.TypeRecall, rc)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &rc); err != nil {
		return fmt.Errorf("recall answer: %w", err)
	}
	return c.Status(fiber.StatusCreated).JSON(rc)
}

func (s *Server) listRecalls(c *fiber.Ctx) error {
	return listGranted(s, c, (*state.Reader).Recalls, func(x *state.Recall) string { return x.Client })
}

// getRecall answers a recall's report: ?format=json (default) or csv
// (one row per unit of the lot).
func (s *Server) getRecall(c *fiber.Ctx) error {
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return badField("format", "want json or csv")
	}
	var rep recallReport
	err := s.read(c, func(r *state.Reader) error {
		rc, err := r.Recall(param(c, "id"))
		if err != nil {
			return err
		}
		if !sees(c)(rc.Client) {
			return ErrNotFound
		}
		rep, err = buildRecallReport(r, rc)
		return err
	})
	if err == errProxied {
		return nil
	}
	if err != nil {
		return err
	}
	if format == "csv" {
		b, err := rep.csv()
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", rep.Recall.ID+".csv"))
		return c.Send(b)
	}
	return c.JSON(rep)
}

// buildRecallReport reads every unit of the recalled lot once.
func buildRecallReport(r *state.Reader, rc state.Recall) (recallReport, error) {
	rep := recallReport{Recall: rc, ByStatus: map[string]int{}, ByLocation: map[string]int{}, ShipTo: []recallShipTo{}, Returned: len(rc.Returned)}
	page, err := r.Units(state.UnitFilter{GTIN: rc.GTIN, Lot: rc.Lot, Client: func(c string) bool { return c == rc.Client }})
	if err != nil {
		return rep, err
	}
	inherited, err := r.Inherited(unit.State{Key: event.SGTIN(rc.GTIN, "x"), Lot: rc.Lot})
	if err != nil {
		return rep, err
	}
	shipments := map[string]master.Shipment{}
	left := map[string]map[string]*recallShipment{} // destination → shipment id → shipment
	for _, u := range page.Items {
		ru := recallUnit{State: u, holds: u.Holds | inherited}
		rep.Found++
		rep.ByStatus[u.Status.String()]++
		if u.Location != "" {
			rep.ByLocation[u.Location]++
		}
		switch {
		case u.Status == unit.StatusShipped:
			rep.Shipped++
			sh, ok := shipments[u.Shipment]
			if !ok {
				sh, err = r.Shipment(u.Shipment)
				if err != nil && !errors.Is(err, state.ErrNotFound) {
					return rep, err
				}
				shipments[u.Shipment] = sh
			}
			ru.destination = sh.Destination
			if left[sh.Destination] == nil {
				left[sh.Destination] = map[string]*recallShipment{}
			}
			x := left[sh.Destination][u.Shipment]
			if x == nil {
				x = &recallShipment{ID: u.Shipment}
				left[sh.Destination][u.Shipment] = x
			}
			x.Serials = append(x.Serials, u.Key)
			if t := u.Since.Time(); !u.Since.IsZero() && t.After(x.Shipped) {
				x.Shipped = t
			}
		case u.Status.Inactive() || u.Status == unit.StatusExpected:
			// Gone from the supply chain, or announced and not here yet.
		default:
			rep.Here++
			if ru.holds != 0 {
				rep.Held++
			}
		}
		rep.units = append(rep.units, ru)
	}
	dests := make([]string, 0, len(left))
	for d := range left {
		dests = append(dests, d)
	}
	slices.Sort(dests)
	for _, d := range dests {
		st := recallShipTo{Destination: d}
		for _, x := range left[d] {
			st.Shipments = append(st.Shipments, *x)
		}
		slices.SortFunc(st.Shipments, func(a, b recallShipment) int { return strings.Compare(a.ID, b.ID) })
		rep.ShipTo = append(rep.ShipTo, st)
	}
	return rep, nil
}

func (rep *recallReport) csv() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"key", "gtin", "serial", "lot", "expiry", "status", "location", "parent", "holds", "shipment", "destination", "since"})
	for _, u := range rep.units {
		since := ""
		if !u.Since.IsZero() {
			since = u.Since.Time().Format(time.RFC3339)
		}
		w.Write([]string{string(u.Key), u.Key.GTIN(), u.Key.Serial(), u.Lot, u.Expiry, u.Status.String(), u.Location, string(u.Parent),
			u.holds.String(), u.Shipment, u.destination, since})
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// maxUpload bounds an uploaded ASN document.
const maxUpload = 32 << 20

type inboundView struct {
	ASNs    []planRow
	Clients []string
	Page    int
	More    bool
}

// offsetPage reads ?page= (from 1).
func offsetPage(x *fiber.Ctx) int {
	p, err := strconv.Atoi(x.Query("page", "1"))
	if err != nil || p < 1 {
		return 1
	}
	return p
}

func (c *Console) inboundPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := inboundView{Page: offsetPage(x)}
	err := c.node.State().View(func(r *state.Reader) error {
		cls, err := r.Clients(func(cl *master.Client) bool { return u.Sees(cl.ID) })
		if err != nil {
			return err
		}
		for _, cl := range cls {
			v.Clients = append(v.Clients, cl.ID)
		}
		rows, err := asnRows(r, u.Sees, v.Page*pageSize+1)
		if err != nil {
			return err
		}
		from := (v.Page - 1) * pageSize
		if len(rows) > v.Page*pageSize {
			v.More, rows = true, rows[:v.Page*pageSize]
		}
		if from < len(rows) {
			v.ASNs = rows[from:]
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.render(x, "inbound", "Inbound", v)
}

// uploadASN imports a supplier's EPCIS document (2.0 JSON-LD or 1.2
// XML) as an ASN, in chunks through the log as the API does.
func (c *Console) uploadASN(x *fiber.Ctx) error {
	u := currentUser(x)
	client := x.FormValue("client")
	if !u.Sees(client) {
		return fmt.Errorf("%w: choose one of your clients", ErrBadRequest)
	}
	fh, err := x.FormFile("file")
	if err != nil {
		return fmt.Errorf("%w: choose an EPCIS file", ErrBadRequest)
	}
	if fh.Size > maxUpload {
		return fmt.Errorf("%w: the file is larger than %d MiB", ErrBadRequest, maxUpload>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	f.Close()
	if err != nil {
		return err
	}
	doc, _, err := epcis.Decode(b)
	if err != nil {
		return fmt.Errorf("%w: the file is not an EPCIS document we can read: %v", ErrBadRequest, err)
	}
	a, err := compliance.ASNFromEPCIS(doc, client, x.FormValue("id"))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if err := command.CheckASN(&a); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	var old master.ASN
	err = c.node.State().View(func(r *state.Reader) error { var err error; old, err = r.ASN(a.ID); return err })
	switch {
	case errors.Is(err, state.ErrNotFound):
	case err != nil:
		return err
	case old.Client != a.Client:
		return fmt.Errorf("%w: ASN id %q is taken", ErrBadRequest, a.ID)
	}
	for _, ch := range command.SplitASN(a, u.ID, c.clock.Now()) {
		data, err := command.EncodeJSON(command.TypeASNChunk, ch)
		if err != nil {
			return err
		}
		raw, err := c.node.Propose(x.UserContext(), data, false)
		if err != nil {
			return fmt.Errorf("ASN %s: items from %d on were not imported (uploading again is safe): %w", a.ID, ch.Start+1, err)
		}
		var res command.ASNChunkResult
		if err := json.Unmarshal(raw, &res); err != nil {
			return err
		}
	}
	return x.Redirect("/inbound/"+url.PathEscape(a.ID)+"?done="+url.QueryEscape(fmt.Sprintf("imported %d items", len(a.Items))), fiber.StatusSeeOther)
}

type asnItemRow struct {
	Item  master.ASNItem
	Unit  unit.State
	Depth int
}

type asnView struct {
	ASN                          master.ASN
	Items                        []asnItemRow
	Expected, Received, Inferred int
	Verified                     int
	Page                         int
	More                         bool
}

func (c *Console) asnPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := asnView{Page: offsetPage(x)}
	err := c.node.State().View(func(r *state.Reader) error {
		var err error
		if v.ASN, err = r.ASN(x.Params("id")); err != nil {
			return err
		}
		if !u.Sees(v.ASN.Client) {
			return ErrNotFound
		}
		depth := map[string]int{}
		from, to := (v.Page-1)*pageSize, v.Page*pageSize
		for i, it := range v.ASN.Items {
			un, err := r.Unit(it.Key)
			if err != nil {
				return err
			}
			v.Expected++
			if un.Known() && un.Status != unit.StatusExpected {
				v.Received++
			}
			switch un.Completeness {
			case unit.CompletenessInferred:
				v.Inferred++
			case unit.CompletenessVerified:
				v.Verified++
			}
			d := 0
			if it.Parent != "" {
				d = depth[string(it.Parent)] + 1
			}
			depth[string(it.Key)] = d
			if i >= from && i < to {
				v.Items = append(v.Items, asnItemRow{Item: it, Unit: un, Depth: d})
			}
		}
		v.More = len(v.ASN.Items) > to
		return nil
	})
	if err != nil {
		return err
	}
	return c.render(x, "asn", "ASN "+v.ASN.ID, v)
}

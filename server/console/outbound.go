package console

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/custodyhq/custody/server/compliance"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/epcis"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

type outboundView struct {
	Shipments []shipmentRow
	Orders    []planRow
	Page      int
	More      bool
}

type shipmentRow struct {
	S     master.Shipment
	Units int
}

func (c *Console) outboundPage(x *fiber.Ctx) error {
	u := currentUser(x)
	v := outboundView{Page: offsetPage(x)}
	err := c.node.State().View(func(r *state.Reader) error {
		all, err := r.Shipments(func(s *master.Shipment) bool { return u.Sees(s.Client) })
		if err != nil {
			return err
		}
		// Newest (last by id) first.
		from, to := (v.Page-1)*pageSize, v.Page*pageSize
		for i := len(all) - 1 - from; i >= 0 && i > len(all)-1-to; i-- {
			v.Shipments = append(v.Shipments, shipmentRow{S: all[i], Units: len(all[i].Containers)})
		}
		v.More = len(all) > to
		return nil
	})
	if err != nil {
		return err
	}
	if v.Page == 1 {
		v.Orders = c.floor.ordersFor(u, pageSize)
	}
	return c.render(x, "outbound", "Outbound", v)
}

type shipmentView struct {
	S      master.Shipment
	ShipTo string // the partner's name when the destination is a partner
	Tree   []treeNode
	Units  int
}

func (c *Console) shipmentPage(x *fiber.Ctx) error {
	u := currentUser(x)
	var v shipmentView
	err := c.node.State().View(func(r *state.Reader) error {
		var err error
		if v.S, err = r.Shipment(x.Params("id")); err != nil {
			return err
		}
		if !u.Sees(v.S.Client) {
			return ErrNotFound
		}
		if p, err := r.Partner(v.S.Destination); err == nil && p.Name != "" {
			v.ShipTo = p.Name
		}
		for _, k := range v.S.Containers {
			un, err := r.Unit(k)
			if err != nil {
				return err
			}
			if !un.Known() || un.Client != v.S.Client {
				continue
			}
			n := treeNode{Unit: un}
			if k.IsContainer() {
				if n.Children, err = tree(r, k, 2, func(cl string) bool { return cl == v.S.Client }); err != nil {
					return err
				}
			}
			v.Tree = append(v.Tree, n)
		}
		return walk(r, v.S.Containers, 4, func(un unit.State) {
			if un.Client == v.S.Client && !un.Key.IsContainer() {
				v.Units++
			}
		})
	})
	if err != nil {
		return err
	}
	return c.render(x, "shipment", "Shipment "+v.S.ID, v)
}

// shipmentEPCIS downloads a shipment's outbound EPCIS document (the
// API's /shipments/:id/epcis, the same document): ?format=jsonld or xml.
func (c *Console) shipmentEPCIS(x *fiber.Ctx) error {
	u := currentUser(x)
	format := epcis.FormatJSONLD
	if f := x.Query("format"); f != "" {
		var err error
		if format, err = epcis.ParseFormat(f); err != nil {
			return fmt.Errorf("%w: format: want jsonld or xml", ErrBadRequest)
		}
	}
	var in compliance.ShipmentInput
	err := c.node.State().View(func(r *state.Reader) error {
		sh, err := r.Shipment(x.Params("id"))
		if err != nil {
			return err
		}
		if !u.Sees(sh.Client) {
			return ErrNotFound
		}
		in, err = compliance.GatherShipment(r, sh, c.cfg.Now())
		if errors.Is(err, compliance.ErrShipment) {
			return fmt.Errorf("%w: %s", ErrBadRequest, strings.TrimPrefix(err.Error(), "compliance: "))
		}
		return err
	})
	if err != nil {
		return err
	}
	b, err := epcis.Encode(compliance.ShipmentDocument(in), format)
	if err != nil {
		return err
	}
	return sendDownload(x, b, format, "shipment-"+safeName(in.Shipment.ID))
}

// shipmentLabel draws the SSCC label of the shipment's first logistic
// unit (?sscc= another of its containers): the SSCC as GS1-128 with its
// human-readable line, the destination and the shipment.
func (c *Console) shipmentLabel(x *fiber.Ctx) error {
	u := currentUser(x)
	var sh master.Shipment
	var site master.Site
	err := c.node.State().View(func(r *state.Reader) error {
		var err error
		if sh, err = r.Shipment(x.Params("id")); err != nil {
			return err
		}
		if !u.Sees(sh.Client) {
			return ErrNotFound
		}
		site, _ = r.Site()
		return nil
	})
	if err != nil {
		return err
	}
	var k event.Key
	for _, ck := range sh.Containers {
		if ck.IsSSCC() && (x.Query("sscc") == "" || ck.SSCCValue() == x.Query("sscc")) {
			k = ck
			break
		}
	}
	if k == "" {
		return fmt.Errorf("%w: shipment %s has no logistic unit (SSCC)", ErrBadRequest, sh.ID)
	}
	b, err := ssccLabel(k.SSCCValue(), []string{"FROM " + site.Name, "TO   " + sh.Destination, "SHIPMENT " + sh.ID, c.cfg.Now().In(c.cfg.Location).Format("2006-01-02 15:04")})
	if err != nil {
		return err
	}
	x.Set(fiber.HeaderContentType, "image/png")
	x.Set(fiber.HeaderContentDisposition, `inline; filename="sscc-`+k.SSCCValue()+`.png"`)
	return x.Send(b)
}

func ssccLabel(sscc string, lines []string) ([]byte, error) {
	bc, err := code128.Encode(string(code128.FNC1) + "00" + sscc)
	if err != nil {
		return nil, err
	}
	const w, h = 800, 520
	bcs, err := barcode.Scale(bc, 720, 200)
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(s string, y, scale int) {
		small := image.NewRGBA(image.Rect(0, 0, len(s)*7+2, 16))
		draw.Draw(small, small.Bounds(), image.White, image.Point{}, draw.Src)
		d := font.Drawer{Dst: small, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(1, 12)}
		d.DrawString(s)
		for py := 0; py < small.Bounds().Dy()*scale; py++ {
			for px := 0; px < small.Bounds().Dx()*scale && 40+px < w; px++ {
				if cl := small.RGBAAt(px/scale, py/scale); cl.R < 128 {
					img.Set(40+px, y+py, color.Black)
				}
			}
		}
	}
	for i, l := range lines {
		text(l, 20+i*36, 2)
	}
	draw.Draw(img, image.Rect(40, 180, 760, 380), bcs, image.Point{}, draw.Src)
	text("(00) "+sscc, 400, 3)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

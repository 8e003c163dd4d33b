package api

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// newID stamps a fresh UUIDv7: the proposer chooses ids, never Apply.
func newID() (event.ID, error) { return event.NewID(time.Now(), rand.Reader) }

func (s *Server) listASNs(c *fiber.Ctx) error {
	return listGranted(s, c, (*state.Reader).ASNs, func(x *master.ASN) string { return x.Client })
}

func (s *Server) getASN(c *fiber.Ctx) error {
	var v master.ASN
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.ASN(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return v })
}

// importASN records an ASN: every item becomes expected at the site.
func (s *Server) importASN(c *fiber.Ctx) error {
	var a master.ASN
	if err := decode(c, &a); err != nil {
		return err
	}
	return s.proposeASN(c, a)
}

func (s *Server) proposeASN(c *fiber.Ctx, a master.ASN) error {
	if !sees(c)(a.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, a.Client)
	}
	if err := command.CheckASN(&a); err != nil {
		return err
	}
	if err := s.asnOwned(&a); err != nil {
		return err
	}
	if err := s.idFree(c, "ASN", a.ID, a.Client, func(r *state.Reader) (string, error) {
		x, err := r.ASN(a.ID)
		return x.Client, err
	}); err != nil {
		return err
	}
	// One entry per chunk of at most command.MaxASNChunk items, in order:
	// each applies in one small transaction and is idempotent on its own,
	// so an import cut short and sent again converges, its applied items
	// answered as duplicates.
	chunks := command.SplitASN(a, user(c).ID, s.clock.Now())
	verdicts := make([]command.Verdict, 0, len(a.Items))
	complete := false
	for _, ch := range chunks {
		raw, err := s.propose(c, command.TypeASNChunk, ch)
		if err != nil {
			if ch.Start == 0 {
				return err
			}
			return fmt.Errorf("ASN %s: the first %d of %d items were imported, the rest not (sending the ASN again is safe: imported items come back as duplicates): %w",
				a.ID, ch.Start, len(a.Items), err)
		}
		var res command.ASNChunkResult
		if err := json.Unmarshal(raw, &res); err != nil {
			return err
		}
		if len(res.Verdicts) != len(ch.ASN.Items) {
			return fmt.Errorf("ASN %s: %d verdicts for items %d to %d", a.ID, len(res.Verdicts), ch.Start+1, ch.Start+len(ch.ASN.Items))
		}
		verdicts = append(verdicts, res.Verdicts...)
		complete = res.Complete
	}
	if !complete {
		return fmt.Errorf("%w: ASN %s: every item is expected, but another import of this ASN with other content ran at the same time and its version is the stored record; send the ASN again to make it this one",
			ErrConflict, a.ID)
	}
	return c.JSON(fiber.Map{"asn": a.ID, "items": len(a.Items), "verdicts": toVerdicts(verdicts)})
}

func (s *Server) listOrders(c *fiber.Ctx) error {
	return listGranted(s, c, (*state.Reader).Orders, func(x *master.Order) string { return x.Client })
}

func (s *Server) getOrder(c *fiber.Ctx) error {
	var v master.Order
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Order(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return v })
}

func (s *Server) putOrder(c *fiber.Ctx) error {
	var v master.Order
	if err := decode(c, &v); err != nil {
		return err
	}
	if !sees(c)(v.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, v.Client)
	}
	if err := v.Validate(); err != nil {
		return err
	}
	if err := fitsDevices("lines", "an order", v); err != nil {
		return err
	}
	if err := s.orderOwned(&v); err != nil {
		return err
	}
	if err := s.idFree(c, "order", v.ID, v.Client, func(r *state.Reader) (string, error) {
		x, err := r.Order(v.ID)
		return x.Client, err
	}); err != nil {
		return err
	}
	return s.putRecord(c, command.TypeOrder, v)
}

func (s *Server) listShipments(c *fiber.Ctx) error {
	return listGranted(s, c, (*state.Reader).Shipments, func(x *master.Shipment) string { return x.Client })
}

func (s *Server) getShipment(c *fiber.Ctx) error {
	var v master.Shipment
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Shipment(param(c, "id")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return v })
}

func (s *Server) putShipment(c *fiber.Ctx) error {
	var v master.Shipment
	if err := decode(c, &v); err != nil {
		return err
	}
	if v.ID == "" {
		return badField("id", "required")
	}
	if !sees(c)(v.Client) {
		return fmt.Errorf("%w: client %q is not granted to you", ErrForbidden, v.Client)
	}
	for i, k := range v.Containers {
		if err := k.Check(); err != nil {
			return badField(fmt.Sprintf("containers[%d]", i), "%v", err)
		}
	}
	if err := fitsDevices("containers", "a shipment", v); err != nil {
		return err
	}
	if err := s.shipmentOwned(&v); err != nil {
		return err
	}
	if err := s.checkShipment(&v); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	if err := s.idFree(c, "shipment", v.ID, v.Client, func(r *state.Reader) (string, error) {
		x, err := r.Shipment(v.ID)
		return x.Client, err
	}); err != nil {
		return err
	}
	return s.putRecord(c, command.TypeShipment, v)
}

// idFree refuses a write under an id that a record of a client the user
// is not granted already holds (a blind put would replace it). stored
// reads the client of the record under that id. The processor refuses
// again, deterministically, to move any record to another client.
func (s *Server) idFree(c *fiber.Ctx, kind, id, client string, stored func(r *state.Reader) (string, error)) error {
	var owner string
	err := s.node.State().View(func(r *state.Reader) error {
		var err error
		owner, err = stored(r)
		return err
	})
	switch {
	case errors.Is(err, state.ErrNotFound):
		return nil
	case err != nil:
		return err
	case !sees(c)(owner):
		return fmt.Errorf("%w: %s id %q is taken", ErrForbidden, kind, id)
	case owner != client:
		return badField("client", "%s %s belongs to client %q", kind, id, owner)
	}
	return nil
}

// checkShipment checks a shipment's destination as the processor does
// (master.Shipment.CheckDestination): a GLN with its check digit or the
// id of a partner (exported as the partner's GLN). The containers are
// checked by the processor, in log order (a container packed a moment
// ago may not have reached this node yet).
func (s *Server) checkShipment(v *master.Shipment) error {
	return s.node.State().View(func(r *state.Reader) error {
		var readErr error
		err := v.CheckDestination(func(id string) bool {
			_, err := r.Partner(id)
			if err != nil && !errors.Is(err, state.ErrNotFound) {
				readErr = err
			}
			return err == nil
		})
		switch {
		case readErr != nil:
			return readErr
		case err != nil:
			return badField("destination", "%q is neither a GLN with its check digit nor a partner id", v.Destination)
		}
		return nil
	})
}

// maxDeviceRecord bounds an order or a shipment as JSON. Handhelds get
// each as one record of a sync frame (1 MiB, and the binary form is
// smaller than JSON), so a larger one could never reach them.
const maxDeviceRecord = 256 << 10

// fitsDevices refuses a record too large to reach handhelds, naming the
// field that makes it so.
func fitsDevices(field, what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	if len(b) > maxDeviceRecord {
		return badField(field, "%s is sent to handhelds whole and may take %d KiB, this one takes %d KiB: split it", what, maxDeviceRecord>>10, (len(b)+1023)>>10)
	}
	return nil
}

package engine

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// SSCCs the device creates: extension digit, the site's GS1 company
// prefix, a serial reference and the check digit. The serial reference
// (16 − prefix length digits, at least 4) starts with the device number
// (3 digits) followed by a counter the device keeps in its store, so
// devices never collide and a device never repeats itself. A wiped
// device must be enrolled again with a new device number: its counter
// starts over.
//
// left is how many numbers remain in the device's range after this one.
func newSSCC(site master.Site, device int, counter uint64) (sscc string, left uint64, err error) {
	p := site.SSCCPrefix
	if len(p) < 6 || len(p) > 12 {
		return "", 0, fmt.Errorf("%w: site SSCC prefix %q (want 6–12 digits)", ErrConfig, p)
	}
	ext := int(site.SSCCExtension)
	if ext >= '0' && ext <= '9' {
		ext -= '0'
	}
	if ext > 9 {
		return "", 0, fmt.Errorf("%w: SSCC extension %d", ErrConfig, site.SSCCExtension)
	}
	w := 16 - len(p)
	limit := uint64(1)
	for range w - 3 {
		limit *= 10
	}
	if counter >= limit {
		return "", 0, refuse("this device has used all %d SSCC numbers of its range: ask for a new device number", limit)
	}
	ref := strconv.FormatUint(uint64(device)*limit+counter, 10)
	for len(ref) < w {
		ref = "0" + ref
	}
	body := strconv.Itoa(ext) + p + ref
	c, err := gs1.CheckDigit(body)
	if err != nil {
		return "", 0, fmt.Errorf("%w: SSCC prefix %q: %v", ErrConfig, p, err)
	}
	return body + string(c), limit - 1 - counter, nil
}

// ssccLow is how few SSCC numbers left in the device's range make
// packing into a new container a warning.
const ssccLow = 100

type packTask struct{ container event.Key }

func (t *packTask) name() string { return "pack " + string(t.container) }
func (t *packTask) policy() bool { return false }
func (t *packTask) scan(e *Engine, it Item) (Step, error) {
	return e.pack(t.container, it)
}

// NewContainer numbers a new outbound SSCC and starts packing into it.
// The container exists once the first item is packed into it.
func (e *Engine) NewContainer() (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("pack"); s != nil {
		return *s, nil
	}
	if e.devnum == 0 {
		return refused("pack", "this device has no device number, so it cannot number new containers: enroll it (custody-hh -devnum N) or pack into an existing container"), nil
	}
	var sscc string
	st, err := e.write("pack", "", func(w *writer) (string, error) {
		site, err := w.tx.Site()
		if err != nil {
			return "", err
		}
		for range 1000 {
			n, err := w.tx.NextSSCCSerial()
			if err != nil {
				return "", err
			}
			var left uint64
			if sscc, left, err = newSSCC(site, e.devnum, n); err != nil {
				return "", err
			}
			s, err := w.tx.Unit(event.SSCC(sscc))
			if err != nil {
				return "", err
			}
			if !s.Known() {
				if left < ssccLow {
					w.warnings = append(w.warnings, fmt.Sprintf("only %d SSCC numbers left in this device's range: ask for a new device number soon", left))
				}
				return fmt.Sprintf("new container %s: label it and scan what goes in", sscc), nil
			}
		}
		return "", refuse("no free SSCC found in this device's range")
	})
	if err == nil && st.Verdict != Refused {
		st.Container = event.SSCC(sscc)
		e.task = &packTask{container: st.Container}
	}
	return st, err
}

// PackInto continues packing into an existing container.
func (e *Engine) PackInto(k event.Key) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, s := e.signedIn("pack")
	if s != nil {
		return *s, nil
	}
	if !k.IsContainer() {
		return refused("pack", "%s is not a container", k), nil
	}
	var c unit.State
	if err := e.st.View(func(tx *store.Tx) (err error) { c, err = tx.Unit(k); return }); err != nil {
		return failed("pack", err)
	}
	switch {
	case !c.Known():
		return refused("pack", "%s is unknown here: use pack new for a new container", k), nil
	case c.Status != unit.StatusPacked && c.Status != unit.StatusPicked:
		return refused("pack", "%s is %s: only outbound containers can be packed", k, c.Status), nil
	case !u.Sees(c.Client):
		return refused("pack", "%s belongs to a client you are not granted", k), nil
	}
	e.task = &packTask{container: k}
	st := accepted("pack", "packing into %s", k)
	st.Container = k
	return st, nil
}

func (e *Engine) pack(container event.Key, it Item) (Step, error) {
	st, err := e.write("pack", it.Key, func(w *writer) (string, error) {
		tx := w.tx
		if it.Key == container {
			return "", refuse("this is the container itself: scan what goes in")
		}
		s, err := tx.Unit(it.Key)
		if err != nil {
			return "", err
		}
		if !s.Known() {
			return "", refuse("%s is unknown to this site", it.Key)
		}
		if !e.user.Sees(s.Client) {
			return "", refuse("%s belongs to a client you are not granted", it.Key)
		}
		c, err := tx.Unit(container)
		if err != nil {
			return "", err
		}
		if c.Known() {
			switch {
			case c.Client != s.Client:
				return "", refuse("%s holds stock of client %s; %s belongs to %s", container, c.Client, it.Key, s.Client)
			case c.Order != "" && s.Order != "" && c.Order != s.Order:
				return "", refuse("%s is packed for order %s; %s was picked for order %s", container, c.Order, it.Key, s.Order)
			case c.Status == unit.StatusShipped:
				return "", refuse("%s has left the building", container)
			}
		}
		cl, err := tx.Client(s.Client)
		if err != nil {
			return "", err
		}
		if (s.Status == unit.StatusPicked || s.Status == unit.StatusPacked) && cl.Policy.Mixing != master.MixAny {
			in, err := contentsOf(tx, it.Key, s, e.today())
			if err != nil {
				return "", err
			}
			have, err := contentsOf(tx, container, c, e.today())
			if err != nil {
				return "", err
			}
			if !c.Known() {
				have = contents{}
			}
			if err := mixing(cl, in, have, container); err != nil {
				return "", err
			}
		}
		if _, _, err := w.emit(event.KindPack, s.Client, []event.Key{it.Key}, event.Context{Parent: container, Order: s.Order},
			fmt.Sprintf("%s is already packed in %s", it.Key, container)); err != nil {
			return "", err
		}
		kids, err := tx.Children(container)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("packed into %s (%d inside)", container, len(kids)), nil
	})
	st.Container = container
	return st, err
}

// mixing applies the client's policy on what may share a container.
func mixing(cl master.Client, in, have contents, container event.Key) error {
	both := len(have.units) > 0
	switch cl.Policy.Mixing {
	case master.MixSameProduct:
		if in.mixedGTIN || both && (have.mixedGTIN || have.gtin != in.gtin) {
			return refuse("client %s packs one product per container: %s holds %s", cl.ID, container, have.gtin)
		}
	case master.MixSameLot, "":
		if in.mixedGTIN || in.mixedLot {
			return refuse("client %s packs one product and lot per container: this holds several", cl.ID)
		}
		if both && (have.gtin != in.gtin || have.lot != in.lot || have.mixedLot) {
			return refuse("client %s packs one product and lot per container: %s holds lot %s of %s, this is lot %s of %s",
				cl.ID, container, have.lot, have.gtin, in.lot, in.gtin)
		}
	}
	return nil
}

type unpackTask struct{}

func (t *unpackTask) name() string { return "unpack" }
func (t *unpackTask) policy() bool { return false }
func (t *unpackTask) scan(e *Engine, it Item) (Step, error) {
	return e.write("unpack", it.Key, func(w *writer) (string, error) {
		s, err := w.tx.Unit(it.Key)
		if err != nil {
			return "", err
		}
		switch {
		case !s.Known():
			return "", refuse("%s is unknown to this site", it.Key)
		case !e.user.Sees(s.Client):
			return "", refuse("%s belongs to a client you are not granted", it.Key)
		case s.Parent == "":
			return "", &errNothing{fmt.Sprintf("%s is not in a container", it.Key)}
		}
		if _, _, err := w.emit(event.KindUnpack, s.Client, []event.Key{it.Key}, event.Context{Parent: s.Parent}, ""); err != nil {
			return "", err
		}
		return fmt.Sprintf("taken out of %s", s.Parent), nil
	})
}

// StartUnpack starts taking things out of their containers.
func (e *Engine) StartUnpack() Step {
	return e.setTask("unpack", &unpackTask{}, "scan what you take out of its container")
}

func (e *Engine) setTask(action string, t task, msg string) Step {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn(action); s != nil {
		return *s
	}
	e.task = t
	return accepted(action, "%s", msg)
}

type shipTask struct{ shipment, dest string }

func (t *shipTask) name() string { return "ship " + t.shipment }
func (t *shipTask) policy() bool { return false }
func (t *shipTask) scan(e *Engine, it Item) (Step, error) {
	return e.ship(t, it)
}

// StartShip starts loading containers onto a shipment. A shipment the
// replica does not know is created on the device; it then needs a
// destination.
func (e *Engine) StartShip(shipment, dest string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, s := e.signedIn("ship")
	if s != nil {
		return *s, nil
	}
	var sh master.Shipment
	err := e.st.View(func(tx *store.Tx) (err error) { sh, err = tx.Shipment(shipment); return })
	switch {
	case errors.Is(err, store.ErrNotFound):
		if dest == "" {
			return refused("ship", "shipment %s is new here: give its destination", shipment), nil
		}
	case err != nil:
		return failed("ship", err)
	case !u.Sees(sh.Client):
		return refused("ship", "shipment %s belongs to a client you are not granted", shipment), nil
	case sh.Departed:
		return refused("ship", "shipment %s has departed", shipment), nil
	case dest != "" && dest != sh.Destination:
		return refused("ship", "shipment %s goes to %s, not %s", shipment, sh.Destination, dest), nil
	default:
		dest = sh.Destination
	}
	e.task = &shipTask{shipment: shipment, dest: dest}
	return accepted("ship", "loading shipment %s to %s: scan each container as it leaves", shipment, dest), nil
}

func (e *Engine) ship(t *shipTask, it Item) (Step, error) {
	return e.write("ship", it.Key, func(w *writer) (string, error) {
		tx := w.tx
		s, err := tx.Unit(it.Key)
		if err != nil {
			return "", err
		}
		switch {
		case !s.Known():
			return "", refuse("%s is unknown to this site", it.Key)
		case !e.user.Sees(s.Client):
			return "", refuse("%s belongs to a client you are not granted", it.Key)
		case s.Status == unit.StatusShipped && s.Shipment == t.shipment:
			return "", &errNothing{fmt.Sprintf("%s is already on shipment %s", it.Key, t.shipment)}
		case s.Parent != "" && s.Status != unit.StatusShipped:
			return "", refuse("%s is inside %s: ship %s", it.Key, s.Parent, s.Parent)
		case s.Status == unit.StatusInStock || s.Status == unit.StatusExpected:
			return "", refuse("%s is %s: pick and pack it before shipping", it.Key, s.Status)
		}
		sh, err := tx.Shipment(t.shipment)
		created := errors.Is(err, store.ErrNotFound)
		if created {
			sh, err = master.Shipment{ID: t.shipment, Client: s.Client, Destination: t.dest}, nil
		}
		if err != nil {
			return "", err
		}
		switch {
		case sh.Departed:
			return "", refuse("shipment %s has departed", sh.ID)
		case sh.Client != "" && sh.Client != s.Client:
			return "", refuse("shipment %s is for client %s; %s belongs to %s", sh.ID, sh.Client, it.Key, s.Client)
		case len(sh.Orders) > 0 && s.Order != "" && !slices.Contains(sh.Orders, s.Order):
			return "", refuse("%s was picked for order %s, which is not on shipment %s", it.Key, s.Order, sh.ID)
		}
		all, err := tx.Descendants(it.Key)
		if err != nil {
			return "", err
		}
		for _, k := range append([]event.Key{it.Key}, all...) {
			u, err := tx.Unit(k)
			if err != nil {
				return "", err
			}
			inh, err := tx.Inherited(u)
			if err != nil {
				return "", err
			}
			if h := u.Holds | inh; h != 0 && u.Status != unit.StatusShipped {
				return "", alert("%s is on hold (%s): it must not leave; unpack it and take it to quarantine", k, h)
			}
		}
		_, res, err := w.emit(event.KindShip, s.Client, []event.Key{it.Key}, event.Context{Shipment: sh.ID, Destination: t.dest}, "")
		if err != nil {
			return "", err
		}
		if !slices.Contains(sh.Containers, it.Key) {
			sh.Containers = append(sh.Containers, it.Key)
		}
		put := tx.PutShipment
		if created {
			put = tx.CreateShipment // kept across reloads until the site has it
		}
		if err := put(sh); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s shipped on %s to %s (%d items)", it.Key, sh.ID, t.dest, len(res.Subjects)), nil
	})
}

// VoidShipment takes everything off a shipment that has not departed:
// shipped containers become packed (or picked) again.
func (e *Engine) VoidShipment(id string) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("void"); s != nil {
		return *s, nil
	}
	return e.write("void", "", func(w *writer) (string, error) {
		tx := w.tx
		sh, err := tx.Shipment(id)
		if errors.Is(err, store.ErrNotFound) {
			return "", refuse("no shipment %s on this device", id)
		}
		if err != nil {
			return "", err
		}
		if sh.Departed {
			return "", refuse("shipment %s has left the building: it cannot be voided", id)
		}
		if !e.user.Sees(sh.Client) {
			return "", refuse("shipment %s belongs to a client you are not granted", id)
		}
		on := tx.ShipmentUnits(id)
		var top []event.Key
		for _, k := range on {
			s, err := tx.Unit(k)
			if err != nil {
				return "", err
			}
			if s.Parent == "" || !slices.Contains(on, s.Parent) {
				top = append(top, k)
			}
		}
		if len(top) == 0 {
			return "", &errNothing{fmt.Sprintf("nothing is on shipment %s", id)}
		}
		for i := 0; i < len(top); i += event.MaxSubjects {
			chunk := top[i:min(i+event.MaxSubjects, len(top))]
			if _, _, err := w.emit(event.KindVoidShip, sh.Client, chunk, event.Context{Shipment: id}, ""); err != nil {
				return "", err
			}
		}
		sh.Containers = nil
		if err := tx.PutShipment(sh); err != nil {
			return "", err
		}
		return fmt.Sprintf("shipment %s voided: %d containers back to packed", id, len(top)), nil
	})
}

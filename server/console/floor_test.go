package console

import (
	"fmt"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
)

// The floor's and the outbound page's order progress: units picked,
// packed and shipped for each order, containers left out.
func TestOrderRowsCountTheOrdersUnits(t *testing.T) {
	st, err := state.Open(t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := command.New(st, 0)
	if err != nil {
		t.Fatal(err)
	}
	var idx uint64
	apply := func(data []byte) {
		t.Helper()
		idx++
		if err, ok := p.Apply([]command.Entry{{Index: idx, Data: data}})[0].(error); ok {
			t.Fatal(err)
		}
	}
	const gtin = "00300010123455"
	for _, m := range []struct {
		typ command.Type
		v   any
	}{
		{command.TypeSite, master.Site{ID: "site", Name: "Site", GLN: "0614141000005"}},
		{command.TypeClient, master.Client{ID: "acme", Name: "Acme"}},
		{command.TypeProduct, master.Product{GTIN: gtin, Client: "acme", Name: "Pill", CompanyPrefixLen: 7}},
		{command.TypeUser, master.User{ID: "admin", Role: master.RoleAdmin, Clients: []string{"*"}}},
		{command.TypeOrder, master.Order{ID: "O-1", Client: "acme", Customer: "Pharmacy", Lines: []master.OrderLine{{ID: "1", GTIN: gtin, Qty: 4}}}},
		{command.TypeOrder, master.Order{ID: "O-2", Client: "acme", Customer: "Clinic", Lines: []master.OrderLine{{ID: "1", GTIN: gtin, Qty: 1}}}},
	} {
		data, err := command.EncodeJSON(m.typ, m.v)
		if err != nil {
			t.Fatal(err)
		}
		apply(data)
	}
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var seq uint64
	ev := func(kind event.Kind, ctx event.Context, k event.Key) event.Event {
		seq++
		at = at.Add(time.Second)
		return event.Event{ID: event.ID{byte(seq >> 8), byte(seq), 1}, Device: "hh-1", Epoch: 1, Seq: seq, HLC: hlc.FromTime(at),
			User: "admin", Site: "site", Client: "acme", Kind: kind, Ctx: ctx, Subjects: []event.Subject{{Key: k}}}
	}
	unitKey := func(i int) event.Key { return event.SGTIN(gtin, fmt.Sprintf("S%d", i)) }
	box := event.SSCC("003000100000000015")
	var evs []event.Event
	for i := 1; i <= 4; i++ {
		evs = append(evs, ev(event.KindReceive, event.Context{To: "A-01", Lot: "L1", Expiry: "301231"}, unitKey(i)))
	}
	for i := 1; i <= 4; i++ {
		evs = append(evs, ev(event.KindPick, event.Context{Order: "O-1", Line: "1"}, unitKey(i)))
	}
	evs = append(evs,
		ev(event.KindPack, event.Context{Order: "O-1", Parent: box}, unitKey(2)),
		ev(event.KindShip, event.Context{Shipment: "SH-1"}, unitKey(3)),
		ev(event.KindUnpick, event.Context{Order: "O-1"}, unitKey(4)))
	apply(command.EncodeEvents(&command.Events{Received: hlc.FromTime(at), Events: evs}))

	var rows []planRow
	if err := st.View(func(r *state.Reader) error { var err error; rows, err = orderRows(r, nil, 10); return err }); err != nil {
		t.Fatal(err)
	}
	want := []planRow{
		{ID: "O-2", Client: "acme", Who: "Clinic", Ordered: 1},
		{ID: "O-1", Client: "acme", Who: "Pharmacy", Ordered: 4, Picked: 1, Packed: 1, Ships: 1},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
}

package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// A GTIN belongs to its product's client. Client a's operator cannot
// receive or expect a unit of client b's GTIN, announce it on an ASN,
// order it or ship it (400 naming the field, nothing proposed), and b's
// own receipt of that serial then applies.
func TestAnotherClientsGTINIsRefused(t *testing.T) {
	adm, _, _ := startTenants(t)
	op := adm.as("op-a")
	theirs := event.SGTIN(gtinB, "TAKEN1")
	for _, kind := range []event.Kind{event.KindReceive, event.KindExpect} {
		ev := newEvent(t, "api:op-a", 1, "op-a", "a", kind, event.Context{To: "A-01", ASN: "ASN-X", Lot: "L1", Expiry: "301231"}, theirs)
		code, _, b := op.do("POST", "/api/v1/events", map[string]any{"events": []event.Event{ev}})
		if code != http.StatusBadRequest || !strings.Contains(string(b), `"field":"events[0].subjects[0].key"`) || strings.Contains(string(b), `"b"`) {
			t.Errorf("op-a %s of b's GTIN: %d %s", kind, code, b)
		}
	}
	// The admin sees both clients, and is held to the rule all the same.
	ev := newEvent(t, "api:admin", 1, "admin", "a", event.KindReceive, event.Context{To: "A-01"}, theirs)
	if code, _, b := adm.do("POST", "/api/v1/events", map[string]any{"events": []event.Event{ev}}); code != http.StatusBadRequest {
		t.Errorf("admin receiving b's GTIN for a: %d %s", code, b)
	}
	for _, tc := range []struct {
		name, path, field string
		body              any
	}{
		{"ASN", "/api/v1/asns", "items[1].key", master.ASN{ID: "ASN-X", Client: "a", Supplier: "s", Items: []master.ASNItem{
			{Key: event.SGTIN(gtinA, "MINE1")}, {Key: theirs}}}},
		{"order", "/api/v1/orders", "lines[0].gtin", master.Order{ID: "SO-X", Client: "a", Customer: "c",
			Lines: []master.OrderLine{{ID: "1", GTIN: gtinB, Qty: 1}}}},
		{"shipment", "/api/v1/shipments", "containers[0]", master.Shipment{ID: "SH-X", Client: "a", Destination: "0614141000005",
			Containers: []event.Key{theirs}}},
	} {
		code, _, b := op.do("POST", tc.path, tc.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), `"field":"`+tc.field+`"`) {
			t.Errorf("op-a's %s with b's GTIN: %d %s", tc.name, code, b)
		}
	}
	for _, path := range []string{"/api/v1/asns/ASN-X", "/api/v1/orders/SO-X", "/api/v1/shipments/SH-X"} {
		if code, _, b := adm.do("GET", path+"?consistency=leader", nil); code != http.StatusNotFound {
			t.Errorf("%s stored: %d %s", path, code, b)
		}
	}
	// b receives its own serial.
	mine := newEvent(t, "api:op-b", 1, "op-b", "b", event.KindReceive, event.Context{To: "A-01", Lot: "L1", Expiry: "301231"}, theirs)
	var v verdicts
	adm.as("op-b").ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{mine}}, &v)
	if v.Verdicts[0].Status != "applied" || v.Verdicts[0].Result.Verdict != "applied" {
		t.Fatalf("b's own receipt: %+v", v.Verdicts)
	}
}

// A 404 for another client's record is the very same answer as a 404
// for no record at all, on every route that reads one record.
func TestNotFoundTellsNothingOfAnotherClient(t *testing.T) {
	adm, _, gb := startTenants(t)
	opB := adm.as("op-b")
	opB.ok("POST", "/api/v1/asns", master.ASN{ID: "ASN-B", Client: "b", Supplier: "s",
		Items: []master.ASNItem{{Key: event.SGTIN(gtinB, "ASN1")}}}, nil)
	opB.ok("POST", "/api/v1/orders", master.Order{ID: "SO-B", Client: "b", Customer: "c",
		Lines: []master.OrderLine{{ID: "1", GTIN: gtinB, Qty: 1}}}, nil)
	unitB := gb.Units()[0]
	opB.ok("POST", "/api/v1/shipments", master.Shipment{ID: "SH-B", Client: "b", Destination: "0614141000005",
		Containers: []event.Key{unitB}}, nil)
	var hold struct{ ID string }
	adm.ok("POST", "/api/v1/holds", map[string]any{"client": "b", "scope": "product", "gtin": gtinB, "reason": "investigation"}, &hold)
	evB := newEvent(t, "api:op-b", 1, "op-b", "b", event.KindCount, event.Context{}, unitB)
	opB.ok("POST", "/api/v1/events", map[string]any{"events": []event.Event{evB}}, nil)
	opB.ok("POST", "/api/v1/events", map[string]any{"events": gb.Mixed(200)}, nil)
	var xs struct{ Items []struct{ ID string } }
	opB.ok("GET", "/api/v1/exceptions?consistency=leader", nil, &xs)
	if len(xs.Items) == 0 {
		t.Fatal("client b has no exception to read")
	}
	noEvent, err := event.NewID(time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	opA := adm.as("op-a")
	for _, tc := range []struct {
		name, theirs, none string
	}{
		{"order", "/api/v1/orders/SO-B", "/api/v1/orders/SO-NONE"},
		{"shipment", "/api/v1/shipments/SH-B", "/api/v1/shipments/SH-NONE"},
		{"shipment EPCIS", "/api/v1/shipments/SH-B/epcis", "/api/v1/shipments/SH-NONE/epcis"},
		{"ASN", "/api/v1/asns/ASN-B", "/api/v1/asns/ASN-NONE"},
		{"exception", "/api/v1/exceptions/" + xs.Items[0].ID, "/api/v1/exceptions/NONE"},
		{"acknowledge", "POST /api/v1/exceptions/" + xs.Items[0].ID + "/acknowledge", "POST /api/v1/exceptions/NONE/acknowledge"},
		{"event", "/api/v1/events/" + evB.ID.String(), "/api/v1/events/" + noEvent.String()},
		{"product", "/api/v1/products/" + gtinB, "/api/v1/products/00300030123459"},
		{"unit", "/api/v1/units/" + string(unitB), "/api/v1/units/" + string(event.SGTIN(gtinB, "NONE"))},
		{"hold", "/api/v1/holds/" + hold.ID, "/api/v1/holds/NONE"},
		{"client", "/api/v1/clients/b", "/api/v1/clients/none"},
	} {
		for _, consistency := range []string{"", "?consistency=leader"} {
			get := func(route string) (int, []byte) {
				method := "GET"
				if m, p, ok := strings.Cut(route, " "); ok {
					method, route = m, p
				} else {
					route += consistency
				}
				code, _, b := opA.do(method, route, nil)
				return code, b
			}
			c1, b1 := get(tc.theirs)
			c2, b2 := get(tc.none)
			if c1 != http.StatusNotFound || c1 != c2 || !bytes.Equal(b1, b2) {
				t.Errorf("%s%s: b's record %d %s; no record %d %s", tc.name, consistency, c1, b1, c2, b2)
			}
		}
		// b's own user finds it.
		if !strings.HasPrefix(tc.theirs, "POST ") {
			if code, _, b := opB.do("GET", tc.theirs, nil); code != http.StatusOK {
				t.Errorf("%s: op-b reading its own record: %d %s", tc.name, code, b)
			}
		}
	}
}

// No route returns a user's PIN verifier: not /me, not the admin's user
// routes, not the answer to putting a user.
func TestNoRouteReturnsPINVerifiers(t *testing.T) {
	adm, _, _ := startTenants(t)
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	pin, err := master.NewPINVerifier("4711", salt)
	if err != nil {
		t.Fatal(err)
	}
	code, _, put := adm.do("PUT", "/api/v1/users/op-pin", master.User{Name: "Pin", Role: master.RoleOperator, Clients: []string{"a"}, PIN: pin})
	if code != http.StatusOK {
		t.Fatalf("put user: %d %s", code, put)
	}
	leaks := func(what string, b []byte) {
		t.Helper()
		var saltB64, hashB64 []byte
		saltB64, _ = json.Marshal(pin.Salt)
		hashB64, _ = json.Marshal(pin.Hash)
		for _, s := range [][]byte{[]byte(`"salt"`), []byte(`"iter"`), []byte(`"pin"`), bytes.Trim(saltB64, `"`), bytes.Trim(hashB64, `"`)} {
			if bytes.Contains(b, s) {
				t.Errorf("%s returns the PIN verifier (%s): %s", what, s, b)
			}
		}
	}
	leaks("PUT /users/op-pin", put)
	for _, tc := range []struct {
		as, path string
	}{
		{"op-pin", "/api/v1/me"},
		{"admin", "/api/v1/users/op-pin?consistency=leader"},
		{"admin", "/api/v1/users?consistency=leader"},
	} {
		code, _, b := adm.as(tc.as).do("GET", tc.path, nil)
		if code != http.StatusOK {
			t.Fatalf("%s as %s: %d %s", tc.path, tc.as, code, b)
		}
		leaks(tc.path, b)
		if tc.as == "op-pin" && !strings.Contains(string(b), `"hasPin":true`) {
			t.Errorf("%s does not say a PIN is set: %s", tc.path, b)
		}
	}
}

// Partners are the site's address book, shared by every client (see
// README.md, "Partners"): each user sees the same list, and a partner
// record carries nothing of any client.
func TestPartnersAreShared(t *testing.T) {
	adm, _, _ := startTenants(t)
	adm.ok("PUT", "/api/v1/partners/dist-1", master.Partner{Name: "Distributor", GLN: "0614141000005"}, nil)
	var want []byte
	for _, u := range []string{"op-a", "op-b", "admin"} {
		code, _, b := adm.as(u).do("GET", "/api/v1/partners?consistency=leader", nil)
		if code != http.StatusOK || !strings.Contains(string(b), `"dist-1"`) {
			t.Fatalf("partners as %s: %d %s", u, code, b)
		}
		if want != nil && !bytes.Equal(b, want) {
			t.Errorf("partners as %s differ: %s, want %s", u, b, want)
		}
		want = b
		var l struct{ Items []map[string]any }
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Items {
			for k := range p {
				if k != "id" && k != "name" && k != "gln" {
					t.Errorf("a partner carries %q: %v", k, p)
				}
			}
		}
	}
	if code, _, _ := adm.as("op-a").do("PUT", "/api/v1/partners/dist-2", master.Partner{Name: "X"}); code != http.StatusForbidden {
		t.Errorf("an operator wrote a partner: %d", code)
	}
}

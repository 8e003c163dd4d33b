package api_test

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"slices"
	"testing"

	"github.com/custodyhq/custody/server/serialdigest"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// The digest routes: a user gets digests of its own clients' received
// units only, finds units by digest, and a lead raises a network
// duplicate exception on a unit it sees.
func TestSerialDigests(t *testing.T) {
	adm, ga, gb := startTenants(t)
	key := bytes.Repeat([]byte{5}, 32)
	var page struct {
		Digests []byte `json:"digests"`
		Count   int    `json:"count"`
		Next    string `json:"next"`
	}
	adm.as("op-a").ok("POST", "/api/v1/digests", map[string]any{"key": key}, &page)
	ds, err := serialdigest.Decode(page.Digests)
	if err != nil || page.Count != len(ds) || len(ds) == 0 {
		t.Fatalf("digests: %v count %d len %d", err, page.Count, len(ds))
	}
	mine := map[uint64]bool{}
	for _, d := range ds {
		mine[d] = true
	}
	ua, ub := ga.Units()[0], gb.Units()[0]
	da, _ := serialdigest.Of(key, ua)
	db, _ := serialdigest.Of(key, ub)
	if !mine[da] || mine[db] {
		t.Fatalf("op-a's digests: has a's unit %v, has b's unit %v", mine[da], mine[db])
	}
	// Paging: one digest per page walks them all.
	n, after := 0, ""
	for {
		page.Next = "" // absent from the last page
		adm.as("op-a").ok("POST", "/api/v1/digests", map[string]any{"key": key, "limit": 1, "after": after}, &page)
		n += page.Count
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if n != len(ds) {
		t.Fatalf("paged %d digests, want %d", n, len(ds))
	}
	// The admin sees both clients; narrowed to b, a's unit is not there.
	adm.ok("POST", "/api/v1/digests", map[string]any{"key": key, "clients": []string{"b"}}, &page)
	ds, _ = serialdigest.Decode(page.Digests)
	if slices.Contains(ds, da) || !slices.Contains(ds, db) {
		t.Fatal("digests narrowed to client b")
	}
	if code := status(t, adm, "POST", "/api/v1/digests", map[string]any{"key": key[:8]}); code != http.StatusBadRequest {
		t.Fatalf("a short key: %d", code)
	}

	var found struct {
		Units []struct {
			Digest string    `json:"digest"`
			Unit   event.Key `json:"unit"`
		} `json:"units"`
	}
	hexOf := func(d uint64) string { return hex.EncodeToString(serialdigest.Encode([]uint64{d})) }
	adm.as("op-a").ok("POST", "/api/v1/digests/find", map[string]any{"key": key, "digests": []string{hexOf(da), hexOf(db)}}, &found)
	if len(found.Units) != 1 || found.Units[0].Unit != ua {
		t.Fatalf("op-a finds %+v", found.Units)
	}

	// Raising: a lead of a on a's unit; not on b's (404), not an operator (403).
	if code := status(t, adm.as("op-a"), "POST", "/api/v1/network-duplicates", map[string]any{"unit": ua, "sites": []string{"south"}}); code != http.StatusForbidden {
		t.Fatalf("an operator raises: %d", code)
	}
	if code := status(t, adm.as("lead-a"), "POST", "/api/v1/network-duplicates", map[string]any{"unit": ub, "sites": []string{"south"}}); code != http.StatusNotFound {
		t.Fatalf("lead-a raises on b's unit: %d", code)
	}
	if code := status(t, adm.as("lead-a"), "POST", "/api/v1/network-duplicates", map[string]any{"unit": ua}); code != http.StatusBadRequest {
		t.Fatalf("without sites: %d", code)
	}
	var res struct{ ID string }
	adm.as("lead-a").ok("POST", "/api/v1/network-duplicates", map[string]any{"unit": ua, "sites": []string{"south"}}, &res)
	var x unit.Exception
	adm.as("lead-a").ok("GET", "/api/v1/exceptions/"+res.ID, nil, &x)
	if x.Rule != unit.RuleDuplicateInNetwork || x.Severity != unit.SeverityHigh || x.Unit != ua {
		t.Fatalf("exception %+v", x)
	}
}

// Following the change feed: after a full read at index I, asking since
// I gives the digests of what was received after it, of the user's own
// clients only; asking again from the answer's index gives nothing new.
func TestSerialDigestsSince(t *testing.T) {
	adm, ga, gb := startTenants(t)
	key := bytes.Repeat([]byte{6}, 32)
	type page struct {
		Digests     []byte `json:"digests"`
		Count       int    `json:"count"`
		Index       uint64 `json:"index"`
		More        bool   `json:"more"`
		Gone        bool   `json:"gone"`
		Incarnation string `json:"incarnation"`
	}
	var full page
	adm.as("op-a").ok("POST", "/api/v1/digests", map[string]any{"key": key}, &full)
	if full.Index == 0 || full.Count == 0 {
		t.Fatalf("full read: %+v", full)
	}
	before := len(ga.Units())
	adm.as("op-a").ok("POST", "/api/v1/events", map[string]any{"events": ga.Receive(3)}, nil)
	adm.as("op-b").ok("POST", "/api/v1/events", map[string]any{"events": gb.Receive(3)}, nil)
	var inc page
	adm.as("op-a").ok("POST", "/api/v1/digests", map[string]any{"key": key, "since": full.Index}, &inc)
	got, err := serialdigest.Decode(inc.Digests)
	if err != nil || inc.Gone || inc.More || inc.Index <= full.Index || inc.Incarnation != full.Incarnation {
		t.Fatalf("since %d: %+v %v", full.Index, inc, err)
	}
	var want []uint64
	for _, u := range ga.Units()[before:] {
		d, _ := serialdigest.Of(key, u)
		want = append(want, d)
	}
	if !slices.Equal(serialdigest.Sort(got), serialdigest.Sort(want)) {
		t.Fatalf("since %d: %d digests, want a's %d new units", full.Index, len(got), len(want))
	}
	var again page
	adm.as("op-a").ok("POST", "/api/v1/digests", map[string]any{"key": key, "since": inc.Index}, &again)
	if again.Count != 0 || again.Index != inc.Index {
		t.Fatalf("since %d again: %+v", inc.Index, again)
	}

	// Finding a digest's unit among the feed's units or among named units.
	newA, oldA, newB := ga.Units()[before], ga.Units()[0], gb.Units()[len(gb.Units())-1]
	hexOf := func(k event.Key) string {
		d, _ := serialdigest.Of(key, k)
		return hex.EncodeToString(serialdigest.Encode([]uint64{d}))
	}
	type found struct {
		Units []struct {
			Unit event.Key `json:"unit"`
		} `json:"units"`
	}
	tests := []struct {
		name string
		req  map[string]any
		want []event.Key
	}{
		{"new unit since", map[string]any{"since": full.Index, "digests": []string{hexOf(newA)}}, []event.Key{newA}},
		{"old unit not since", map[string]any{"since": full.Index, "digests": []string{hexOf(oldA)}}, nil},
		{"named unit", map[string]any{"units": []event.Key{oldA}, "digests": []string{hexOf(oldA)}}, []event.Key{oldA}},
		{"named, other digest", map[string]any{"units": []event.Key{oldA}, "digests": []string{hexOf(newA)}}, nil},
		{"another client's unit named", map[string]any{"units": []event.Key{newB}, "digests": []string{hexOf(newB)}}, nil},
		{"another client's unit since", map[string]any{"since": full.Index, "digests": []string{hexOf(newB)}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req["key"] = key
			var f found
			adm.as("op-a").ok("POST", "/api/v1/digests/find", tc.req, &f)
			var got []event.Key
			for _, u := range f.Units {
				got = append(got, u.Unit)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("found %v, want %v", got, tc.want)
			}
		})
	}
	if code := status(t, adm.as("op-a"), "POST", "/api/v1/digests/find", map[string]any{"key": key, "digests": []string{hexOf(newA)}, "units": []string{"not a key"}}); code != http.StatusBadRequest {
		t.Fatalf("a malformed unit key: %d", code)
	}
}

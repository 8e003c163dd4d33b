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

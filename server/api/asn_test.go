package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/sitetest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
)

// largeASN is an ASN of n items: a case every 51 items, its units inside.
func largeASN(n int) master.ASN {
	a := master.ASN{ID: "ASN-LARGE", Client: "a", Supplier: "sup"}
	var parent event.Key
	for i := range n {
		if i%51 == 0 {
			parent = event.SSCC(ssccOf(i))
			a.Items = append(a.Items, master.ASNItem{Key: parent})
			continue
		}
		a.Items = append(a.Items, master.ASNItem{Key: event.SGTIN(gtinA, fmt.Sprintf("U%07d", i)), Parent: parent, Lot: "LOT1", Expiry: "301231"})
	}
	return a
}

// ssccOf is a valid SSCC-18 for n.
func ssccOf(n int) string {
	body := fmt.Sprintf("00300010%09d", n)
	sum := 0
	for i := range body {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return body + fmt.Sprint((10-sum%10)%10)
}

type asnImport struct {
	ASN      string `json:"asn"`
	Items    int    `json:"items"`
	Verdicts []struct {
		ID     event.ID `json:"id"`
		Seq    uint64   `json:"seq"`
		Status string   `json:"status"`
		Index  uint64   `json:"index"`
	} `json:"verdicts"`
}

// TestLargeASNImportOnThreeNodes: a 30,000-item ASN imported through a
// follower goes into the log as bounded entries, none of which split its
// state transaction on any replica; the replicas end with the same state
// and the whole ASN record; the response answers every item in order;
// importing it again answers duplicates and changes nothing.
func TestLargeASNImportOnThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("three nodes, 30,000 items")
	}
	site := sitetest.Start(t, sitetest.Options{Nodes: 3})
	leader := site.WaitLeader(30 * time.Second)
	adm := client{t: t, base: site.Follower().URL(), user: "admin"}
	setupTenants(t, adm)
	const n = 30000
	a := largeASN(n)
	// A field too long for the expect event it becomes is refused before
	// anything is proposed.
	bad := largeASN(3)
	bad.Items[1].Lot = strings.Repeat("L", event.MaxField+1)
	if code, _, b := adm.do("POST", "/api/v1/asns", bad); code != http.StatusBadRequest {
		t.Fatalf("a lot of %d bytes: %d %s", len(bad.Items[1].Lot), code, b)
	}
	ids := command.ASNEventIDs(&a)

	start := time.Now()
	var first asnImport
	adm.ok("POST", "/api/v1/asns", a, &first)
	t.Logf("imported %d items in %v", n, time.Since(start))
	if first.ASN != a.ID || first.Items != n || len(first.Verdicts) != n {
		t.Fatalf("import answered %s, %d items, %d verdicts", first.ASN, first.Items, len(first.Verdicts))
	}
	entries := map[uint64]int{}
	for i, v := range first.Verdicts {
		if v.Seq != uint64(i+1) || v.ID != ids[i] || v.Status != "applied" || v.Index == 0 ||
			i > 0 && v.Index < first.Verdicts[i-1].Index {
			t.Fatalf("item %d: %+v", i, v)
		}
		entries[v.Index]++
	}
	for idx, items := range entries {
		if items > command.MaxASNChunk {
			t.Fatalf("entry %d carried %d items", idx, items)
		}
	}
	if len(entries) < n/command.MaxASNChunk {
		t.Fatalf("%d items in %d entries", n, len(entries))
	}

	site.WaitConverged(60 * time.Second)
	hash := func(m *sitetest.Member) string {
		var h string
		if err := m.Node.State().View(func(r *state.Reader) error { var err error; h, err = r.Hash(); return err }); err != nil {
			t.Fatal(err)
		}
		return h
	}
	for _, m := range site.Members {
		err := m.Node.State().View(func(r *state.Reader) error {
			rec, err := r.ASN(a.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(rec, a) {
				t.Errorf("%s: ASN record of %d items, not the ASN imported", m.ID, len(rec.Items))
			}
			split, err := r.SplitEntries(ids)
			if err != nil {
				return err
			}
			if len(split) > 0 {
				t.Errorf("%s: the transactions of entries %v split", m.ID, split)
			}
			staged, err := r.ASNStaged(a.ID, command.ASNDigest(&a))
			if staged != 0 {
				t.Errorf("%s: %d items still staged", m.ID, staged)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	before := hash(leader)

	// Sent again (a client that never saw the answer): every item a
	// duplicate of its first verdict, the state unchanged.
	var again asnImport
	client{t: t, base: leader.URL(), user: "admin"}.ok("POST", "/api/v1/asns", a, &again)
	if len(again.Verdicts) != n {
		t.Fatalf("%d verdicts", len(again.Verdicts))
	}
	for i, v := range again.Verdicts {
		if v.Status != "duplicate" || v.Index != first.Verdicts[i].Index || v.ID != ids[i] {
			t.Fatalf("item %d sent again: %+v, first %+v", i, v, first.Verdicts[i])
		}
	}
	site.WaitConverged(60 * time.Second)
	for _, m := range site.Members {
		if h := hash(m); h != before {
			t.Fatalf("%s: importing the same ASN again changed the state", m.ID)
		}
	}
	var got master.ASN
	adm.ok(http.MethodGet, "/api/v1/asns/"+a.ID, nil, &got)
	if len(got.Items) != n {
		t.Fatalf("GET answers %d items", len(got.Items))
	}
}

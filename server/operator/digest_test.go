package operator

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodyhq/custody/server/serialdigest"
	"github.com/custodyhq/custody/shared/event"
)

// TestReadSiteFallsBack: a site whose feed no longer reaches the
// operator's cursor, or whose log is another incarnation now, is read
// whole, from the index of the first page on. (A fake site at the HTTP
// seam: a real one keeps at least 65,536 feed references, more than a
// test can push out.)
func TestReadSiteFallsBack(t *testing.T) {
	tests := []struct {
		name        string
		gone        bool
		incarnation string
		whole       bool
		old         bool // a site that ignores since: it answers a first page of every unit
	}{
		{"feed reaches the cursor", false, "life-1", false, false},
		{"feed gone", true, "life-1", true, false},
		{"another incarnation", false, "life-2", true, false},
		{"a site that does not follow its feed for digests", false, "", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sinceAsked int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var req struct {
					Since *uint64 `json:"since"`
					After string  `json:"after"`
				}
				body, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(body, &req); err != nil || r.URL.Path != "/api/v1/digests" {
					http.Error(w, "bad request", http.StatusBadRequest)
					return
				}
				var a digestAnswer
				switch {
				case req.Since != nil && !tc.old:
					sinceAsked++
					a = digestAnswer{Gone: tc.gone, Incarnation: tc.incarnation, Index: 50}
					if !tc.gone {
						a.Digests = serialdigest.Encode([]uint64{9})
					}
				case req.After == "":
					if req.Since != nil {
						sinceAsked++
					}
					a = digestAnswer{Digests: serialdigest.Encode([]uint64{3, 1}), Next: "k", Index: 42, Incarnation: tc.incarnation}
					if tc.old {
						a.Index = 0
					}
				default:
					a = digestAnswer{Digests: serialdigest.Encode([]uint64{2}), Index: 43, Incarnation: tc.incarnation}
				}
				_ = json.NewEncoder(w).Encode(a)
			}))
			defer srv.Close()
			c, err := newSiteClient(Site{ID: "s", URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			d := &digests{o: &Operator{log: slog.New(slog.NewTextHandler(io.Discard, nil))}, key: make([]byte, 32)}
			since := uint64(10)
			got, err := d.readSite(context.Background(), c, &since, "life-1")
			if err != nil {
				t.Fatal(err)
			}
			if sinceAsked != 1 || got.whole != tc.whole {
				t.Fatalf("asked since %d times, whole %v", sinceAsked, got.whole)
			}
			want := siteDigests{site: "s", ds: []uint64{9}, index: 50, incarnation: "life-1"}
			if tc.whole {
				want = siteDigests{site: "s", whole: true, ds: []uint64{1, 2, 3}, index: 42, incarnation: tc.incarnation}
				if tc.old {
					want.index = 0 // followed from the start: whatever the site says, nothing is skipped
				}
			}
			if got.index != want.index || got.incarnation != want.incarnation || !slices.Equal(got.ds, want.ds) {
				t.Fatalf("read %+v, want %+v", got, want)
			}
		})
	}
}

// TestDuplicatesPageWhileRaising: the duplicates page reads the rows
// while a round raises a pending match again (a site back from down);
// run with -race (task test:race), a row changed in place is a race.
func TestDuplicatesPageWhileRaising(t *testing.T) {
	e := newEnv(t)
	north, south := e.sites[0], e.sites[1]
	dup := event.SGTIN(gtinA, "CLONE9")
	north.receive("a", dup, "L1")
	e.poll()
	m := north.site.Members[0]
	north.site.Stop(m)
	south.receive("a", dup, "L1")
	e.poll()
	north.site.Restart(m)
	north.site.WaitLeader(30 * time.Second)
	all := signedIn(t, e, "all", "all password 1")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				all.Do("GET", "/duplicates", nil)
			}
		}
	}()
	e.poll()
	close(stop)
	wg.Wait()
	if p := all.Page("/duplicates"); strings.Count(p, "✓ <a href=") != 2 {
		t.Fatalf("after north is back, the duplicate is not flagged at both: %.3000s", p)
	}
}

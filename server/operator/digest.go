package operator

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/serialdigest"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Cross-site duplicate serials. After each round of reads the operator
// reads every answering site's serial digests (keyed hashes of the GTIN
// and serial of what it received, for the clients configured for it
// there), keeps each site's list sorted, and merges the lists
// (serialdigest.Find). A digest at two or more sites is confirmed by
// asking those sites which units have it (the unit keys must be equal,
// so a chance collision of digests raises nothing), then each site is
// asked to raise a DUPLICATE_IN_NETWORK exception on its unit, naming
// the other sites. A site that did not answer keeps its last list: a
// duplicate with a site that is down now is still found, and raised at
// that site once it answers.

// digestPage is how many digests one request asks for.
const digestPage = 200_000

// digests keeps the sites' digest lists and the duplicates found.
type digests struct {
	o   *Operator
	key []byte
	// mu guards lists, read, rows and stats.
	mu      sync.Mutex
	lists   map[string][]uint64 // site → sorted digests
	read    map[string]time.Time
	applied map[string]uint64  // site → its applied index when its list was read
	reads   int                // lists read (for tests)
	rows    map[string]*dupRow // digest (hex) → row
	matched time.Time
	took    time.Duration
	count   int
}

func newDigests(o *Operator, key []byte) (*digests, error) {
	if err := serialdigest.CheckKey(key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	d := &digests{o: o, key: key, lists: map[string][]uint64{}, read: map[string]time.Time{}, applied: map[string]uint64{}, rows: map[string]*dupRow{}}
	var rows []*dupRow
	if _, err := o.cache.getJSON(keyDuplicates, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		d.rows[r.Digest] = r
	}
	return d, nil
}

type dupFlag struct {
	Site    string `json:"site"`
	Outcome string `json:"outcome"`
	OK      bool   `json:"ok"`
	Link    string `json:"link,omitempty"` // the exception at the site's console
}

type dupRow struct {
	Digest  string    `json:"digest"`
	Unit    event.Key `json:"unit"`
	Client  string    `json:"client"`
	Sites   []string  `json:"sites"`
	Found   time.Time `json:"found"`
	Flagged []dupFlag `json:"flagged"`
}

// done reports whether every site of the row raised its exception.
func (r *dupRow) done() bool {
	if len(r.Flagged) != len(r.Sites) {
		return false
	}
	for _, f := range r.Flagged {
		if !f.OK {
			return false
		}
	}
	return true
}

// round reads the digests of the sites that answered this round and
// whose state moved since their list was read, and matches them; at
// most every DigestEvery.
func (d *digests) round(ctx context.Context) {
	start := d.o.cfg.Now()
	d.mu.Lock()
	early := !d.matched.IsZero() && start.Sub(d.matched) < d.o.cfg.DigestEvery
	d.mu.Unlock()
	if early {
		return
	}
	up := map[string]bool{}
	applied := map[string]uint64{}
	for _, s := range d.o.poller.snapshots() {
		up[s.Site], applied[s.Site] = s.Up, s.Applied
	}
	var wg sync.WaitGroup
	for _, c := range d.o.sites {
		d.mu.Lock()
		same := d.lists[c.site.ID] != nil && applied[c.site.ID] != 0 && d.applied[c.site.ID] == applied[c.site.ID]
		d.mu.Unlock()
		if !up[c.site.ID] || same {
			continue
		}
		wg.Add(1)
		go func(c *siteClient) {
			defer wg.Done()
			// A full list takes longer than one read: ten timeouts.
			rctx, cancel := context.WithTimeout(ctx, 10*d.o.cfg.Timeout)
			defer cancel()
			l, err := d.readSite(rctx, c)
			if err != nil {
				d.o.log.Info("operator: serial digests not read", "site", c.site.ID, "err", err)
				return
			}
			d.mu.Lock()
			d.lists[c.site.ID], d.read[c.site.ID], d.applied[c.site.ID] = l, d.o.cfg.Now(), applied[c.site.ID]
			d.reads++
			d.mu.Unlock()
		}(c)
	}
	wg.Wait()
	d.mu.Lock()
	ids := make([]string, 0, len(d.lists))
	for _, c := range d.o.sites {
		if d.lists[c.site.ID] != nil {
			ids = append(ids, c.site.ID)
		}
	}
	lists := make([][]uint64, len(ids))
	n := 0
	for i, id := range ids {
		lists[i] = d.lists[id]
		n += len(lists[i])
	}
	d.mu.Unlock()
	matches := serialdigest.Find(lists)
	d.mu.Lock()
	d.matched, d.took, d.count = d.o.cfg.Now(), d.o.cfg.Now().Sub(start), n
	d.mu.Unlock()
	for _, m := range matches {
		sites := make([]string, len(m.Sites))
		for i, s := range m.Sites {
			sites[i] = ids[s]
		}
		d.raise(ctx, m.Digest, sites, up)
	}
}

func (d *digests) readSite(ctx context.Context, c *siteClient) ([]uint64, error) {
	var out []uint64
	after := ""
	for {
		var page struct {
			Digests []byte `json:"digests"`
			Next    string `json:"next"`
		}
		body, _ := json.Marshal(map[string]any{"key": d.key, "after": after, "limit": digestPage, "clients": c.site.Clients})
		if err := c.do(ctx, http.MethodPost, "/api/v1/digests", bytes.NewReader(body), &page); err != nil {
			return nil, err
		}
		ds, err := serialdigest.Decode(page.Digests)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrAnswer, err)
		}
		out = append(out, ds...)
		if page.Next == "" {
			return serialdigest.Sort(out), nil
		}
		after = page.Next
	}
}

// raise confirms a digest found at sites and asks each answering site
// to raise its exception, once per site.
func (d *digests) raise(ctx context.Context, digest uint64, sites []string, up map[string]bool) {
	h := hex.EncodeToString(serialdigest.Encode([]uint64{digest}))
	d.mu.Lock()
	row := d.rows[h]
	if row != nil && row.done() && slices.Equal(row.Sites, sites) {
		d.mu.Unlock()
		return
	}
	var prev []dupFlag
	if row != nil {
		prev = row.Flagged
	}
	d.mu.Unlock()
	// Confirm: the same unit at every site.
	units := map[string]event.Key{}
	for _, id := range sites {
		if !up[id] {
			continue
		}
		c := d.o.bySite[id]
		rctx, cancel := context.WithTimeout(ctx, 10*d.o.cfg.Timeout)
		var found struct {
			Units []struct {
				Unit event.Key `json:"unit"`
			} `json:"units"`
		}
		body, _ := json.Marshal(map[string]any{"key": d.key, "digests": []string{h}, "clients": c.site.Clients})
		err := c.do(rctx, http.MethodPost, "/api/v1/digests/find", bytes.NewReader(body), &found)
		cancel()
		if err != nil || len(found.Units) != 1 {
			d.o.log.Info("operator: a digest match not confirmed", "site", id, "digest", h, "err", err, "units", len(found.Units))
			return
		}
		units[id] = found.Units[0].Unit
	}
	var k event.Key
	for _, u := range units {
		if k != "" && u != k {
			d.o.log.Info("operator: digests collide for different units; nothing raised", "digest", h)
			return
		}
		k = u
	}
	if k == "" {
		return
	}
	if row == nil {
		row = &dupRow{Digest: h, Unit: k, Found: d.o.cfg.Now()}
	}
	row.Sites = sites
	flags := make([]dupFlag, 0, len(sites))
	for _, id := range sites {
		if f := flagOf(prev, id); f.OK {
			flags = append(flags, f)
			continue
		}
		if !up[id] {
			flags = append(flags, dupFlag{Site: id, Outcome: "site down: raised when it answers"})
			continue
		}
		var others []string
		for _, o := range sites {
			if o != id {
				others = append(others, d.o.siteName(o))
			}
		}
		c := d.o.bySite[id]
		if row.Client == "" {
			var uv struct {
				Unit unit.State `json:"unit"`
			}
			rctx, cancel := context.WithTimeout(ctx, d.o.cfg.Timeout)
			if err := c.get(rctx, "/api/v1/units/"+url.PathEscape(string(k)), url.Values{"history": {"1"}}, &uv); err == nil {
				row.Client = uv.Unit.Client
			}
			cancel()
		}
		body, _ := json.Marshal(map[string]any{"unit": k, "sites": others})
		var res struct {
			ID string `json:"id"`
		}
		rctx, cancel := context.WithTimeout(ctx, d.o.cfg.Timeout)
		err := c.do(rctx, http.MethodPost, "/api/v1/network-duplicates", bytes.NewReader(body), &res)
		cancel()
		f := dupFlag{Site: id, OK: err == nil, Outcome: "exception " + res.ID, Link: c.consoleURL() + "/exceptions/" + url.PathEscape(res.ID)}
		if err != nil {
			f.Outcome = err.Error()
			if forbidden(err) {
				f.Outcome = "refused: the operator's user there is not a lead"
			}
		}
		flags = append(flags, f)
	}
	row.Flagged = flags
	d.mu.Lock()
	d.rows[h] = row
	all := make([]*dupRow, 0, len(d.rows))
	for _, r := range d.rows {
		all = append(all, r)
	}
	d.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Digest < all[j].Digest })
	if err := d.o.cache.putJSON(keyDuplicates, all); err != nil {
		d.o.log.Warn("operator: cache the duplicates", "err", err)
	}
	d.o.log.Warn("operator: serial received at more than one site", "unit", k, "sites", sites)
}

func flagOf(fs []dupFlag, site string) dupFlag {
	for _, f := range fs {
		if f.Site == site {
			return f
		}
	}
	return dupFlag{}
}

type duplicatesView struct {
	Enabled bool
	Matched time.Time
	Took    time.Duration
	Digests int
	Sites   int
	Rows    []dupRow
}

func (o *Operator) duplicatesPage(x *fiber.Ctx) error {
	v := duplicatesView{Enabled: o.digests != nil}
	if o.digests == nil {
		return o.render(x, "duplicates", "Duplicates", v)
	}
	u := currentUser(x)
	d := o.digests
	d.mu.Lock()
	v.Matched, v.Took, v.Digests, v.Sites = d.matched, d.took.Round(time.Millisecond), d.count, len(d.lists)
	for _, r := range d.rows {
		see := false
		for _, s := range r.Sites {
			if c := o.bySite[s]; c != nil && sees(u, c, r.Client) {
				see = true
			}
		}
		if see {
			v.Rows = append(v.Rows, *r)
		}
	}
	d.mu.Unlock()
	sort.Slice(v.Rows, func(i, j int) bool { return v.Rows[i].Found.After(v.Rows[j].Found) })
	return o.render(x, "duplicates", "Duplicates", v)
}

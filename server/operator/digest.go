package operator

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
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

// Cross-site duplicate serials. The operator keeps, per answering site,
// the set of serial digests (keyed hashes of the GTIN and serial) of
// what the site received for the clients configured for it there. The
// first read of a site is every unit's digest, page by page; after it
// the operator follows the site's change feed from the index of that
// first page (POST /api/v1/digests with since), so a round reads only
// what changed since the last one. A round that brought a whole list
// merges every set (serialdigest.Find, the k-way merge); a round of
// increments looks each new digest up in every other site's set
// (serialdigest.FindNew), milliseconds however large the sets. A site
// whose feed no longer reaches back to its cursor, or whose log was
// restored from a backup (another incarnation), is read whole again.
//
// A digest at two or more sites is confirmed by asking those sites
// which units have it (the unit keys must be equal, so a chance
// collision of digests raises nothing), then each site is asked to
// raise a DUPLICATE_IN_NETWORK exception on its unit, naming the other
// sites. A site that did not answer keeps its last set: a duplicate with
// a site that is down now is still found, and raised at that site once
// it answers.

// digestPage is how many digests (or feed references) one request asks for.
const digestPage = 200_000

// digests keeps the sites' digest sets and the duplicates found.
type digests struct {
	o   *Operator
	key []byte
	// sets, cursor and incarnation are read and written by round only
	// (the poller's goroutine).
	sets        map[string]*serialdigest.Set // site → digests of what it received
	cursor      map[string]uint64            // site → feed index its set reflects
	incarnation map[string]string            // site → the incarnation of that index
	// retry holds the matches not yet raised at every site (a site down,
	// a confirmation that failed): tried again each round.
	retry map[uint64]*pending
	// mu guards what follows.
	mu        sync.Mutex
	read      map[string]time.Time
	reads     int                // sites read, whole or by increment (for tests)
	fullReads int                // sites read whole (for tests)
	rows      map[string]*dupRow // digest (hex) → row
	matched   time.Time
	took      time.Duration
	count     int  // digests held over all sites
	fresh     int  // new digests the last round matched
	full      bool // the last round merged whole sets
	nsets     int
}

func newDigests(o *Operator, key []byte) (*digests, error) {
	if err := serialdigest.CheckKey(key); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	d := &digests{o: o, key: key, sets: map[string]*serialdigest.Set{}, cursor: map[string]uint64{}, incarnation: map[string]string{},
		retry: map[uint64]*pending{}, read: map[string]time.Time{}, rows: map[string]*dupRow{}}
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

// pending is a match to raise: its sites, and for those where it was
// new this round, the feed index after which it arrived there (so the
// site finds its unit among the units changed since, not among all).
type pending struct {
	sites []string
	since map[string]uint64
	unit  event.Key // the unit once a site named it: later rounds ask about it alone
	tries int       // rounds in which the match could not be confirmed
}

// maxTries is how many rounds a match that no site confirms is tried.
const maxTries = 5

// siteDigests is what one round read from one site.
type siteDigests struct {
	site        string
	from        uint64   // the cursor the read followed the feed from
	whole       bool     // every unit's digest (else: the feed since the cursor)
	ds          []uint64 // sorted without repeats
	index       uint64   // the feed index the read reflects
	incarnation string
}

// round reads the digests of the sites that answered this round and
// whose state moved since their set was read, and matches what is new;
// at most every DigestEvery.
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
	var (
		wg   sync.WaitGroup
		rmu  sync.Mutex
		read []siteDigests
	)
	for _, c := range d.o.sites {
		id := c.site.ID
		d.mu.Lock()
		// Nothing new: the set reflects the feed up to what the site
		// (its leader) has applied. The set's own index, not the leader's
		// when it was read: a read answered by a lagging node reflects less.
		same := d.sets[id] != nil && applied[id] != 0 && d.cursor[id] >= applied[id]
		d.mu.Unlock()
		if !up[id] || same {
			continue
		}
		var since *uint64
		if d.sets[id] != nil {
			cur := d.cursor[id]
			since = &cur
		}
		wg.Add(1)
		go func(c *siteClient, since *uint64, incarnation string) {
			defer wg.Done()
			// A whole list takes longer than one read: ten timeouts.
			rctx, cancel := context.WithTimeout(ctx, 10*d.o.cfg.Timeout)
			defer cancel()
			r, err := d.readSite(rctx, c, since, incarnation)
			if err != nil {
				d.o.log.Info("operator: serial digests not read", "site", c.site.ID, "err", err)
				return
			}
			rmu.Lock()
			read = append(read, r)
			rmu.Unlock()
		}(c, since, d.incarnation[id])
	}
	wg.Wait()
	whole := false
	byID := map[string]siteDigests{}
	for _, r := range read {
		byID[r.site] = r
		whole = whole || r.whole
	}
	var (
		ids   []string
		sets  []*serialdigest.Set
		fresh [][]uint64
		n     int
		nnew  int
	)
	for _, c := range d.o.sites {
		id := c.site.ID
		r, ok := byID[id]
		var f []uint64
		if ok {
			if r.whole || d.sets[id] == nil {
				d.sets[id] = serialdigest.NewSet(r.ds)
				f = r.ds
			} else {
				f = d.sets[id].Add(r.ds)
			}
			d.cursor[id], d.incarnation[id] = r.index, r.incarnation
		}
		if d.sets[id] == nil {
			continue
		}
		ids, sets, fresh = append(ids, id), append(sets, d.sets[id]), append(fresh, f)
		n += d.sets[id].Len()
		nnew += len(f)
	}
	var matches []serialdigest.Match
	if whole {
		lists := make([][]uint64, len(sets))
		for i, s := range sets {
			lists[i] = s.Sorted()
		}
		matches = serialdigest.Find(lists)
	} else if nnew > 0 {
		matches = serialdigest.FindNew(sets, fresh)
	}
	d.mu.Lock()
	for _, r := range read {
		d.read[r.site] = d.o.cfg.Now()
		d.reads++
		if r.whole {
			d.fullReads++
		}
	}
	d.matched, d.took, d.count, d.fresh, d.full, d.nsets = d.o.cfg.Now(), d.o.cfg.Now().Sub(start), n, nnew, whole, len(sets)
	d.mu.Unlock()
	for _, m := range matches {
		p := pending{sites: make([]string, len(m.Sites)), since: map[string]uint64{}}
		for i, s := range m.Sites {
			p.sites[i] = ids[s]
			if r, ok := byID[ids[s]]; ok && !r.whole {
				if _, isNew := slices.BinarySearch(fresh[s], m.Digest); isNew {
					p.since[ids[s]] = r.from
				}
			}
		}
		if old, ok := d.retry[m.Digest]; ok && slices.Equal(old.sites, p.sites) {
			continue // already pending, with what it learned
		}
		d.retry[m.Digest] = &p
	}
	for _, dg := range slices.Sorted(maps.Keys(d.retry)) {
		if d.raise(ctx, dg, d.retry[dg], up) {
			delete(d.retry, dg)
		}
	}
}

// digestAnswer is a site's answer to POST /api/v1/digests.
type digestAnswer struct {
	Digests     []byte `json:"digests"`
	Next        string `json:"next"`
	Index       uint64 `json:"index"`
	More        bool   `json:"more"`
	Gone        bool   `json:"gone"`
	Incarnation string `json:"incarnation"`
}

// readSite reads a site's digests: what changed since *since when the
// site's feed still reaches back to it in the same incarnation, else
// every unit's.
func (d *digests) readSite(ctx context.Context, c *siteClient, since *uint64, incarnation string) (siteDigests, error) {
	if since != nil {
		out := siteDigests{site: c.site.ID, from: *since, index: *since, incarnation: incarnation}
		for {
			var a digestAnswer
			body, _ := json.Marshal(map[string]any{"key": d.key, "since": out.index, "limit": digestPage, "clients": c.site.Clients})
			if err := c.do(ctx, http.MethodPost, "/api/v1/digests", bytes.NewReader(body), &a); err != nil {
				return siteDigests{}, err
			}
			if a.Gone || a.Incarnation != incarnation || a.Next != "" || a.Index == 0 {
				// The feed no longer reaches the cursor, the log is another
				// life, or the site does not follow its feed for digests
				// (a version that ignores since answers a page of units).
				d.o.log.Info("operator: a site's feed does not reach its cursor; reading it whole", "site", c.site.ID,
					"cursor", *since, "gone", a.Gone, "incarnation", a.Incarnation, "index", a.Index)
				return d.readSite(ctx, c, nil, "")
			}
			ds, err := serialdigest.Decode(a.Digests)
			if err != nil {
				return siteDigests{}, fmt.Errorf("%w: %v", ErrAnswer, err)
			}
			out.ds = append(out.ds, ds...)
			out.index = a.Index
			if !a.More {
				out.ds = serialdigest.Sort(out.ds)
				return out, nil
			}
		}
	}
	out := siteDigests{site: c.site.ID, whole: true}
	after := ""
	for first := true; ; first = false {
		var a digestAnswer
		body, _ := json.Marshal(map[string]any{"key": d.key, "after": after, "limit": digestPage, "clients": c.site.Clients})
		if err := c.do(ctx, http.MethodPost, "/api/v1/digests", bytes.NewReader(body), &a); err != nil {
			return siteDigests{}, err
		}
		ds, err := serialdigest.Decode(a.Digests)
		if err != nil {
			return siteDigests{}, fmt.Errorf("%w: %v", ErrAnswer, err)
		}
		if first {
			// What is received while the pages are read is in the feed after this index.
			out.index, out.incarnation = a.Index, a.Incarnation
		}
		out.ds = append(out.ds, ds...)
		if a.Next == "" {
			out.ds = serialdigest.Sort(out.ds)
			return out, nil
		}
		after = a.Next
	}
}

// raise confirms a digest found at sites and asks each answering site
// to raise its exception, once per site. It reports whether the match
// is settled: raised at every site, or given up (no site names one unit
// for it, round after round: digests of different units, or units the
// operator may no longer see).
//
// Confirming costs little however large the sites: a site where the
// digest is new finds its unit among the units its feed names since the
// round's cursor; the other sites are asked about that unit alone, and
// so are all of them in later rounds (p.unit). Only a match found by
// merging whole sets makes a site look among all its units.
func (d *digests) raise(ctx context.Context, digest uint64, p *pending, up map[string]bool) bool {
	sites := p.sites
	h := hex.EncodeToString(serialdigest.Encode([]uint64{digest}))
	d.mu.Lock()
	var cur dupRow
	if r := d.rows[h]; r != nil {
		cur = *r
	}
	d.mu.Unlock()
	if cur.Digest != "" && cur.done() && slices.Equal(cur.Sites, sites) {
		return true
	}
	find := func(id string, req map[string]any) ([]event.Key, error) {
		c := d.o.bySite[id]
		rctx, cancel := context.WithTimeout(ctx, 10*d.o.cfg.Timeout)
		defer cancel()
		var found struct {
			Units []struct {
				Unit event.Key `json:"unit"`
			} `json:"units"`
		}
		req["key"], req["digests"], req["clients"] = d.key, []string{h}, c.site.Clients
		body, _ := json.Marshal(req)
		if err := c.do(rctx, http.MethodPost, "/api/v1/digests/find", bytes.NewReader(body), &found); err != nil {
			return nil, err
		}
		out := make([]event.Key, len(found.Units))
		for i, u := range found.Units {
			out[i] = u.Unit
		}
		return out, nil
	}
	giveUp := func(why string) bool {
		if p.tries++; p.tries < maxTries {
			return false
		}
		d.o.log.Info("operator: a digest match given up", "digest", h, "sites", sites, "why", why)
		return true
	}
	// Learn the unit: where the digest is new, among the units changed
	// since; else (a whole merge) among every unit of the first
	// answering site.
	if p.unit == "" {
		var order []string
		for _, id := range sites {
			if _, isNew := p.since[id]; isNew {
				order = append(order, id)
			}
		}
		order = append(order, sites...)
		for _, id := range order {
			if !up[id] {
				continue
			}
			req := map[string]any{}
			if since, isNew := p.since[id]; isNew {
				req["since"] = since
			}
			ks, err := find(id, req)
			if err != nil {
				d.o.log.Info("operator: a digest match not confirmed", "site", id, "digest", h, "err", err)
				return false
			}
			if len(ks) > 1 {
				d.o.log.Info("operator: one digest for several units at a site; nothing raised", "site", id, "digest", h, "units", len(ks))
				return true
			}
			if len(ks) == 1 {
				p.unit = ks[0]
				break
			}
			if _, isNew := p.since[id]; !isNew {
				break // a scan of every unit found nothing: no use scanning the others
			}
		}
		if p.unit == "" {
			return giveUp("no site names a unit for it")
		}
	}
	// Every answering site must hold that very unit.
	for _, id := range sites {
		if !up[id] {
			continue
		}
		ks, err := find(id, map[string]any{"units": []event.Key{p.unit}})
		if err != nil {
			d.o.log.Info("operator: a digest match not confirmed", "site", id, "digest", h, "err", err)
			return false
		}
		if len(ks) != 1 {
			return giveUp("a site does not hold the unit another holds: digests of different units")
		}
	}
	k := p.unit
	row := &cur
	if cur.Digest == "" {
		row = &dupRow{Digest: h, Unit: k, Found: d.o.cfg.Now()}
	}
	prev := row.Flagged
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
	return row.done()
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
	Took    string
	Digests int
	Fresh   int  // new digests the last round matched
	Whole   bool // the last round merged whole sets
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
	v.Matched, v.Took, v.Digests, v.Fresh, v.Whole, v.Sites = d.matched, tookText(d.took), d.count, d.fresh, d.full, d.nsets
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

// tookText is a round's duration as the page says it.
func tookText(d time.Duration) string {
	if d < time.Millisecond {
		return "under 1 ms"
	}
	return d.Round(time.Millisecond).String()
}

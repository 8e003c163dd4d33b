package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/serialdigest"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Serial digests for the operator of a network of sites: keyed hashes
// of the GTIN and serial of what this site received (serialdigest), for
// the clients granted to the request's user. The key comes with the
// request (the operator holds it); the digests alone reveal no serial.

// Bounds of the digest routes.
const (
	digestPageDefault = 100_000
	digestPageMax     = 1_000_000
	digestFindMax     = 1000
)

type digestRequest struct {
	Key   []byte `json:"key"` // base64 in JSON
	After string `json:"after"`
	Limit int    `json:"limit"`
	// Since asks for the digests of the units that changed after this
	// raft index (the change feed) instead of a page of every unit:
	// what a reader that holds the list up to Since needs to catch up.
	Since *uint64 `json:"since"`
	// Clients narrows the answer to these clients (of those granted);
	// empty: every granted client.
	Clients []string `json:"clients"`
}

// narrow is the user's client filter, narrowed to clients when given.
func narrow(c *fiber.Ctx, clients []string) func(string) bool {
	see := sees(c)
	if len(clients) == 0 {
		return see
	}
	return func(cl string) bool { return see(cl) && slices.Contains(clients, cl) }
}

type digestPage struct {
	Digests []byte `json:"digests"` // 8 bytes each, big-endian, base64 in JSON
	Count   int    `json:"count"`
	Next    string `json:"next,omitempty"`
	// Index is the raft index the answer reflects: for a page of every
	// unit, the state it was read from (a reader that reads every page
	// then follows the feed from the first page's index misses nothing);
	// for a read of the feed, the last index it covers (the next Since).
	Index uint64 `json:"index"`
	// More: the feed goes on past Index (ask again from Index).
	More bool `json:"more,omitempty"`
	// Gone: Since is older than the change feed keeps; read every unit.
	Gone bool `json:"gone,omitempty"`
	// Incarnation names the life of the site's log the indexes belong
	// to: a site restored from a backup starts another, and a reader
	// following it reads every unit again.
	Incarnation string `json:"incarnation"`
}

// received reports whether a unit counts as received here: known and
// no longer only announced.
func received(st *unit.State) bool { return st.Known() && st.Status != unit.StatusExpected }

func (s *Server) digests(c *fiber.Ctx) error {
	var req digestRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := serialdigest.CheckKey(req.Key); err != nil {
		return badField("key", "%v", err)
	}
	if req.Limit <= 0 {
		req.Limit = digestPageDefault
	}
	if req.Limit > digestPageMax {
		return badField("limit", "at most %d", digestPageMax)
	}
	see := narrow(c, req.Clients)
	var out digestPage
	if req.Since != nil {
		err := s.read(c, func(r *state.Reader) error {
			var err error
			if out, err = digestsSince(r, req.Key, see, *req.Since, req.Limit); err != nil {
				return err
			}
			out.Incarnation, err = r.Incarnation()
			return err
		})
		return respond(c, err, func() any { return out })
	}
	err := s.read(c, func(r *state.Reader) error {
		idx, err := r.Applied()
		if err != nil {
			return err
		}
		page, err := r.Units(state.UnitFilter{Client: see, After: req.After, Limit: req.Limit})
		if err != nil {
			return err
		}
		ds := make([]uint64, 0, len(page.Items))
		for i := range page.Items {
			if !received(&page.Items[i]) {
				continue
			}
			if d, ok := serialdigest.Of(req.Key, page.Items[i].Key); ok {
				ds = append(ds, d)
			}
		}
		out = digestPage{Digests: serialdigest.Encode(ds), Count: len(ds), Next: page.Next, Index: idx}
		out.Incarnation, err = r.Incarnation()
		return err
	})
	return respond(c, err, func() any { return out })
}

// digestsSince is the digests of the received units of the clients see
// accepts that the change feed names after index since, up to about
// limit units. A unit that changed again (picked, shipped) is listed
// again: the reader keeps a set.
func digestsSince(r *state.Reader, key []byte, see func(string) bool, since uint64, limit int) (digestPage, error) {
	refs, to, more, err := r.Feed(since, limit)
	if errors.Is(err, state.ErrFeedGone) {
		return digestPage{Gone: true}, nil
	}
	if err != nil {
		return digestPage{}, err
	}
	ds := []uint64{}
	for _, ref := range refs {
		if ref.Kind != state.FeedUnit {
			continue
		}
		st, err := r.Unit(event.Key(ref.ID))
		if err != nil {
			return digestPage{}, err
		}
		if !received(&st) || !see(st.Client) {
			continue
		}
		if d, ok := serialdigest.Of(key, st.Key); ok {
			ds = append(ds, d)
		}
	}
	return digestPage{Digests: serialdigest.Encode(ds), Count: len(ds), Index: to, More: more}, nil
}

type digestFind struct {
	Key     []byte   `json:"key"`
	Digests []string `json:"digests"` // 16 hex digits each
	Clients []string `json:"clients"` // as in digestRequest
	// Since looks only at the units the change feed names after this
	// index (where a reader following the feed saw the digests); a
	// position the feed no longer reaches is a scan of every unit.
	Since *uint64 `json:"since"`
	// Units looks only at these units (at most as many as digests).
	Units []event.Key `json:"units"`
}

type digestUnit struct {
	Digest string    `json:"digest"`
	Unit   event.Key `json:"unit"`
}

// findDigests names the received units (of the user's clients) with the
// given digests: among the units named, among those the feed names
// after since, or a scan of every unit of the site.
func (s *Server) findDigests(c *fiber.Ctx) error {
	var req digestFind
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := serialdigest.CheckKey(req.Key); err != nil {
		return badField("key", "%v", err)
	}
	if len(req.Digests) == 0 || len(req.Digests) > digestFindMax {
		return badField("digests", "1 to %d digests", digestFindMax)
	}
	if len(req.Units) > digestFindMax {
		return badField("units", "at most %d units", digestFindMax)
	}
	for _, k := range req.Units {
		if err := k.Validate(); err != nil {
			return badField("units", "%v", err)
		}
	}
	want := make(map[uint64]string, len(req.Digests))
	for _, h := range req.Digests {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != serialdigest.Size {
			return badField("digests", "%q is not 16 hex digits", h)
		}
		ds, _ := serialdigest.Decode(b)
		want[ds[0]] = h
	}
	see := narrow(c, req.Clients)
	out := []digestUnit{}
	seen := map[event.Key]bool{}
	check := func(st *unit.State) {
		if seen[st.Key] || !received(st) || !see(st.Client) {
			return
		}
		if d, ok := serialdigest.Of(req.Key, st.Key); ok && want[d] != "" {
			seen[st.Key] = true
			out = append(out, digestUnit{Digest: want[d], Unit: st.Key})
		}
	}
	err := s.read(c, func(r *state.Reader) error {
		switch {
		case len(req.Units) > 0:
			return checkUnits(r, req.Units, check)
		case req.Since != nil:
			err := checkSince(r, *req.Since, check)
			if !errors.Is(err, state.ErrFeedGone) {
				return err
			}
		}
		return checkAll(r, see, check)
	})
	return respond(c, err, func() any { return fiber.Map{"units": out} })
}

func checkUnits(r *state.Reader, keys []event.Key, check func(*unit.State)) error {
	for _, k := range keys {
		st, err := r.Unit(k)
		if err != nil {
			return err
		}
		check(&st)
	}
	return nil
}

// checkSince checks the units the change feed names after since.
func checkSince(r *state.Reader, since uint64, check func(*unit.State)) error {
	for {
		refs, to, more, err := r.Feed(since, digestPageDefault)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			if ref.Kind != state.FeedUnit {
				continue
			}
			st, err := r.Unit(event.Key(ref.ID))
			if err != nil {
				return err
			}
			check(&st)
		}
		if !more {
			return nil
		}
		since = to
	}
}

func checkAll(r *state.Reader, see func(string) bool, check func(*unit.State)) error {
	after := ""
	for {
		page, err := r.Units(state.UnitFilter{Client: see, After: after, Limit: digestPageDefault})
		if err != nil {
			return err
		}
		for i := range page.Items {
			check(&page.Items[i])
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

type networkDuplicateRequest struct {
	Unit  event.Key `json:"unit"`
	Sites []string  `json:"sites"`
}

// networkDuplicate raises the high-severity exception of a unit the
// operator found received at other sites too (lead).
func (s *Server) networkDuplicate(c *fiber.Ctx) error {
	var req networkDuplicateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := req.Unit.Validate(); err != nil {
		return badField("unit", "%v", err)
	}
	var st unit.State
	if err := s.node.State().View(func(r *state.Reader) error { var err error; st, err = r.Unit(req.Unit); return err }); err != nil {
		return err
	}
	if !st.Known() || !sees(c)(st.Client) {
		return ErrNotFound
	}
	v := command.NetworkDuplicate{Unit: req.Unit, Sites: req.Sites, By: user(c).ID, At: s.clock.Now()}
	if err := v.Check(); err != nil {
		return err
	}
	raw, err := s.propose(c, command.TypeNetworkDuplicate, v)
	if err != nil {
		return err
	}
	var id string
	if err := json.Unmarshal(raw, &id); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": id})
}

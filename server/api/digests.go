package api

import (
	"encoding/hex"
	"encoding/json"
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
	err := s.read(c, func(r *state.Reader) error {
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
		out = digestPage{Digests: serialdigest.Encode(ds), Count: len(ds), Next: page.Next}
		return nil
	})
	return respond(c, err, func() any { return out })
}

type digestFind struct {
	Key     []byte   `json:"key"`
	Digests []string `json:"digests"` // 16 hex digits each
	Clients []string `json:"clients"` // as in digestRequest
}

type digestUnit struct {
	Digest string    `json:"digest"`
	Unit   event.Key `json:"unit"`
}

// findDigests names the received units (of the user's clients) with the
// given digests: a scan of the site's units, asked only for matches.
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
	err := s.read(c, func(r *state.Reader) error {
		after := ""
		for {
			page, err := r.Units(state.UnitFilter{Client: see, After: after, Limit: digestPageDefault})
			if err != nil {
				return err
			}
			for i := range page.Items {
				if !received(&page.Items[i]) {
					continue
				}
				if d, ok := serialdigest.Of(req.Key, page.Items[i].Key); ok && want[d] != "" {
					out = append(out, digestUnit{Digest: want[d], Unit: page.Items[i].Key})
				}
			}
			if page.Next == "" {
				return nil
			}
			after = page.Next
		}
	})
	return respond(c, err, func() any { return fiber.Map{"units": out} })
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

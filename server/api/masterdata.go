package api

import (
	"encoding/json"
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// decode reads a JSON body into v, reporting where it breaks.
func decode(c *fiber.Ctx, v any) error {
	body := c.Body() // a copy each call (Immutable): read it once
	if len(body) == 0 {
		return badField("body", "empty: want a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badField(te.Field, "want %s, got %s", te.Type, te.Value)
		}
		return badField("body", "not valid JSON: %v", err)
	}
	return nil
}

func param(c *fiber.Ctx, name string) string {
	v := c.Params(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// propose writes one command through the cluster and returns its result.
func (s *Server) propose(c *fiber.Ctx, t command.Type, v any) (json.RawMessage, error) {
	data, err := command.EncodeJSON(t, v)
	if err != nil {
		return nil, err
	}
	return s.node.Propose(c.UserContext(), data, false)
}

// putRecord proposes v and answers it back.
func (s *Server) putRecord(c *fiber.Ctx, t command.Type, v any) error {
	if _, err := s.propose(c, t, v); err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) getSite(c *fiber.Ctx) error {
	var site master.Site
	err := s.read(c, func(r *state.Reader) error { var err error; site, err = r.Site(); return err })
	return respond(c, err, func() any { return site })
}

func (s *Server) putSite(c *fiber.Ctx) error {
	var v master.Site
	if err := decode(c, &v); err != nil {
		return err
	}
	if v.ID == "" {
		return badField("id", "required")
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return s.putRecord(c, command.TypeSite, v)
}

func (s *Server) listClients(c *fiber.Ctx) error {
	see := sees(c)
	var out []master.Client
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.Clients(func(x *master.Client) bool { return see(x.ID) })
		return err
	})
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) getClient(c *fiber.Ctx) error {
	id := param(c, "id")
	if !sees(c)(id) {
		return ErrNotFound
	}
	var v master.Client
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Client(id); return err })
	return respond(c, err, func() any { return v })
}

func (s *Server) putClient(c *fiber.Ctx) error {
	var v master.Client
	if err := decodeKeyed(c, &v, &v.ID, "id"); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return s.putRecord(c, command.TypeClient, v)
}

func (s *Server) listProducts(c *fiber.Ctx) error {
	see := sees(c)
	client := c.Query("client")
	var out []master.Product
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = r.Products(func(p *master.Product) bool { return see(p.Client) && (client == "" || p.Client == client) })
		return err
	})
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) getProduct(c *fiber.Ctx) error {
	var v master.Product
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.Product(param(c, "gtin")); return err })
	if err == nil && !sees(c)(v.Client) {
		err = ErrNotFound
	}
	return respond(c, err, func() any { return v })
}

func (s *Server) putProduct(c *fiber.Ctx) error {
	var v master.Product
	if err := decodeKeyed(c, &v, &v.GTIN, "gtin"); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	// The processor refuses a product of a client that does not exist,
	// in log order (a client put a moment ago through another node may
	// not be in this node's state yet): 400 all the same.
	return s.putRecord(c, command.TypeProduct, v)
}

func (s *Server) listLocations(c *fiber.Ctx) error {
	var out []master.Location
	err := s.read(c, func(r *state.Reader) error { var err error; out, err = r.Locations(); return err })
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) putLocation(c *fiber.Ctx) error {
	var v master.Location
	if err := decodeKeyed(c, &v, &v.ID, "id"); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return s.putRecord(c, command.TypeLocation, v)
}

func (s *Server) listPartners(c *fiber.Ctx) error {
	var out []master.Partner
	err := s.read(c, func(r *state.Reader) error { var err error; out, err = r.Partners(); return err })
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) putPartner(c *fiber.Ctx) error {
	var v master.Partner
	if err := decodeKeyed(c, &v, &v.ID, "id"); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return s.putRecord(c, command.TypePartner, v)
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	var out []master.User
	err := s.read(c, func(r *state.Reader) error { var err error; out, err = r.Users(); return err })
	return respond(c, err, func() any { return items(toUsers(out)) })
}

func (s *Server) getUser(c *fiber.Ctx) error {
	var v master.User
	err := s.read(c, func(r *state.Reader) error { var err error; v, err = r.User(param(c, "id")); return err })
	return respond(c, err, func() any { return toUser(&v) })
}

func (s *Server) putUser(c *fiber.Ctx) error {
	var v master.User
	if err := decodeKeyed(c, &v, &v.ID, "id"); err != nil {
		return err
	}
	switch v.Role {
	case master.RoleOperator, master.RoleLead, master.RoleAdmin:
	default:
		return badField("role", "want operator, lead or admin")
	}
	if v.PIN == nil {
		// A put without a verifier keeps the PIN set (users/ID/pin sets it).
		err := s.node.State().View(func(r *state.Reader) error {
			old, err := r.User(v.ID)
			v.PIN = old.PIN
			return err
		})
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
	}
	if _, err := s.propose(c, command.TypeUser, v); err != nil {
		return err
	}
	return c.JSON(toUser(&v))
}

func (s *Server) listDevices(c *fiber.Ctx) error {
	var out []state.DeviceMark
	err := s.read(c, func(r *state.Reader) error { var err error; out, err = r.Devices(); return err })
	return respond(c, err, func() any { return items(out) })
}

// decodeKeyed decodes the body into v and makes its key field agree with
// the path parameter: filled in when the body leaves it empty, refused
// when it names another record.
func decodeKeyed(c *fiber.Ctx, v any, key *string, name string) error {
	if err := decode(c, v); err != nil {
		return err
	}
	if *key == "" {
		*key = param(c, name)
	}
	if *key != param(c, name) {
		return badField(name, "does not match the path")
	}
	return nil
}

// list is the shape of every list response.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func items[T any](v []T) list[T] {
	if v == nil {
		v = []T{}
	}
	return list[T]{Items: v}
}

package api

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// HeaderUser names the user a request acts as. (Console sign-in and
// device certificates will replace it; the rest of the API only sees the
// resolved user.)
const HeaderUser = "X-Custody-User"

// authenticate resolves the request's user from the replicated state.
func (s *Server) authenticate(c *fiber.Ctx) error {
	id := c.Get(HeaderUser)
	if id == "" {
		return ErrUnauthenticated
	}
	var u master.User
	err := s.node.State().View(func(r *state.Reader) error {
		var err error
		u, err = r.User(id)
		return err
	})
	if errors.Is(err, state.ErrNotFound) {
		return ErrUnauthenticated
	}
	if err != nil {
		return err
	}
	c.Locals("user", &u)
	return c.Next()
}

func user(c *fiber.Ctx) *master.User {
	u, _ := c.Locals("user").(*master.User)
	if u == nil {
		return &master.User{}
	}
	return u
}

func (s *Server) admin(c *fiber.Ctx) error {
	if user(c).Role != master.RoleAdmin {
		return ErrForbidden
	}
	return c.Next()
}

func (s *Server) lead(c *fiber.Ctx) error {
	if !user(c).Role.CanRelease() {
		return ErrForbidden
	}
	return c.Next()
}

// sees returns the client filter of the request's user.
func sees(c *fiber.Ctx) func(string) bool {
	u := user(c)
	return u.Sees
}

func (s *Server) me(c *fiber.Ctx) error { return c.JSON(user(c)) }

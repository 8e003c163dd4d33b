package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/state"
)

// passwordRequest sets a user's console password.
type passwordRequest struct {
	Password string `json:"password"`
}

// setPassword gives a user a console password (admin): the server
// derives the argon2id verifier and replicates it; no route ever
// answers it. The user's console sessions end.
func (s *Server) setPassword(c *fiber.Ctx) error {
	id := param(c, "id")
	var req passwordRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := password.Acceptable(req.Password); err != nil {
		return badField("password", "%v", err)
	}
	if err := s.node.State().View(func(r *state.Reader) error { _, err := r.User(id); return err }); err != nil {
		return err
	}
	v, err := password.New(req.Password)
	if err != nil {
		return err
	}
	if _, err := s.propose(c, command.TypePassword, command.SetPassword{User: id, Password: v, By: user(c).ID, At: s.now()}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"user": id, "password": "set"})
}

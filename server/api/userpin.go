package api

import (
	"crypto/rand"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// PIN lengths an admin may set: handhelds take digits on a PIN pad.
const (
	minPIN = 4
	maxPIN = 12
)

// setUserPIN sets a user's PIN from the plain PIN an admin gives
// ({"pin": "…"}): the site derives the verifier handhelds check offline,
// and keeps neither the PIN nor answers the verifier.
func (s *Server) setUserPIN(c *fiber.Ctx) error {
	var body struct {
		PIN string `json:"pin"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	if n := len(body.PIN); n < minPIN || n > maxPIN {
		return badField("pin", "want %d to %d digits", minPIN, maxPIN)
	}
	for _, r := range body.PIN {
		if r < '0' || r > '9' {
			return badField("pin", "want digits only")
		}
	}
	var u master.User
	err := s.node.State().View(func(r *state.Reader) error { var err error; u, err = r.User(param(c, "id")); return err })
	if errors.Is(err, state.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	if u.PIN, err = master.NewPINVerifier(body.PIN, salt); err != nil {
		return badField("pin", "%v", err)
	}
	if _, err := s.propose(c, command.TypeUser, u); err != nil {
		return err
	}
	return c.JSON(toUser(&u))
}

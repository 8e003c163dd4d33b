package api

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/cluster"
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

// fromNode admits a node-to-node request: one whose TLS client
// certificate is a node certificate of the site (with Config.Verifier),
// or one that carries the cluster secret (with Config.ClusterSecret).
// With neither configured the routes are open, as without --tls and
// --cluster-secret.
func (s *Server) fromNode(c *fiber.Ctx) error {
	var certErr error
	if v := s.cfg.Verifier; v != nil {
		if cs := c.Context().TLSConnectionState(); cs != nil && len(cs.PeerCertificates) > 0 {
			_, err := v.VerifyConn(*cs, certs.KindNode)
			if err == nil {
				return c.Next()
			}
			certErr = err
		}
	}
	if want := s.cfg.ClusterSecret; want != "" {
		got := c.Get(cluster.HeaderSecret)
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			return c.Next()
		}
	} else if s.cfg.Verifier == nil {
		return c.Next()
	}
	if certErr != nil {
		return fmt.Errorf("%w: node-to-node request: %v", ErrUnauthenticated, certErr)
	}
	return fmt.Errorf("%w: node-to-node request without a node certificate or the cluster secret", ErrUnauthenticated)
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

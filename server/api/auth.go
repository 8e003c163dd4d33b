package api

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// HeaderUser names the user a request acts as. Over plain HTTP it is
// the whole of a user's authentication (demos, tests, a loopback-only
// site). Over HTTPS the user is the one a verified client certificate of
// kind user names; the header may repeat that name but not contradict
// it, and alone it is refused. A node forwarding a read to the leader
// sends the user's own certificate along (HeaderUserCert), which the
// leader verifies again: a node certificate never makes a user by
// itself.
const HeaderUser = "X-Custody-User"

// HeaderUserCert carries, on a read a node forwards to the leader over
// HTTPS, the user's client certificate (base64 of its DER).
const HeaderUserCert = "X-Custody-User-Cert"

// authenticate resolves the request's user from the replicated state.
// Over HTTPS it also refuses a user certificate issued no later than
// the last revocation of that user's certificates (usercerts.go).
func (s *Server) authenticate(c *fiber.Ctx) error {
	id, cert, err := s.requestUser(c)
	if err != nil {
		return err
	}
	var u master.User
	var revoked *state.UserCertRevocation
	err = s.node.State().View(func(r *state.Reader) error {
		var err error
		if u, err = r.User(id); err != nil || cert == nil {
			return err
		}
		rev, err := r.UserCertRevocation(id)
		switch {
		case err == nil:
			if rev.Refuses(cert.NotBefore, certs.Backdate) {
				revoked = &rev
			}
		case !errors.Is(err, state.ErrNotFound):
			return err
		}
		return nil
	})
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("%w: %q is not a user of this site", ErrUnauthenticated, id)
	}
	if err != nil {
		return err
	}
	if revoked != nil {
		return certRevoked(revoked, cert)
	}
	c.Locals("user", &u)
	return c.Next()
}

// requestUser names the request's user: the header over plain HTTP, the
// client certificate over HTTPS (see HeaderUser). Over HTTPS it also
// returns the user certificate that names the user: the client's own,
// or the one a forwarding node sent along.
func (s *Server) requestUser(c *fiber.Ctx) (string, *x509.Certificate, error) {
	header := c.Get(HeaderUser)
	if s.cfg.TLS == nil {
		if header == "" {
			return "", nil, fmt.Errorf("%w: name the user in %s", ErrUnauthenticated, HeaderUser)
		}
		return header, nil, nil
	}
	cs := c.Context().TLSConnectionState()
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return "", nil, fiber.NewError(fiber.StatusUnauthorized,
			"over HTTPS a user is known by a user certificate of the site (custodyctl --cert/--key); "+HeaderUser+" alone is not accepted")
	}
	if s.users == nil {
		return "", nil, fiber.NewError(fiber.StatusServiceUnavailable, "this node cannot verify user certificates (it has no site CA)")
	}
	p, err := s.users.VerifyConn(*cs, certs.KindUser, certs.KindNode)
	userCert := cs.PeerCertificates[0]
	if err != nil {
		return "", nil, fiber.NewError(fiber.StatusUnauthorized, "client certificate refused: "+err.Error())
	}
	if p.Kind == certs.KindNode {
		// Only a read another node forwards, with the user's own
		// certificate, which must verify here too.
		if c.Get(cluster.HeaderForwarded) == "" || (c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead) {
			return "", nil, fiber.NewError(fiber.StatusUnauthorized, "a node certificate is not a user: a user needs a user certificate of the site")
		}
		der, err := base64.StdEncoding.DecodeString(c.Get(HeaderUserCert))
		if err != nil || len(der) == 0 {
			return "", nil, fiber.NewError(fiber.StatusUnauthorized, "a forwarded request needs the user's certificate in "+HeaderUserCert)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return "", nil, fiber.NewError(fiber.StatusUnauthorized, "forwarded user certificate: "+err.Error())
		}
		userCert = cert
		if p, err = s.users.Verify(cert, certs.KindUser); err != nil {
			return "", nil, fiber.NewError(fiber.StatusUnauthorized, "forwarded user certificate refused: "+err.Error())
		}
	}
	if header != "" && header != p.User.Name {
		return "", nil, fiber.NewError(fiber.StatusForbidden,
			fmt.Sprintf("%s names %q, the client certificate is user %q", HeaderUser, header, p.User.Name))
	}
	return p.User.Name, userCert, nil
}

// fromNode admits a node-to-node request: one whose TLS client
// certificate is a node certificate of the site (with Config.Verifier),
// or one that carries the cluster secret (with Config.ClusterSecret).
// With neither configured (no --tls, no --cluster-secret) only a caller
// on this host is admitted (loopbackOnly).
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
		return s.loopbackOnly(c)
	}
	if certErr != nil {
		return fmt.Errorf("%w: node-to-node request: %v", ErrUnauthenticated, certErr)
	}
	return fmt.Errorf("%w: node-to-node request without a node certificate or the cluster secret", ErrUnauthenticated)
}

// loopbackOnly admits a node-to-node request that nothing
// authenticates only from this host: anyone else who reached the port
// could propose any command or add a raft voter of their own. Nodes on
// other hosts need --cluster-secret or --tls.
func (s *Server) loopbackOnly(c *fiber.Ctx) error {
	if ip := c.Context().RemoteIP(); ip != nil && ip.IsLoopback() {
		return c.Next()
	}
	return fmt.Errorf("%w: node-to-node requests are answered only from this host: a node on another host needs --cluster-secret or --tls",
		ErrUnauthenticated)
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

func (s *Server) me(c *fiber.Ctx) error { return c.JSON(toUser(user(c))) }

package api

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// UserCertRequest asks for a user certificate: a PEM CSR for a key the
// user made (custodyctl users cert does).
type UserCertRequest struct {
	CSR string `json:"csr"`
}

// UserCertAnswer is a user's certificate and the CA it chains to.
type UserCertAnswer struct {
	User        string `json:"user"`
	Certificate string `json:"certificate"` // PEM
	CA          string `json:"ca"`          // PEM
}

// maxUserCertBody bounds a user certificate request (a CSR is about
// 500 bytes).
const maxUserCertBody = 16 << 10

// userCertificate signs a user certificate for a user of the site, for
// the key of the CSR posted (admin). The certificate names the user;
// what the user may do is the role and grants in the site state,
// whatever the certificate's role says.
func (s *Server) userCertificate(c *fiber.Ctx) error {
	if err := s.needCA(); err != nil {
		return err
	}
	if len(c.Body()) > maxUserCertBody {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("a certificate request has at most %d bytes", maxUserCertBody))
	}
	var req UserCertRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.CSR == "" {
		return badField("csr", "required: a PEM certificate request for the user's key")
	}
	csr, err := certs.ParseCSR([]byte(req.CSR))
	if err != nil {
		return badField("csr", "%v", err)
	}
	var u master.User
	err = s.node.State().View(func(r *state.Reader) error { var err error; u, err = r.User(param(c, "id")); return err })
	if err != nil {
		return err
	}
	if err := s.signableAfterRevocation(c.UserContext(), &u); err != nil {
		return err
	}
	cert, err := s.cfg.CA.SignUser(csr.PublicKey, u.ID, string(u.Role))
	if err != nil {
		return badField("id", "%v", err)
	}
	s.log.Info("user certificate issued", "user", u.ID, "by", user(c).ID, "expires", cert.NotAfter)
	return c.JSON(UserCertAnswer{User: u.ID, Certificate: string(certs.EncodeCertPEM(cert)), CA: string(s.cfg.CA.CertPEM())})
}

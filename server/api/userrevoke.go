package api

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// Revoking a user's certificates. A user certificate is valid for a
// year; a leaked key or a person who left must stop working before
// that. An admin revokes every certificate of a user issued until now
// (command.TypeRevokeUserCerts, stamped with this node's time): every
// node then refuses them at authentication, for requests that come
// directly and for reads a node forwards with the user's certificate.
// Certificates issued afterwards work. The revocation is kept apart
// from the user record, so putting the user again keeps it.

// RevokeCertsRequest says why a user's certificates are revoked.
type RevokeCertsRequest struct {
	Reason string `json:"reason"`
}

// maxSignWait is how long signing a user certificate waits for the CA's
// clock to pass the second of a revocation (state.UserCertRevocation
// explains the second): a little more than a second, for the same
// second and a little clock skew between nodes.
const maxSignWait = 2 * time.Second

// revokeUserCerts revokes every certificate of a user issued until now
// (admin). The answer is the revocation in effect: a later one already
// kept stays.
func (s *Server) revokeUserCerts(c *fiber.Ctx) error {
	id := param(c, "id")
	var req RevokeCertsRequest
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	if len(req.Reason) > command.MaxRevokeReason {
		return badField("reason", "at most %d bytes", command.MaxRevokeReason)
	}
	err := s.node.State().View(func(r *state.Reader) error { _, err := r.User(id); return err })
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("%w: %q is not a user of this site", ErrNotFound, id)
	}
	if err != nil {
		return err
	}
	raw, err := s.propose(c, command.TypeRevokeUserCerts, command.RevokeUserCerts{User: id, At: s.now(), By: user(c).ID, Reason: req.Reason})
	if err != nil {
		return err
	}
	var rec state.UserCertRevocation
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("revocation result: %w", err)
	}
	s.log.Warn("user certificates revoked", "user", rec.User, "until", rec.At, "by", rec.By, "reason", rec.Reason)
	// A certificate signed in the second of the revocation is refused
	// (state.UserCertRevocation.Refuses). Answer after that second, so a
	// certificate the admin has issued next, on any node whose clock
	// agrees, works.
	if err := sleep(c.UserContext(), min(rec.FirstAccepted().Sub(s.now()), time.Second)); err != nil {
		return err
	}
	return c.JSON(rec)
}

// certRevoked is the refusal of a certificate a revocation covers.
func certRevoked(rev *state.UserCertRevocation, cert *x509.Certificate) error {
	why := ""
	if rev.Reason != "" {
		why = " (" + rev.Reason + ")"
	}
	return fiber.NewError(fiber.StatusUnauthorized, fmt.Sprintf(
		"certificate revoked: the certificates of user %q issued until %s were revoked%s; this one is from %s: ask an admin for a new one (custodyctl users cert)",
		rev.User, rev.At.UTC().Format(time.RFC3339), why, cert.NotBefore.UTC().Format(time.RFC3339)))
}

// signableAfterRevocation waits, when the user's certificates were
// revoked in the second the CA's clock is in (or a little ahead of it),
// until a certificate it signs is no longer refused; it errs when that
// is further than maxSignWait.
func (s *Server) signableAfterRevocation(ctx context.Context, u *master.User) error {
	var rev state.UserCertRevocation
	err := s.node.State().View(func(r *state.Reader) error { var err error; rev, err = r.UserCertRevocation(u.ID); return err })
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	wait := rev.FirstAccepted().Sub(s.cfg.CA.Now())
	if wait <= 0 {
		return nil
	}
	if wait > maxSignWait {
		return fmt.Errorf("%w: the certificates of user %q were revoked until %s, ahead of this node's clock (%s): a certificate signed now would be refused; try again later",
			ErrConflict, u.ID, rev.At.UTC().Format(time.RFC3339), s.cfg.CA.Now().UTC().Format(time.RFC3339))
	}
	return sleep(ctx, wait)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

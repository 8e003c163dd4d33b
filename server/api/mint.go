package api

import (
	"context"
	"strings"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/command"
)

// MintToken mints an enrollment token for a handheld on behalf of user
// by (the console's "enroll a handheld"), with the checks of POST
// /api/v1/devices/tokens. The caller has checked that by is an admin.
func (s *Server) MintToken(ctx context.Context, by, label string, ttl time.Duration) (TokenAnswer, error) {
	if err := s.needCA(); err != nil {
		return TokenAnswer{}, err
	}
	if ttl <= 0 {
		ttl = certs.DefaultTokenTTL
	}
	if ttl < time.Second || ttl > MaxTokenTTL {
		return TokenAnswer{}, badField("ttl", "want a duration from 1s to %s", MaxTokenTTL)
	}
	label = strings.TrimSpace(label)
	if label == "" || len(label) > command.MaxTokenLabel {
		return TokenAnswer{}, badField("label", "say what the token is for, in 1 to %d bytes", command.MaxTokenLabel)
	}
	tok, rec, err := s.enroller(by).NewToken(ctx, ttl, label)
	if err != nil {
		return TokenAnswer{}, err
	}
	s.log.Info("enrollment token minted", "label", rec.Label, "by", by, "expires", rec.ExpiresAt)
	return TokenAnswer{Token: tok, Label: rec.Label, ExpiresAt: rec.ExpiresAt, CAFingerprint: certs.Fingerprint(s.cfg.CA.Cert())}, nil
}

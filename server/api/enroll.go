package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
)

// Device admission: an admin mints a one-time token, a handheld trades it
// with a CSR for a device certificate, an admin revokes a device. Tokens
// and revocations are replicated (command.TypeEnrollToken …), so any node
// enrolls and every node refuses a revoked device. Needs Config.CA.

// Enrollment limits.
const (
	// MaxEnrollBody bounds an enrollment request (a token and a CSR
	// take about 1 KiB).
	MaxEnrollBody = 16 << 10
	// MaxTokenTTL is the longest a token may stay valid.
	MaxTokenTTL = 30 * 24 * time.Hour
	// DefaultEnrollRate is how many enrollment requests one address may
	// make per minute.
	DefaultEnrollRate = 10
)

// TokenRequest asks for an enrollment token.
type TokenRequest struct {
	Label string `json:"label"`
	TTL   string `json:"ttl,omitempty"` // a Go duration ("24h"); default certs.DefaultTokenTTL
}

// TokenAnswer is a minted token: the only time the token is shown.
type TokenAnswer struct {
	Token         string    `json:"token"`
	Label         string    `json:"label"`
	ExpiresAt     time.Time `json:"expiresAt"`
	CAFingerprint string    `json:"caFingerprint"` // for custody-hh enroll --ca-fingerprint
}

// EnrollRequest is a handheld's enrollment: the token and a PEM CSR for
// the key it made.
type EnrollRequest struct {
	Token string `json:"token"`
	CSR   string `json:"csr"`
}

// EnrollAnswer is the device's certificate and the CA it chains to.
type EnrollAnswer struct {
	Device      string `json:"device"`
	Certificate string `json:"certificate"` // PEM
	CA          string `json:"ca"`          // PEM
}

// RevokeRequest says why a device is revoked.
type RevokeRequest struct {
	Reason string `json:"reason"`
}

// maxRevokeReason bounds a revocation's reason.
const maxRevokeReason = 500

func (s *Server) now() time.Time { return s.cfg.Now().UTC() }

// enrollLimit rate-limits enrollment per client address.
func (s *Server) enrollLimit() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !s.enrollRate.allow(c.IP()) {
			c.Set(fiber.HeaderRetryAfter, "60")
			return fiber.NewError(fiber.StatusTooManyRequests, "too many enrollment requests from this address: retry in a minute")
		}
		return c.Next()
	}
}

// rateLimit admits at most max requests per address in each window (a
// fixed window: simple, and enough to keep token guessing and CSR
// checking from hogging a node). It remembers at most maxAddrs addresses
// per window; past that, new addresses wait for the next window.
type rateLimit struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	start  time.Time
	seen   map[string]int
}

const maxAddrs = 1 << 16

func newRateLimit(limit int, window time.Duration, now func() time.Time) *rateLimit {
	return &rateLimit{max: limit, window: window, now: now, seen: map[string]int{}}
}

func (l *rateLimit) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.Sub(l.start) >= l.window || now.Before(l.start) {
		l.start = now
		clear(l.seen)
	}
	n, known := l.seen[addr]
	if n >= l.max || !known && len(l.seen) >= maxAddrs {
		return false
	}
	if !known {
		// The key outlives the request: never a view of its buffers.
		addr = strings.Clone(addr)
	}
	l.seen[addr] = n + 1
	return true
}

func (s *Server) needCA() error {
	if s.cfg.CA == nil {
		return fmt.Errorf("%w: device enrollment needs the site CA (custody-server --tls)", ErrUnavailable)
	}
	return nil
}

// caCert answers the site CA certificate (PEM). It is public: a handheld
// checks it against the fingerprint it was given before trusting it.
func (s *Server) caCert(c *fiber.Ctx) error {
	var pem []byte
	switch {
	case s.cfg.CA != nil:
		pem = s.cfg.CA.CertPEM()
	case s.cfg.Verifier != nil:
		pem = certs.EncodeCertPEM(s.cfg.Verifier.CA())
	default:
		return fmt.Errorf("%w: this node serves no site CA (custody-server --tls)", ErrUnavailable)
	}
	c.Set(fiber.HeaderContentType, "application/x-pem-file")
	return c.Send(pem)
}

func (s *Server) mintToken(c *fiber.Ctx) error {
	if err := s.needCA(); err != nil {
		return err
	}
	var req TokenRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ttl := certs.DefaultTokenTTL
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d < time.Second || d > MaxTokenTTL {
			return badField("ttl", "want a duration from 1s to %s", MaxTokenTTL)
		}
		ttl = d
	}
	req.Label = strings.TrimSpace(req.Label)
	if req.Label == "" || len(req.Label) > command.MaxTokenLabel {
		return badField("label", "say what the token is for, in 1 to %d bytes", command.MaxTokenLabel)
	}
	tok, rec, err := s.enroller(user(c).ID).NewToken(c.UserContext(), ttl, req.Label)
	if err != nil {
		return err
	}
	s.log.Info("enrollment token minted", "label", rec.Label, "by", user(c).ID, "expires", rec.ExpiresAt)
	return c.JSON(TokenAnswer{Token: tok, Label: rec.Label, ExpiresAt: rec.ExpiresAt, CAFingerprint: certs.Fingerprint(s.cfg.CA.Cert())})
}

func (s *Server) enroll(c *fiber.Ctx) error {
	if err := s.needCA(); err != nil {
		return err
	}
	if c.Context().TLSConnectionState() == nil {
		// The token would have crossed the network in clear.
		return badField("token", "enrollment needs HTTPS (the token is a secret)")
	}
	// fasthttp has read the body (up to Config.BodyLimit) before any
	// handler runs, so this bounds what is parsed, not what is read: a
	// per-route limit before the read would need StreamRequestBody,
	// which would lift the limit for every route. The rate limit bounds
	// how often one address can make a node read that much.
	if len(c.Body()) > MaxEnrollBody {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("an enrollment request has at most %d bytes", MaxEnrollBody))
	}
	var req EnrollRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return badField("token", "required")
	}
	if req.CSR == "" {
		return badField("csr", "required: a PEM certificate request for the device's key")
	}
	e, err := s.enroller("").Enroll(c.UserContext(), req.Token, []byte(req.CSR))
	if err != nil {
		s.log.Warn("enrollment refused", "addr", c.IP(), "err", err)
		return err
	}
	s.log.Info("device enrolled", "device", e.Device.String(), "token", e.Token.Label, "addr", c.IP())
	return c.JSON(EnrollAnswer{Device: e.Device.String(), Certificate: string(e.CertPEM()), CA: string(e.CACertPEM())})
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	var out []state.EnrollToken
	err := s.read(c, func(r *state.Reader) error { var err error; out, err = r.EnrollTokens(); return err })
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) listRevoked(c *fiber.Ctx) error {
	var out []state.RevokedDevice
	err := s.read(c, func(r *state.Reader) error { var err error; out, err = r.RevokedDevices(); return err })
	return respond(c, err, func() any { return items(out) })
}

func (s *Server) revokeDevice(c *fiber.Ctx) error {
	id, err := certs.ParseDeviceID(param(c, "id"))
	if err != nil {
		return badField("id", "%v", err)
	}
	var req RevokeRequest
	if len(c.Body()) > 0 {
		if err := decode(c, &req); err != nil {
			return err
		}
	}
	if len(req.Reason) > maxRevokeReason {
		return badField("reason", "at most %d bytes", maxRevokeReason)
	}
	raw, err := s.propose(c, command.TypeRevokeDevice, command.RevokeDevice{Device: id.String(), By: user(c).ID,
		Reason: req.Reason, At: s.now()})
	if err != nil {
		return err
	}
	var rec state.RevokedDevice
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("revocation result: %w", err)
	}
	s.log.Warn("device revoked", "device", rec.Device, "by", rec.By, "reason", rec.Reason)
	return c.JSON(rec)
}

// PurgeTokens forgets the tokens that expired more than keep ago (they
// then answer "unknown" rather than "expired"), and returns how many.
// custody-server runs it on the leader now and then.
func (s *Server) PurgeTokens(ctx context.Context, keep time.Duration) (int, error) {
	data, err := command.EncodeJSON(command.TypePurgeTokens, command.PurgeTokens{Before: s.now().Add(-keep)})
	if err != nil {
		return 0, err
	}
	raw, err := s.node.Propose(ctx, data, false)
	if err != nil {
		return 0, err
	}
	var res command.PurgeResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return 0, fmt.Errorf("purge result: %w", err)
	}
	return res.Purged, nil
}

// enroller is a certs.Enroller over the replicated token store, acting
// for user by (who mints tokens).
func (s *Server) enroller(by string) *certs.Enroller {
	return certs.NewEnroller(s.cfg.CA, &raftTokens{s: s, by: by}, s.now, certs.ValidFor(s.cfg.DeviceValidity))
}

// raftTokens is certs.TokenStore over the cluster: Put and Consume are
// commands, so a token is spent exactly once whichever node a handheld
// enrolls through.
type raftTokens struct {
	s  *Server
	by string
}

func (t *raftTokens) Put(ctx context.Context, rec certs.TokenRecord) error {
	data, err := command.EncodeJSON(command.TypeEnrollToken, command.EnrollToken{Hash: command.TokenHashHex(rec.Hash),
		Label: rec.Label, By: t.by, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt})
	if err != nil {
		return err
	}
	_, err = t.s.node.Propose(ctx, data, false)
	return err
}

// Consume spends the token. What the local replica already knows to be
// final (used by another device, expired, the device revoked) is
// refused without a raft round; everything else is decided by the log.
func (t *raftTokens) Consume(ctx context.Context, hash certs.TokenHash, now time.Time, device certs.DeviceID) (certs.TokenRecord, error) {
	h := command.TokenHashHex(hash)
	var refusal error
	_ = t.s.node.State().View(func(r *state.Reader) error {
		if revoked, err := r.IsDeviceRevoked(device.String()); err == nil && revoked {
			refusal = fmt.Errorf("device %s: %w", device.Short(), certs.ErrRevoked)
			return nil
		}
		tok, err := r.EnrollToken(h)
		if err != nil {
			return nil
		}
		if tok.Used() && tok.Device != device.String() {
			refusal = fmt.Errorf("token used at %s: %w", tok.UsedAt.Format(time.RFC3339), certs.ErrTokenUsed)
		} else if !tok.Used() && !now.Before(tok.ExpiresAt) {
			refusal = fmt.Errorf("token expired at %s: %w", tok.ExpiresAt.Format(time.RFC3339), certs.ErrTokenExpired)
		}
		return nil
	})
	if refusal != nil {
		return certs.TokenRecord{}, refusal
	}
	data, err := command.EncodeJSON(command.TypeUseToken, command.UseToken{Hash: h, Device: device.String(), At: now})
	if err != nil {
		return certs.TokenRecord{}, err
	}
	raw, err := t.s.node.Propose(ctx, data, false)
	if err != nil {
		return certs.TokenRecord{}, err
	}
	var res command.UseResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return certs.TokenRecord{}, fmt.Errorf("token use result: %w", err)
	}
	switch res.Refused {
	case "":
	case command.RefusedUnknown:
		return certs.TokenRecord{}, certs.ErrTokenUnknown
	case command.RefusedUsed:
		return certs.TokenRecord{}, fmt.Errorf("%s: %w", res.Reason, certs.ErrTokenUsed)
	case command.RefusedExpired:
		return certs.TokenRecord{}, fmt.Errorf("%s: %w", res.Reason, certs.ErrTokenExpired)
	case command.RefusedRevoked:
		return certs.TokenRecord{}, fmt.Errorf("%s: %w", res.Reason, certs.ErrRevoked)
	default:
		return certs.TokenRecord{}, fmt.Errorf("token use refused (%s): %s: %w", res.Refused, res.Reason, certs.ErrTokenUnknown)
	}
	return certs.TokenRecord{Hash: hash, Label: res.Token.Label, CreatedAt: res.Token.CreatedAt, ExpiresAt: res.Token.ExpiresAt,
		UsedAt: res.Token.UsedAt, Device: device}, nil
}

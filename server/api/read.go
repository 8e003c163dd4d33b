package api

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/state"
)

// Read consistency, chosen per request with ?consistency=:
//   - local (default): this node's state, which may trail the leader by
//     the entries it has not applied yet. ?freshness=DURATION (a Go
//     duration, e.g. 500ms or 2s) bounds that: the node refuses (503,
//     code stale) when its state may trail the leader by more than
//     DURATION (cluster.Node.CheckFresh says how that is judged).
//   - leader: linearizable. The leader, once it has committed an entry
//     of its current term, confirms its leadership with a quorum (raft
//     VerifyLeader) in an unchanged term and waits until it has applied
//     everything committed before it confirmed; a follower forwards the
//     request to the leader.
const (
	consistencyLocal  = "local"
	consistencyLeader = "leader"
)

// read runs fn against the state at the consistency the request asks for.
func (s *Server) read(c *fiber.Ctx, fn func(r *state.Reader) error) error {
	fresh := c.Query("freshness")
	switch c.Query("consistency", consistencyLocal) {
	case consistencyLocal:
		if fresh != "" {
			d, err := time.ParseDuration(fresh)
			if err != nil || d <= 0 {
				return badField("freshness", "want a positive duration, e.g. 500ms or 2s")
			}
			if err := s.node.CheckFresh(d); err != nil {
				return err
			}
		}
	case consistencyLeader:
		if fresh != "" {
			return badField("freshness", "bounds local reads only: a leader read is never stale")
		}
		if !s.node.IsLeader() {
			if c.Get(cluster.HeaderForwarded) != "" {
				return cluster.ErrNotLeader
			}
			if err := s.proxy.toLeader(c, s.node); err != nil {
				return err
			}
			return errProxied
		}
		if err := s.node.VerifyRead(c.UserContext()); err != nil {
			return err
		}
	default:
		return badField("consistency", "want local or leader")
	}
	return s.node.State().View(fn)
}

// respond writes v as JSON unless the request was proxied.
func respond(c *fiber.Ctx, err error, v func() any) error {
	if err == errProxied {
		return nil
	}
	if err != nil {
		return err
	}
	return c.JSON(v())
}

func queryInt(c *fiber.Ctx, name string, def, maxv int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badField(name, "want a non-negative number")
	}
	if n > maxv {
		n = maxv
	}
	return n, nil
}

// proxy forwards a whole HTTP request to the leader (over HTTPS when
// the nodes serve TLS).
type proxy struct {
	http   *http.Client
	scheme string
	// secret is the cluster secret, sent along so that a node-to-node
	// route (a join) passed on to the leader is admitted there.
	secret string
}

func newProxy(tlsCfg *tls.Config, secret string) *proxy {
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	scheme := "http://"
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg.Clone()
		scheme = "https://"
	}
	return &proxy{http: &http.Client{Timeout: 120 * time.Second, Transport: tr}, scheme: scheme, secret: secret}
}

func (p *proxy) toLeader(c *fiber.Ctx, node Cluster) error {
	addr, err := node.LeaderHTTP()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(c.UserContext(), c.Method(), p.scheme+addr+c.OriginalURL(), bytes.NewReader(c.Body()))
	if err != nil {
		return err
	}
	// The user this node authenticated: over HTTPS the user's own
	// certificate, which the leader verifies again; over HTTP the header.
	if u := user(c).ID; u != "" {
		req.Header.Set(HeaderUser, u)
	}
	if cs := c.Context().TLSConnectionState(); cs != nil && len(cs.PeerCertificates) > 0 {
		req.Header.Set(HeaderUserCert, base64.StdEncoding.EncodeToString(cs.PeerCertificates[0].Raw))
	}
	for _, h := range []string{fiber.HeaderContentType, fiber.HeaderAccept} {
		if v := c.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(cluster.HeaderForwarded, "1")
	if p.secret != "" {
		req.Header.Set(cluster.HeaderSecret, p.secret)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", cluster.ErrForward, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%w: %v", cluster.ErrForward, err)
	}
	for _, h := range []string{fiber.HeaderContentType, fiber.HeaderRetryAfter, fiber.HeaderContentDisposition} {
		if v := resp.Header.Get(h); v != "" {
			c.Set(h, v)
		}
	}
	return c.Status(resp.StatusCode).Send(body)
}

// listGranted answers a list of records: those list reads that belong to
// the request user's clients.
func listGranted[T any](s *Server, c *fiber.Ctx, list func(*state.Reader, func(*T) bool) ([]T, error), client func(*T) string) error {
	see := sees(c)
	var out []T
	err := s.read(c, func(r *state.Reader) error {
		var err error
		out, err = list(r, func(x *T) bool { return see(client(x)) })
		return err
	})
	return respond(c, err, func() any { return items(out) })
}

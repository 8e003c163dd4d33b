package api

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
)

// forwardedEvents is the leader's side of a follower forwarding events.
func (s *Server) forwardedEvents(c *fiber.Ctx) error {
	var evs command.Events
	if err := evs.UnmarshalBinary(c.Body()); err != nil {
		return internalError(c, fmt.Errorf("%w: %v", ErrBadInput, err))
	}
	vs, err := s.node.SubmitEvents(c.UserContext(), evs.Events, true)
	if err != nil {
		return internalError(c, err)
	}
	return c.JSON(vs)
}

// forwardedPropose is the leader's side of a follower forwarding a command.
func (s *Server) forwardedPropose(c *fiber.Ctx) error {
	if _, _, err := command.Decode(c.Body()); err != nil {
		return internalError(c, fmt.Errorf("%w: %v", ErrBadInput, err))
	}
	raw, err := s.node.Propose(c.UserContext(), append([]byte(nil), c.Body()...), true)
	if err != nil {
		return internalError(c, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(raw)
}

func (s *Server) clusterSelf(c *fiber.Ctx) error {
	self, err := s.node.SelfStatus(c.Query("hash") == "1")
	if err != nil {
		return err
	}
	return c.JSON(self)
}

// clusterJoin adds a node; a follower passes the request to the leader.
func (s *Server) clusterJoin(c *fiber.Ctx) error {
	var j cluster.JoinRequest
	if err := decode(c, &j); err != nil {
		return err
	}
	if j.ID == "" || j.Raft == "" {
		return badField("id", "a join needs an id and a raft address")
	}
	return s.leaderOnly(c, func() error { return s.node.Join(c.UserContext(), j) })
}

type idRequest struct {
	ID string `json:"id"`
}

func (s *Server) clusterRemove(c *fiber.Ctx) error {
	var r idRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if r.ID == "" {
		return badField("id", "required")
	}
	return s.leaderOnly(c, func() error { return s.node.Remove(c.UserContext(), r.ID) })
}

func (s *Server) clusterTransfer(c *fiber.Ctx) error {
	var r idRequest
	if len(c.Body()) > 0 {
		if err := decode(c, &r); err != nil {
			return err
		}
	}
	return s.leaderOnly(c, func() error { return s.node.TransferLeadership(c.UserContext(), r.ID) })
}

// leaderOnly runs fn on the leader, or passes the request to it.
func (s *Server) leaderOnly(c *fiber.Ctx, fn func() error) error {
	if !s.node.IsLeader() {
		if c.Get(cluster.HeaderForwarded) != "" {
			return cluster.ErrNotLeader
		}
		return s.proxy.toLeader(c, s.node)
	}
	if err := fn(); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ok": true})
}

func (s *Server) clusterStatus(c *fiber.Ctx) error {
	st, err := s.node.ClusterStatus(c.UserContext(), c.Query("hash") == "1")
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// clusterHash is this node's state hash and the index it reflects.
func (s *Server) clusterHash(c *fiber.Ctx) error {
	var applied uint64
	var hash string
	err := s.read(c, func(r *state.Reader) error {
		var err error
		if applied, err = r.Applied(); err != nil {
			return err
		}
		hash, err = r.Hash()
		return err
	})
	return respond(c, err, func() any { return fiber.Map{"node": s.nodeID(), "applied": applied, "hash": hash} })
}

// clusterFeed is how the change feed devices follow is kept: by a limit
// of references (limit_refs, held_refs, and from_index, the first entry
// a device cursor may follow from), or, with limit_refs 0, the last
// window_entries entries.
func (s *Server) clusterFeed(c *fiber.Ctx) error {
	var b state.FeedBound
	var applied uint64
	err := s.read(c, func(r *state.Reader) error {
		var err error
		if applied, err = r.Applied(); err != nil {
			return err
		}
		b, err = r.FeedBound()
		return err
	})
	return respond(c, err, func() any {
		out := fiber.Map{"applied": applied, "limit_refs": b.Limit, "held_refs": b.Held, "from_index": b.From}
		if b.Limit == 0 {
			out["window_entries"] = state.FeedWindow
		}
		return out
	})
}

type feedRequest struct {
	LimitRefs uint64 `json:"limit_refs"`
}

// putClusterFeed sets the feed's limit (admin). A cluster from before
// limits keeps the last entries until this is called once every node
// runs a binary that knows the command.
func (s *Server) putClusterFeed(c *fiber.Ctx) error {
	var r feedRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if r.LimitRefs < command.MinFeedRefs || r.LimitRefs > command.MaxFeedRefs {
		return badField("limit_refs", "between %d and %d references", command.MinFeedRefs, command.MaxFeedRefs)
	}
	if _, err := s.propose(c, command.TypeFeedLimit, command.FeedLimit{Refs: r.LimitRefs}); err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) nodeID() string {
	self, err := s.node.SelfStatus(false)
	if err != nil {
		return ""
	}
	return self.ID
}

// clusterBackup streams the state as a snapshot: a consistent view at
// one applied index. With ?consistency=leader it is taken on the leader.
func (s *Server) clusterBackup(c *fiber.Ctx) error {
	if c.Query("consistency") == consistencyLeader {
		if !s.node.IsLeader() {
			if c.Get(cluster.HeaderForwarded) != "" {
				return cluster.ErrNotLeader
			}
			return s.proxy.toLeader(c, s.node)
		}
		if err := s.node.VerifyRead(c.UserContext()); err != nil {
			return err
		}
	}
	snap := s.node.State().Snapshot()
	idx, err := snap.Applied()
	if err != nil {
		snap.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, "application/octet-stream")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="custody-%d.backup"`, idx))
	c.Set("X-Custody-Applied", fmt.Sprint(idx))
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer snap.Close()
		if _, err := snap.WriteTo(w); err != nil && !errors.Is(err, fiber.ErrRequestTimeout) {
			s.log.Warn("backup stream failed", "err", err)
		}
		_ = w.Flush()
	})
	return nil
}

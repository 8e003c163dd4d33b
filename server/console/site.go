package console

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/cluster"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

type siteView struct {
	Site    master.Site
	Status  cluster.Status
	Self    cluster.Self
	Error   string
	Feed    state.FeedBound
	Applied uint64
}

func (c *Console) sitePage(x *fiber.Ctx) error {
	var v siteView
	ctx, cancel := context.WithTimeout(x.UserContext(), 3*time.Second)
	defer cancel()
	st, err := c.node.ClusterStatus(ctx, false)
	if err != nil {
		v.Error = err.Error()
	}
	v.Status = st
	if v.Self, err = c.node.SelfStatus(false); err != nil && v.Error == "" {
		v.Error = err.Error()
	}
	err = c.node.State().View(func(r *state.Reader) error {
		var err error
		if v.Site, err = r.Site(); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		if v.Applied, err = r.Applied(); err != nil {
			return err
		}
		v.Feed, err = r.FeedBound()
		return err
	})
	if err != nil {
		return err
	}
	return c.render(x, "site", "Site", v)
}

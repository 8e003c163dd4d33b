package operator

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/shared/event"
)

// digests matches the sites' serial digests (see DESIGN.md).
type digests struct {
	o   *Operator
	key []byte
}

func newDigests(o *Operator, key []byte) (*digests, error) {
	return &digests{o: o, key: key}, nil
}

func (d *digests) round(ctx context.Context) {}

type dupFlag struct {
	Site, Outcome string
	OK            bool
}

type dupRow struct {
	Unit    event.Key
	Sites   []string
	Found   time.Time
	Flagged []dupFlag
}

type duplicatesView struct {
	Enabled bool
	Matched time.Time
	Digests int
	Sites   int
	Rows    []dupRow
}

func (o *Operator) duplicatesPage(x *fiber.Ctx) error {
	return o.render(x, "duplicates", "Duplicates", duplicatesView{Enabled: o.digests != nil})
}

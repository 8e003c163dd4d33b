package command

import "fmt"

// maxIncarnation bounds an incarnation id (state keeps at most this).
const maxIncarnation = 128

// incarnation applies an Incarnation: the first id the log carries names
// the cluster's incarnation, later ones change nothing (two leaders that
// each found none agree on the first). A restored cluster starts with
// an id of its own, so one proposed from before the restore is ignored
// too. The result is the id in effect.
func (b *batch) incarnation(c *Incarnation) any {
	if c.ID == "" || len(c.ID) > maxIncarnation {
		return fmt.Errorf("%w: an incarnation id has 1 to %d bytes, not %d", ErrRejected, maxIncarnation, len(c.ID))
	}
	cur, err := b.tx.Incarnation()
	must(err, "incarnation")
	if cur != "" {
		return cur
	}
	must(b.tx.SetIncarnation(c.ID), "incarnation")
	return c.ID
}

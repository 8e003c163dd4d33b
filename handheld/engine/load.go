package engine

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// Load replaces the replica with a snapshot and replays the events still
// in the outbox on top of it, so the device's view keeps what it did
// that the site has not seen yet. It ends the current task.
func (e *Engine) Load(snap *master.Snapshot) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n, err := e.st.Load(snap)
	e.incomplete = e.st.Incomplete()
	if err != nil {
		return 0, fmt.Errorf("load snapshot: %w", err)
	}
	e.task = nil
	if e.user != nil {
		var u master.User
		err := e.st.View(func(tx *store.Tx) (err error) { u, err = tx.User(e.user.ID); return })
		if err == nil {
			e.user = &u
		} else {
			e.user = nil
		}
	}
	pending, err := e.st.Pending(0)
	if err != nil {
		return n, fmt.Errorf("%w: %v", ErrStorage, err)
	}
	for i := range pending {
		ev := &pending[i]
		err := e.st.Update(func(tx *store.Tx) error {
			u, err := tx.User(ev.User)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			_, err = unit.Evaluate(tx, ev, unit.Env{Authorized: u.Role.CanRelease(), Owners: ownersIn(tx)})
			return err
		})
		if err != nil {
			return n, fmt.Errorf("%w: replay %d: %v", ErrStorage, ev.Seq, err)
		}
	}
	return n, nil
}

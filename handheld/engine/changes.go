package engine

import (
	"errors"
	"fmt"

	"github.com/custodyhq/custody/handheld/store"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// ApplyChanges applies one step of the site's down-feed to the replica
// (see store.ApplyChanges) and stores its cursor. Unsent events that
// reach a changed unit are replayed on top, so the device's own work
// stays visible until the site has it. Unlike Load, the current task
// goes on.
func (e *Engine) ApplyChanges(put *master.Snapshot, removed []store.Removal, cursor string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.st.ApplyChanges(put, removed, cursor); err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	if e.user != nil {
		var u master.User
		err := e.st.View(func(tx *store.Tx) (err error) { u, err = tx.User(e.user.ID); return })
		switch {
		case err == nil:
			e.user = &u
		case errors.Is(err, store.ErrNotFound):
			e.user, e.task = nil, nil
		default:
			return fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	changed := make(map[event.Key]bool, len(put.Units))
	for _, u := range put.Units {
		changed[u.Key] = true
	}
	for _, r := range removed {
		if r.Kind == store.KindUnit {
			changed[event.Key(r.ID)] = true
		}
	}
	if len(changed) == 0 {
		return nil
	}
	pending, err := e.st.Pending(0)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStorage, err)
	}
	for i := range pending {
		ev := &pending[i]
		err := e.st.Update(func(tx *store.Tx) error {
			if !reaches(tx, ev, changed) {
				return nil
			}
			u, err := tx.User(ev.User)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			_, err = unit.Evaluate(tx, ev, unit.Env{Authorized: u.Role.CanRelease(), Owners: ownersIn(tx)})
			return err
		})
		if err != nil {
			return fmt.Errorf("%w: replay %d: %v", ErrStorage, ev.Seq, err)
		}
	}
	return nil
}

// reaches reports whether ev acts on a unit in keys: a subject, or
// something inside a subject for kinds that propagate.
func reaches(tx *store.Tx, ev *event.Event, keys map[event.Key]bool) bool {
	for _, s := range ev.Subjects {
		if keys[s.Key] {
			return true
		}
		if !unit.Propagates(ev.Kind) || !s.Key.IsContainer() {
			continue
		}
		inside, err := tx.Descendants(s.Key)
		if err != nil {
			return true
		}
		for _, k := range inside {
			if keys[k] {
				return true
			}
		}
	}
	return false
}

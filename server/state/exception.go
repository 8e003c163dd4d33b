package state

import (
	"errors"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// Exceptions: x id → exception; X status id → "" (the queue by status);
// a key 0 rule → id of the active (not resolved) exception for that unit
// and rule, which is how later findings join it.

// ActiveException returns the exception later findings for (k, rule) join.
func (r *Reader) ActiveException(k event.Key, rule unit.Rule) (unit.Exception, bool, error) {
	id, err := r.get(key(tActive, string(k), string(rule)))
	if errors.Is(err, ErrNotFound) {
		return unit.Exception{}, false, nil
	}
	if err != nil {
		return unit.Exception{}, false, err
	}
	x, err := r.Exception(string(id))
	if err != nil {
		return unit.Exception{}, false, err
	}
	return x, x.Active(), nil
}

// Exception returns one exception.
func (r *Reader) Exception(id string) (unit.Exception, error) {
	var x unit.Exception
	err := r.getJSON(key(tException, id), &x)
	return x, err
}

// ExceptionFilter selects exceptions.
type ExceptionFilter struct {
	Status unit.ExceptionStatus // 0: any
	Rule   unit.Rule
	Unit   event.Key
	Client func(string) bool
	After  string
	Limit  int
}

// Exceptions lists exceptions by id (through the status index when a
// status is named).
func (r *Reader) Exceptions(f ExceptionFilter) (Page[unit.Exception], error) {
	prefix := []byte{tException}
	if f.Status != 0 {
		prefix = []byte{tExcStatus, byte(f.Status)}
	}
	var after []byte
	if f.After != "" {
		after = append(append([]byte(nil), prefix...), f.After...)
	}
	var page Page[unit.Exception]
	err := r.scan(prefix, after, false, func(k, _ []byte) (bool, error) {
		x, err := r.Exception(string(k[len(prefix):]))
		if err != nil {
			return false, err
		}
		if f.Rule != "" && x.Rule != f.Rule || f.Unit != "" && x.Unit != f.Unit || f.Client != nil && !f.Client(x.Client) {
			return true, nil
		}
		if f.Limit > 0 && len(page.Items) == f.Limit {
			page.Next = page.Items[len(page.Items)-1].ID
			return false, nil
		}
		page.Items = append(page.Items, x)
		return true, nil
	})
	return page, err
}

// PutException stores an exception and keeps the status and active indexes.
func (t *Tx) PutException(x unit.Exception) error {
	if err := t.noteFeed(FeedException, x.ID); err != nil {
		return err
	}
	old, err := t.Exception(x.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err == nil && old.Status != x.Status {
		if err := t.del(append([]byte{tExcStatus, byte(old.Status)}, x.ID...)); err != nil {
			return err
		}
	}
	if err := t.setJSON(key(tException, x.ID), x); err != nil {
		return err
	}
	if err := t.set(append([]byte{tExcStatus, byte(x.Status)}, x.ID...), nil); err != nil {
		return err
	}
	ak := key(tActive, string(x.Unit), string(x.Rule))
	if x.Active() {
		return t.set(ak, []byte(x.ID))
	}
	cur, err := t.get(ak)
	if err == nil && string(cur) == x.ID {
		return t.del(ak)
	}
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

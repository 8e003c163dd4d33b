package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

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

// Exception returns one exception, from the transaction's cache when it
// was read or written before. Callers that change the slices of an
// exception clip them first (unit.Exception.Join), so sharing is safe.
func (t *Tx) Exception(id string) (unit.Exception, error) {
	if x, ok := t.excs[id]; ok {
		return x, nil
	}
	x, err := t.Reader.Exception(id)
	if err == nil {
		t.excs[id] = x
	}
	return x, err
}

// activeID returns the id the active index holds for (k, rule), "" when
// none, cached for the transaction.
func (t *Tx) activeID(ak []byte) (string, error) {
	if id, ok := t.active[string(ak)]; ok {
		return id, nil
	}
	b, err := t.get(ak)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	if err != nil {
		return "", err
	}
	t.active[string(ak)] = string(b)
	return string(b), nil
}

// ActiveException returns the exception later findings for (k, rule)
// join, through the transaction's caches.
func (t *Tx) ActiveException(k event.Key, rule unit.Rule) (unit.Exception, bool, error) {
	id, err := t.activeID(key(tActive, string(k), string(rule)))
	if err != nil || id == "" {
		return unit.Exception{}, false, err
	}
	x, err := t.Exception(id)
	if err != nil {
		return unit.Exception{}, false, err
	}
	return x, x.Active(), nil
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
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("state encode: %w", err)
	}
	if err := t.set(key(tException, x.ID), b); err != nil {
		return err
	}
	// Cache what a read would return, so a cached read never differs
	// from a stored one.
	stored, ok := jsonExact(x)
	if !ok {
		if err := json.Unmarshal(b, &stored); err != nil {
			return fmt.Errorf("%w: exception %s: %v", ErrCorrupt, x.ID, err)
		}
	}
	t.excs[x.ID] = stored
	if err := t.set(append([]byte{tExcStatus, byte(x.Status)}, x.ID...), nil); err != nil {
		return err
	}
	ak := key(tActive, string(x.Unit), string(x.Rule))
	if x.Active() {
		if err := t.set(ak, []byte(x.ID)); err != nil {
			return err
		}
		t.active[string(ak)] = x.ID
		return nil
	}
	cur, err := t.activeID(ak)
	if err != nil || cur != x.ID {
		return err
	}
	if err := t.del(ak); err != nil {
		return err
	}
	t.active[string(ak)] = ""
	return nil
}

// jsonExact returns x as decoding its JSON would, when it can tell
// without decoding: every string is valid UTF-8 (JSON replaces invalid
// bytes) and the enumerations have names (others do not decode).
// Devices, omitted when empty, decodes as nil.
func jsonExact(x unit.Exception) (unit.Exception, bool) {
	if x.Severity < unit.SeverityLow || x.Severity > unit.SeverityHigh ||
		x.Status < unit.ExceptionOpen || x.Status > unit.ExceptionResolved {
		return x, false
	}
	for _, s := range [...]string{x.ID, string(x.Rule), string(x.Unit), x.Client, x.Site, x.Detail, x.By, x.Note} {
		if !utf8.ValidString(s) {
			return x, false
		}
	}
	for _, s := range x.Devices {
		if !utf8.ValidString(s) {
			return x, false
		}
	}
	if len(x.Devices) == 0 {
		x.Devices = nil
	}
	return x, true
}

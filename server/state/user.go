package state

import "github.com/custodyhq/custody/shared/master"

// User returns one user.
func (r *Reader) User(id string) (master.User, error) {
	return getMaster[master.User](r, mUser, id)
}

// Users lists the users.
func (r *Reader) Users() ([]master.User, error) { return listMaster[master.User](r, mUser, nil) }

// PutUser stores a user.
func (t *Tx) PutUser(u master.User) error { return t.putMaster(mUser, u.ID, u) }

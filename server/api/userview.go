package api

import "github.com/custodyhq/custody/shared/master"

// userWire is a user as the API shows it: never its PIN verifier (salt,
// iterations, hash), which would let whoever reads it try PINs offline.
// Handhelds get verifiers through the sync feed, for offline sign-in;
// no HTTP route returns one.
type userWire struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Role    master.Role `json:"role"`
	Clients []string    `json:"clients"`
	HasPIN  bool        `json:"hasPin"` // a PIN is set (handheld sign-in)
}

func toUser(u *master.User) userWire {
	clients := u.Clients
	if clients == nil {
		clients = []string{}
	}
	return userWire{ID: u.ID, Name: u.Name, Role: u.Role, Clients: clients, HasPIN: u.PIN != nil}
}

func toUsers(us []master.User) []userWire {
	out := make([]userWire, len(us))
	for i := range us {
		out[i] = toUser(&us[i])
	}
	return out
}

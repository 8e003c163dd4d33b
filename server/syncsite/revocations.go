package syncsite

import (
	"log/slog"
	"math/big"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/state"
)

// Revocations is the site's list of revoked devices as the replicated
// state holds it (command.TypeRevokeDevice): a certs.DeviceRevocationChecker
// for the Verifier, and the list the endpoint checks its open sessions
// against. Devices are revoked by id, which is derived from their key,
// so every certificate of a revoked device is refused, whichever node
// issued it. It is safe for concurrent use.
type Revocations struct {
	st  *state.Store
	log *slog.Logger
}

// NewRevocations returns the revocations kept in st.
func NewRevocations(st *state.Store, log *slog.Logger) *Revocations {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Revocations{st: st, log: log}
}

// IsRevoked implements certs.RevocationChecker. The site revokes devices
// by id (IsDeviceRevoked), not certificates by serial.
func (r *Revocations) IsRevoked(*big.Int) bool { return false }

// IsDeviceRevoked implements certs.DeviceRevocationChecker. A state that
// cannot be read answers revoked: admission fails closed.
func (r *Revocations) IsDeviceRevoked(id certs.DeviceID) bool {
	var revoked bool
	err := r.st.View(func(rd *state.Reader) error {
		var err error
		revoked, err = rd.IsDeviceRevoked(id.String())
		return err
	})
	if err != nil {
		r.log.Error("read revoked devices", "err", err)
		return true
	}
	return revoked
}

// Revoked returns the ids of the revoked devices.
func (r *Revocations) Revoked() (map[string]bool, error) {
	var list []state.RevokedDevice
	err := r.st.View(func(rd *state.Reader) error {
		var err error
		list, err = rd.RevokedDevices()
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(list))
	for _, d := range list {
		out[d.Device] = true
	}
	return out, nil
}

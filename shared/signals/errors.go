package signals

import "errors"

// Errors of this package.
var (
	// ErrFinding: a finding lacks what applying it needs.
	ErrFinding = errors.New("signals: invalid finding")
	// ErrModel: a model document does not decode into a usable model.
	ErrModel = errors.New("signals: invalid model")
)

package event

import (
	"encoding/json"
	"fmt"
	"strings"
)

// MarshalJSON writes the set by name, comma separated ("recall,damaged"),
// as people and partners read it.
func (h Holds) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

// UnmarshalJSON reads the set by name, or as the number earlier
// documents carried.
func (h *Holds) UnmarshalJSON(b []byte) error {
	var n uint8
	if err := json.Unmarshal(b, &n); err == nil {
		*h = Holds(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: holds: want names or a number", ErrInvalid)
	}
	var out Holds
	for _, name := range strings.Split(s, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		r, err := ParseHoldReason(name)
		if err != nil {
			return err
		}
		out = out.With(r)
	}
	*h = out
	return nil
}

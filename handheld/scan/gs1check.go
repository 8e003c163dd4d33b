package scan

import (
	"errors"

	"github.com/custodyhq/custody/shared/gs1"
)

// GS1Checker is the product-identifier check every scan goes through:
// the data must parse as GS1 and identify a usable unit, container or
// either, as the workflow wants.
type GS1Checker struct {
	Want   gs1.Want
	Policy gs1.Policy
}

var _ Checker = GS1Checker{}

// Check parses the scan (symbology identifier first when the device sent
// one) and identifies the product. Transport issues noticed on a wedge
// turn an otherwise valid read into a warning.
func (c GS1Checker) Check(s Scan) Verdict {
	raw := make([]byte, 0, len(s.Symbology)+len(s.Text))
	raw = append(raw, s.Symbology...)
	raw = append(raw, s.Text...)
	d, err := gs1.Parse(raw)
	if err != nil {
		return Verdict{Status: Refused, Reason: reason(err)}
	}
	p, err := gs1.Identify(d, c.Want, c.Policy)
	if err != nil {
		return Verdict{Status: Refused, Reason: reason(err)}
	}
	v := Verdict{Status: Accepted, Product: p}
	if len(s.Issues) > 0 {
		v.Status = Warning
		v.Reason = "scanner configuration: " + s.Issues[0]
	}
	return v
}

func reason(err error) string {
	var ge *gs1.Error
	if errors.As(err, &ge) && ge.Reason != "" {
		if ge.AI != "" {
			return "(" + ge.AI + ") " + ge.Reason
		}
		return ge.Reason
	}
	return err.Error()
}

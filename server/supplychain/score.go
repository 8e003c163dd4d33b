package supplychain

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/signals"
	"github.com/custodyhq/custody/shared/unit"
)

// PatternResult is one pattern's figures.
type PatternResult struct {
	Deterministic  bool    `json:"deterministic"`
	Instances      int     `json:"instances"`
	Detected       int     `json:"detected"`
	Recall         float64 `json:"recall"`
	True           int     `json:"true"`  // exceptions of its rules on its instances
	False          int     `json:"false"` // exceptions of its rules on clean units
	Cross          int     `json:"cross"` // exceptions of its rules on another pattern's instances
	Precision      float64 `json:"precision"`
	DetectionP50ms int64   `json:"detection_p50_ms"`
	DetectionMaxMs int64   `json:"detection_max_ms"`
}

// Result is the evaluation's last line.
type Result struct {
	Seed               uint64                   `json:"seed"`
	Events             int                      `json:"events"`
	CleanEvents        int                      `json:"clean_events"`
	Analyzed           uint64                   `json:"analyzed_events"`
	ReplaySeconds      float64                  `json:"replay_seconds"`
	Patterns           map[string]PatternResult `json:"patterns"`
	Recall             float64                  `json:"recall"`
	Precision          float64                  `json:"precision"`
	FalseAlarms        int                      `json:"false_alarms"`
	FalseAlarmsPer100k float64                  `json:"false_alarms_per_100k_clean"`
	DetectionP50ms     int64                    `json:"detection_p50_ms"`
	DetectionP95ms     int64                    `json:"detection_p95_ms"`
	DetectionMaxMs     int64                    `json:"detection_max_ms"`
}

// rulesOf are the exception rules that find a pattern: the signals'
// own, and for lot or expiry against the supplier's data, the rules'.
func RulesOf(p Pattern) []unit.Rule {
	switch p {
	case ClonedSerial:
		return []unit.Rule{signals.RuleClonedSerial}
	case NoSupplierData:
		return []unit.Rule{signals.RuleNoSupplierData}
	case SupplierMismatch:
		return []unit.Rule{unit.RuleLotMismatch, unit.RuleExpiryMismatch}
	case DivertedReturn:
		return []unit.Rule{signals.RuleReturnNotShipped}
	case TwoPlaces:
		return []unit.Rule{signals.RuleTwoPlaces}
	case ForgedSerial:
		return []unit.Rule{signals.RuleSerialFormat}
	case ForgedLot:
		return []unit.Rule{signals.RuleUnknownLot}
	case WrongExpiry:
		return []unit.Rule{signals.RuleLotExpiry}
	case DiverterDevice:
		return []unit.Rule{signals.RuleWorkShape}
	case UnusualShipment:
		return []unit.Rule{signals.RuleSupplierProfile}
	case DiverterUser:
		return []unit.Rule{signals.RuleUserShape}
	case LookupScout:
		return []unit.Rule{signals.RuleLookupNoWork}
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func percentile(ds []time.Duration, q float64) int64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ms(ds[int(q*float64(len(ds)-1))])
}

// Observed is an exception as the site raised it and when it was seen.
type Observed struct {
	X  unit.Exception
	At time.Time
}

// Score matches the exceptions a site raised to the data's labels: per
// pattern, an instance is found when an exception of one of the
// pattern's rules names its unit (its device, for a device pattern; for
// a user pattern, its user is the user of the exception's first event).
// Precision counts exceptions of a pattern's rules on clean units as
// false; those on another pattern's instances are reported as cross
// findings, neither true nor false. submitted holds when each event
// reached the site: detection time runs from the exception's first
// event to when the exception was seen.
func Score(data *Data, xs []Observed, submitted map[event.ID]time.Time, explain io.Writer) *Result {
	res := &Result{Events: data.Events, CleanEvents: data.Clean, Patterns: map[string]PatternResult{}}
	// Instances: a unit (a device for device patterns) per pattern.
	type inst struct {
		p   Pattern
		key string
	}
	instEvent := map[inst]event.ID{}
	labelled := map[string]Pattern{} // unit, device or "user "+user → pattern
	var order []inst
	userOf := map[event.ID]string{}
	for _, st := range data.Steps {
		for i := range st.Events {
			userOf[st.Events[i].ID] = st.Events[i].User
		}
	}
	for _, l := range data.Labels {
		if l.User != "" {
			// A diverter device's user works like a diverter too: a user
			// finding on them is another pattern's, not a false alarm.
			labelled["user "+l.User] = l.Pattern
		}
		k := string(l.Unit)
		switch l.Pattern {
		case DiverterDevice:
			k = l.Device
		case DiverterUser, LookupScout:
			k = "user " + l.User
		}
		in := inst{l.Pattern, k}
		if _, ok := instEvent[in]; !ok {
			instEvent[in] = l.Event
			order = append(order, in)
		}
		labelled[k] = l.Pattern
	}
	xs = slices.Clone(xs)
	slices.SortFunc(xs, func(a, b Observed) int { return strings.Compare(a.X.ID, b.X.ID) })
	var all []time.Duration
	var tp, fp, det, tot int
	for _, p := range Patterns() {
		rules := RulesOf(p)
		pr := PatternResult{Deterministic: p.Deterministic()}
		found := map[string]time.Duration{}
		for _, s := range xs {
			if !slices.Contains(rules, s.X.Rule) {
				continue
			}
			keys := []string{string(s.X.Unit)}
			switch {
			case p == DiverterDevice:
				keys = s.X.Devices
			case (p == DiverterUser || p == LookupScout) && len(s.X.Events) > 0:
				keys = []string{"user " + userOf[s.X.Events[0]]}
			}
			match, other := "", false
			for _, k := range keys {
				if lp, ok := labelled[k]; ok {
					if lp == p {
						match = k
					} else {
						other = true
					}
				}
			}
			switch {
			case match != "":
				pr.True++
				lat := time.Duration(-1)
				if len(s.X.Events) > 0 {
					if t0, ok := submitted[s.X.Events[0]]; ok {
						lat = s.At.Sub(t0)
					}
				}
				if lat < 0 {
					lat = s.At.Sub(submitted[instEvent[inst{p, match}]])
				}
				if d, ok := found[match]; !ok || lat < d {
					found[match] = lat
				}
			case other:
				pr.Cross++
			default:
				pr.False++
				if explain != nil {
					fmt.Fprintf(explain, "false alarm %s %s: %s\n", s.X.Rule, s.X.Unit, s.X.Detail)
				}
			}
		}
		var lats []time.Duration
		for _, in := range order {
			if in.p != p {
				continue
			}
			pr.Instances++
			if d, ok := found[in.key]; ok {
				pr.Detected++
				lats = append(lats, d)
			} else if explain != nil {
				fmt.Fprintf(explain, "missed %s %s\n", p, in.key)
			}
		}
		if pr.Instances > 0 {
			pr.Recall = float64(pr.Detected) / float64(pr.Instances)
		}
		pr.Precision = 1
		if pr.True+pr.False > 0 {
			pr.Precision = float64(pr.True) / float64(pr.True+pr.False)
		}
		pr.DetectionP50ms = percentile(lats, 0.5)
		pr.DetectionMaxMs = percentile(lats, 1)
		all = append(all, lats...)
		res.Patterns[string(p)] = pr
		tp += pr.True
		fp += pr.False
		det += pr.Detected
		tot += pr.Instances
	}
	if tot > 0 {
		res.Recall = float64(det) / float64(tot)
	}
	res.Precision = 1
	if tp+fp > 0 {
		res.Precision = float64(tp) / float64(tp+fp)
	}
	res.FalseAlarms = fp
	if data.Clean > 0 {
		res.FalseAlarmsPer100k = float64(fp) * 100000 / float64(data.Clean)
	}
	res.DetectionP50ms = percentile(all, 0.5)
	res.DetectionP95ms = percentile(all, 0.95)
	res.DetectionMaxMs = percentile(all, 1)
	return res
}

package signals

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// The shape of a device's or a user's work over a window of their scans:
// how fast, how often refused, at what hours, what kinds of scans, over
// how many places. A diverter's scans — at night, counting and returning
// across many bins, refused often — stand apart from the others'.
const (
	featRate    = iota // log(1 + scans per minute)
	featRefused        // share refused or in conflict
	featNight          // share between 22:00 and 06:00
	featCount          // share of counts
	featReturn         // share of returns
	featPlaces         // distinct places per scan
	numFeatures
)

var featNames = [numFeatures]string{"scans per minute", "refused", "in the hours the site is quiet", "counts", "returns", "places per scan"}

// floors bound each feature's spread from below, so a feature the fleet
// never varies (nobody works at night) does not turn a small wobble into
// a large distance.
// The kinds of scans vary most between devices with one job (a returns
// desk does nothing but returns): their floors are wide.
var featFloors = [numFeatures]float64{0.3, 0.05, 0.05, 0.25, 0.25, 0.25}

// QuietShare is the share of the site's scans below which an hour of the
// day counts as quiet (nobody usually works then).
const QuietShare = 0.004

// Hours is the site's activity by hour of the day (UTC).
type Hours [24]int64

// Quiet returns the hours whose share of all scans is below QuietShare
// and whose neighbours' shares are too (work running over into the next
// hour is not odd); none while fewer than minScans were seen.
func (h *Hours) Quiet(minScans int64) [24]bool {
	var q [24]bool
	var tot int64
	for _, v := range h {
		tot += v
	}
	if tot < minScans {
		return q
	}
	low := func(i int) bool { return float64(h[(i+24)%24]) < QuietShare*float64(tot) }
	for i := range h {
		q[i] = low(i-1) && low(i) && low(i+1)
	}
	return q
}

// Window is one device's (or user's) features over its last scans.
type Window [numFeatures]float64

// WorkOf says whose work a work-shape model follows: the same model,
// keyed by device or by user.
type WorkOf uint8

// Whose work.
const (
	WorkDevice WorkOf = iota // the device that scanned
	WorkUser                 // the user signed in on it, whatever device
)

// Key is whose work ev is.
func (o WorkOf) Key(ev *event.Event) string {
	if o == WorkUser {
		return ev.User
	}
	return ev.Device
}

// Rule is the rule the work of o raises.
func (o WorkOf) Rule() unit.Rule {
	if o == WorkUser {
		return RuleUserShape
	}
	return RuleWorkShape
}

// Noun names one of o ("device", "user") and Peers all of them.
func (o WorkOf) Noun() string {
	if o == WorkUser {
		return "user"
	}
	return "device"
}

// Peers names all of o in a finding's words.
func (o WorkOf) Peers() string {
	if o == WorkUser {
		return "the staff"
	}
	return "the fleet"
}

// Advice is what a finding of o asks the shift lead to check.
func (o WorkOf) Advice() string {
	if o == WorkUser {
		return "check what the user scanned, on which devices, and why"
	}
	return "check who holds the device and what it scanned"
}

// WorkModel is the usual work shape: the mean and covariance of the
// windows of all devices (or all users), fitted with gonum. Scoring is the
// Mahalanobis distance of a window, read through the chi-squared
// distribution.
type WorkModel struct {
	n    int
	mean [numFeatures]float64
	sd   [numFeatures]float64
	chol mat.Cholesky
	ok   bool
}

// FitWork fits the fleet model to windows (at least minWindows, else the
// model judges nothing).
func FitWork(windows []Window, minWindows int) *WorkModel {
	m := &WorkModel{n: len(windows)}
	if len(windows) < max(minWindows, numFeatures+1) {
		return m
	}
	x := mat.NewDense(len(windows), numFeatures, nil)
	col := make([]float64, len(windows))
	for j := range numFeatures {
		for i, w := range windows {
			col[i] = w[j]
		}
		mu, sd := stat.MeanStdDev(col, nil)
		m.mean[j], m.sd[j] = mu, math.Max(sd, featFloors[j])
		for i := range windows {
			x.Set(i, j, (col[i]-mu)/m.sd[j])
		}
	}
	var cov mat.SymDense
	stat.CovarianceMatrix(&cov, x, nil)
	// A feature the fleet barely varies had its spread raised to its
	// floor: its variance is at least 1 after that. The ridge keeps the
	// matrix invertible when features move together.
	for j := range numFeatures {
		cov.SetSym(j, j, math.Max(cov.At(j, j), 1)+0.05)
	}
	m.ok = m.chol.Factorize(&cov)
	return m
}

// Ready reports whether the model can judge.
func (m *WorkModel) Ready() bool { return m != nil && m.ok }

// Judge scores the window of key (a device or a user, as of says):
// -log10 of the chance that a peer's window lies this far out, over 8
// (1e-8 and rarer is 1), with the features that stand out most, in words.
func (m *WorkModel) Judge(of WorkOf, key string, w Window, scans int) Judgement {
	if !m.Ready() {
		return Judgement{}
	}
	z := mat.NewVecDense(numFeatures, nil)
	for j := range numFeatures {
		z.SetVec(j, (w[j]-m.mean[j])/m.sd[j])
	}
	var sol mat.VecDense
	if err := m.chol.SolveVecTo(&sol, z); err != nil {
		return Judgement{}
	}
	d2 := mat.Dot(z, &sol)
	tail := 1 - distuv.ChiSquared{K: numFeatures}.CDF(d2)
	score := 1.0
	if tail > 0 {
		score = math.Min(1, math.Max(0, -math.Log10(tail)/8))
	}
	type dev struct {
		j int
		z float64
	}
	var devs []dev
	for j := range numFeatures {
		if v := z.AtVec(j); math.Abs(v) >= 3 {
			devs = append(devs, dev{j, v})
		}
	}
	sort.Slice(devs, func(a, b int) bool { return math.Abs(devs[a].z) > math.Abs(devs[b].z) })
	var parts []string
	for _, d := range devs {
		parts = append(parts, describeFeature(d.j, w[d.j], m.mean[d.j], of.Peers()))
	}
	reason := fmt.Sprintf("%s %s's last %d scans do not look like %s's work", of.Noun(), key, scans, of.Peers())
	if len(parts) > 0 {
		reason += ": " + strings.Join(parts, ", ")
	}
	return Judgement{Score: score, Cause: of.Noun() + " " + key, Reasons: []string{reason}}
}

func describeFeature(j int, v, usual float64, peers string) string {
	if j == featRate {
		return fmt.Sprintf("%.0f %s where %s does %.0f", math.Expm1(v), featNames[j], peers, math.Expm1(usual))
	}
	if j == featPlaces {
		return fmt.Sprintf("%.2f %s where %s has %.2f", v, featNames[j], peers, usual)
	}
	return fmt.Sprintf("%.0f%% %s where %s has %.0f%%", 100*v, featNames[j], peers, 100*usual)
}

func log1p(x float64) float64 { return math.Log1p(x) }

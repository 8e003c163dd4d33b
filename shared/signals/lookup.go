package signals

import (
	"fmt"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/custodyhq/custody/shared/event"
)

// Look-ups of units a user then does not handle. A user looks a unit up
// on a device (what it is, where, in what state) and, at work, then
// picks, packs, moves or counts it. A look-up is handled when the same
// user's next LookupWindow events name the unit in anything but another
// look-up; otherwise it is left. The staff's share of left look-ups is
// learned at each retrain; a user whose last LookupRing look-ups left far
// more than that share (the binomial tail at the staff's share says how
// unlikely) is checking what is where without working it: scouting
// stock to divert.

// LookupJudgement is the look-up signal's verdict on a user's last
// look-ups.
type LookupJudgement struct {
	Score float64 // P(fewer left | the staff's share), 0–1
	Left  int     // look-ups not handled
	Of    int     // look-ups judged
	Staff float64 // the staff's share of left look-ups
	OK    bool    // judged at all: enough look-ups of the user and of the staff
}

// minLeftShare is the least share of a user's look-ups left unhandled
// that can be a finding, whatever the staff's share: "far above" is at
// least half of them.
const minLeftShare = 0.5

// JudgeLookups scores left look-ups out of of against the staff's share
// staff, learned from support look-ups: nothing is judged before
// minSupport look-ups of the staff or below ring look-ups of the user.
func JudgeLookups(left, of int, staff float64, support, minSupport int64, ring int) LookupJudgement {
	j := LookupJudgement{Left: left, Of: of, Staff: staff}
	if of < ring || of <= 0 || support < minSupport || left < 0 || left > of {
		return j
	}
	j.OK = true
	if float64(left) < minLeftShare*float64(of) {
		return j
	}
	// The staff's share, kept off 0 and 1 so one look-up never decides.
	p := min(max(staff, 0.01), 0.99)
	j.Score = distuv.Binomial{N: float64(of), P: p}.CDF(float64(left - 1))
	return j
}

// lookupTrack follows the look-ups of every user.
type lookupTrack struct {
	each map[string]*lookupUser
	// The staff's look-ups resolved so far, and of them left; share and
	// support are the share learned at the last retrain.
	resolved, left int64
	share          float64
	support        int64
}

func newLookupTrack() *lookupTrack { return &lookupTrack{each: map[string]*lookupUser{}} }

// lookupUser is one user's look-ups: those still open, and whether each
// of the last resolved ones was left.
type lookupUser struct {
	n       int // the user's events seen
	open    []openLookup
	ring    []resolvedLookup
	next    int
	filled  int
	flagged bool
}

type openLookup struct {
	key    event.Key
	id     event.ID
	client string
	due    int // resolved as left once the user's event count passes it
}

type resolvedLookup struct {
	open openLookup
	left bool
}

// retrain learns the staff's share of left look-ups.
func (t *lookupTrack) retrain() {
	t.support = t.resolved
	if t.resolved > 0 {
		t.share = float64(t.left) / float64(t.resolved)
	}
}

// lookups runs the look-up signal for ev: it opens the user's look-ups,
// resolves those ev handles or that fell out of the user's window, and
// judges the user when a look-up is left.
func (a *Analyzer) lookups(out []Finding, ev *event.Event) []Finding {
	if ev.User == "" || len(ev.Subjects) == 0 {
		return out
	}
	t := a.look
	u := t.each[ev.User]
	if u == nil {
		u = &lookupUser{ring: make([]resolvedLookup, a.cfg.LookupRing)}
		t.each[ev.User] = u
	}
	u.n++
	// First what fell out of the window (the user's next LookupWindow
	// events), then what this event handles.
	judge := false
	kept := u.open[:0]
	for _, o := range u.open {
		if u.n > o.due {
			t.resolve(u, o, true)
			judge = true
			continue
		}
		kept = append(kept, o)
	}
	u.open = kept
	if ev.Kind != event.KindLookup {
		kept := u.open[:0]
		for _, o := range u.open {
			if handles(ev, o.key) {
				t.resolve(u, o, false)
				continue
			}
			kept = append(kept, o)
		}
		u.open = kept
	}
	if ev.Kind == event.KindLookup {
		for _, s := range ev.Subjects {
			u.open = append(u.open, openLookup{key: s.Key, id: ev.ID, client: ev.Client, due: u.n + a.cfg.LookupWindow})
		}
	}
	if !judge || u.flagged {
		return out
	}
	left := 0
	for _, r := range u.ring[:u.filled] {
		if r.left {
			left++
		}
	}
	j := JudgeLookups(left, u.filled, t.share, t.support, a.cfg.MinLookups, len(u.ring))
	c := cause(RuleLookupNoWork, ev.User)
	if !j.OK || j.Score < a.cfg.LookupThreshold || a.suppress[c] {
		return out
	}
	u.flagged = true
	f := Finding{Rule: RuleLookupNoWork, Event: ev.ID, Site: ev.Site, Device: ev.Device,
		At: ev.HLC, Score: j.Score, Cause: c, Detail: lookupWords(ev.User, j, a.cfg.LookupWindow, t.support)}
	// The evidence, oldest first; the finding names the last unit left.
	for i := range u.filled {
		r := u.ring[(u.next-u.filled+i+2*len(u.ring))%len(u.ring)]
		if r.left {
			f.Events = append(f.Events, r.open.id)
			f.Units = append(f.Units, r.open.key)
			f.Unit, f.Client = r.open.key, r.open.client
		}
	}
	return append(out, f)
}

// handles reports whether ev names k.
func handles(ev *event.Event, k event.Key) bool {
	for _, s := range ev.Subjects {
		if s.Key == k {
			return true
		}
	}
	return false
}

func (t *lookupTrack) resolve(u *lookupUser, o openLookup, left bool) {
	t.resolved++
	if left {
		t.left++
	}
	u.ring[u.next] = resolvedLookup{open: o, left: left}
	u.next = (u.next + 1) % len(u.ring)
	u.filled = min(u.filled+1, len(u.ring))
}

// lookupWords says the finding in words.
func lookupWords(user string, j LookupJudgement, window int, support int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "user %s looked up %d units and did not handle %d of them in their next %d scans (%.0f%% left, where the staff leaves %.0f%% of %d look-ups)",
		user, j.Of, j.Left, window, 100*float64(j.Left)/float64(j.Of), 100*j.Staff, support)
	b.WriteString(": someone checking what is where without working it may be scouting stock to divert; ask what they were looking for and check those units")
	return b.String()
}

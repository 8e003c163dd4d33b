package signals

import (
	"fmt"
	"math"
	"strings"
)

// MaxFormatLen is the longest string a format model describes (GS1
// serials and lots are at most 20 characters).
const MaxFormatLen = 20

// Character classes.
const (
	classDigit = iota
	classUpper
	classLower
	classSymbol
	numClasses
)

var classNames = [numClasses]string{"digits", "capital letters", "small letters", "symbols"}
var className1 = [numClasses]string{"a digit", "a capital letter", "a small letter", "a symbol"}

func classOf(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return classDigit
	case c >= 'A' && c <= 'Z':
		return classUpper
	case c >= 'a' && c <= 'z':
		return classLower
	}
	return classSymbol
}

// FormatModel is how one manufacturer's serials (or lots) of one product
// look: how long they are, which character class each position holds,
// which characters occur at all, and how long the longest run of
// equal or consecutive characters usually is (sequential or guessable
// serials have long runs). It is learned from strings that came with
// supplier data and is small enough to ship to a handheld.
type FormatModel struct {
	N       int64                           `json:"n"`
	Lengths [MaxFormatLen + 1]int64         `json:"lengths"`
	Classes [MaxFormatLen][numClasses]int64 `json:"classes"`
	Chars   [128]int64                      `json:"chars"`
	Runs    [MaxFormatLen + 1]int64         `json:"runs"` // histogram of the longest run
	// Close counts strings that differ from the one learned before only
	// in their last 4 characters: a manufacturer numbering its packs in
	// sequence, whose serials are guessable by design.
	Close int64  `json:"close"`
	Prev  string `json:"prev,omitempty"`
}

// Sequential reports whether most strings follow the one before.
func (m *FormatModel) Sequential() bool { return m.N > 0 && 2*m.Close > m.N }

func closeTo(a, b string) bool {
	return len(a) == len(b) && len(a) > 4 && a[:len(a)-4] == b[:len(b)-4]
}

// Learn adds one string (a serial or lot from supplier data).
func (m *FormatModel) Learn(s string) {
	if len(s) == 0 || len(s) > MaxFormatLen {
		return
	}
	m.N++
	m.Lengths[len(s)]++
	for i := 0; i < len(s); i++ {
		m.Classes[i][classOf(s[i])]++
		m.Chars[s[i]&0x7f]++
	}
	m.Runs[longestRun(s)]++
	if closeTo(s, m.Prev) {
		m.Close++
	}
	m.Prev = s
}

// longestRun is the length of the longest stretch of s whose characters
// step by the same amount of -1, 0 or +1 ("0000", "1234", "DCBA");
// digits count round ("7890123").
func longestRun(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	best, cur, step := 1, 1, 0
	for i := 1; i < len(s); i++ {
		d := int(s[i]) - int(s[i-1])
		if classOf(s[i]) == classDigit && classOf(s[i-1]) == classDigit {
			switch d {
			case -9:
				d = 1
			case 9:
				d = -1
			}
		}
		switch {
		case d < -1 || d > 1:
			cur = 1
		case cur >= 2 && d == step:
			cur++
		default:
			cur, step = 2, d
		}
		best = max(best, cur)
	}
	return best
}

// surprise maps a probability to a score in 0–1: 1e-4 and rarer is 1,
// 1e-3 is 0.75, 1e-2 is 0.5.
func surprise(p float64) float64 {
	if p <= 0 {
		return 1
	}
	return math.Min(1, math.Max(0, -math.Log10(p)/4))
}

// Judgement is a learned model's score of one observation and the words
// that explain it, most telling first.
type Judgement struct {
	Score   float64
	Reasons []string
	Cause   string // the shape of the oddity, for suppressing false alarms
}

// unlearn takes n copies of a string back out (their counts must be
// there).
func (m *FormatModel) unlearn(s string, n int64) {
	if len(s) == 0 || len(s) > MaxFormatLen || m.N < n || m.Lengths[len(s)] < n {
		return
	}
	m.N -= n
	m.Lengths[len(s)] -= n
	for i := 0; i < len(s); i++ {
		m.Classes[i][classOf(s[i])] -= n
		m.Chars[s[i]&0x7f] -= n
	}
	m.Runs[longestRun(s)] -= n
}

// ScoreLearned judges s, which the model already learned (its supplier
// data arrived before the pack): s is left out, so a lone odd string
// does not vouch for itself.
func (m *FormatModel) ScoreLearned(s string, minSupport int64) Judgement {
	return m.ScoreWithout(s, 1, minSupport)
}

// ScoreWithout judges s with n of its copies left out of the model.
func (m *FormatModel) ScoreWithout(s string, n int64, minSupport int64) Judgement {
	c := *m
	c.unlearn(s, n)
	return c.Score(s, minSupport)
}

// Score judges s against the model. A model that learned fewer than
// minSupport strings judges nothing (score 0).
func (m *FormatModel) Score(s string, minSupport int64) Judgement {
	var j Judgement
	if m.N < minSupport || m.N == 0 {
		return j
	}
	n := float64(m.N)
	// The most telling oddity leads; each further one adds 0.1.
	best, odd := 0.0, 0
	add := func(score float64, cause, reason string) {
		if score > best {
			best, j.Cause = score, cause
			j.Reasons = append([]string{reason}, j.Reasons...)
		} else {
			j.Reasons = append(j.Reasons, reason)
		}
		odd++
		j.Score = min(1, best+0.1*float64(odd-1))
	}
	// A light prior: a shape never seen in a few hundred strings is odd.
	const alpha = 0.1
	// Length.
	l := len(s)
	if l > MaxFormatLen {
		l = MaxFormatLen
	}
	common, commonN := 0, int64(-1)
	for i, c := range m.Lengths {
		if c > commonN {
			common, commonN = i, c
		}
	}
	pLen := (float64(m.Lengths[l]) + alpha) / (n + alpha*(MaxFormatLen+1))
	if sc := surprise(pLen); sc >= 0.5 {
		who := fmt.Sprintf("%s of them have %d", share(commonN, m.N), common)
		if m.Lengths[l] == 0 && commonN == m.N {
			who = fmt.Sprintf("every other has %d", common)
		}
		add(sc, fmt.Sprintf("length %d", len(s)), fmt.Sprintf("%d characters where %s", len(s), who))
	}
	// Class per position: the least likely position speaks.
	worstP, worstPos, worstClass, worstUsual := 1.0, -1, 0, 0
	for i := 0; i < l; i++ {
		row := m.Classes[i]
		var tot int64
		usual := 0
		for c, v := range row {
			tot += v
			if v > row[usual] {
				usual = c
			}
		}
		if tot == 0 {
			continue
		}
		c := classOf(s[i])
		p := (float64(row[c]) + alpha) / (float64(tot) + alpha*numClasses)
		if p < worstP {
			worstP, worstPos, worstClass, worstUsual = p, i, c, usual
		}
	}
	if sc := surprise(worstP); sc >= 0.5 && worstPos >= 0 {
		add(sc, fmt.Sprintf("class %d at %d", worstClass, worstPos),
			fmt.Sprintf("%s at position %d where they have %s", className1[worstClass], worstPos+1, classNames[worstUsual]))
	}
	// Symbols never seen (a digit or letter not seen yet is only the
	// luck of a small sample; its class per position speaks for it).
	var totChars int64
	for _, v := range m.Chars {
		totChars += v
	}
	var unseen []string
	for i := 0; i < len(s); i++ {
		if classOf(s[i]) == classSymbol && m.Chars[s[i]&0x7f] == 0 && !strings.Contains(strings.Join(unseen, ""), string(s[i])) {
			unseen = append(unseen, string(s[i]))
		}
	}
	if len(unseen) > 0 && totChars > 0 {
		p := alpha / (float64(totChars) + alpha*95)
		add(surprise(p), "chars "+strings.Join(unseen, ""),
			fmt.Sprintf("`%s`, which none of them contain", strings.Join(unseen, "`, `")))
	}
	// Guessable: a run longer than the manufacturer's serials have.
	r := longestRun(s)
	var atLeast int64
	usualRun, usualN := 0, int64(-1)
	for i, v := range m.Runs {
		if i >= r {
			atLeast += v
		}
		if v > usualN {
			usualRun, usualN = i, v
		}
	}
	pRun := (float64(atLeast) + alpha) / (n + alpha*(MaxFormatLen+1))
	// Only a serial that is mostly one run is guessable: random serials
	// have runs of 4 or 5 now and then.
	if sc := surprise(pRun); sc >= 0.5 && r > usualRun && r >= max(6, (7*len(s)+9)/10) && !m.Sequential() {
		add(sc, fmt.Sprintf("run %d", r),
			fmt.Sprintf("a run of %d equal or consecutive characters, guessable, where theirs usually have %d", r, usualRun))
	}
	return j
}

// share says what part of total n is, for people: "all", "99.9%".
func share(n, total int64) string {
	if total == 0 {
		return "none"
	}
	if n == total {
		return "all"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

// count formats a count with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

package webui

import (
	"fmt"
	"html/template"
	"time"
)

// Times shows times to people in one time zone, relative to a clock.
type Times struct {
	Loc *time.Location
	Now func() time.Time
}

// Clock is a time of day, with the date when it is not today.
func (p Times) Clock(t time.Time) string {
	t = t.In(p.Loc)
	now := p.Now().In(p.Loc)
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}

// Ago says how long ago t was, as people say it.
func (p Times) Ago(t time.Time) string {
	d := p.Now().Sub(t)
	switch {
	case d < -time.Minute:
		return "in " + Span(-d)
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	}
	return Span(d) + " ago"
}

// Span is a duration in the unit people would use.
func Span(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// When shows a time as a time of day and how long ago, with the full
// date and zone in a tooltip and a machine-readable attribute.
func (p Times) When(t time.Time) template.HTML {
	if t.IsZero() {
		return template.HTML(`<span class="muted">never</span>`)
	}
	full := t.In(p.Loc).Format("Mon 2 Jan 2006 15:04:05 MST")
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s <span class="ago">· %s</span></time>`,
		t.UTC().Format(time.RFC3339), template.HTMLEscapeString(full), template.HTMLEscapeString(p.Clock(t)), template.HTMLEscapeString(p.Ago(t))))
}

// Num writes n with thousands separated.
func Num(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/webui"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/gs1"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/master"
	"github.com/custodyhq/custody/shared/unit"
)

// pages holds the parsed templates, one set per page (the layout and
// the page), and how times are shown.
type pages struct {
	sets map[string]*template.Template
	loc  *time.Location
	now  func() time.Time
}

// pageNames are the templates under templates/ besides the layout.
var pageNames = []string{"login", "error", "floor", "exceptions", "exception", "trace", "holds", "recall",
	"inbound", "asn", "outbound", "shipment", "devices", "users", "site", "investigations", "investigation"}

func loadPages(loc *time.Location, now func() time.Time) (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}, loc: loc, now: now}
	funcs := p.funcs()
	for _, n := range pageNames {
		t, err := template.New(n).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("console templates: %w", err)
		}
		p.sets[n] = t
	}
	return p, nil
}

// view is what every page's template gets.
type view struct {
	Title  string
	Active string // the nav entry
	User   *master.User
	CSRF   string
	Flash  string
	Data   any
}

func (c *Console) render(x *fiber.Ctx, name, title string, data any) error {
	v := view{Title: title, Active: name, User: currentUser(x), CSRF: c.csrfToken(x), Flash: x.Query("done"), Data: data}
	if v.User.ID == "" {
		v.User = nil
	}
	var b bytes.Buffer
	if err := c.pages.sets[name].ExecuteTemplate(&b, "layout", v); err != nil {
		return err
	}
	webui.PageHeaders(x)
	return x.Send(b.Bytes())
}

// fragment renders one named template of a set into a string (the
// floor's live part).
func (p *pages) fragment(set, name string, data any) (string, error) {
	var b bytes.Buffer
	if err := p.sets[set].ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (c *Console) static(x *fiber.Ctx) error {
	name := path.Clean("static/" + x.Params("*"))
	if !strings.HasPrefix(name, "static/") {
		return fiber.ErrNotFound
	}
	b, err := fs.ReadFile(assets, name)
	if err != nil {
		var ok bool
		if b, ok = webui.Asset(strings.TrimPrefix(name, "static/")); !ok {
			return fiber.ErrNotFound
		}
	}
	x.Set(fiber.HeaderContentType, mime.TypeByExtension(path.Ext(name)))
	x.Set(fiber.HeaderCacheControl, "max-age=3600")
	x.Set("X-Content-Type-Options", "nosniff")
	return x.Send(b)
}

// clock is a time of day in the site's zone, with the date when it is
// not today.
func (p *pages) clock(t time.Time) string { return p.times().Clock(t) }

// when shows a time as a time of day and how long ago.
func (p *pages) when(t time.Time) template.HTML { return p.times().When(t) }

func (p *pages) times() webui.Times { return webui.Times{Loc: p.loc, Now: p.now} }

func (p *pages) whenHLC(ts hlc.Timestamp) template.HTML {
	if ts.IsZero() {
		return p.when(time.Time{})
	}
	return p.when(ts.Time())
}

// ident shows an identifier as printed on the pack, with a copy button
// that copies the GS1 element string in brackets.
func ident(k event.Key) template.HTML {
	var b strings.Builder
	b.WriteString(`<span class="ident">`)
	part := func(label, v string) {
		fmt.Fprintf(&b, `<span class="lbl">%s</span>&nbsp;<code>%s</code> `, label, template.HTMLEscapeString(v))
	}
	switch {
	case k.IsSSCC():
		part("SSCC", k.SSCCValue())
	case k.GTIN() != "":
		part("GTIN", k.GTIN())
		part("SN", k.Serial())
	default:
		part("", string(k))
	}
	fmt.Fprintf(&b, `<button type="button" class="copy" data-copy="%s" aria-label="Copy %s" title="Copy">`+copyIcon+`</button></span>`,
		template.HTMLEscapeString(k.String()), template.HTMLEscapeString(k.String()))
	return template.HTML(b.String())
}

// copyIcon is the copy buttons' picture (two sheets), drawn inline: no
// font on the machine need have a glyph for it.
const copyIcon = `<svg aria-hidden="true" width="14" height="14" viewBox="0 0 14 14"><rect x="4" y="1" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.4"/><rect x="1" y="4" width="9" height="9" rx="1.5" fill="#fff" stroke="currentColor" stroke-width="1.4"/></svg>`

func (p *pages) funcs() template.FuncMap {
	return template.FuncMap{
		"when":     p.when,
		"whenHLC":  p.whenHLC,
		"ident":    ident,
		"copyIcon": func() template.HTML { return template.HTML(copyIcon) },
		"status":   func(s unit.Status) string { return strings.ReplaceAll(s.String(), "_", " ") },
		"holds": func(h event.Holds) string {
			if h == 0 {
				return ""
			}
			return strings.ReplaceAll(h.String(), ",", ", ")
		},
		"rule":  ruleName,
		"sev":   func(s unit.Severity) string { return s.String() },
		"words": strings.Fields,
		"pct": func(a, b int) int {
			if b <= 0 {
				return 0
			}
			if a > b {
				return 100
			}
			return a * 100 / b
		},
		"kind": func(k event.Kind) string { return strings.ReplaceAll(k.String(), "_", " ") },
		"verdict": func(v unit.Verdict) string {
			switch v {
			case unit.VerdictApplied:
				return "applied"
			case unit.VerdictMerged:
				return "merged (already so)"
			case unit.VerdictConflict:
				return "conflict"
			case unit.VerdictRefused:
				return "refused"
			}
			return "—"
		},
		"add":  func(a, b int) int { return a + b },
		"list": func(s ...string) []string { return s },
		"pct5": func(p int) int { return (p + 2) / 5 * 5 },
		"expiry": func(yymmdd string) string {
			t, err := gs1.Date(yymmdd, p.now())
			if err != nil {
				return yymmdd
			}
			return t.Format("2 Jan 2006")
		},
		"num": num,
		"has": func(u *master.User, what string) bool {
			if u == nil {
				return false
			}
			switch what {
			case "admin":
				return u.Role == master.RoleAdmin
			case "lead":
				return u.Role.CanRelease()
			}
			return false
		},
	}
}

// num writes n with thousands separated.
func num(n uint64) string { return webui.Num(n) }

// ruleName is an exception rule as people read it.
func ruleName(r unit.Rule) string {
	s := strings.ToLower(strings.ReplaceAll(string(r), "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

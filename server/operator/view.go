package operator

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/webui"
	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/hlc"
	"github.com/custodyhq/custody/shared/unit"
)

// pageNames are the templates under templates/ besides the layout.
var pageNames = []string{"login", "error", "network", "exceptions", "search", "recall", "duplicates", "exports"}

func (o *Operator) loadPages() (map[string]*template.Template, error) {
	sets := map[string]*template.Template{}
	funcs := o.funcs()
	for _, n := range pageNames {
		t, err := template.New(n).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("operator templates: %w", err)
		}
		sets[n] = t
	}
	return sets, nil
}

type view struct {
	Title  string
	Active string
	User   *User
	CSRF   string
	Flash  string
	Data   any
}

func (o *Operator) render(x *fiber.Ctx, name, title string, data any) error {
	v := view{Title: title, Active: name, User: currentUser(x), CSRF: o.csrfToken(x), Flash: x.Query("done"), Data: data}
	if v.User.ID == "" {
		v.User = nil
	}
	var b bytes.Buffer
	if err := o.pages[name].ExecuteTemplate(&b, "layout", v); err != nil {
		return err
	}
	webui.PageHeaders(x)
	return x.Send(b.Bytes())
}

func (o *Operator) funcs() template.FuncMap {
	return template.FuncMap{
		"when": o.times.When,
		"whenHLC": func(ts hlc.Timestamp) template.HTML {
			if ts.IsZero() {
				return o.times.When(time.Time{})
			}
			return o.times.When(ts.Time())
		},
		"ago":  func(t time.Time) string { return o.times.Ago(t) },
		"site": o.siteName,
		"sev":  func(s unit.Severity) string { return s.String() },
		"rule": func(r unit.Rule) string {
			s := strings.ToLower(strings.ReplaceAll(string(r), "_", " "))
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		},
		"status": func(s unit.Status) string { return strings.ReplaceAll(s.String(), "_", " ") },
		"kind":   func(k event.Kind) string { return strings.ReplaceAll(k.String(), "_", " ") },
		"holds": func(h event.Holds) string {
			if h == 0 {
				return ""
			}
			return strings.ReplaceAll(h.String(), ",", ", ")
		},
		"num":  func(n int) string { return webui.Num(uint64(max(n, 0))) },
		"list": func(s ...string) []string { return s },
		"lead": func(u *User) bool { return u != nil && u.Role == RoleLead },
		"ident": func(k event.Key) template.HTML {
			var b strings.Builder
			part := func(label, v string) {
				fmt.Fprintf(&b, `<span class="lbl">%s</span>&nbsp;<code>%s</code> `, label, template.HTMLEscapeString(v))
			}
			b.WriteString(`<span class="ident">`)
			switch {
			case k.IsSSCC():
				part("SSCC", k.SSCCValue())
			case k.GTIN() != "":
				part("GTIN", k.GTIN())
				part("SN", k.Serial())
			default:
				part("", string(k))
			}
			b.WriteString(`</span>`)
			return template.HTML(b.String())
		},
	}
}

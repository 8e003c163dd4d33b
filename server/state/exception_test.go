package state

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/custodyhq/custody/shared/event"
	"github.com/custodyhq/custody/shared/unit"
)

// The transaction caches an exception as a read would return it: the
// shortcut must agree with a JSON round trip whenever it is taken.
func TestJSONExact(t *testing.T) {
	base := unit.Exception{ID: "x1", Rule: "rule", Severity: unit.SeverityHigh, Status: unit.ExceptionOpen,
		Unit: "u1", Client: "acme", Site: "s1", Detail: "<a & b>", Events: []event.ID{{1}}, Opened: 5, Updated: 7}
	for _, tc := range []struct {
		name  string
		edit  func(*unit.Exception)
		exact bool
	}{
		{"plain", func(*unit.Exception) {}, true},
		{"empty devices", func(x *unit.Exception) { x.Devices = []string{} }, true},
		{"empty events", func(x *unit.Exception) { x.Events = []event.ID{} }, true},
		{"devices", func(x *unit.Exception) { x.Devices = []string{"d1", "d\u2028"} }, true},
		{"invalid utf-8 detail", func(x *unit.Exception) { x.Detail = "a\xffb" }, false},
		{"invalid utf-8 device", func(x *unit.Exception) { x.Devices = []string{"\xc3"} }, false},
		{"unnamed status", func(x *unit.Exception) { x.Status = 9 }, false},
		{"unnamed severity", func(x *unit.Exception) { x.Severity = 0 }, false},
	} {
		x := base
		tc.edit(&x)
		got, ok := jsonExact(x)
		if ok != tc.exact {
			t.Errorf("%s: exact = %v, want %v", tc.name, ok, tc.exact)
			continue
		}
		if !ok {
			continue
		}
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		var want unit.Exception
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: cached %+v, a read returns %+v", tc.name, got, want)
		}
	}
}

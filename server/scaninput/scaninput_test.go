package scaninput

import (
	"errors"
	"testing"

	"github.com/custodyhq/custody/shared/event"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Scan
		err  bool
	}{
		{"(01)09506000134352(21)ABC123", Scan{Key: event.SGTIN("09506000134352", "ABC123")}, false},
		{"0109506000134352<GS>21ABC123", Scan{Key: event.SGTIN("09506000134352", "ABC123")}, false},
		{"(01)09506000134352(10)L42", Scan{GTIN: "09506000134352", Lot: "L42"}, false},
		{"09506000134352", Scan{GTIN: "09506000134352"}, false},
		{"106141412345678908", Scan{Key: event.SSCC("106141412345678908")}, false},
		{"https://id.gs1.org/01/09506000134352/21/ABC123", Scan{Key: event.SGTIN("09506000134352", "ABC123")}, false},
		{"   ", Scan{}, true},
		{"hello", Scan{}, true},
		{"(10)L42", Scan{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.err {
				if !errors.Is(err, ErrInput) {
					t.Fatalf("Parse(%q) err = %v, want ErrInput", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

package event

import (
	"encoding/json"
	"testing"
)

func TestHoldsJSON(t *testing.T) {
	two := Holds(0).With(HoldRecall).With(HoldDamaged)
	for _, tc := range []struct {
		in   string
		want Holds
		ok   bool
	}{
		{`"recall,damaged"`, two, true},
		{`"damaged, recall"`, two, true},
		{`""`, 0, true},
		{`16`, Holds(16), true}, // the number earlier documents carried
		{`"frozen"`, 0, false},
		{`[1]`, 0, false},
	} {
		var h Holds
		err := json.Unmarshal([]byte(tc.in), &h)
		if (err == nil) != tc.ok || h != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.in, h, err, tc.want)
		}
	}
	b, err := json.Marshal(struct {
		H Holds `json:"h,omitempty"`
		N Holds `json:"n,omitempty"`
	}{H: two})
	if err != nil || string(b) != `{"h":"`+two.String()+`"}` {
		t.Fatalf("%s %v", b, err)
	}
}

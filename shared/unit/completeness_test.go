package unit

import (
	"encoding/json"
	"testing"
)

func TestCompletenessJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Completeness
		ok   bool
	}{
		{`"verified"`, CompletenessVerified, true},
		{`"inferred"`, CompletenessInferred, true},
		{`""`, CompletenessUnknown, true},
		{`2`, CompletenessVerified, true}, // the number earlier documents carried
		{`"opened"`, 0, false},
	} {
		var c Completeness
		err := json.Unmarshal([]byte(tc.in), &c)
		if (err == nil) != tc.ok || c != tc.want {
			t.Errorf("%s: %v %v", tc.in, c, err)
		}
	}
	b, _ := json.Marshal(State{Key: "x", Completeness: CompletenessVerified})
	var back State
	if err := json.Unmarshal(b, &back); err != nil || back.Completeness != CompletenessVerified {
		t.Fatalf("%s: %+v %v", b, back, err)
	}
}

package password

import (
	"errors"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	v, err := New("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"right", "correct horse battery", nil},
		{"wrong", "correct horse batterz", ErrWrong},
		{"empty", "", ErrWrong},
	}
	for _, tc := range tests {
		if err := Verify(&v, tc.pw); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	w := v
	w.Memory = 1 << 30
	if err := Verify(&w, "correct horse battery"); !errors.Is(err, ErrWrong) {
		t.Fatalf("forged parameters: %v", err)
	}
	if err := Verify(nil, "x"); !errors.Is(err, ErrWrong) {
		t.Fatal(err)
	}
}

func TestAcceptable(t *testing.T) {
	for _, pw := range []string{"short", strings.Repeat("x", MaxLen+1), "\xff\xfe0123456789"} {
		if _, err := New(pw); !errors.Is(err, ErrWeak) {
			t.Errorf("%q: %v", pw, err)
		}
	}
	g, err := Generate()
	if err != nil || Acceptable(g) != nil {
		t.Fatal(g, err)
	}
}

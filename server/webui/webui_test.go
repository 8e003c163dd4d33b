package webui

import (
	"testing"
	"time"
)

func TestSealOpen(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	type v struct {
		U string `json:"u"`
		N int    `json:"n"`
	}
	s := Seal(key, "session", v{U: "ann", N: 3})
	tests := []struct {
		name, kind, val string
		key             []byte
		ok              bool
	}{
		{"as sealed", "session", s, key, true},
		{"another purpose", "login", s, key, false},
		{"another key", "session", s, []byte("other"), false},
		{"tampered", "session", "x" + s, key, false},
		{"no signature", "session", s[:len(s)/2], key, false},
		{"empty", "session", "", key, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got v
			ok := Open(tc.key, tc.kind, tc.val, &got)
			if ok != tc.ok {
				t.Fatalf("Open = %v, want %v", ok, tc.ok)
			}
			if ok && (got.U != "ann" || got.N != 3) {
				t.Fatalf("Open decoded %+v", got)
			}
		})
	}
}

func TestToken(t *testing.T) {
	k := []byte("k")
	a := Token(k, "csrf", "s1")
	if len(a) != 40 || a == Token(k, "csrf", "s2") || a == Token(k, "login", "s1") {
		t.Fatalf("tokens do not depend on purpose and id: %q", a)
	}
	if !TokenOK(a, a) || TokenOK(a, "") || TokenOK("", "") || TokenOK("x", a) {
		t.Fatal("TokenOK")
	}
}

func TestTimes(t *testing.T) {
	now := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
	p := Times{Loc: time.UTC, Now: func() time.Time { return now }}
	tests := []struct {
		at         time.Time
		clock, ago string
	}{
		{now.Add(-5 * time.Second), "11:59", "just now"},
		{now.Add(-30 * time.Second), "11:59", "30 s ago"},
		{now.Add(-90 * time.Minute), "10:30", "1 h ago"},
		{now.Add(-72 * time.Hour), "2 Mar 12:00", "3 days ago"},
		{now.Add(5 * time.Minute), "12:05", "in 5 min"},
	}
	for _, tc := range tests {
		if got := p.Clock(tc.at); got != tc.clock {
			t.Errorf("Clock(%v) = %q, want %q", tc.at, got, tc.clock)
		}
		if got := p.Ago(tc.at); got != tc.ago {
			t.Errorf("Ago(%v) = %q, want %q", tc.at, got, tc.ago)
		}
	}
	if Num(1234567) != "1,234,567" || Num(12) != "12" {
		t.Error("Num")
	}
	if p.When(time.Time{}) != `<span class="muted">never</span>` {
		t.Error("When(zero)")
	}
}

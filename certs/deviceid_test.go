package certs

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDeviceIDRoundTrip(t *testing.T) {
	for i := 0; i < 50; i++ {
		key, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		id, err := DeviceIDFromPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		s := id.String()
		if len(s) != 62 || strings.Count(s, "-") != 6 {
			t.Fatalf("String() = %q: want 7 groups of 8", s)
		}
		for _, in := range []string{s, strings.ToLower(s), strings.ReplaceAll(s, "-", ""), strings.ReplaceAll(s, "-", " ")} {
			got, err := ParseDeviceID(in)
			if err != nil {
				t.Fatalf("ParseDeviceID(%q): %v", in, err)
			}
			if got != id {
				t.Fatalf("ParseDeviceID(%q) = %s, want %s", in, got, id)
			}
		}
		if id.Short() != s[:8] {
			t.Fatalf("Short() = %q", id.Short())
		}
	}
}

func TestDeviceIDIsHashOfSPKI(t *testing.T) {
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t, newTestClock(), "Depot")
	cert, id, err := ca.SignDevice(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if want := DeviceID(sha256.Sum256(cert.RawSubjectPublicKeyInfo)); id != want {
		t.Fatalf("id %s is not SHA-256 of the SPKI (%s)", id, want)
	}
}

func TestParseDeviceIDRejects(t *testing.T) {
	key, _ := NewKey()
	id, _ := DeviceIDFromPublicKey(key.Public())
	good := id.String()
	// Change one data character of the first group: its check character no
	// longer matches.
	flip := []byte(good)
	if flip[0] == 'A' {
		flip[0] = 'B'
	} else {
		flip[0] = 'A'
	}
	// Swap the check character of the second chunk for another letter.
	badCheck := []byte(good)
	// chunk 2's check char is the 28th significant character: index 27 in
	// the undashed form, which sits at 27 + 27/8 = 30 in the dashed form.
	if badCheck[30] == 'A' {
		badCheck[30] = 'B'
	} else {
		badCheck[30] = 'A'
	}
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"short", good[:40]},
		{"long", good + "A"},
		{"bad char 1", strings.Replace(good, good[:1], "1", 1)},
		{"bad char punct", good[:10] + "!" + good[11:]},
		{"changed data char", string(flip)},
		{"changed check char", string(badCheck)},
		{"huge", strings.Repeat("A", 10000)},
		{"utf8", strings.Repeat("é", 28)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseDeviceID(tt.in); !errors.Is(err, ErrBadDeviceID) {
				t.Fatalf("ParseDeviceID(%q) error = %v, want ErrBadDeviceID", tt.in, err)
			}
		})
	}
}

func TestParseDeviceIDNonCanonical(t *testing.T) {
	// The last base32 character of a 32-byte value carries 1 data bit and 4
	// padding bits; a string with padding bits set decodes to the same bytes
	// and must be refused so that each id has exactly one text form.
	var id DeviceID
	significant := []byte(deviceIDEncoding().EncodeToString(id[:]))
	significant[51] = 'B' // 'A' + padding bit set
	var checked []byte
	for i := 0; i < 4; i++ {
		chunk := significant[i*13 : (i+1)*13]
		checked = append(checked, chunk...)
		checked = append(checked, luhn32(string(chunk)))
	}
	if _, err := ParseDeviceID(string(checked)); !errors.Is(err, ErrBadDeviceID) {
		t.Fatalf("non-canonical id accepted: %v", err)
	}
}

func TestDeviceIDValidateAndText(t *testing.T) {
	var zero DeviceID
	if err := zero.Validate(); !errors.Is(err, ErrBadDeviceID) {
		t.Fatalf("zero Validate = %v", err)
	}
	key, _ := NewKey()
	id, _ := DeviceIDFromPublicKey(key.Public())
	if err := id.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	b, err := json.Marshal(map[string]DeviceID{"d": id})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]DeviceID
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back["d"] != id {
		t.Fatalf("JSON round trip: %s != %s", back["d"], id)
	}
	if err := json.Unmarshal([]byte(`{"d":"nope"}`), &back); !errors.Is(err, ErrBadDeviceID) {
		t.Fatalf("bad JSON id error = %v", err)
	}
}

func TestLuhn32DetectsSingleSubstitution(t *testing.T) {
	s := "MFRGGZDFMZTWQ"
	want := luhn32(s)
	for i := 0; i < len(s); i++ {
		for _, c := range []byte(deviceIDAlphabet) {
			if c == s[i] {
				continue
			}
			m := []byte(s)
			m[i] = c
			if luhn32(string(m)) == want {
				t.Fatalf("substitution %q at %d not detected", c, i)
			}
		}
	}
}

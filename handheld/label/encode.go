// Package label encodes GS1 DataMatrix symbols (FNC1 in first position and
// as field separator) and renders product and SSCC logistic labels as PNG
// and PDF.
package label

import (
	"errors"
	"fmt"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix/encoder"
)

// GS is the ASCII group separator a scanner transmits for FNC1.
const GS = 0x1D

// Codeword values of the ECC 200 ASCII encodation (ISO/IEC 16022 §5.2.3).
const (
	cwFNC1       = 232
	cwUpperShift = 235
	cwPad        = 129
)

var (
	// ErrElementString reports a malformed bracketed GS1 element string.
	ErrElementString = errors.New("label: malformed GS1 element string")
	// ErrTooLong reports data that does not fit the largest symbol.
	ErrTooLong = errors.New("label: data too long for a DataMatrix symbol")
	// ErrEmpty reports an empty payload.
	ErrEmpty = errors.New("label: empty data")
)

// Shape selects the symbol shape.
type Shape int

// Symbol shapes.
const (
	Square Shape = iota
	Rectangle
	AnyShape
)

// Symbol is an ECC 200 module matrix including its finder and timing
// patterns (and, for big symbols, the alignment patterns). Dark(x, y) with
// y = 0 at the top.
type Symbol struct {
	Cols, Rows int
	dark       []bool
}

// Dark reports whether the module at column x, row y is dark.
func (s *Symbol) Dark(x, y int) bool { return s.dark[y*s.Cols+x] }

// BitMatrix returns the symbol as a gozxing bit matrix with one bit per
// module, the form gozxing's DataMatrix decoder accepts.
func (s *Symbol) BitMatrix() *gozxing.BitMatrix {
	m, _ := gozxing.NewBitMatrix(s.Cols, s.Rows)
	for y := 0; y < s.Rows; y++ {
		for x := 0; x < s.Cols; x++ {
			if s.Dark(x, y) {
				m.Set(x, y)
			}
		}
	}
	return m
}

// fixedLengthAI reports whether an AI has a predefined length, and so is
// never followed by a separator (GS1 General Specifications, figure 7.8.5-2).
func fixedLengthAI(ai string) bool {
	if len(ai) < 2 {
		return false
	}
	p := ai[:2]
	switch {
	case p >= "00" && p <= "04", p >= "11" && p <= "20", p >= "31" && p <= "36", p == "41":
		return true
	}
	return false
}

// ParseElementString converts a bracketed element string such as
// "(01)09506000134352(17)261231(10)A1(21)S1" into the data a GS1 DataMatrix
// carries: AIs and values in order with GS after every variable-length field
// that is not last. It checks syntax only (digits in the AI, non-empty
// values, no GS or brackets inside values).
func ParseElementString(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "(") {
		return nil, fmt.Errorf("%w: must start with '(': %q", ErrElementString, s)
	}
	var out []byte
	rest := s
	for len(rest) > 0 {
		if rest[0] != '(' {
			return nil, fmt.Errorf("%w: expected '(' at %q", ErrElementString, rest)
		}
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil, fmt.Errorf("%w: unclosed AI at %q", ErrElementString, rest)
		}
		ai := rest[1:end]
		if len(ai) < 2 || len(ai) > 4 {
			return nil, fmt.Errorf("%w: AI %q must have 2 to 4 digits", ErrElementString, ai)
		}
		for i := 0; i < len(ai); i++ {
			if ai[i] < '0' || ai[i] > '9' {
				return nil, fmt.Errorf("%w: AI %q is not numeric", ErrElementString, ai)
			}
		}
		rest = rest[end+1:]
		next := strings.IndexByte(rest, '(')
		val := rest
		if next >= 0 {
			val = rest[:next]
			rest = rest[next:]
		} else {
			rest = ""
		}
		if val == "" {
			return nil, fmt.Errorf("%w: AI (%s) has no value", ErrElementString, ai)
		}
		for i := 0; i < len(val); i++ {
			if c := val[i]; c < 0x21 || c > 0x7E || c == ')' {
				return nil, fmt.Errorf("%w: AI (%s) value has invalid character %q", ErrElementString, ai, c)
			}
		}
		out = append(out, ai...)
		out = append(out, val...)
		if rest != "" && !fixedLengthAI(ai) {
			out = append(out, GS)
		}
	}
	return out, nil
}

// EncodeGS1 encodes GS1 data (AIs and values, GS 0x1D between fields, no
// leading FNC1) as a GS1 DataMatrix: FNC1 in first position and FNC1 for
// every GS.
func EncodeGS1(data []byte, shape Shape) (*Symbol, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	cw := []byte{cwFNC1}
	cw = appendASCII(cw, data, true)
	return place(cw, shape)
}

// EncodePlain encodes data as a plain (non-GS1) DataMatrix.
func EncodePlain(data []byte, shape Shape) (*Symbol, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	return place(appendASCII(nil, data, false), shape)
}

// appendASCII appends the ASCII encodation of data: digit pairs in one
// codeword, ASCII as value+1, bytes above 127 via Upper Shift. With gs1 set,
// GS becomes FNC1.
func appendASCII(cw []byte, data []byte, gs1 bool) []byte {
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case isDigit(c) && i+1 < len(data) && isDigit(data[i+1]):
			cw = append(cw, byte(130+int(c-'0')*10+int(data[i+1]-'0')))
			i++
		case gs1 && c == GS:
			cw = append(cw, cwFNC1)
		case c < 128:
			cw = append(cw, c+1)
		default:
			cw = append(cw, cwUpperShift, c-127)
		}
	}
	return cw
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func place(cw []byte, shape Shape) (*Symbol, error) {
	hint := encoder.SymbolShapeHint_FORCE_SQUARE
	switch shape {
	case Rectangle:
		hint = encoder.SymbolShapeHint_FORCE_RECTANGLE
	case AnyShape:
		hint = encoder.SymbolShapeHint_FORCE_NONE
	}
	info, err := encoder.SymbolInfo_Lookup(len(cw), hint, nil, nil, false)
	if err != nil || info == nil {
		return nil, fmt.Errorf("%w: %d codewords", ErrTooLong, len(cw))
	}
	capacity := info.GetDataCapacity()
	if len(cw) < capacity {
		cw = append(cw, cwPad)
	}
	for len(cw) < capacity {
		cw = append(cw, randomizePad(len(cw)+1))
	}
	full, err := encoder.ErrorCorrection_EncodeECC200(cw, info)
	if err != nil {
		return nil, fmt.Errorf("label: error correction: %w", err)
	}
	dw, dh := info.GetSymbolDataWidth(), info.GetSymbolDataHeight()
	p := encoder.NewDefaultPlacement(full, dw, dh)
	p.Place()
	return layout(p.GetBit, info.GetSymbolWidth(), info.GetSymbolHeight(), info.GetMatrixWidth(), info.GetMatrixHeight(), dw, dh), nil
}

// randomizePad is the 253-state pad randomising algorithm (ISO/IEC 16022
// Annex B.1); pos is the 1-based codeword position.
func randomizePad(pos int) byte {
	r := ((149 * pos) % 253) + 1
	v := cwPad + r
	if v > 254 {
		v -= 254
	}
	return byte(v)
}

// layout surrounds each data region (rw x rh modules; dw x dh data
// modules in all) of a w x h symbol with its finder (solid left and
// bottom) and timing (alternating top and right) patterns.
func layout(bit func(x, y int) bool, w, h, rw, rh, dw, dh int) *Symbol {
	s := &Symbol{Cols: w, Rows: h, dark: make([]bool, w*h)}
	set := func(x, y int, v bool) { s.dark[y*w+x] = v }
	my := 0
	for y := 0; y < dh; y++ {
		if y%rh == 0 {
			for x := 0; x < w; x++ {
				set(x, my, x%2 == 0)
			}
			my++
		}
		mx := 0
		for x := 0; x < dw; x++ {
			if x%rw == 0 {
				set(mx, my, true)
				mx++
			}
			set(mx, my, bit(x, y))
			mx++
			if x%rw == rw-1 {
				set(mx, my, y%2 == 0)
				mx++
			}
		}
		my++
		if y%rh == rh-1 {
			for x := 0; x < w; x++ {
				set(x, my, true)
			}
			my++
		}
	}
	return s
}

package label

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"strconv"

	"codeberg.org/go-pdf/fpdf"
	"github.com/makiuchi-d/gozxing/datamatrix/decoder"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var (
	// ErrField reports a label field with an invalid value.
	ErrField = errors.New("label: invalid field")
	// ErrVerify reports a symbol that does not decode back to its data.
	ErrVerify = errors.New("label: symbol does not read back")
)

// Product is a pack label: a GS1 DataMatrix and its human-readable
// interpretation.
type Product struct {
	// Element is the bracketed element string, e.g. "(01)…(17)…(10)…(21)…".
	Element string
}

// SSCC describes a logistic label for a shipping unit.
type SSCC struct {
	SSCC   string // 18 digits including check digit
	GTIN   string // content GTIN-14 (optional)
	Count  int    // items contained (optional, 0 = omit)
	Lot    string // optional
	Expiry string // YYMMDD (optional)
	From   string // ship-from line (optional)
	To     string // ship-to line (optional)
}

// CheckDigitOK reports whether the last digit of a GS1 key (GTIN, SSCC,
// GLN) is its mod-10 check digit.
func CheckDigitOK(key string) bool {
	if len(key) < 2 {
		return false
	}
	sum := 0
	for i := 0; i < len(key); i++ {
		if !isDigit(key[i]) {
			return false
		}
	}
	n := len(key) - 1
	for i := n - 1; i >= 0; i-- {
		d := int(key[i] - '0')
		if (n-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(key[n]-'0')
}

// Element returns the label's element string: (00) SSCC, then (02) content
// GTIN, (17) expiry, (37) count and (10) lot when set. Fields are validated.
func (l SSCC) Element() (string, error) {
	if len(l.SSCC) != 18 || !CheckDigitOK(l.SSCC) {
		return "", fmt.Errorf("%w: SSCC %q must be 18 digits with a valid check digit", ErrField, l.SSCC)
	}
	s := "(00)" + l.SSCC
	if l.GTIN != "" {
		if len(l.GTIN) != 14 || !CheckDigitOK(l.GTIN) {
			return "", fmt.Errorf("%w: GTIN %q must be 14 digits with a valid check digit", ErrField, l.GTIN)
		}
		s += "(02)" + l.GTIN
	}
	if l.Expiry != "" {
		if len(l.Expiry) != 6 || !allDigits(l.Expiry) {
			return "", fmt.Errorf("%w: expiry %q must be YYMMDD", ErrField, l.Expiry)
		}
		s += "(17)" + l.Expiry
	}
	if l.Count < 0 || l.Count > 99999999 {
		return "", fmt.Errorf("%w: count %d", ErrField, l.Count)
	}
	if l.Count > 0 {
		if l.GTIN == "" {
			return "", fmt.Errorf("%w: count needs a content GTIN", ErrField)
		}
		s += "(37)" + strconv.Itoa(l.Count)
	}
	if l.Lot != "" {
		if len(l.Lot) > 20 {
			return "", fmt.Errorf("%w: lot longer than 20", ErrField)
		}
		s += "(10)" + l.Lot
	}
	return s, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// Lines returns the human-readable lines printed on the SSCC label.
func (l SSCC) Lines() []string {
	lines := []string{"SSCC (00) " + l.SSCC}
	if l.GTIN != "" {
		lines = append(lines, "CONTENT (02) "+l.GTIN)
	}
	if l.Count > 0 {
		lines = append(lines, "COUNT (37) "+strconv.Itoa(l.Count))
	}
	if l.Lot != "" {
		lines = append(lines, "LOT (10) "+l.Lot)
	}
	if l.Expiry != "" {
		lines = append(lines, "EXPIRY (17) "+l.Expiry)
	}
	if l.From != "" {
		lines = append(lines, "FROM: "+l.From)
	}
	if l.To != "" {
		lines = append(lines, "TO: "+l.To)
	}
	return lines
}

// layoutData is what both renderers draw: a symbol and text lines.
type layoutData struct {
	sym   *Symbol
	lines []string
}

func (p Product) layout() (layoutData, error) {
	data, err := ParseElementString(p.Element)
	if err != nil {
		return layoutData{}, err
	}
	s, err := EncodeGS1(data, Square)
	if err != nil {
		return layoutData{}, err
	}
	if err := Verify(s, data); err != nil {
		return layoutData{}, err
	}
	return layoutData{sym: s, lines: []string{p.Element}}, nil
}

func (l SSCC) layout() (layoutData, error) {
	el, err := l.Element()
	if err != nil {
		return layoutData{}, err
	}
	data, err := ParseElementString(el)
	if err != nil {
		return layoutData{}, err
	}
	s, err := EncodeGS1(data, Square)
	if err != nil {
		return layoutData{}, err
	}
	if err := Verify(s, data); err != nil {
		return layoutData{}, err
	}
	return layoutData{sym: s, lines: l.Lines()}, nil
}

// PNG renders the product label as a grayscale image.
func (p Product) PNG() (*image.Gray, error) {
	d, err := p.layout()
	if err != nil {
		return nil, err
	}
	return d.image(), nil
}

// PNG renders the SSCC label as a grayscale image.
func (l SSCC) PNG() (*image.Gray, error) {
	d, err := l.layout()
	if err != nil {
		return nil, err
	}
	return d.image(), nil
}

// PDF writes the product label as a one-page PDF.
func (p Product) PDF(w io.Writer) error {
	d, err := p.layout()
	if err != nil {
		return err
	}
	return d.pdf(w)
}

// PDF writes the SSCC label as a one-page A6 PDF.
func (l SSCC) PDF(w io.Writer) error {
	d, err := l.layout()
	if err != nil {
		return err
	}
	return d.pdf(w)
}

const (
	pngModule = 8  // pixels per module
	pngQuiet  = 4  // quiet-zone modules
	textScale = 2  // basicfont glyph magnification
	lineH     = 15 // basicfont line height before scaling
)

func (d layoutData) image() *image.Gray {
	face := basicfont.Face7x13
	textW := 0
	for _, l := range d.lines {
		if w := font.MeasureString(face, l).Ceil(); w > textW {
			textW = w
		}
	}
	symPx := (d.sym.Cols + 2*pngQuiet) * pngModule
	w := max(symPx, textW*textScale+2*pngQuiet*pngModule)
	textH := len(d.lines) * lineH * textScale
	h := (d.sym.Rows+2*pngQuiet)*pngModule + textH + pngQuiet*pngModule
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	drawSymbol(img, d.sym, pngQuiet*pngModule, pngQuiet*pngModule, pngModule)

	small := image.NewGray(image.Rect(0, 0, textW+2, len(d.lines)*lineH+2))
	draw.Draw(small, small.Bounds(), image.White, image.Point{}, draw.Src)
	dr := font.Drawer{Dst: small, Src: image.Black, Face: face}
	for i, l := range d.lines {
		dr.Dot = fixed.P(0, (i+1)*lineH-3)
		dr.DrawString(l)
	}
	top := (d.sym.Rows + 2*pngQuiet) * pngModule
	left := pngQuiet * pngModule
	for y := 0; y < small.Rect.Dy()*textScale && top+y < h; y++ {
		for x := 0; x < small.Rect.Dx()*textScale && left+x < w; x++ {
			img.Pix[(top+y)*img.Stride+left+x] = small.Pix[(y/textScale)*small.Stride+x/textScale]
		}
	}
	return img
}

func (d layoutData) pdf(w io.Writer) error {
	pdf := fpdf.New("P", "mm", "A6", "")
	pdf.SetMargins(8, 8, 8)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()
	const moduleMM = 0.5
	x0, y0 := 8.0, 8.0
	pdf.SetFillColor(0, 0, 0)
	for y := 0; y < d.sym.Rows; y++ {
		for x := 0; x < d.sym.Cols; x++ {
			if d.sym.Dark(x, y) {
				pdf.Rect(x0+float64(x)*moduleMM, y0+float64(y)*moduleMM, moduleMM, moduleMM, "F")
			}
		}
	}
	pdf.SetFont("Helvetica", "", 9)
	ty := y0 + float64(d.sym.Rows)*moduleMM + 6
	for _, l := range d.lines {
		pdf.Text(x0, ty, l)
		ty += 5
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("label: pdf: %w", err)
	}
	return nil
}

// Symbol returns the label's DataMatrix.
func (p Product) Symbol() (*Symbol, error) {
	d, err := p.layout()
	return d.sym, err
}

// Symbol returns the label's DataMatrix.
func (l SSCC) Symbol() (*Symbol, error) {
	d, err := l.layout()
	return d.sym, err
}

// Verify decodes the symbol's module matrix with gozxing's DataMatrix
// decoder and checks it reads back as GS1 data equal to data.
func Verify(s *Symbol, data []byte) error {
	r, err := decoder.NewDecoder().Decode(s.BitMatrix())
	if err != nil {
		return fmt.Errorf("%w: %v", ErrVerify, err)
	}
	if r.GetSymbologyModifier() != 2 || r.GetText() != "\x1d"+string(data) {
		return fmt.Errorf("%w: read back %q (]d%d)", ErrVerify, r.GetText(), r.GetSymbologyModifier())
	}
	return nil
}

package label_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"

	"github.com/custodyhq/custody/handheld/label"
	"github.com/custodyhq/custody/handheld/scan"
)

func TestCheckDigit(t *testing.T) {
	for _, k := range []string{"09506000134352", "106141411234567897", "00012345600012"} {
		if !label.CheckDigitOK(k) {
			t.Errorf("%s should be valid", k)
		}
	}
	for _, k := range []string{"09506000134353", "1", "12a4"} {
		if label.CheckDigitOK(k) {
			t.Errorf("%s should be invalid", k)
		}
	}
}

func TestSSCCElement(t *testing.T) {
	l := label.SSCC{SSCC: "106141411234567897", GTIN: "09506000134352", Count: 24, Lot: "L1", Expiry: "291231"}
	el, err := l.Element()
	if err != nil {
		t.Fatal(err)
	}
	if el != "(00)106141411234567897(02)09506000134352(17)291231(37)24(10)L1" {
		t.Errorf("element %q", el)
	}
	bad := []label.SSCC{
		{SSCC: "106141411234567890"},
		{SSCC: "106141411234567897", GTIN: "123"},
		{SSCC: "106141411234567897", Count: 5},
		{SSCC: "106141411234567897", Expiry: "2912"},
	}
	for _, b := range bad {
		if _, err := b.Element(); !errors.Is(err, label.ErrField) {
			t.Errorf("%+v: %v", b, err)
		}
	}
}

// TestLabelsReadBack renders labels and reads them through gozxing's own
// reader and through our scanner.
func TestLabelsReadBack(t *testing.T) {
	products := []label.Product{{Element: "(01)09506000134352(17)291231(10)ABC123(21)SN0001"}}
	for _, p := range products {
		img, err := p.PNG()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := label.ParseElementString(p.Element)
		r, err := scan.New(scan.Options{Budget: 5 * time.Second}).DecodeGray(img)
		if err != nil || r.Text != string(data) || r.Symbology != "]d2" {
			t.Errorf("scan: %q %s %v", r.Text, r.Symbology, err)
		}
		// gozxing's own reader on the symbol alone (its detector needs
		// the symbol at the image centre)
		sym, _ := p.Symbol()
		bmp, _ := gozxing.NewBinaryBitmapFromImage(label.Render(sym, 4, 2))
		gr, err := datamatrix.NewDataMatrixReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
		if err != nil || gr.GetText() != "\x1d"+string(data) {
			t.Errorf("gozxing: %v", err)
		}
		if err := label.Verify(sym, data); err != nil {
			t.Error(err)
		}
	}
	l := label.SSCC{SSCC: "106141411234567897", GTIN: "09506000134352", Count: 24, Lot: "L1", Expiry: "291231", From: "DC North", To: "Pharmacy 12"}
	img, err := l.PNG()
	if err != nil {
		t.Fatal(err)
	}
	el, _ := l.Element()
	data, _ := label.ParseElementString(el)
	r, err := scan.New(scan.Options{Budget: 5 * time.Second}).DecodeGray(img)
	if err != nil || r.Text != string(data) {
		t.Errorf("sscc scan: %q %v", r.Text, err)
	}
	var buf bytes.Buffer
	if err := l.PDF(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || buf.Len() < 1000 {
		t.Errorf("pdf: %d bytes", buf.Len())
	}
	if err := (label.Product{Element: "garbage"}).PDF(&buf); !errors.Is(err, label.ErrElementString) {
		t.Errorf("bad element: %v", err)
	}
}

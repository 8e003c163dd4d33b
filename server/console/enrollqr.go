package console

import (
	"errors"
	"image"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

// errNoReadableQR: no symbol of the line read back.
var errNoReadableQR = errors.New("console: no QR code of the enrollment line reads back")

// enrollQR renders the enrollment line as a QR code the handheld reads.
// The handheld's reader (gozxing, with the hints handheld/ui gives it)
// misses about one symbol in a hundred of this size: a data pattern
// that looks like a finder pattern. So the console reads its own symbol
// back before showing it, and renders the line at another
// error-correction level (another layout and mask) when it does not
// read. Whole pixels per module keep the printed modules even.
func enrollQR(line string) (image.Image, error) {
	for _, lvl := range []qrcode.RecoveryLevel{qrcode.Medium, qrcode.High, qrcode.Low, qrcode.Highest} {
		q, err := qrcode.New(line, lvl)
		if err != nil {
			return nil, err
		}
		img := q.Image(-6)
		if readsBack(img, line) {
			return img, nil
		}
	}
	return nil, errNoReadableQR
}

// readsBack reports whether gozxing reads text from img.
func readsBack(img image.Image, text string) bool {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return false
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	return err == nil && res.GetText() == text
}

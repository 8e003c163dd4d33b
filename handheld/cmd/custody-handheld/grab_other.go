//go:build !linux || !cgo || android

package main

import (
	"errors"
	"image"
)

// grabWindow needs X11; elsewhere the tour uses the canvas's own capture.
func grabWindow(string) (image.Image, error) { return nil, errors.New("no X11 capture here") }

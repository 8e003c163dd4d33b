//go:build linux && !android

package main

import (
	"path/filepath"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/source"
	"github.com/custodyhq/custody/handheld/ui"
)

// v4l2Camera opens a Linux video device at 1280×720 when the preview is
// turned on.
func v4l2Camera(dev string) (ui.Camera, error) {
	return func() (scan.Source, error) { return source.OpenV4L2(dev, 1280, 720) }, nil
}

// defaultCamera is the first V4L2 device found, else none.
func defaultCamera() (ui.Camera, error) {
	devs, _ := filepath.Glob("/dev/video*")
	if len(devs) == 0 {
		return nil, nil
	}
	return v4l2Camera(devs[0])
}

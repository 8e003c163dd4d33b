//go:build linux && !android

package main

import (
	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/source"
	"github.com/custodyhq/custody/handheld/ui"
)

// v4l2Camera opens a Linux video device at 1280×720 when the preview is
// turned on.
func v4l2Camera(dev string) (ui.Camera, error) {
	return func() (scan.Source, error) { return source.OpenV4L2(dev, 1280, 720) }, nil
}

//go:build !linux && !android

package main

import (
	"fmt"

	"github.com/custodyhq/custody/handheld/ui"
)

// v4l2Camera: V4L2 is Linux's; other platforms have their own camera.
func v4l2Camera(dev string) (ui.Camera, error) {
	return nil, fmt.Errorf("--camera v4l2:%s: V4L2 cameras exist only on Linux", dev)
}

// defaultCamera: none on this platform unless given with --camera.
func defaultCamera() (ui.Camera, error) { return nil, nil }

package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/source"
	"github.com/custodyhq/custody/handheld/ui"
)

// replayInterval is how long each replayed frame stays in front of the
// camera: long enough to read the verdict of one before the next.
const replayInterval = 1500 * time.Millisecond

// cameraFor turns --camera into the app's camera: v4l2:DEVICE,
// replay:FOLDER, none, or "" for the first camera found (else none).
func cameraFor(spec string) (ui.Camera, error) {
	if spec == "" {
		return defaultCamera()
	}
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "none":
		return nil, nil
	case "replay":
		if arg == "" {
			return nil, fmt.Errorf("--camera replay:FOLDER names no folder")
		}
		if _, err := source.Folder(arg, 0); err != nil {
			return nil, fmt.Errorf("--camera %s: %w", spec, err)
		}
		return func() (scan.Source, error) { return source.Folder(arg, replayInterval) }, nil
	case "v4l2":
		if arg == "" {
			return nil, fmt.Errorf("--camera v4l2:DEVICE names no device")
		}
		return v4l2Camera(arg)
	}
	return nil, fmt.Errorf("--camera %q: want v4l2:/dev/videoN, replay:FOLDER or none", spec)
}

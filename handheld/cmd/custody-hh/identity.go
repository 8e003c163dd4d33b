package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/handheld/syncdev"
)

// defaultDevice names a device that was never enrolled.
const defaultDevice = "hh-demo"

// deviceID is the device a data dir is used as: the enrolled device's
// id, which -device may repeat but not contradict, else -device or
// defaultDevice.
func deviceID(dir, flagged string) (string, error) {
	id, err := syncdev.LoadIdentity(dir)
	switch {
	case errors.Is(err, syncdev.ErrNoIdentity):
		if flagged == "" {
			return defaultDevice, nil
		}
		return flagged, nil
	case err != nil:
		return "", err
	}
	if flagged != "" && flagged != id.Device.String() {
		return "", fmt.Errorf("%s is enrolled as device %s, not %q", dir, id.Device, flagged)
	}
	return id.Device.String(), nil
}

// enroll enrolls the device whose data dir is dir.
func enroll(dir, flagged, server, token, fingerprint, caFile string, stdout io.Writer) error {
	if flagged != "" {
		return errors.New("enroll: the device id comes from the key enrollment makes; -device does not apply")
	}
	// The replica is bound to the device id it was created with: an
	// enrolled device needs a data dir of its own.
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err == nil {
		if _, err := syncdev.LoadIdentity(dir); errors.Is(err, syncdev.ErrNoIdentity) {
			return fmt.Errorf("enroll: %s already holds a replica of an unenrolled device: enroll into a new data directory", dir)
		}
	}
	cfg := syncdev.EnrollConfig{Server: server, Token: token, CAFingerprint: fingerprint}
	if caFile != "" {
		ca, err := certs.LoadCACert(caFile)
		if err != nil {
			return fmt.Errorf("enroll: -ca: %w", err)
		}
		cfg.CA = ca
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := syncdev.Enroll(ctx, dir, cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"enrolled": id.Device.String(), "data": dir,
		"caFingerprint": certs.Fingerprint(id.CA), "validUntil": id.Leaf.Cert.NotAfter.UTC().Format(time.RFC3339)})
}

package syncdev

import (
	"fmt"
	"strings"
)

// ParseEnrollLine reads the enrollment line an admin is given (custodyctl
// devices token prints it; the console shows it as a QR code):
//
//	custody-hh enroll --server https://HOST:PORT --token T --ca-fingerprint F
//
// Single or double dashes and --flag=value both do; the leading command
// words may be missing. Server, Token and CAFingerprint are filled in.
func ParseEnrollLine(line string) (EnrollConfig, error) {
	var cfg EnrollConfig
	f := strings.Fields(line)
	for i := 0; i < len(f); i++ {
		w := f[i]
		if !strings.HasPrefix(w, "-") {
			continue // the command words
		}
		name := strings.TrimLeft(w, "-")
		val, inline := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, val, inline = k, v, true
		}
		if !inline {
			if i+1 >= len(f) {
				return EnrollConfig{}, fmt.Errorf("%w: --%s has no value", ErrEnroll, name)
			}
			i++
			val = f[i]
		}
		switch name {
		case "server":
			cfg.Server = val
		case "token":
			cfg.Token = val
		case "ca-fingerprint":
			cfg.CAFingerprint = val
		case "data", "device":
			// not part of what the site said: the handheld decides these
		default:
			return EnrollConfig{}, fmt.Errorf("%w: the enrollment line has an unknown part --%s", ErrEnroll, name)
		}
	}
	switch {
	case cfg.Server == "":
		return EnrollConfig{}, fmt.Errorf("%w: the enrollment line names no --server", ErrEnroll)
	case cfg.Token == "":
		return EnrollConfig{}, fmt.Errorf("%w: the enrollment line has no --token", ErrEnroll)
	case cfg.CAFingerprint == "":
		return EnrollConfig{}, fmt.Errorf("%w: the enrollment line has no --ca-fingerprint", ErrEnroll)
	}
	return cfg, nil
}

//go:build !unix

package epcis

import "time"

func processCPU() (time.Duration, bool) { return 0, false }

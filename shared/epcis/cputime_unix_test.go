//go:build unix

package epcis

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used (user and system), so
// a benchmark on a shared machine can report what it cost, not only how
// long it waited.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

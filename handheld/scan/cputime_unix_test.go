//go:build unix

package scan

import (
	"syscall"
	"time"
)

// processCPU is the process's user+system CPU time. Around a benchmark
// loop run with -cpu 1 it is the decoding's cost, unaffected by waiting
// for a core on a loaded machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

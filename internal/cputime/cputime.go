package cputime

import (
	"syscall"
	"time"
)

// Process is the user plus system CPU time this process has used so far, all threads (the
// garbage collector's too); -1 when the system cannot tell.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build unix

package provisioner

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time so far. The benchmarks report CPU per service
// beside wall time: on a shared, loaded machine the wall time of one size can be inflated by
// others' work while the CPU time stays what envctl spent.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

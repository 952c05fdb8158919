//go:build !unix

package provisioner

import "time"

// cpuTime is not measured here; the benchmarks then report 0 CPU per service.
func cpuTime() time.Duration { return 0 }

package cputime

import "testing"

// TestProcessGrows: work done shows as CPU time.
func TestProcessGrows(t *testing.T) {
	before := Process()
	if before < 0 {
		t.Fatal("no CPU time on this system")
	}
	x := 0
	for i := 0; Process() == before && i < 1e9; i++ {
		x += i
	}
	if Process() <= before {
		t.Errorf("CPU time did not grow after work (%d)", x)
	}
}

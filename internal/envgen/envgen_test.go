package envgen

import (
	"strings"
	"testing"
)

// The file is the same every run (benchmarks compare runs) and has the services asked for.
func TestRealisticStable(t *testing.T) {
	a, b := Realistic(50), Realistic(50)
	if a != b {
		t.Fatal("Realistic(50) differs between calls")
	}
	if got := strings.Count(a, "\nservice \""); got != 50 {
		t.Fatalf("Realistic(50) has %d services", got)
	}
}

package main

import (
	"strings"
	"testing"
)

func TestParseMesosBench(t *testing.T) {
	out := `goos: linux
BenchmarkUp30Depth5/double/waves-2         	       1	8012345678 ns/op	         7.000 offer-events/up	         8.000 rounds/up	         8.012 s/up
BenchmarkUp30Depth5/double/waves-2         	       1	8112345678 ns/op	         8.000 offer-events/up	         9.000 rounds/up	         8.112 s/up
BenchmarkUp30Depth5/real/sparse-2          	       1	9012345678 ns/op	        10.00 offer-events/up	         9.012 s/up
--- FAIL: BenchmarkUp30Depth5/real/waves
FAIL`
	runs, err := parseMesosBench(strings.NewReader(out))
	if err != nil || len(runs) != 4 {
		t.Fatalf("parse: %v, %+v", err, runs)
	}
	if r := runs[2]; r.Target != "real" || r.Shape != "sparse" || r.Events != 10 || r.Rounds != -1 || r.Seconds != 9.012 {
		t.Errorf("real line: %+v", r)
	}
	md := mesosMarkdown(runs, "test")
	for _, want := range []string{"| double | waves | 2 | 8 (7–8) | 8 (8–9) | 8.06 s (8.01 s–8.11 s) |", "| real | sparse | 1 | 10 | – | 9.01 s |", "| real | waves | 0 (+1 failed or skipped: see the source) | – | – | – |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

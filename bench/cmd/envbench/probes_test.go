package main

import (
	"strings"
	"testing"
)

func TestParseProbeBench(t *testing.T) {
	out := `goos: linux
BenchmarkProbeCPU/redis/protocol-2            	      20	   1915129 ns/op	         0.2448 container-ms/attempt	        13.04 cpu-ms/attempt	        12.00 engine-ms/attempt	         0.7911 envctl-ms/attempt
BenchmarkProbeCPU/redis/exec-2                	      20	 352393419 ns/op	        60.20 container-ms/attempt	       256.3 cpu-ms/attempt	       193.5 engine-ms/attempt	         2.597 envctl-ms/attempt
PASS`
	runs, err := parseProbeBench(strings.NewReader(out))
	if err != nil || len(runs) != 2 {
		t.Fatalf("parse: %v, %+v", err, runs)
	}
	if r := runs[1]; r.Server != "redis" || r.Check != "exec" || r.Metrics["cpu-ms/attempt"] != 256.3 || r.Metrics["envctl-ms/attempt"] != 2.597 {
		t.Errorf("exec line: %+v", r)
	}
	md := probesMarkdown(runs, "test")
	for _, want := range []string{"| redis | protocol probe | 0.79 | 0.24 | 12.0 | 13.0 |", "| redis | exec check | 2.60 | 60.20 | 193.5 | 256.3 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

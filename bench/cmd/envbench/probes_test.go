package main

import (
	"strings"
	"testing"
)

func TestParseProbeBench(t *testing.T) {
	out := `goos: linux
BenchmarkProbeCPU/redis/protocol-2            	      20	   1915129 ns/op	         0.2448 container-ms/attempt	        13.04 cpu-ms/attempt	        12.00 engine-ms/attempt	         0.7911 envctl-ms/attempt
BenchmarkProbeCPU/redis/tcp-2                 	      20	    963754 ns/op	         0.2000 container-ms/attempt	         0.4000 cpu-ms/attempt	         0 engine-ms/attempt	         0.2000 envctl-ms/attempt
BenchmarkProbeCPU/redis/exec-2                	      20	 352393419 ns/op	        60.20 container-ms/attempt	       256.3 cpu-ms/attempt	       193.5 engine-ms/attempt	         2.597 envctl-ms/attempt
PASS`
	runs, err := parseProbeBench(strings.NewReader(out))
	if err != nil || len(runs) != 3 {
		t.Fatalf("parse: %v, %+v", err, runs)
	}
	if r := runs[2]; r.Server != "redis" || r.Check != "exec" || r.Metrics["cpu-ms/attempt"] != 256.3 || r.Metrics["envctl-ms/attempt"] != 2.597 {
		t.Errorf("exec line: %+v", r)
	}
	md := probesMarkdown(runs, "test")
	for _, want := range []string{"| redis | protocol probe | 0.79 | 0.24 | 12.0 | 13.0 |", "| redis | exec check | 2.60 | 60.20 | 193.5 | 256.3 |",
		"| redis | TCP connect (the default) | 0.20 | 0.20 | 0.0 | 0.4 |\n| redis | protocol probe |", "at most 5 ms of CPU; the most it cost was 0.79 ms (redis): met", "redis 20x"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

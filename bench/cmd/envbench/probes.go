package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// probeRun is one line of `go test -bench ProbeCPU` (internal/realservers): the CPU one
// readiness attempt costs against a ready real server, a protocol probe or an exec check.
type probeRun struct {
	Server, Check string
	Metrics       map[string]float64 // cpu-ms/attempt, envctl-ms/attempt, container-ms/attempt, engine-ms/attempt
}

var (
	probeLine   = regexp.MustCompile(`^BenchmarkProbeCPU/(\w+)/(\w+)(-\d+)?\s+\d+\s+(.*)$`)
	probeMetric = regexp.MustCompile(`([0-9.]+)\s+([\w-]+/attempt)`)
)

// parseProbeBench reads the benchmark's output.
func parseProbeBench(r io.Reader) ([]probeRun, error) {
	var out []probeRun
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := probeLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		run := probeRun{Server: m[1], Check: m[2], Metrics: map[string]float64{}}
		for _, mm := range probeMetric.FindAllStringSubmatch(m[4], -1) {
			v, err := strconv.ParseFloat(mm[1], 64)
			if err != nil {
				return nil, fmt.Errorf("probe benchmark line %q: %v", sc.Text(), err)
			}
			run.Metrics[mm[2]] = v
		}
		out = append(out, run)
	}
	return out, sc.Err()
}

// probesMarkdown is the section of results.md on the protocol probes' cost (issue 18).
func probesMarkdown(runs []probeRun, source string) string {
	var b strings.Builder
	b.WriteString("## Readiness checks: CPU per attempt\n\n")
	b.WriteString("`go test -bench ProbeCPU ./internal/realservers/` (" + source + "): one readiness attempt against a ready real ")
	b.WriteString("server (Debian 12's packages), a protocol probe (envctl's own code, dialling the container's address) beside ")
	b.WriteString("the exec check Compose users write for that server, run through the Engine API as envctl runs exec checks. ")
	b.WriteString("Each attempt counts envctl's process (getrusage), the server's container (its cgroup's cpuacct, where an exec'd ")
	b.WriteString("tool runs too) and the engine (dockerd, containerd and the container's shim; runc's short runs are not ")
	b.WriteString("counted, so an exec check's figure is a lower bound). ")
	b.WriteString("A protocol probe does not involve the engine: its engine column is what the shared machine's other work ")
	b.WriteString("cost dockerd meanwhile (noise, in 10 ms ticks).\n\n")
	b.WriteString("| server | check | envctl ms | container ms | engine ms | total ms |\n|---|---|---:|---:|---:|---:|\n")
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Server < runs[j].Server })
	for _, r := range runs {
		check := "protocol probe"
		if r.Check == "exec" {
			check = "exec check"
		}
		m := r.Metrics
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %.1f | %.1f |\n", r.Server, check,
			m["envctl-ms/attempt"], m["container-ms/attempt"], m["engine-ms/attempt"], m["cpu-ms/attempt"])
	}
	b.WriteString("\n")
	return b.String()
}

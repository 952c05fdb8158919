package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// checkOrder and checkName put a server's rows in the order of their cost: envctl's default
// TCP check, the protocol probe, the exec check.
var (
	checkOrder = map[string]int{"tcp": 0, "protocol": 1, "exec": 2}
	checkName  = map[string]string{"tcp": "TCP connect (the default)", "protocol": "protocol probe", "exec": "exec check"}
)

// probeGoal is issue 18's bound on one protocol attempt's CPU in envctl.
const probeGoal = 5.0

// probesHeading starts the section.
const probesHeading = "## Readiness checks: CPU per attempt"

// onlyProbes replaces the section of out by one made from the benchmark's output in.
func onlyProbes(in, out string) error {
	if in == "" {
		return errors.New("-only probes needs -probes FILE")
	}
	sec, err := section(in, parseProbeBench, probesMarkdown)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(in); err == nil {
		sec = strings.Replace(sec, "\n\n", fmt.Sprintf("\n\n*Measured on its own (%s modified %s UTC; load average when this section was written: %s) and spliced into the last full run's file.*\n\n",
			filepath.Base(in), fi.ModTime().UTC().Format("2006-01-02 15:04"), loadavg()), 1)
	}
	return writeSection(out, probesHeading, sec, "")
}

// probesMarkdown is the section of results.md on the protocol probes' cost (issue 18).
func probesMarkdown(runs []probeRun, source string) string {
	var b strings.Builder
	b.WriteString(probesHeading + "\n\n")
	b.WriteString("`go test -bench ProbeCPU ./internal/realservers/` (" + source + "): one readiness attempt against a ready real ")
	b.WriteString("server (Debian 12's packages): envctl's default TCP check (connect, close), a protocol probe (envctl's own code, ")
	b.WriteString("dialling the container's address) and the exec check Compose users write for that server, run through the ")
	b.WriteString("Engine API as envctl runs exec checks. ")
	b.WriteString("Each attempt counts envctl's process (getrusage), the server's container (its cgroup's cpuacct, where an exec'd ")
	b.WriteString("tool runs too) and the engine (dockerd, containerd and the container's shim; runc's short runs are not ")
	b.WriteString("counted, so an exec check's figure is a lower bound). ")
	b.WriteString("A TCP check or protocol probe does not involve the engine: its engine column is what other work on the ")
	b.WriteString("machine cost dockerd meanwhile (noise, in 10 ms ticks). A protocol probe's container column is what the ")
	b.WriteString("server spends on one client's connection up to its first answer, which every client pays, `pg_isready` ")
	b.WriteString("inside an exec check too: PostgreSQL forks a backend process for each connection that sends a startup ")
	b.WriteString("message.\n\n")
	b.WriteString("| server | check | envctl ms | container ms | engine ms | total ms |\n|---|---|---:|---:|---:|---:|\n")
	sort.SliceStable(runs, func(i, j int) bool {
		if runs[i].Server != runs[j].Server {
			return runs[i].Server < runs[j].Server
		}
		return checkOrder[runs[i].Check] < checkOrder[runs[j].Check]
	})
	worst, worstServer := -1.0, ""
	var heavy []string // servers whose own work for one probe's connection is over the goal
	total := map[string]map[string]float64{}
	for _, r := range runs {
		check := checkName[r.Check]
		if check == "" {
			check = r.Check
		}
		m := r.Metrics
		fmt.Fprintf(&b, "| %s | %s | %.2f | %.2f | %.1f | %.1f |\n", r.Server, check,
			m["envctl-ms/attempt"], m["container-ms/attempt"], m["engine-ms/attempt"], m["cpu-ms/attempt"])
		if r.Check == "protocol" && m["envctl-ms/attempt"] > worst {
			worst, worstServer = m["envctl-ms/attempt"], r.Server
		}
		if r.Check == "protocol" && m["container-ms/attempt"] > probeGoal {
			heavy = append(heavy, fmt.Sprintf("%s %.1f ms", r.Server, m["container-ms/attempt"]))
		}
		if total[r.Server] == nil {
			total[r.Server] = map[string]float64{}
		}
		total[r.Server][r.Check] = m["cpu-ms/attempt"]
	}
	b.WriteString("\n")
	if worst >= 0 {
		verdict := "met"
		if worst > probeGoal {
			verdict = "**not met**"
		}
		fmt.Fprintf(&b, "Goal (issue 18, acceptance 1): a protocol attempt costs envctl at most %.0f ms of CPU; the most it cost was %.2f ms (%s): %s.", probeGoal, worst, worstServer, verdict)
		var ratios []string
		for _, srv := range slices.Sorted(maps.Keys(total)) {
			if p, e := total[srv]["protocol"], total[srv]["exec"]; p > 0 && e > 0 {
				ratios = append(ratios, fmt.Sprintf("%s %.0fx", srv, e/p))
			}
		}
		if len(heavy) > 0 {
			b.WriteString(" The server's own work for the probe's connection is more (" + strings.Join(heavy, ", ") + "): what any client's connection costs it, the exec check's tool's included, and paid only while envctl waits for readiness (a few attempts once the server listens).")
		}
		if len(ratios) > 0 {
			b.WriteString(" An exec check costs, in all, this many times a protocol attempt: " + strings.Join(ratios, ", ") + ".")
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

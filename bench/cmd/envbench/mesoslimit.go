package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// limitRun is one result line of bench/cmd/mesoslimit: one measurement on one target.
type limitRun struct {
	Target, Kind string // "real", "double", "docker", "multihost-docker", "multihost-mesos"; "floor", "flat", "layers"
	N, Round     int
	Values       map[string]float64 // ready, l2r, up, down, idle_mesos, idle_engine
	Load         string
}

// limitResults is mesoslimit's output: its results, failures and the load around them.
type limitResults struct {
	Runs      []limitRun
	Failures  []string
	LoadStart string
	LoadEnd   string
}

// parseLimit reads mesoslimit's lines: `result target=T round=R kind=K n=N key=value...
// load="..."`, `fail ...`, `start load=...`, `end load=...`.
func parseLimit(r io.Reader) (*limitResults, error) {
	out := &limitResults{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		word, rest, _ := strings.Cut(line, " ")
		kv := fields(rest)
		switch word {
		case "start":
			out.LoadStart = kv["load"]
		case "end":
			out.LoadEnd = kv["load"]
		case "fail", "error", "skip":
			out.Failures = append(out.Failures, line)
		case "result":
			run := limitRun{Target: kv["target"], Kind: kv["kind"], Values: map[string]float64{}, Load: kv["load"]}
			run.N, _ = strconv.Atoi(kv["n"])
			run.Round, _ = strconv.Atoi(kv["round"])
			for k, v := range kv {
				switch k {
				case "target", "kind", "n", "round", "load":
					continue
				}
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("mesoslimit line %q: %s: %v", line, k, err)
				}
				run.Values[k] = f
			}
			out.Runs = append(out.Runs, run)
		}
	}
	return out, sc.Err()
}

// fields splits `a=1 b="x y"` into a map.
func fields(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ")
		k, rest, ok := strings.Cut(s, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			if q, err := strconv.QuotedPrefix(rest); err == nil {
				v, _ = strconv.Unquote(q)
				rest = rest[len(q):]
			}
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		out[k] = v
		s = rest
	}
	return out
}

func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
	}
	return s[len(s)/2], true
}

// values collects one value of the runs of target and kind (n: 0 for any).
func (lr *limitResults) values(target, kind string, n int, key string) []float64 {
	var out []float64
	for _, r := range lr.Runs {
		if r.Target == target && r.Kind == kind && (n == 0 || r.N == n) {
			if v, ok := r.Values[key]; ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// limitMarkdown is results.md's section on Mesos's own limit (issue 16).
func limitMarkdown(lr *limitResults, source string) string {
	var b strings.Builder
	b.WriteString(limitHeading + "\n\n")
	b.WriteString("`bench/cmd/mesoslimit`, run by `make bench`: per round, on the Mesos double (2 agents) and on a real Apache Mesos 1.12 ")
	b.WriteString("from `../shared/mesos` (2 agents on this host), the bare scheduler `bench/cmd/mesosfloor` — none of envctl's code: it subscribes, ")
	b.WriteString("launches N Docker tasks with one ACCEPT per offer, no dependencies, no health checks, polls each task's host port from outside ")
	b.WriteString("until it answers, then kills them all at once and waits for the terminal updates — with 1 task (one task's launch-to-ready) ")
	b.WriteString("and with N; then `envctl up` and `envctl down` (the real binary) of the same N services flat and in 5 layers (each on two ")
	b.WriteString("of the layer before). On a multi-host cluster (3 agents in network namespaces of their own, the image through its ")
	b.WriteString("registry; issue 17), the bare scheduler and envctl's flat environment through each containerizer: *multihost-docker* ")
	b.WriteString("(the Docker containerizer: a container per task, its port published on the agent's address) and *multihost-mesos* (the ")
	b.WriteString("Mesos containerizer: the image as the task's root filesystem, in the agent's own network). Every service is ")
	b.WriteString("`testsvc --delay 300ms --http PORT` (answers 300 ms after its start; service i on port 9000+i), cpus 0.1, ")
	b.WriteString("32 MiB, ready on an HTTP GET; in the rounds that measure idle cost, also ready on an `exec` check instead (`/testsvc ")
	b.WriteString("probe tcp`, which stays a Mesos COMMAND health check, every second for the task's life), for what that costs. Idle cost: cores used over 30 s after ready by the cluster's processes (master, agents, ")
	b.WriteString("executors and all they fork — docker clients, health checks; the double's process and its docker clients) with the ")
	b.WriteString("tasks' shims and processes (*Mesos*), and by dockerd and containerd (*engine*: shared with everything else on the ")
	b.WriteString("engine, so noisy), from /proc's utime+stime+cutime+cstime; beside it the Docker backend's 30 services (their shims, and ")
	fmt.Fprintf(&b, "the engine). Medians of the rounds; source: %s", source)
	if lr.LoadStart != "" {
		end := lr.LoadEnd
		if end == "" {
			end = "– (the run was cut short)"
		}
		fmt.Fprintf(&b, "; load average %s at the start, %s at the end", lr.LoadStart, end)
	}
	b.WriteString(".\n\n")
	b.WriteString("| target | what | runs | up / ready (s) | down / kill (s) | launch-to-ready (s) | idle: Mesos (cores) | idle: engine (cores) |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	f := func(vs []float64, format string) string {
		if len(vs) == 0 {
			return "–"
		}
		return medianRange(vs, format)
	}
	for _, target := range limitTargets {
		type row struct {
			label, kind string
			n           int
			up          string
		}
		rows := []row{{"bare scheduler, 1 task", "floor", 1, "ready"}, {"bare scheduler, N tasks", "floor", -1, "ready"},
			{"envctl, N flat", "flat", 0, "up"}, {"envctl, N in 5 layers", "layers", 0, "up"},
			{"envctl, N flat, exec checks (Mesos COMMAND checks)", "exec", 0, "up"}}
		switch target {
		case "docker":
			rows = []row{{"envctl (Docker backend), N flat", "flat", 0, "up"}}
		case "multihost-docker", "multihost-mesos":
			rows = rows[:3] // the flat environment only
		}
		for _, rw := range rows {
			n := rw.n
			if n == -1 {
				if n = lr.floorN(target); n == 0 {
					continue
				}
			}
			up := lr.values(target, rw.kind, n, rw.up)
			if len(up) == 0 {
				continue
			}
			l2r := "–"
			if rw.kind == "floor" {
				l2r = f(lr.values(target, rw.kind, n, "l2r"), "%.2f")
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", target, rw.label, len(up), f(up, "%.2f"),
				f(lr.values(target, rw.kind, n, "down"), "%.2f"), l2r,
				f(lr.values(target, rw.kind, n, "idle_mesos"), "%.3f"), f(lr.values(target, rw.kind, n, "idle_engine"), "%.3f"))
		}
	}
	b.WriteString("\n")
	b.WriteString(limitGoals(lr))
	b.WriteString(containerizerComparison(lr))
	if len(lr.Failures) > 0 {
		b.WriteString("\nRuns that failed (left out of the medians):\n\n")
		for _, l := range lr.Failures {
			if len(l) > 240 {
				l = l[:240] + "…"
			}
			fmt.Fprintf(&b, "- `%s`\n", strings.ReplaceAll(l, "`", "'"))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// limitGoals is issue 16's acceptance, per target, from the medians.
func limitGoals(lr *limitResults) string {
	var b strings.Builder
	for _, target := range []string{"real", "double"} {
		n := lr.floorN(target)
		floorReady, ok1 := median(lr.values(target, "floor", n, "ready"))
		floorKill, ok2 := median(lr.values(target, "floor", n, "down"))
		one, ok3 := median(lr.values(target, "floor", 1, "l2r"))
		flatUp, ok4 := median(lr.values(target, "flat", 0, "up"))
		flatDown, ok5 := median(lr.values(target, "flat", 0, "down"))
		layersUp, ok6 := median(lr.values(target, "layers", 0, "up"))
		floorIdle, ok7 := median(sum(lr.values(target, "floor", n, "idle_mesos"), lr.values(target, "floor", n, "idle_engine")))
		envIdle, ok8 := median(sum(lr.values(target, "flat", 0, "idle_mesos"), lr.values(target, "flat", 0, "idle_engine")))
		if !ok1 {
			continue
		}
		fmt.Fprintf(&b, "Goals on %s (issue 16, medians):\n\n", target)
		verdict := func(ok bool, got, limit float64, what string) {
			if !ok {
				fmt.Fprintf(&b, "- %s: not measured\n", what)
				return
			}
			mark := "met"
			if got > limit {
				mark = "**not met**"
			}
			fmt.Fprintf(&b, "- %s: %.2f against %.2f — %s\n", what, got, limit, mark)
		}
		verdict(ok4, flatUp, 1.1*floorReady, fmt.Sprintf("up of %d flat ≤ 1.1 × the bare scheduler's ready (%.2f s)", n, floorReady))
		if ratios := lr.pairedRatios(target, n); len(ratios) > 0 {
			m, _ := median(ratios)
			fmt.Fprintf(&b, "  - the same, round by round (envctl's up over the bare ready of the same round, which ran right before or after it): median %.2fx of %d rounds (%s)\n",
				m, len(ratios), formatRatios(ratios))
		}
		verdict(ok6 && ok3, layersUp, floorReady+5*one, fmt.Sprintf("up of %d in 5 layers ≤ that + 5 × one task's launch-to-ready (%.2f s)", n, one))
		verdict(ok5 && ok2, flatDown, 1.2*floorKill, fmt.Sprintf("down of %d ≤ 1.2 × the bare kill (%.2f s)", n, floorKill))
		verdict(ok8 && ok7, envIdle, 1.2*floorIdle+0.05, fmt.Sprintf("idle cores (Mesos + engine) ≤ 1.2 × the bare tasks' (%.3f) + 0.05", floorIdle))
		b.WriteString("\n")
	}
	return b.String()
}

// floorN is how many tasks the bare scheduler's many-task runs on target had (0: none).
func (lr *limitResults) floorN(target string) int {
	n := 0
	for _, r := range lr.Runs {
		if r.Target == target && r.Kind == "floor" && r.N > 1 {
			n = r.N
		}
	}
	return n
}

// limitTargets are the targets of the table, in its order.
var limitTargets = []string{"real", "double", "docker", "multihost-docker", "multihost-mesos"}

// containerizerComparison is issue 17's side by side: per containerizer on the multi-host
// cluster, the bare scheduler's figures and envctl's, and their ratios.
func containerizerComparison(lr *limitResults) string {
	var b strings.Builder
	for _, k := range []string{"docker", "mesos"} {
		target := "multihost-" + k
		n := lr.floorN(target)
		floorReady, ok1 := median(lr.values(target, "floor", n, "ready"))
		floorKill, ok2 := median(lr.values(target, "floor", n, "down"))
		up, ok3 := median(lr.values(target, "flat", 0, "up"))
		down, ok4 := median(lr.values(target, "flat", 0, "down"))
		if !ok1 || !ok2 || !ok3 || !ok4 {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("The containerizers side by side on the multi-host cluster (issue 17, medians):\n\n")
		}
		fmt.Fprintf(&b, "- the %s containerizer, %d flat: envctl up %.2f s against the bare scheduler's %.2f s (%.2fx), down %.2f s against %.2f s (%.2fx)\n",
			k, n, up, floorReady, up/floorReady, down, floorKill, down/floorKill)
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// pairedRatios is, per round that has both, envctl's flat up over the bare scheduler's ready
// of n tasks: the two run back to back, so a round's ratio is free of the drift between
// rounds (a cluster that slows as its engine keeps the stopped containers of every round),
// which the ratio of the two medians is not.
func (lr *limitResults) pairedRatios(target string, n int) []float64 {
	floor, up := map[int]float64{}, map[int]float64{}
	var rounds []int
	for _, r := range lr.Runs {
		if r.Target != target {
			continue
		}
		switch {
		case r.Kind == "floor" && r.N == n:
			floor[r.Round] = r.Values["ready"]
		case r.Kind == "flat":
			up[r.Round] = r.Values["up"]
			rounds = append(rounds, r.Round)
		}
	}
	var out []float64
	for _, rd := range rounds {
		if f, ok := floor[rd]; ok && f > 0 {
			out = append(out, up[rd]/f)
		}
	}
	return out
}

func formatRatios(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(parts, ", ")
}

// sum adds two lists pairwise (the Mesos and engine figures of the same runs).
func sum(a, b []float64) []float64 {
	if len(a) != len(b) {
		return nil
	}
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

// limitHeading starts limitMarkdown's section.
const limitHeading = "## Mesos at its own limit (issue 16)"

// onlyMesosLimit replaces (or adds) the Mesos limit section of the results file out with the
// one made from mesoslimit's output in, keeping everything else.
func onlyMesosLimit(in, out string) error {
	if in == "" {
		return errors.New("-only mesoslimit needs -mesos-limit FILE")
	}
	sec, err := section(in, parseLimit, limitMarkdown)
	if err != nil {
		return err
	}
	// Before the Mesos benchmark's section, where a whole run puts it.
	return writeSection(out, limitHeading, sec, "## Mesos: ")
}

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

// mesosRun is one line of `go test -bench Up30Depth5` (provisioner/mesos): one up of 30
// services in 5 layers on a Mesos target.
type mesosRun struct {
	Target, Shape string  // "double" or "real"; "waves" or "sparse"
	Events        float64 // OFFERS events envctl received
	Rounds        float64 // the double's own count of offer rounds; -1 on real Mesos
	Seconds       float64
	Failed        string // "FAIL" or "SKIP": the run gave no figures
}

var (
	mesosLine = regexp.MustCompile(`^BenchmarkUp30Depth5/(\w+)/(\w+)(-\d+)?\s+\d+\s+(.*)$`)
	mesosFail = regexp.MustCompile(`^--- (FAIL|SKIP): BenchmarkUp30Depth5/(\w+)/(\w+)`)
)

// parseMesosBench reads the benchmark's output (make bench runs it with -count 3 against
// the double and a real cluster) and returns its runs in order.
func parseMesosBench(r io.Reader) ([]mesosRun, error) {
	var out []mesosRun
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if f := mesosFail.FindStringSubmatch(strings.TrimSpace(sc.Text())); f != nil {
			out = append(out, mesosRun{Target: f[2], Shape: f[3], Rounds: -1, Failed: f[1]})
			continue
		}
		m := mesosLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		run := mesosRun{Target: m[1], Shape: m[2], Rounds: -1}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("mesos benchmark line %q: %v", sc.Text(), err)
			}
			switch f[i+1] {
			case "offer-events/up":
				run.Events = v
			case "rounds/up":
				run.Rounds = v
			case "s/up":
				run.Seconds = v
			}
		}
		out = append(out, run)
	}
	return out, sc.Err()
}

// medianRange is the median of vs with its range, as "m (lo–hi)".
func medianRange(vs []float64, format string) string {
	if len(vs) == 0 {
		return "–"
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if s[0] == s[len(s)-1] {
		return fmt.Sprintf(format, med)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", med, s[0], s[len(s)-1])
}

// mesosMarkdown is the Mesos section of results.md: per target and shape, the medians.
func mesosMarkdown(runs []mesosRun, source string) string {
	var b strings.Builder
	b.WriteString("## Mesos: 30 services in 5 layers (issues 4, 12, 13)\n\n")
	b.WriteString("`go test -bench Up30Depth5 -count 3 ./provisioner/mesos/` (run by `make bench` with a real Apache Mesos 1.12 ")
	b.WriteString("cluster of 3 agents from `../shared/mesos`, default 1 s allocation interval, beside the double with 2 agents ")
	b.WriteString("and the same interval): `envctl`'s Backend in process, one up of 30 services (cpus 0.1 each) in 5 layers, ")
	b.WriteString("each service `--http 80` ready on its TCP check. *waves*: each service depends on the whole layer before; ")
	b.WriteString("*sparse*: on two services of it. Offer rounds are the OFFERS events envctl received during the up (the ")
	b.WriteString("double's own count of allocation rounds beside it). Goal (issue 12): rounds ≤ depth + 1 = 6. ")
	fmt.Fprintf(&b, "Medians of the runs, range in brackets; source: %s.\n\n", source)
	b.WriteString("| target | shape | runs | offer rounds (OFFERS events) | double's rounds | seconds per up |\n|---|---|---:|---:|---:|---:|\n")
	type key struct{ target, shape string }
	var order []key
	groups := map[key][]mesosRun{}
	for _, r := range runs {
		k := key{r.Target, r.Shape}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		var ev, ro, sec []float64
		failed := 0
		for _, r := range groups[k] {
			if r.Failed != "" {
				failed++
				continue
			}
			ev = append(ev, r.Events)
			if r.Rounds >= 0 {
				ro = append(ro, r.Rounds)
			}
			sec = append(sec, r.Seconds)
		}
		runs := fmt.Sprint(len(sec))
		if failed > 0 {
			runs += fmt.Sprintf(" (+%d failed or skipped: see the source)", failed)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", k.target, k.shape, runs,
			medianRange(ev, "%.0f"), medianRange(ro, "%.0f"), medianRange(sec, "%.2f s"))
	}
	if len(order) == 0 {
		b.WriteString("| – | – | 0 | not measured | | |\n")
	}
	b.WriteString("\n")
	return b.String()
}

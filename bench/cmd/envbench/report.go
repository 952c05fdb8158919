package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// summary is the median, minimum and maximum of a series.
type summary struct {
	N                int
	Median, Min, Max time.Duration
}

// summarize computes a summary; the median of an even count is the mean of the middle two.
func summarize(d []time.Duration) summary {
	if len(d) == 0 {
		return summary{}
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{N: len(s), Median: med, Min: s[0], Max: s[len(s)-1]}
}

// medianInt64 is the median of a series of integers (the mean of the middle two for an even
// count), 0 for none.
func medianInt64(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func walls(ms []Measurement) []time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = m.Wall
	}
	return d
}

func cpus(ms []Measurement) []time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = m.CPU
	}
	return d
}

func rsss(ms []Measurement) []int64 {
	v := make([]int64, len(ms))
	for i, m := range ms {
		v[i] = m.MaxRSS
	}
	return v
}

// ms prints a duration in whole milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// mib prints bytes in MB (10^6), the unit of the memory goal.
func mib(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// spread prints "median (min–max)".
func spread(s summary) string {
	if s.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s (%s–%s)", ms(s.Median), strings.TrimSuffix(ms(s.Min), " ms"), ms(s.Max))
}

func ratio(a, b time.Duration) string {
	if b <= 0 || a <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

// machine describes where the benchmark ran.
type machine struct {
	CPUs       int
	Memory     string
	Kernel     string
	Docker     string
	DockerCLI  string
	Go         string
	Envctl     string
	LoadBefore string
	LoadAfter  string
}

// sizeResult holds every measurement of one environment size.
type sizeResult struct {
	Layout      *Layout
	Up, Down    []Measurement
	ComposeUp   []Measurement
	ComposeDown []Measurement
	Limit       []engineLimit // the engine's own, measured in the same rounds
	UpAheadOff  []Measurement // envctl up with create-ahead off (-ahead-off)
	UpGateOff   []Measurement // envctl up with the gate off (-gate-off): created ahead, started when ready
}

// limitUp and limitRemoval are the medians of the engine's limit; 0 when not measured.
func (s *sizeResult) limitUp() time.Duration {
	d := make([]time.Duration, len(s.Limit))
	for i, l := range s.Limit {
		d[i] = l.Up
	}
	return summarize(d).Median
}

func (s *sizeResult) limitRemoval() time.Duration {
	d := make([]time.Duration, len(s.Limit))
	for i, l := range s.Limit {
		d[i] = l.Removal
	}
	return summarize(d).Median
}

func (s *sizeResult) limitSummaries() (up, removal summary) {
	u := make([]time.Duration, len(s.Limit))
	r := make([]time.Duration, len(s.Limit))
	for i, l := range s.Limit {
		u[i], r[i] = l.Up, l.Removal
	}
	return summarize(u), summarize(r)
}

// results is everything results.md reports.
type results struct {
	Date         time.Time
	Took         time.Duration
	Runs         int
	Layers       int
	Delay        time.Duration
	Seed         uint64
	Image        string
	Machine      machine
	RawBound     []time.Duration
	RawPublished []time.Duration // raw, on a network of its own with a published port
	EnvctlBound  []Measurement
	Sizes        []*sizeResult
	Compose      *composeTool // v2; nil when not available
	ComposeNotes []string
	ComposeCheck string // what validated the compose files without a v2
	Profile      string // markdown
	Failures     []string
	PlanScale    []*planScale
	Mesos        string // markdown of the Mesos benchmark (-mesos), "" when not given
	Probes       string // markdown of the readiness checks' CPU (-probes), "" when not given
	MesosLimit   string // markdown of Mesos's own limit beside envctl (-mesos-limit), "" when not given
	Reach        *reachResult
	Realstack    *realstackResult
}

func (r *results) size(n int) *sizeResult {
	for _, s := range r.Sizes {
		if len(s.Layout.Services) == n {
			return s
		}
	}
	return nil
}

// bound is the bound for depth: depth × the median raw container time.
func (r *results) bound(depth int) time.Duration {
	return time.Duration(depth) * summarize(r.RawBound).Median
}

// goal is one of the goals, evaluated.
type goal struct {
	Name, Measured, Verdict string
}

// goals evaluates the goals on the 30- and 60-service figures.
func (r *results) goals() []goal {
	notMeasured := func(name, why string) goal { return goal{name, why, "not measured"} }
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**not met**"
	}
	var g []goal
	// Issue 12: against the engine's own limit for the same containers, measured in the same run.
	if s := r.size(30); s != nil && len(s.Up) > 0 && len(s.Limit) > 0 {
		up, lim := summarize(walls(s.Up)).Median, s.limitUp()
		g = append(g, goal{"`up` of 30 ≤ 1.05× the engine's limit",
			fmt.Sprintf("%s / %s = %s", ms(up), ms(lim), ratio(up, lim)), verdict(float64(up) <= 1.05*float64(lim))})
	} else {
		g = append(g, notMeasured("`up` of 30 ≤ 1.05× the engine's limit", "30 services or the limit not run"))
	}
	if s := r.size(30); s != nil && len(s.Down) > 0 && len(s.Limit) > 0 {
		d, lim := summarize(walls(s.Down)).Median, s.limitRemoval()
		g = append(g, goal{"`down` of 30 ≤ 1.1× the engine's removal",
			fmt.Sprintf("%s / %s = %s", ms(d), ms(lim), ratio(d, lim)), verdict(float64(d) <= 1.1*float64(lim))})
	} else {
		g = append(g, notMeasured("`down` of 30 ≤ 1.1× the engine's removal", "30 services or the limit not run"))
	}
	if s := r.size(30); s != nil && len(s.Up) > 0 {
		up := summarize(walls(s.Up)).Median
		b := r.bound(s.Layout.Depth())
		g = append(g, goal{"`up` of 30 ≤ 1.3× the old bound (issue 7)",
			fmt.Sprintf("%s / %s = %s", ms(up), ms(b), ratio(up, b)), verdict(float64(up) <= 1.3*float64(b))})
		if len(s.ComposeUp) > 0 {
			c := summarize(walls(s.ComposeUp)).Median
			g = append(g, goal{"`up` of 30 ≤ 0.25× Compose `up --wait`",
				fmt.Sprintf("%s / %s = %s", ms(up), ms(c), ratio(up, c)), verdict(float64(up) <= 0.25*float64(c))})
		} else {
			g = append(g, notMeasured("`up` of 30 ≤ 0.25× Compose `up --wait`", "Compose v2 not available"))
		}
	} else {
		g = append(g, notMeasured("`up` of 30 ≤ 1.3× the old bound (issue 7)", "30 services not run"),
			notMeasured("`up` of 30 ≤ 0.25× Compose `up --wait`", "30 services not run"))
	}
	if s := r.size(30); s != nil && len(s.Down) > 0 {
		d := summarize(walls(s.Down)).Median
		g = append(g, goal{"`down` of 30 ≤ 1.5 s", ms(d), verdict(d <= 1500*time.Millisecond)})
	} else {
		g = append(g, notMeasured("`down` of 30 ≤ 1.5 s", "30 services not run"))
	}
	if s := r.size(60); s != nil && len(s.Up) > 0 {
		c := summarize(cpus(s.Up)).Median
		g = append(g, goal{"envctl CPU for `up` of 60 ≤ 1 s", ms(c), verdict(c <= time.Second)})
	} else {
		g = append(g, notMeasured("envctl CPU for `up` of 60 ≤ 1 s", "60 services not run"))
	}
	if len(r.PlanScale) > 0 {
		pg, _ := planLinear(r.PlanScale)
		g = append(g, pg)
	}
	var peak int64
	for _, s := range r.Sizes {
		for _, m := range append(append([]Measurement{}, s.Up...), s.Down...) {
			peak = max(peak, m.MaxRSS)
		}
	}
	if peak > 0 {
		g = append(g, goal{"envctl peak memory ≤ 60 MB", mib(peak) + " (the largest of every up and down)",
			verdict(peak <= 60e6)})
	}
	return g
}

// markdown renders results.md.
func (r *results) markdown() []byte {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("# envctl end-to-end benchmark\n\n")
	w("Written by `make bench` (`go run ./bench/cmd/envbench`) on %s; the run took %s. ",
		r.Date.Format("2006-01-02 15:04 MST"), r.Took.Round(time.Second))
	w("Every figure is the median of %d runs, with the range in brackets; all figures come from the same run.\n\n", r.Runs)
	w("## Machine\n\n")
	w("| | |\n|---|---|\n")
	w("| CPUs (nproc) | %d |\n| memory | %s |\n| kernel | %s |\n", r.Machine.CPUs, r.Machine.Memory, r.Machine.Kernel)
	w("| Docker Engine | %s |\n| docker CLI | %s |\n| Go | %s |\n| envctl | %s |\n", r.Machine.Docker, r.Machine.DockerCLI, r.Machine.Go, r.Machine.Envctl)
	w("| load average (1, 5, 15 min) | before: %s; after: %s |\n\n", r.Machine.LoadBefore, r.Machine.LoadAfter)
	w("The machine was busy: other work (builds and test suites of other packages) ran in parallel on its 2 cores ")
	w("during this run, so the figures are noisier, and likely slower, than on an idle machine.\n\n")

	w("## The environments\n\n")
	w("N services in %d layers; every service past layer 1 depends on one or two services of the layer before ", r.Layers)
	w("(seed %d), runs `%s` (internal/testsvc, `FROM scratch`) with `%s` ", r.Seed, r.Image, strings.Join(serviceArgs(r.Delay), " "))
	w("and is ready, by envctl's default readiness, when port 80 accepts a TCP connection: %s after it starts.\n\n", r.Delay)

	w("## The old bound (issue 7)\n\n")
	w("One container created, started and probed until ready, measured in every round:\n\n")
	w("| | median (min–max) |\n|---|---|\n")
	w("| raw: `docker run -d`, then polling the container's IP:80 every 5 ms until it accepts | %s |\n", spread(summarize(r.RawBound)))
	w("| raw, configured as envctl does: the same on a user-defined network, with `-p 127.0.0.1::80` | %s |\n", spread(summarize(r.RawPublished)))
	w("| envctl: `envctl up` of a 1-service environment (process start to exit, incl. network create) | %s |\n\n", spread(summarize(walls(r.EnvctlBound))))
	w("The bound for depth D is D × the raw figure (the stricter of the two; envctl's 1-service figure also ")
	w("carries its fixed cost per run, which a deeper environment pays once, not D times).\n\n")

	w("## The engine's limit\n\n")
	w("Measured in every round for each size, alternating with envctl (before it in odd rounds, after it in even ")
	w("ones), by a bare client of the Engine API (the Go SDK, nothing of envctl):\n\n")
	w("- **up**: the N containers of the same image with the same arguments, each on one network as envctl ")
	w("configures it (port 80 published on 127.0.0.1), all created and started at once, with no dependencies; ")
	w("done when every one accepts on port 80 (polled every 5 ms). Network creation is not counted. ")
	w("envctl must do the same engine work; dependencies can only add waiting, so nothing brings the ")
	w("environment up faster.\n")
	w("- **removal**: the N containers stopped all at once (killed, no grace period), then removed one after ")
	w("another, then their network: what `down` has to do. Removed one at a time because the engine serializes removals ")
	w("anyway, and parallel removals of one network's containers make Engine 20.10 lose count of the ")
	w("network's endpoints (moby#17217).\n\n")
	w("| services | engine up | engine removal |\n|---:|---:|---:|\n")
	for _, s := range r.Sizes {
		u, rm := s.limitSummaries()
		w("| %d | %s | %s |\n", len(s.Layout.Services), spread(u), spread(rm))
	}
	w("\n")

	w("## Results\n\n")
	w("Wall time is from process start to exit of the real `bin/envctl`; CPU is its user+system time and ")
	w("peak RSS its maximum resident set, both from the process's rusage.\n\n")
	w("| services | depth | `up` | up / engine limit | old bound | up / old bound | `down` | down / engine removal |\n")
	w("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Sizes {
		d := s.Layout.Depth()
		up, down := summarize(walls(s.Up)), summarize(walls(s.Down))
		w("| %d | %d | %s | **%s** | %s | %s | %s | **%s** |\n", len(s.Layout.Services), d,
			spread(up), ratio(up.Median, s.limitUp()), ms(r.bound(d)), ratio(up.Median, r.bound(d)),
			spread(down), ratio(down.Median, s.limitRemoval()))
	}
	for _, s := range r.Sizes {
		if len(s.UpAheadOff) == 0 {
			continue
		}
		off, on := summarize(walls(s.UpAheadOff)), summarize(walls(s.Up)).Median
		w("\nWith create-ahead off (`up --create-ahead=false`: each container created only once its dependencies ")
		w("are ready, as before issue 12), %d services: `up` %s, **%s** the engine's limit; with it on: %s.\n",
			len(s.Layout.Services), spread(off), ratio(off.Median, s.limitUp()), ratio(on, s.limitUp()))
	}
	for _, s := range r.Sizes {
		if len(s.UpGateOff) == 0 {
			continue
		}
		off, on := summarize(walls(s.UpGateOff)), summarize(walls(s.Up)).Median
		w("\nWith the gate off (`up --gate=false`: containers created ahead but started only once their dependencies ")
		w("are ready), %d services: `up` %s, **%s** the engine's limit; with it on (started ahead, the process held until then): %s.\n",
			len(s.Layout.Services), spread(off), ratio(off.Median, s.limitUp()), ratio(on, s.limitUp()))
	}
	w("\nThe old bound (issue 7) is the depth × one container's create-to-ready time alone (see above); ")
	w("it is not a limit: several containers started at once each take longer on 2 cores.\n\n")
	w("| services | up CPU | up peak RSS | down CPU | down peak RSS |\n|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Sizes {
		w("| %d | %s | %s | %s | %s |\n", len(s.Layout.Services), spread(summarize(cpus(s.Up))), mib(medianInt64(rsss(s.Up))),
			spread(summarize(cpus(s.Down))), mib(medianInt64(rsss(s.Down))))
	}
	w("\n")

	w("## Compose\n\n")
	if r.Compose != nil {
		w("Measured with %s (`up -d --wait`, `down -t 1`), alternating with envctl run by run.\n\n", r.Compose)
		w("| services | Compose `up -d --wait` | Compose `down -t 1` | envctl/Compose up | envctl/Compose down |\n")
		w("|---:|---:|---:|---:|---:|\n")
		for _, s := range r.Sizes {
			cu, cd := summarize(walls(s.ComposeUp)), summarize(walls(s.ComposeDown))
			w("| %d | %s | %s | %s | %s |\n", len(s.Layout.Services), spread(cu), spread(cd),
				ratio(summarize(walls(s.Up)).Median, cu.Median), ratio(summarize(walls(s.Down)).Median, cd.Median))
		}
		w("\n")
	} else {
		w("**Compose v2 not available**, so nothing was measured against Compose and no envctl/Compose ratio is given. ")
		w("Found: %s. Set `COMPOSE=/path/to/docker-compose` (v2) to include it.", strings.Join(r.ComposeNotes, "; "))
		if r.ComposeCheck != "" {
			w(" %s", r.ComposeCheck)
		}
		w("\n\n")
	}

	if len(r.PlanScale) > 0 {
		w("## Plan and the loader at scale\n\n")
		w("`envctl validate` (load, check, order) and `envctl plan --offline` (the same, then the planner and ")
		w("the rendering of every service) on internal/envgen's files (the loader benchmark's: an image ")
		w("template, two ports, references and a secret in env, an http ready block per service); CPU time ")
		w("(user+system) of the process. Per service, both must stay flat as the file grows.\n\n")
		w("| services | validate CPU | per service | plan CPU | per service | plan − validate |\n|---:|---:|---:|---:|---:|---:|\n")
		for _, p := range r.PlanScale {
			v, pl := summarize(cpus(p.Validate)), summarize(cpus(p.Plan))
			w("| %d | %s | %s | %s | %s | %s |\n", p.Services, spread(v), perService(v.Median, p.Services),
				spread(pl), perService(pl.Median, p.Services), ms(max(0, pl.Median-v.Median)))
		}
		w("\n")
	}

	w("## Goals\n\n")
	w("| goal | measured | verdict |\n|---|---|---|\n")
	for _, g := range r.goals() {
		w("| %s | %s | %s |\n", g.Name, g.Measured, g.Verdict)
	}
	w("\n")
	if len(r.Failures) > 0 {
		w("## Failures\n\n")
		for _, f := range r.Failures {
			w("- %s\n", strings.ReplaceAll(strings.TrimSpace(f), "\n", " "))
		}
		w("\n")
	}
	b.WriteString(r.MesosLimit)
	b.WriteString(r.Mesos)
	b.WriteString(r.Probes)
	if r.Reach != nil {
		b.WriteString(r.Reach.markdown())
	}
	if r.Realstack != nil {
		b.WriteString(r.Realstack.markdown())
	}
	if r.Profile != "" {
		w("## Profile\n\nOne more `up` and `down`, after the measured runs, with `docker events` streaming; ")
		w("envctl's own times come from its plain progress lines on stderr (millisecond timestamps), the ")
		w("engine's from its events.\n\n")
		b.WriteString(r.Profile)
	}
	return b.Bytes()
}

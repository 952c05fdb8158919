package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// upTimes are the moments of one service in a profiled up: from envctl's event log (creating,
// started, ready) and from the engine (create, start).
type upTimes struct {
	creating, started, ready time.Time
	engCreate, engStart      time.Time
	attempts                 int
}

// upDoc is the part of `envctl up -o json` the profile reads.
type upDoc struct {
	Services []struct {
		Name  string `json:"name"`
		Probe *struct {
			Attempts int `json:"attempts"`
		} `json:"probe"`
	} `json:"services"`
}

// profileUp explains where the time of one `up` went. It returns markdown.
func profileUp(l *Layout, delay time.Duration, m Measurement, engine []engineEvent) string {
	t := map[string]*upTimes{}
	for _, s := range l.Services {
		t[s.Name] = &upTimes{}
	}
	for _, ev := range parseEventLog(m.Stderr, m.Start) {
		st, ok := t[ev.Service]
		if !ok {
			continue
		}
		switch {
		case ev.Phase == "creating":
			st.creating = ev.At
		case ev.Phase == "probing" && ev.Detail == "started":
			st.started = ev.At
		case ev.Phase == "ready":
			st.ready = ev.At
		}
	}
	var doc upDoc
	if json.Unmarshal([]byte(m.Stdout), &doc) == nil {
		for _, s := range doc.Services {
			if st, ok := t[s.Name]; ok && s.Probe != nil {
				st.attempts = s.Probe.Attempts
			}
		}
	}
	var netCreate time.Time
	for _, ev := range engine {
		switch {
		case ev.Type == "network" && ev.Action == "create" && ev.Attrs["name"] == "envctl-"+l.Name:
			netCreate = ev.At
		case ev.Type == "container" && ev.Env == l.Name:
			if st, ok := t[ev.Service]; ok {
				switch ev.Action {
				case "create":
					st.engCreate = ev.At
				case "start":
					st.engStart = ev.At
				}
			}
		}
	}

	var b bytes.Buffer
	end := m.Start.Add(m.Wall)
	var firstCreating, lastReady time.Time
	var toCreate, createToStart, startToLog, createStart, probe, overshoot, gap []time.Duration
	var attempts []int
	for _, s := range l.Services {
		st := t[s.Name]
		if firstCreating.IsZero() || st.creating.Before(firstCreating) {
			firstCreating = st.creating
		}
		if st.ready.After(lastReady) {
			lastReady = st.ready
		}
		toCreate = appendSpan(toCreate, st.creating, st.engCreate)
		createToStart = appendSpan(createToStart, st.engCreate, st.engStart)
		startToLog = appendSpan(startToLog, st.engStart, st.started)
		createStart = appendSpan(createStart, st.creating, st.started)
		probe = appendSpan(probe, st.started, st.ready)
		if !st.started.IsZero() && !st.ready.IsZero() {
			overshoot = append(overshoot, st.ready.Sub(st.started)-delay)
		}
		if st.attempts > 0 {
			attempts = append(attempts, st.attempts)
		}
		var depsReady time.Time
		for _, d := range s.Deps {
			if t[d].ready.After(depsReady) {
				depsReady = t[d].ready
			}
		}
		gap = appendSpan(gap, depsReady, st.creating)
	}
	fmt.Fprintf(&b, "`envctl up` of %d services in %d layers: %s wall, %s CPU, peak RSS %s.\n\n",
		len(l.Services), l.Layers, ms(m.Wall), ms(m.CPU), mib(m.MaxRSS))
	b.WriteString("| phase | median | max | what it is |\n|---|---:|---:|---|\n")
	fmt.Fprintf(&b, "| setup | %s | | process start → first `creating` (load, sweep, image check, observe, plan) |\n", spanMS(m.Start, firstCreating))
	if !netCreate.IsZero() {
		fmt.Fprintf(&b, "| network created at | %s | | process start → engine's `network create` event |\n", spanMS(m.Start, netCreate))
	}
	row := func(name string, d []time.Duration, what string) {
		if len(d) == 0 {
			fmt.Fprintf(&b, "| %s | n/a | n/a | %s (no data) |\n", name, what)
			return
		}
		s := summarize(d)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, ms(s.Median), ms(s.Max), what)
	}
	row("dependency ready → creating", gap, "scheduling gap, per service past layer 1")
	row("creating → engine create", toCreate, "envctl's work and the create request until the engine logs it")
	row("engine create → engine start", createToStart, "create response, network connect, start request (engine times)")
	row("engine start → probing", startToLog, "until envctl's Start returns and the first probe is scheduled")
	row("creating → probing (total)", createStart, "create + start as envctl sees it")
	row("probing → ready", probe, fmt.Sprintf("service's %s delay + probe schedule", delay))
	row("probe overshoot", overshoot, fmt.Sprintf("probing → ready minus the %s the service sleeps", delay))
	if len(attempts) > 0 {
		sort.Ints(attempts)
		fmt.Fprintf(&b, "| probe attempts | %d | %d | per service, from `-o json` |\n", attempts[len(attempts)/2], attempts[len(attempts)-1])
	}
	fmt.Fprintf(&b, "| tail | %s | | last `ready` → process exit (render, close) |\n\n", spanMS(lastReady, end))

	// The critical path: from the last service ready, back through the dependency that was
	// ready last, is what the wall time is made of.
	var last string
	for _, s := range l.Services {
		if last == "" || t[s.Name].ready.After(t[last].ready) {
			last = s.Name
		}
	}
	deps := map[string][]string{}
	for _, s := range l.Services {
		deps[s.Name] = s.Deps
	}
	var path []string
	for n := last; n != ""; {
		path = append([]string{n}, path...)
		next := ""
		for _, d := range deps[n] {
			if next == "" || t[d].ready.After(t[next].ready) {
				next = d
			}
		}
		n = next
	}
	b.WriteString("Critical path (each hop: wait after its dependency was ready, create + start, start → ready):\n\n")
	b.WriteString("| service | gap | create+start | start → ready | ready at |\n|---|---:|---:|---:|---:|\n")
	prevReady := firstCreating
	for _, n := range path {
		st := t[n]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", n, spanMS(prevReady, st.creating),
			spanMS(st.creating, st.started), spanMS(st.started, st.ready), spanMS(m.Start, st.ready))
		prevReady = st.ready
	}
	b.WriteString("\n")
	return b.String()
}

// profileDown explains where the time of one `down` went, from the engine's events (down
// prints no per-service lines). It returns markdown.
func profileDown(l *Layout, m Measurement, engine []engineEvent) string {
	layer := map[string]int{}
	for _, s := range l.Services {
		layer[s.Name] = s.Layer
	}
	type ctr struct{ kill, die, destroy time.Time }
	ctrs := map[string]*ctr{}
	var netDestroy time.Time
	for _, ev := range engine {
		if ev.Type == "network" && ev.Action == "destroy" && ev.Attrs["name"] == "envctl-"+l.Name {
			netDestroy = ev.At
			continue
		}
		if ev.Type != "container" || ev.Env != l.Name {
			continue
		}
		c := ctrs[ev.Service]
		if c == nil {
			c = &ctr{}
			ctrs[ev.Service] = c
		}
		switch ev.Action {
		case "kill":
			if c.kill.IsZero() {
				c.kill = ev.At
			}
		case "die":
			c.die = ev.At
		case "destroy":
			c.destroy = ev.At
		}
	}
	var b bytes.Buffer
	end := m.Start.Add(m.Wall)
	fmt.Fprintf(&b, "`envctl down` of %d services: %s wall, %s CPU, peak RSS %s; from the engine's events.\n\n",
		len(l.Services), ms(m.Wall), ms(m.CPU), mib(m.MaxRSS))
	var first, lastDestroy time.Time
	var stop, remove, whole []time.Duration
	for _, c := range ctrs {
		begin := c.kill
		if begin.IsZero() {
			begin = c.die
		}
		if !begin.IsZero() && (first.IsZero() || begin.Before(first)) {
			first = begin
		}
		if c.destroy.After(lastDestroy) {
			lastDestroy = c.destroy
		}
		stop = appendSpan(stop, c.kill, c.die)
		remove = appendSpan(remove, c.die, c.destroy)
		whole = appendSpan(whole, begin, c.destroy)
	}
	b.WriteString("| phase | median | max | what it is |\n|---|---:|---:|---|\n")
	fmt.Fprintf(&b, "| setup | %s | | process start → first kill (observe, order) |\n", spanMS(m.Start, first))
	row := func(name string, d []time.Duration, what string) {
		if len(d) == 0 {
			fmt.Fprintf(&b, "| %s | n/a | n/a | %s (no data) |\n", name, what)
			return
		}
		s := summarize(d)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, ms(s.Median), ms(s.Max), what)
	}
	row("kill → die", stop, "SIGTERM until the process exited")
	row("die → destroy", remove, "stop returning, remove request, network disconnect, removal")
	row("kill → destroy", whole, "one container, stop + remove")
	fmt.Fprintf(&b, "| last destroy → network destroy | %s | | the environment's network |\n", spanMS(lastDestroy, netDestroy))
	tailFrom := netDestroy
	if tailFrom.IsZero() {
		tailFrom = lastDestroy
	}
	fmt.Fprintf(&b, "| tail | %s | | network destroy → process exit |\n\n", spanMS(tailFrom, end))

	b.WriteString("Waves, by layer (dependents go first, so layer 5 is removed first):\n\n")
	b.WriteString("| layer | services | first kill at | last destroy at | span |\n|---|---:|---:|---:|---:|\n")
	for lay := l.Layers; lay >= 1; lay-- {
		var lo, hi time.Time
		n := 0
		for svc, c := range ctrs {
			if layer[svc] != lay {
				continue
			}
			n++
			begin := c.kill
			if begin.IsZero() {
				begin = c.die
			}
			if lo.IsZero() || (!begin.IsZero() && begin.Before(lo)) {
				lo = begin
			}
			if c.destroy.After(hi) {
				hi = c.destroy
			}
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", lay, n, spanMS(m.Start, lo), spanMS(m.Start, hi), spanMS(lo, hi))
	}
	b.WriteString("\n")
	return b.String()
}

// appendSpan appends b-a when both moments are known.
func appendSpan(d []time.Duration, a, b time.Time) []time.Duration {
	if a.IsZero() || b.IsZero() {
		return d
	}
	return append(d, b.Sub(a))
}

// spanMS prints b-a in milliseconds, or n/a when either moment is unknown.
func spanMS(a, b time.Time) string {
	if a.IsZero() || b.IsZero() {
		return "n/a"
	}
	return ms(b.Sub(a))
}

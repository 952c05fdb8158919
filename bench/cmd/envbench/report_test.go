package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in   []time.Duration
		want summary
	}{
		{nil, summary{}},
		{[]time.Duration{5 * ms}, summary{1, 5 * ms, 5 * ms, 5 * ms}},
		{[]time.Duration{9 * ms, 1 * ms, 5 * ms}, summary{3, 5 * ms, 1 * ms, 9 * ms}},
		{[]time.Duration{4 * ms, 1 * ms, 2 * ms, 100 * ms}, summary{4, 3 * ms, 1 * ms, 100 * ms}},
	}
	for _, tt := range tests {
		if got := summarize(tt.in); got != tt.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if got := medianInt64([]int64{3, 1, 2}); got != 2 {
		t.Errorf("medianInt64(3,1,2) = %d, want 2", got)
	}
}

// fakeResults is a run whose bound per container is 500 ms, with the given medians for 30 and
// 60 services (single runs, so each figure is its own median).
func fakeResults(t *testing.T, up30, down30, compose30, cpu60 time.Duration, rss int64) *results {
	t.Helper()
	l30, err := Generate("ts-bench-30", 30, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	l60, err := Generate("ts-bench-60", 60, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	s30 := &sizeResult{Layout: l30, Up: []Measurement{{Wall: up30, MaxRSS: rss}}, Down: []Measurement{{Wall: down30}}}
	if compose30 > 0 {
		s30.ComposeUp = []Measurement{{Wall: compose30}}
	}
	s60 := &sizeResult{Layout: l60, Up: []Measurement{{Wall: 4 * time.Second, CPU: cpu60}}, Down: []Measurement{{Wall: time.Second}}}
	return &results{RawBound: []time.Duration{500 * time.Millisecond}, Sizes: []*sizeResult{s30, s60}, Runs: 1}
}

func TestGoals(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	tests := []struct {
		name string
		r    *results
		want []string // verdicts, in goal order
	}{
		{"all met", fakeResults(t, 3250*ms, 1500*ms, 13*s, s, 60e6),
			[]string{"not measured", "not measured", "**met**", "**met**", "**met**", "**met**", "**met**"}},
		{"all just missed", fakeResults(t, 3251*ms, 1501*ms, 13*s, s+ms, 60e6+1),
			[]string{"not measured", "not measured", "**not met**", "**not met**", "**not met**", "**not met**", "**not met**"}},
		{"no compose", fakeResults(t, 3*s, s, 0, s, 20e6),
			[]string{"not measured", "not measured", "**met**", "not measured", "**met**", "**met**", "**met**"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, g := range tt.r.goals() {
				got = append(got, g.Verdict)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkdownSaysComposeIsMissing(t *testing.T) {
	r := fakeResults(t, 3*time.Second, time.Second, 0, time.Second, 20e6)
	r.ComposeNotes = []string{"`docker-compose`: Compose v1.29.2 (v1: no `up --wait`, not measured)"}
	md := string(r.markdown())
	for _, want := range []string{"Compose v2 not available", "| 30 | 5 | 3000 ms (3000–3000 ms) | **n/a** | 2500 ms | 1.20× |", "v1.29.2"} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
}

// The plan goal is met when 10× the services take at most 11× the CPU, and the quadratic plan
// of before (0.23 s at 1,000, 3.75 s at 10,000) fails it.
func TestPlanLinear(t *testing.T) {
	ms := time.Millisecond
	ps := func(a, z time.Duration) []*planScale {
		return []*planScale{
			{Services: 1000, Plan: []Measurement{{CPU: a}}},
			{Services: 10000, Plan: []Measurement{{CPU: z}}},
		}
	}
	for _, tt := range []struct {
		a, z time.Duration
		ok   bool
	}{
		{230 * ms, 2530 * ms, true},
		{230 * ms, 2531 * ms, false},
		{230 * ms, 3750 * ms, false},
	} {
		if g, ok := planLinear(ps(tt.a, tt.z)); ok != tt.ok {
			t.Errorf("planLinear(%s, %s) = %v (%+v), want %v", tt.a, tt.z, ok, g, tt.ok)
		}
	}
	if _, ok := planLinear(nil); ok {
		t.Error("planLinear(nil) is met, want not measured")
	}
}

// The issue-12 goals compare with the engine's limit measured in the same run: up within 1.05×
// of the engine's up, down within 1.1× of its removal.
func TestEngineLimitGoals(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		up, down time.Duration
		want     []string
	}{
		{2100 * ms, 1100 * ms, []string{"**met**", "**met**"}},
		{2101 * ms, 1101 * ms, []string{"**not met**", "**not met**"}},
	} {
		r := fakeResults(t, tt.up, tt.down, 0, time.Second, 20e6)
		r.Sizes[0].Limit = []engineLimit{{Up: 2000 * ms, Removal: 1000 * ms}}
		g := r.goals()
		if got := []string{g[0].Verdict, g[1].Verdict}; !cmp.Equal(got, tt.want) {
			t.Errorf("up %s, down %s: verdicts %v, want %v (%+v)", tt.up, tt.down, got, tt.want, g[:2])
		}
		md := string(r.markdown())
		if want := "| 30 | 2000 ms (2000–2000 ms) | 1000 ms (1000–1000 ms) |"; !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
}

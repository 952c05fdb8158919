package provisioner

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/internal/cputime"
	"github.com/envctl/envctl/internal/envgen"
)

// The benchmarks below measure the planner and the executor at 1,000 and 10,000 services, per
// service: compare ns/service between the two sizes. Work that is linear keeps ns/service
// about flat; a lookup by scan per service (Result.Service, the orphans' removal order, once)
// shows as ns/service growing with the size — 10x at 10,000 for a quadratic spot.

// BenchmarkMakePlan plans a re-run of an environment of n services that are all up to date,
// next to n orphans of an earlier version of the file chained by their dependencies, so that
// both the services' steps and the removals' order are measured.
func BenchmarkMakePlan(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			desired := make([]Desired, n)
			var observed []Instance
			for i := range n {
				name := "s" + strconv.Itoa(i)
				var deps []string
				if i > 0 {
					deps = append(deps, "s"+strconv.Itoa(i/2))
				}
				desired[i] = Desired{Service: name, Hash: "h" + name, Deps: deps}
				observed = append(observed, inst(name, "h"+name, StateRunning, 0, deps...))
				var oldDeps []string
				if i > 0 {
					oldDeps = append(oldDeps, "old"+strconv.Itoa(i-1))
				}
				observed = append(observed, inst("old"+strconv.Itoa(i), "x", StateRunning, 0, oldDeps...))
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			for b.Loop() {
				p := MakePlan("bench", desired, observed)
				if len(p.Steps) != 2*n {
					b.Fatalf("%d steps, want %d", len(p.Steps), 2*n)
				}
			}
			perService(b, cpu0, 2*n)
		})
	}
}

// instantBackend starts every instance at once and reports it ready at once: what is left of
// an Apply is envctl's own work.
type instantBackend struct{}

func (instantBackend) Name() string                                        { return "instant" }
func (instantBackend) Observe(context.Context, string) ([]Instance, error) { return nil, nil }
func (instantBackend) Stop(context.Context, Instance, time.Duration) error { return nil }
func (instantBackend) Remove(context.Context, Instance) error              { return nil }
func (instantBackend) Close() error                                        { return nil }
func (instantBackend) Start(_ context.Context, s Spec) (Instance, error) {
	ports := make(map[string]int, len(s.Ports))
	for _, p := range s.Ports {
		ports[p.Name] = p.Port
	}
	return Instance{ID: "id-" + s.Service, Name: s.Service, Service: s.Service, Env: s.Env, State: StateRunning,
		Host: "10.0.0.1", Ports: ports}, nil
}
func (instantBackend) WaitReady(context.Context, Instance, ReadySpec, func(ProbeResult)) error {
	return nil
}

// BenchmarkApply plans and applies the loader benchmark's environment of n services on a
// backend that costs nothing, with the critical path computed as up does.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(envgen.Realistic(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			env, _, diags := envs.Load(envs.Options{Dir: dir})
			if diags.HasErrors() {
				b.Fatal(diags.Error())
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			for b.Loop() {
				t := NewTarget(env, 0, time.Now())
				desired, err := t.Desired()
				if err != nil {
					b.Fatal(err)
				}
				res := Apply(context.Background(), instantBackend{}, t, MakePlan(env.Name, desired, nil), Options{Parallel: 8})
				if res.Err != nil {
					b.Fatal(res.Err)
				}
				if len(res.CriticalPath) == 0 {
					b.Fatal("no critical path")
				}
			}
			perService(b, cpu0, n)
		})
	}
}

// perService reports wall and CPU time per service of the loop (the CPU since cpu0; it includes
// the garbage collector's, which is part of the cost).
func perService(b *testing.B, cpu0 time.Duration, n int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/service")
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/service")
}

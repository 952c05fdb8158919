package provisioner

import (
	"strings"
	"testing"
)

func inst(service, hash string, state State, exit int, deps ...string) Instance {
	return Instance{
		ID: "id-" + service, Service: service, State: state, ExitCode: exit,
		Labels: map[string]string{LabelHash: hash, LabelDeps: strings.Join(deps, ",")},
	}
}

func TestMakePlan(t *testing.T) {
	shop := []Desired{
		{Service: "store", Hash: "h-store"},
		{Service: "migrate", Hash: "h-migrate", Deps: []string{"store"}, Once: true},
		{Service: "api", Hash: "h-api", Deps: []string{"store", "migrate"}},
		{Service: "worker", Hash: "h-worker", Deps: []string{"store"}},
		{Service: "web", Hash: "h-web", Deps: []string{"api"}},
	}
	upToDate := []Instance{
		inst("store", "h-store", StateRunning, 0),
		inst("migrate", "h-migrate", StateExited, 0, "store"),
		inst("api", "h-api", StateRunning, 0, "store", "migrate"),
		inst("worker", "h-worker", StateRunning, 0, "store"),
		inst("web", "h-web", StateRunning, 0, "api"),
	}
	with := func(base []Instance, change func(i *Instance)) []Instance {
		out := make([]Instance, len(base))
		copy(out, base)
		for i := range out {
			change(&out[i])
		}
		return out
	}
	tests := []struct {
		name     string
		desired  []Desired
		observed []Instance
		want     string
	}{
		{
			name:    "fresh environment",
			desired: shop,
			want: `
[] -> #1 store, Create, not running
[1] -> #2 migrate, Create, not running
[1,2] -> #3 api, Create, not running
[1] -> #4 worker, Create, not running
[3] -> #5 web, Create, not running`,
		},
		{
			name:     "unchanged: everything kept, the finished job too",
			desired:  shop,
			observed: upToDate,
			want: `
[] -> #1 store, Keep, up to date
[1] -> #2 migrate, Keep, completed
[1,2] -> #3 api, Keep, up to date
[1] -> #4 worker, Keep, up to date
[3] -> #5 web, Keep, up to date`,
		},
		{
			name:    "changed api recreates itself and its dependents only",
			desired: shop,
			observed: with(upToDate, func(i *Instance) {
				if i.Service == "api" {
					i.Labels = map[string]string{LabelHash: "old"}
				}
			}),
			want: `
[] -> #1 store, Keep, up to date
[1] -> #2 migrate, Keep, completed
[1,2] -> #3 api, Recreate, configuration changed
[1] -> #4 worker, Keep, up to date
[3] -> #5 web, Recreate, dependency api recreated`,
		},
		{
			name:    "changed store cascades through everything that depends on it",
			desired: shop,
			observed: with(upToDate, func(i *Instance) {
				if i.Service == "store" {
					i.Labels = map[string]string{LabelHash: "old"}
				}
			}),
			want: `
[] -> #1 store, Recreate, configuration changed
[1] -> #2 migrate, Recreate, dependency store recreated
[1,2] -> #3 api, Recreate, dependency store recreated
[1] -> #4 worker, Recreate, dependency store recreated
[3] -> #5 web, Recreate, dependency api recreated`,
		},
		{
			// An agent stopped answering: what ran there is replaced, and what depends on it
			// recreated, since its injected address changes; the rest is kept.
			name:    "unreachable instances are replaced and their dependents recreated",
			desired: shop,
			observed: with(upToDate, func(i *Instance) {
				if i.Service == "api" || i.Service == "worker" {
					i.State = StateUnreachable
				}
			}),
			want: `
[] -> #1 store, Keep, up to date
[1] -> #2 migrate, Keep, completed
[1,2] -> #3 api, Recreate, unreachable: its host stopped answering
[1] -> #4 worker, Recreate, unreachable: its host stopped answering
[3] -> #5 web, Recreate, dependency api recreated`,
		},
		{
			name:    "an unreachable job is run again",
			desired: shop,
			observed: with(upToDate, func(i *Instance) {
				if i.Service == "migrate" {
					i.State = StateUnreachable
				}
			}),
			want: `
[] -> #1 store, Keep, up to date
[1] -> #2 migrate, Recreate, unreachable: its host stopped answering
[1,2] -> #3 api, Recreate, dependency migrate recreated
[1] -> #4 worker, Keep, up to date
[3] -> #5 web, Recreate, dependency api recreated`,
		},
		{
			name:    "failed job and crashed service are recreated",
			desired: shop,
			observed: with(upToDate, func(i *Instance) {
				switch i.Service {
				case "migrate":
					i.ExitCode = 3
				case "worker":
					i.State = StateExited
				}
			}),
			want: `
[] -> #1 store, Keep, up to date
[1] -> #2 migrate, Recreate, exited 3
[1,2] -> #3 api, Recreate, dependency migrate recreated
[1] -> #4 worker, Recreate, exited
[3] -> #5 web, Recreate, dependency api recreated`,
		},
		{
			name:    "orphans are removed first, dependents before dependencies",
			desired: shop[:1],
			observed: []Instance{
				inst("store", "h-store", StateRunning, 0),
				inst("cache", "x", StateRunning, 0),
				inst("api", "x", StateRunning, 0, "cache", "store"),
				inst("web", "x", StateRunning, 0, "api"),
			},
			want: `
[] -> #1 web, Remove, not in the environment file
[1] -> #2 api, Remove, not in the environment file
[2] -> #3 cache, Remove, not in the environment file
[] -> #4 store, Keep, up to date`,
		},
		{
			name: "a rebuilt image recreates its service; an unknown ID changes nothing",
			desired: []Desired{
				{Service: "store", Hash: "h-store", ImageID: "sha256:new"},
				{Service: "api", Hash: "h-api", ImageID: ""},
			},
			observed: []Instance{
				{Service: "store", State: StateRunning, ImageID: "sha256:old", Labels: map[string]string{LabelHash: "h-store"}},
				{Service: "api", State: StateRunning, ImageID: "sha256:old", Labels: map[string]string{LabelHash: "h-api"}},
			},
			want: `
[] -> #1 store, Recreate, image changed
[] -> #2 api, Keep, up to date`,
		},
		{
			name:     "duplicate instances of one service",
			desired:  shop[:1],
			observed: []Instance{inst("store", "h-store", StateRunning, 0), inst("store", "h-store", StateRunning, 0)},
			want: `
[] -> #1 store, Recreate, 2 instances, want 1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.TrimSpace(MakePlan("shop", tt.desired, tt.observed).String())
			want := strings.TrimSpace(tt.want)
			if got != want {
				t.Errorf("wrong plan\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestDependentsFirst(t *testing.T) {
	deps := map[string][]string{"web": {"api"}, "api": {"db", "cache"}, "worker": {"db"}, "db": nil, "cache": nil}
	order := DependentsFirst([]string{"api", "cache", "db", "web", "worker"}, func(n string) []string { return deps[n] })
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	if len(order) != 5 {
		t.Fatalf("got %v, want 5 names", order)
	}
	for n, ds := range deps {
		for _, d := range ds {
			if pos[n] > pos[d] {
				t.Errorf("got %v: %s comes after its dependency %s", order, n, d)
			}
		}
	}
}

// Step finds a service's step through MakePlan's index, never a removal of the same name, and
// a Plan built by hand (no index) still answers by scanning.
func TestPlanStep(t *testing.T) {
	p := MakePlan("e", []Desired{{Service: "a", Hash: "h"}, {Service: "b", Hash: "h", Deps: []string{"a"}}},
		[]Instance{inst("gone", "h", StateRunning, 0)})
	for _, name := range []string{"a", "b"} {
		if st := p.Step(name); st == nil || st.Service != name || st.Action != ActionCreate {
			t.Errorf("Step(%q) = %+v", name, st)
		}
	}
	if st := p.Step("gone"); st != nil {
		t.Errorf("Step(gone) = %+v, want nil (a removal is not a service's step)", st)
	}
	byHand := &Plan{Steps: []Step{{ID: 1, Service: "x", Action: ActionKeep}}}
	if st := byHand.Step("x"); st == nil || st.ID != 1 {
		t.Errorf("hand-built Step(x) = %+v", st)
	}
}

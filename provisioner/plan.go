package provisioner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Action is what one step of a plan does. Values are explicit so that adding one never shifts
// the others; do not reorder.
type Action int

const (
	// ActionKeep leaves an up-to-date instance alone; the executor only confirms it is ready.
	ActionKeep Action = 1
	// ActionCreate starts a service that has no instance.
	ActionCreate Action = 2
	// ActionRecreate removes the instance and starts a new one.
	ActionRecreate Action = 3
	// ActionRemove removes an instance whose service is no longer in the file.
	ActionRemove Action = 4
)

func (a Action) String() string {
	switch a {
	case ActionKeep:
		return "Keep"
	case ActionCreate:
		return "Create"
	case ActionRecreate:
		return "Recreate"
	case ActionRemove:
		return "Remove"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Desired is one service as the file wants it, reduced to what planning needs.
type Desired struct {
	Service string
	Hash    string
	ImageID string // "" when unknown (plan builds and pulls nothing)
	Deps    []string
	Once    bool
}

// Step is one decision of the planner. Old holds the observed instances it replaces or removes.
type Step struct {
	ID        int
	Action    Action
	Service   string
	Cause     string
	DependsOn []int
	Old       []Instance
}

// Plan is the whole decision for one environment: the steps in a valid execution order
// (removals of orphans first, then the services in dependency order).
type Plan struct {
	Env   string
	Steps []Step

	// byService indexes the services' steps (not removals) into Steps, so that Step is O(1):
	// callers look up every service, and a scan made plan quadratic (10,000 services: 0.4 s).
	// MakePlan fills it; a Plan built by hand or changed afterwards falls back to the scan.
	byService map[string]int
}

// Step returns the step of a service (not of a removal), or nil.
func (p *Plan) Step(service string) *Step {
	if i, ok := p.byService[service]; ok && i < len(p.Steps) && p.Steps[i].Service == service && p.Steps[i].Action != ActionRemove {
		return &p.Steps[i]
	}
	for i := range p.Steps {
		if p.Steps[i].Service == service && p.Steps[i].Action != ActionRemove {
			return &p.Steps[i]
		}
	}
	return nil
}

// Changes counts the steps that change something.
func (p *Plan) Changes() int {
	n := 0
	for _, s := range p.Steps {
		if s.Action != ActionKeep {
			n++
		}
	}
	return n
}

// String renders the plan one step per line, "[1,2] -> #3 web, Create, not running". It is
// stable and is what tests compare.
func (p *Plan) String() string {
	var b strings.Builder
	for _, s := range p.Steps {
		deps := make([]string, len(s.DependsOn))
		for i, d := range s.DependsOn {
			deps[i] = strconv.Itoa(d)
		}
		fmt.Fprintf(&b, "[%s] -> #%d %s, %s, %s\n", strings.Join(deps, ","), s.ID, s.Service, s.Action, s.Cause)
	}
	return b.String()
}

// MakePlan decides what `up` must do to turn the observed instances into the desired services.
// desired must be in a dependency order (dependencies first), as graph.Sort returns it. It makes
// no calls and keeps no state: the same inputs always give the same plan.
//
// The rules:
//   - a service with no instance is created;
//   - an instance whose hash or image ID differs, or that is not running, is recreated — except a job that
//     exited 0 with the same hash: it already did its work and is kept; an unreachable one
//     (its host stopped answering) is recreated, also a job's;
//   - a service whose dependency is created or recreated is recreated too, since it was
//     started with its dependency's old address and state;
//   - an instance of a service that is not desired is removed, dependents first;
//   - extra instances of one service (a backend that allows duplicates) are removed with it.
func MakePlan(env string, desired []Desired, observed []Instance) *Plan {
	p := &Plan{Env: env, byService: make(map[string]int, len(desired))}
	byService := map[string][]Instance{}
	for _, inst := range observed {
		byService[inst.Service] = append(byService[inst.Service], inst)
	}
	want := map[string]bool{}
	for _, d := range desired {
		want[d.Service] = true
	}

	// Orphans first, dependents before their dependencies, so a removal never pulls the ground
	// from under a still-running dependent.
	// A removal waits for the removals of the orphans that depend on it, which come before it
	// in that order. Looked up through the reverse edges, built once: testing every pair of
	// orphans made a plan with thousands of orphans quadratic.
	orphans, orphanDeps := orphanOrder(observed, want)
	dependents := map[string][]string{}
	for _, name := range orphans {
		for _, d := range orphanDeps[name] {
			if ds := dependents[d]; len(ds) == 0 || ds[len(ds)-1] != name {
				dependents[d] = append(ds, name)
			}
		}
	}
	removeStep := map[string]int{}
	for _, name := range orphans {
		id := len(p.Steps) + 1
		var deps []int
		for _, other := range dependents[name] {
			if sid, ok := removeStep[other]; ok {
				deps = append(deps, sid)
			}
		}
		sort.Ints(deps)
		p.Steps = append(p.Steps, Step{ID: id, Action: ActionRemove, Service: name, Cause: "not in the environment file", DependsOn: deps, Old: byService[name]})
		removeStep[name] = id
	}

	stepOf := map[string]*Step{}
	for _, d := range desired {
		id := len(p.Steps) + 1
		st := Step{ID: id, Service: d.Service}
		for _, dep := range d.Deps {
			if ds, ok := stepOf[dep]; ok {
				st.DependsOn = append(st.DependsOn, ds.ID)
			}
		}
		sort.Ints(st.DependsOn)
		insts := byService[d.Service]
		st.Old = insts
		switch {
		case len(insts) == 0:
			st.Action, st.Cause = ActionCreate, "not running"
		case len(insts) > 1:
			st.Action, st.Cause = ActionRecreate, fmt.Sprintf("%d instances, want 1", len(insts))
		case insts[0].Hash() != d.Hash:
			st.Action, st.Cause = ActionRecreate, "configuration changed"
		case d.ImageID != "" && insts[0].ImageID != "" && d.ImageID != insts[0].ImageID:
			st.Action, st.Cause = ActionRecreate, "image changed"
		case d.Once && insts[0].State == StateExited && insts[0].ExitCode == 0:
			st.Action, st.Cause = ActionKeep, "completed"
		case d.Once && insts[0].State == StateExited:
			st.Action, st.Cause = ActionRecreate, "exited "+strconv.Itoa(insts[0].ExitCode)
		case insts[0].State == StateUnreachable:
			// Its host stopped answering: whatever it still does there, nothing reaches it.
			st.Action, st.Cause = ActionRecreate, "unreachable: its host stopped answering"
		case !d.Once && insts[0].State != StateRunning:
			st.Action, st.Cause = ActionRecreate, insts[0].State.String()
		default:
			st.Action, st.Cause = ActionKeep, "up to date"
		}
		if st.Action == ActionKeep {
			for _, dep := range d.Deps {
				if ds, ok := stepOf[dep]; ok && ds.Action != ActionKeep {
					st.Action, st.Cause = ActionRecreate, "dependency "+dep+" "+pastTense(ds.Action)
					break
				}
			}
		}
		p.Steps = append(p.Steps, st)
		stepOf[d.Service] = &p.Steps[len(p.Steps)-1]
		p.byService[d.Service] = len(p.Steps) - 1
	}
	return p
}

func pastTense(a Action) string {
	if a == ActionCreate {
		return "created"
	}
	return "recreated"
}

// orphanOrder lists the services of observed that are not wanted, dependents first, ties by
// name, so the order is stable whatever order the backend listed them in; and the dependencies
// each one's instances carry in their labels.
func orphanOrder(observed []Instance, want map[string]bool) ([]string, map[string][]string) {
	deps := map[string][]string{}
	var names []string
	for _, inst := range observed {
		if want[inst.Service] {
			continue
		}
		if _, seen := deps[inst.Service]; !seen {
			names = append(names, inst.Service)
			deps[inst.Service] = nil
		}
		deps[inst.Service] = append(deps[inst.Service], ParseDeps(inst.Labels[LabelDeps])...)
	}
	sort.Strings(names)
	return DependentsFirst(names, func(n string) []string { return deps[n] }), deps
}

// DependentsFirst orders names so that every name comes before the names it depends on
// (teardown order). Dependencies outside names are ignored; cycles, which labels written by
// envctl never contain, are broken at the first name met. O(V+E).
func DependentsFirst(names []string, depsOf func(string) []string) []string {
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	// Post-order DFS over dependencies yields dependencies first; reversed it is dependents first.
	// Iterative, because a generated environment can be deep.
	state := map[string]int{} // 0 new, 1 on stack, 2 done
	var order []string
	type frame struct {
		name string
		deps []string
		i    int
	}
	for _, root := range names {
		if state[root] != 0 {
			continue
		}
		stack := []frame{{name: root, deps: depsOf(root)}}
		state[root] = 1
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.i < len(top.deps) {
				d := top.deps[top.i]
				top.i++
				if in[d] && state[d] == 0 {
					state[d] = 1
					stack = append(stack, frame{name: d, deps: depsOf(d)})
				}
				continue
			}
			state[top.name] = 2
			order = append(order, top.name)
			stack = stack[:len(stack)-1]
		}
	}
	for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
		order[i], order[j] = order[j], order[i]
	}
	return order
}

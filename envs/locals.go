package envs

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// localDecl is one attribute of a locals block.
type localDecl struct {
	name string
	attr *hcl.Attribute
	f    *srcFile
	deps []string // local names it refers to, unique

	// A local that refers to service addresses, directly or through other locals, is
	// deferred: like command and env it is evaluated again by Service.Resolve once the
	// addresses are known, and only run-time attributes may use it.
	deferred bool
	direct   *hcl.Range // its first own service reference, for messages
	bad      bool       // its evaluation reported errors: uses add none
	svcDeps  []Dep      // the services it refers to, with the place in the locals block
}

func (l *loader) localNames() []string {
	names := make([]string, 0, len(l.locals))
	for _, d := range l.localOrder() {
		names = append(names, d.name)
	}
	return names
}

// localOrder returns the locals in declaration order.
func (l *loader) localOrder() []*localDecl {
	out := make([]*localDecl, 0, len(l.locals))
	for _, d := range l.locals {
		out = append(out, d)
	}
	sortByPos(out, func(d *localDecl) hcl.Range { return d.attr.Range })
	return out
}

// evalLocals evaluates the locals of every locals block in dependency order (Kahn's
// algorithm, declaration order among the ready ones), so they may refer to one another in any
// order. Locals on a cycle are reported once per cycle and left unknown.
func (l *loader) evalLocals(blocks []blockIn) {
	l.locals = map[string]*localDecl{}
	var order []*localDecl
	for _, b := range blocks {
		attrs, diags := b.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		for _, a := range sortedAttrs(attrs) {
			if prev := l.locals[a.Name]; prev != nil {
				l.errorf(rangePtr(a.NameRange), "Duplicate local value",
					"A local value named %q was already declared at %s.", a.Name, prev.attr.NameRange)
				continue
			}
			d := &localDecl{name: a.Name, attr: a, f: b.f}
			l.locals[a.Name] = d
			order = append(order, d)
		}
	}
	for _, d := range order {
		seen := map[string]bool{}
		for _, t := range d.attr.Expr.Variables() {
			if t.RootName() == "service" && d.direct == nil {
				d.direct = rangePtr(t.SourceRange())
			}
			if t.RootName() != "local" || len(t) < 2 {
				continue
			}
			if n, ok := stepName(t[1]); ok && l.locals[n] != nil && !seen[n] {
				seen[n] = true
				d.deps = append(d.deps, n)
			}
		}
	}

	l.localVals = map[string]cty.Value{}
	done := map[string]bool{}
	envObj := cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(l.envName)})
	varObj := l.varObject() // built once: variables are settled before locals
	l.varObj, l.envObj = varObj, envObj
	// Kahn's algorithm: each local is evaluated once its dependencies are, in linear time, so
	// that a chain of thousands of locals costs no more than thousands of independent ones.
	waiting := map[string]int{}
	dependents := map[string][]*localDecl{}
	var ready []*localDecl
	for _, d := range order {
		waiting[d.name] = len(d.deps)
		for _, n := range d.deps {
			dependents[n] = append(dependents[n], d)
		}
		if len(d.deps) == 0 {
			ready = append(ready, d)
		}
	}
	for len(ready) > 0 {
		d := ready[0]
		ready = ready[1:]
		done[d.name] = true
		l.localSeq = append(l.localSeq, d)
		d.deferred = d.direct != nil
		for _, n := range d.deps {
			d.deferred = d.deferred || l.locals[n].deferred
		}
		if d.deferred {
			// Evaluated by evalDeferredLocals, once the services are declared.
			l.localVals[d.name] = cty.DynamicVal
			for _, dep := range dependents[d.name] {
				if waiting[dep.name]--; waiting[dep.name] == 0 {
					ready = append(ready, dep)
				}
			}
			continue
		}
		// Only the locals d refers to: the whole object would make each step cost as much as
		// all locals so far.
		refs := make(map[string]cty.Value, len(d.deps))
		for _, n := range d.deps {
			refs[n] = l.localVals[n]
		}
		localObj := cty.EmptyObjectVal
		if len(refs) > 0 {
			localObj = cty.ObjectVal(refs)
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{
				"var": varObj, "local": localObj, "environment": envObj,
			},
			Functions: d.f.funcs,
		}
		v, ok := l.eval(d.attr.Expr, ctx, scopeLocal, nil)
		if !ok {
			v = cty.DynamicVal // reported already; unknown stops knock-on errors
		}
		l.localVals[d.name] = v
		for _, dep := range dependents[d.name] {
			if waiting[dep.name]--; waiting[dep.name] == 0 {
				ready = append(ready, dep)
			}
		}
	}

	// What is left is on a cycle or depends on one. Report each cycle once, from its first
	// declared member.
	reported := map[string]bool{}
	for _, d := range order {
		if done[d.name] {
			continue
		}
		l.localVals[d.name] = cty.DynamicVal
		if reported[d.name] {
			continue
		}
		cycle := l.findLocalCycle(d, done)
		if cycle == nil {
			continue // only downstream of a cycle
		}
		dup := false
		for _, n := range cycle {
			dup = dup || reported[n]
		}
		for _, n := range cycle {
			reported[n] = true
		}
		if dup {
			continue
		}
		first := l.locals[cycle[0]]
		path := make([]string, 0, len(cycle)+1)
		for _, n := range append(cycle, cycle[0]) {
			path = append(path, "local."+n)
		}
		if len(path) > 2*cycleShown {
			// A cycle of thousands would be a message nobody reads: its ends name it.
			path = append(append(path[:cycleShown:cycleShown], fmt.Sprintf("(%d more)", len(path)-2*cycleShown)), path[len(path)-cycleShown:]...)
		}
		l.errorf(rangePtr(first.attr.NameRange), "Cycle in local values",
			"Local values refer to each other in a circle: %s. Break the circle by writing one of them without the others.",
			strings.Join(path, " -> "))
	}
}

// evalDeferredLocals evaluates the locals that refer to services, in dependency order, with
// every service address unknown: it checks their references (declared service? port?) and
// types once, where they are written, and records the services each one needs. Their
// values stay unknown for the rest of Load; Service.Resolve computes them.
func (l *loader) evalDeferredLocals() {
	for _, d := range l.localSeq {
		if !d.deferred {
			continue
		}
		refs := make(map[string]cty.Value, len(d.deps))
		var deps []Dep
		for _, n := range d.deps {
			dep := l.locals[n]
			refs[n] = l.localVals[n]
			d.bad = d.bad || dep.bad
			deps = append(deps, dep.svcDeps...)
		}
		localObj := cty.EmptyObjectVal
		if len(refs) > 0 {
			localObj = cty.ObjectVal(refs)
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{
				"var": l.varObj, "local": localObj, "environment": l.envObj, "service": l.unknownSv,
			},
			Functions: d.f.funcs,
		}
		var own []Dep
		v, ok := l.eval(d.attr.Expr, ctx, scopeLocalRuntime, &own)
		if !ok {
			d.bad, v = true, cty.DynamicVal
		}
		l.localVals[d.name] = v
		seen := map[string]bool{}
		for _, dep := range append(own, deps...) {
			if !seen[dep.Name] {
				seen[dep.Name] = true
				d.svcDeps = append(d.svcDeps, dep)
			}
		}
	}
}

// deferredUsedBy returns the deferred locals that exprs use, directly or through other
// locals, in evaluation order.
func (l *loader) deferredUsedBy(exprs ...hcl.Expression) []*deferredLocal {
	used := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		d := l.locals[name]
		if d == nil || !d.deferred || used[name] {
			return
		}
		used[name] = true
		for _, n := range d.deps {
			walk(n)
		}
	}
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, t := range e.Variables() {
			if t.RootName() == "local" && len(t) > 1 {
				if n, ok := stepName(t[1]); ok {
					walk(n)
				}
			}
		}
	}
	if len(used) == 0 {
		return nil
	}
	var out []*deferredLocal
	for _, d := range l.localSeq {
		if used[d.name] {
			out = append(out, &deferredLocal{name: d.name, expr: d.attr.Expr, funcs: d.f.funcs, deps: d.deps})
		}
	}
	return out
}

// cycleShown is how many names of each end of a long cycle its message shows.
const cycleShown = 10

func (l *loader) depsDone(d *localDecl, done map[string]bool) bool {
	for _, n := range d.deps {
		if !done[n] {
			return false
		}
	}
	return true
}

// findLocalCycle follows not-done dependencies from d until a name repeats, and returns the
// cycle found, starting at its first declared member; nil when d only leads into a cycle
// that does not pass through d.
func (l *loader) findLocalCycle(d *localDecl, done map[string]bool) []string {
	pos := map[string]int{}
	var path []string
	cur := d
	for cur != nil {
		if i, ok := pos[cur.name]; ok {
			cycle := path[i:]
			if cycle[0] != d.name && !contains(cycle, d.name) {
				return nil
			}
			// rotate so that it starts with d
			for j, n := range cycle {
				if n == d.name {
					return append(append([]string(nil), cycle[j:]...), cycle[:j]...)
				}
			}
			return cycle
		}
		pos[cur.name] = len(path)
		path = append(path, cur.name)
		var next *localDecl
		for _, n := range cur.deps {
			if !done[n] {
				next = l.locals[n]
				break
			}
		}
		cur = next
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// localObject is the value of `local` in expressions.
func (l *loader) localObject() cty.Value {
	if len(l.localVals) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(l.localVals)
}

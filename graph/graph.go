package graph

import (
	"slices"
	"strings"
)

// Graph is a directed graph of string-named nodes in which an edge from a to b means "a
// depends on b". The zero value is an empty graph ready to use; New is its constructor.
//
// Internally nodes are numbered by insertion order, and every algorithm works on those
// numbers: the number is both the cheap key and the tie-breaker that makes results
// deterministic.
type Graph struct {
	names []string       // names[i] is the i-th node added
	index map[string]int // name -> position in names
	// deps[i] are the dependencies of node i, in the order their edges were added.
	deps [][]int
	// dependents[i] are the nodes that depend on i, kept in ascending insertion order so
	// that Dependents, Reverse and skip reports need no sorting.
	dependents [][]int
	// edges holds every (from, to) pair once, so that Connect can ignore a duplicate in
	// O(1) instead of scanning a possibly long dependency list.
	edges map[edge]struct{}
}

type edge struct{ from, to int }

// New returns an empty graph. Node names are strings; insertion order is remembered and is
// the tie-breaker everywhere, so every result is deterministic.
func New() *Graph {
	return &Graph{index: map[string]int{}, edges: map[edge]struct{}{}}
}

// add returns the number of name, adding the node if it is new.
func (g *Graph) add(name string) (int, bool) {
	if i, ok := g.index[name]; ok {
		return i, false
	}
	if g.index == nil {
		g.index = map[string]int{}
		g.edges = map[edge]struct{}{}
	}
	i := len(g.names)
	g.index[name] = i
	g.names = append(g.names, name)
	g.deps = append(g.deps, nil)
	g.dependents = append(g.dependents, nil)
	return i, true
}

// Add adds a node without edges. It reports false if the node was already present, in
// which case nothing changes (in particular its place in the insertion order).
func (g *Graph) Add(name string) bool {
	_, added := g.add(name)
	return added
}

// Has reports whether name is a node of g.
func (g *Graph) Has(name string) bool {
	_, ok := g.index[name]
	return ok
}

// Connect records that from depends on to, adding either node if it is missing (from first).
// A duplicate edge is ignored. A self-edge (from == to) is kept: it is a cycle, and Sort
// reports it as such.
func (g *Graph) Connect(from, to string) {
	f, _ := g.add(from)
	t, _ := g.add(to)
	g.connect(f, t)
}

func (g *Graph) connect(f, t int) {
	e := edge{f, t}
	if _, dup := g.edges[e]; dup {
		return
	}
	g.edges[e] = struct{}{}
	g.deps[f] = append(g.deps[f], t)
	// Nodes usually gain dependents in ascending order, so this is normally an append.
	ds := g.dependents[t]
	pos, _ := slices.BinarySearch(ds, f)
	g.dependents[t] = slices.Insert(ds, pos, f)
}

// Nodes returns every node in insertion order.
func (g *Graph) Nodes() []string {
	return slices.Clone(g.names)
}

// Len returns the number of nodes.
func (g *Graph) Len() int {
	return len(g.names)
}

// Deps returns the direct dependencies of name, in the order their edges were added, or nil
// if name has none or is not in g.
func (g *Graph) Deps(name string) []string {
	i, ok := g.index[name]
	if !ok {
		return nil
	}
	return g.namesOf(g.deps[i])
}

// Dependents returns the nodes that depend directly on name, in node insertion order, or
// nil if there are none or name is not in g.
func (g *Graph) Dependents(name string) []string {
	i, ok := g.index[name]
	if !ok {
		return nil
	}
	return g.namesOf(g.dependents[i])
}

func (g *Graph) namesOf(ids []int) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for k, id := range ids {
		out[k] = g.names[id]
	}
	return out
}

// Reverse returns a new graph with the same nodes in the same order and every edge flipped:
// in it a node depends on its former dependents. Sorting or walking the reverse visits
// dependents first, which is the order for teardown. A node's dependencies in the reverse
// are its former dependents in node insertion order. Cost O(V+E).
func (g *Graph) Reverse() *Graph {
	r := New()
	for _, n := range g.names {
		r.add(n)
	}
	// Walking the original edges by dependency makes each node's list in r come out in
	// ascending insertion order of its new dependencies.
	for t := range g.names {
		for _, f := range g.dependents[t] {
			r.connect(t, f)
		}
	}
	return r
}

// Subgraph returns a new graph with the roots and, when down is false, everything they
// depend on, directly or transitively; when down is true, everything that depends on them
// instead. Roots that are not in g are ignored. The result keeps g's node order and every
// edge of g between the nodes it holds, in g's edge order. Cost O(V+E).
func (g *Graph) Subgraph(roots []string, down bool) *Graph {
	next := g.deps
	if down {
		next = g.dependents
	}
	in := make([]bool, len(g.names))
	var stack []int
	for _, r := range roots {
		if i, ok := g.index[r]; ok && !in[i] {
			in[i] = true
			stack = append(stack, i)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range next[i] {
			if !in[j] {
				in[j] = true
				stack = append(stack, j)
			}
		}
	}
	s := New()
	for i, n := range g.names {
		if in[i] {
			s.add(n)
		}
	}
	for i, n := range g.names {
		if !in[i] {
			continue
		}
		for _, d := range g.deps[i] {
			if in[d] {
				s.Connect(n, g.names[d])
			}
		}
	}
	return s
}

// String returns a stable text form of g: one line per node in insertion order, each ending
// in a newline, either the bare name or "name -> dep1, dep2" with the dependencies in Deps
// order. An empty graph gives "".
func (g *Graph) String() string {
	var b strings.Builder
	for i, n := range g.names {
		b.WriteString(n)
		for k, d := range g.deps[i] {
			if k == 0 {
				b.WriteString(" -> ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(g.names[d])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

package graph

import (
	"cmp"
	"slices"
	"strings"
)

// CycleError reports that a graph is not acyclic. It names every cycle: one per strongly
// connected component of more than one node, plus one per self-loop.
type CycleError struct {
	// Cycles holds each cycle as a closed path: [a b c a] means a depends on b, b on c and c
	// on a. A component's cycle is a shortest one through its earliest-inserted node and
	// starts there; a self-loop is [x x]. Cycles are ordered by their first node's insertion
	// order; where a node starts both, its component's cycle comes before its self-loop.
	Cycles [][]string
}

// Error returns one line per cycle, "dependency cycle: a -> b -> c -> a", joined by "\n".
func (e *CycleError) Error() string {
	lines := make([]string, len(e.Cycles))
	for i, c := range e.Cycles {
		lines[i] = "dependency cycle: " + strings.Join(c, " -> ")
	}
	return strings.Join(lines, "\n")
}

// Sort returns a topological order, dependencies before dependents. Among nodes that are ready
// at the same time the one inserted first comes first (Kahn with a min-heap on insertion index).
// If the graph has cycles it returns a *CycleError naming EVERY cycle: one cycle per strongly
// connected component (plus each self-loop), each as a concrete path.
//
// Cost: O(V log V + E) time, O(V) extra space; on a cycle, O(V+E) more to name the cycles.
func (g *Graph) Sort() ([]string, error) {
	order, ok := g.topo()
	if !ok {
		return nil, g.cycleError()
	}
	return g.namesOf(order), nil
}

// topo is Sort on node numbers. It reports false, with a partial order, when some nodes never
// became ready, which happens exactly when the graph has a cycle.
func (g *Graph) topo() ([]int, bool) {
	n := len(g.names)
	pending := make([]int, n) // dependencies not yet placed
	var ready minHeap
	for i := range n {
		pending[i] = len(g.deps[i])
		if pending[i] == 0 {
			// Ascending pushes keep the slice a valid heap without sifting.
			ready = append(ready, i)
		}
	}
	order := make([]int, 0, n)
	for len(ready) > 0 {
		i := ready.pop()
		order = append(order, i)
		for _, j := range g.dependents[i] {
			pending[j]--
			if pending[j] == 0 {
				ready.push(j)
			}
		}
	}
	return order, len(order) == n
}

// Levels groups nodes into waves: level 0 has no deps; a node's level = 1 + max level of its deps
// (longest path). Nodes within a level in insertion order. Error as Sort on cycles.
//
// Every node of a level can run at the same time once the levels before it are done.
// Cost: O(V+E): any topological order gives the longest paths, so a FIFO queue does instead
// of Sort's heap, and bucketing by insertion order restores determinism.
func (g *Graph) Levels() ([][]string, error) {
	n := len(g.names)
	pending := make([]int, n)
	level := make([]int, n)
	queue := make([]int, 0, n)
	for i := range n {
		pending[i] = len(g.deps[i])
		if pending[i] == 0 {
			queue = append(queue, i)
		}
	}
	depth := 0
	for q := 0; q < len(queue); q++ {
		i := queue[q]
		depth = max(depth, level[i]+1)
		for _, j := range g.dependents[i] {
			// When i is dequeued its level is final: all its dependencies were dequeued
			// before it.
			level[j] = max(level[j], level[i]+1)
			pending[j]--
			if pending[j] == 0 {
				queue = append(queue, j)
			}
		}
	}
	if len(queue) != n {
		return nil, g.cycleError()
	}
	if depth == 0 {
		return nil, nil
	}
	out := make([][]string, depth)
	for i, name := range g.names {
		out[level[i]] = append(out[level[i]], name)
	}
	return out, nil
}

// cycleError names every cycle of g; g must have at least one. It finds the strongly
// connected components with Tarjan's algorithm, then a shortest cycle through the
// earliest-inserted node of each component by breadth-first search inside it.
//
// Cost: O(V+E). Each node is searched from at most once, by its own component's search,
// so the searches together touch each node and edge at most once.
func (g *Graph) cycleError() *CycleError {
	type found struct {
		start int
		self  bool
		path  []int
	}
	var cycles []found
	comp, comps := g.components()

	seen := make([]bool, len(g.names))
	parent := make([]int, len(g.names))
	for c, info := range comps {
		if info.size < 2 {
			continue
		}
		cycles = append(cycles, found{start: info.first, path: g.shortestCycle(info.first, c, comp, seen, parent)})
	}
	for i := range g.names {
		if _, ok := g.edges[edge{i, i}]; ok {
			cycles = append(cycles, found{start: i, self: true, path: []int{i, i}})
		}
	}
	slices.SortFunc(cycles, func(a, b found) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		switch {
		case a.self == b.self:
			return 0
		case b.self:
			return -1
		default:
			return 1
		}
	})
	e := &CycleError{Cycles: make([][]string, len(cycles))}
	for k, c := range cycles {
		e.Cycles[k] = g.namesOf(c.path)
	}
	return e
}

// shortestCycle returns a shortest cycle of length at least 2 through start that stays in
// component c, as a closed path [start ... start]. The search follows edges in Deps order, so
// among equally short cycles the result is deterministic. seen and parent are scratch space
// shared by all components; nodes of other components are never written.
func (g *Graph) shortestCycle(start, c int, comp []int, seen []bool, parent []int) []int {
	queue := []int{start}
	seen[start] = true
	for q := 0; q < len(queue); q++ {
		u := queue[q]
		for _, v := range g.deps[u] {
			if v == start && u != start {
				// Breadth-first, so the first edge back to start closes a shortest cycle.
				var back []int
				for x := u; x != start; x = parent[x] {
					back = append(back, x)
				}
				path := make([]int, 0, len(back)+2)
				path = append(path, start)
				for k := len(back) - 1; k >= 0; k-- {
					path = append(path, back[k])
				}
				return append(path, start)
			}
			if comp[v] != c || seen[v] {
				continue
			}
			seen[v] = true
			parent[v] = u
			queue = append(queue, v)
		}
	}
	// Unreachable: a component of two or more nodes always has a cycle through each of them.
	return []int{start, start}
}

// component describes one strongly connected component.
type component struct {
	first int // its earliest-inserted node
	size  int // its number of nodes
}

// components returns the strongly connected component of every node, and each component,
// using Tarjan's algorithm with an explicit stack instead of recursion so that a
// 10,000-node chain or cycle cannot overflow the goroutine stack. Cost: O(V+E).
func (g *Graph) components() (comp []int, comps []component) {
	n := len(g.names)
	const unvisited = 0
	index := make([]int, n) // discovery number + 1; unvisited (0) until discovered
	low := make([]int, n)
	onStack := make([]bool, n)
	comp = make([]int, n)
	var stack []int // Tarjan's stack of nodes whose component is not yet known
	type frame struct{ v, next int }
	var calls []frame // stands in for the recursion: node and its next edge to follow
	counter := 0

	discover := func(v int) {
		counter++
		index[v], low[v] = counter, counter
		stack = append(stack, v)
		onStack[v] = true
		calls = append(calls, frame{v: v})
	}
	for s := range n {
		if index[s] != unvisited {
			continue
		}
		discover(s)
		for len(calls) > 0 {
			top := &calls[len(calls)-1]
			v := top.v
			if top.next < len(g.deps[v]) {
				w := g.deps[v][top.next]
				top.next++ // before discover, which may move calls and invalidate top
				switch {
				case index[w] == unvisited:
					discover(w)
				case onStack[w]:
					low[v] = min(low[v], index[w])
				}
				continue
			}
			// All edges of v are done: "return" to the caller.
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				c := component{first: v}
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = len(comps)
					c.first = min(c.first, w)
					c.size++
					if w == v {
						break
					}
				}
				comps = append(comps, c)
			}
		}
	}
	return comp, comps
}

// minHeap is a binary min-heap of node numbers. It is hand-rolled rather than built on
// container/heap because the interface calls cost a noticeable share of Sort's time.
type minHeap []int

func (h *minHeap) push(x int) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p] <= s[i] {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap) pop() int {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l] < s[m] {
			m = l
		}
		if r < len(s) && s[r] < s[m] {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

package graph_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/envctl/envctl/graph"
)

// fuzzGraph builds a graph from fuzz bytes: the first byte picks 1..16 nodes, which are
// added in order n0, n1, ...; every following pair of bytes is an edge from, to (each taken
// modulo the node count), so self-loops and duplicates occur.
func fuzzGraph(data []byte) (*graph.Graph, int) {
	g := graph.New()
	if len(data) == 0 {
		return g, 0
	}
	n := int(data[0])%16 + 1
	for i := range n {
		g.Add(fmt.Sprintf("n%d", i))
	}
	for k := 1; k+1 < len(data); k += 2 {
		g.Connect(fmt.Sprintf("n%d", int(data[k])%n), fmt.Sprintf("n%d", int(data[k+1])%n))
	}
	return g, n
}

func addSeeds(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})                                  // one node
	f.Add([]byte{3, 0, 1, 1, 2})                      // chain
	f.Add([]byte{3, 0, 1, 1, 2, 2, 0})                // three-cycle
	f.Add([]byte{1, 0, 0})                            // self-loop
	f.Add([]byte{5, 0, 1, 1, 0, 2, 3, 3, 4, 4, 2})    // two cycles
	f.Add([]byte{4, 0, 1, 0, 2, 1, 3, 2, 3})          // diamond
	f.Add([]byte{4, 0, 1, 1, 2, 2, 0, 1, 3, 3, 1, 1}) // nested cycles, one component
	f.Add([]byte{15, 14, 13, 13, 12, 12, 11, 5, 5, 7, 3, 3, 7, 9, 1})
	f.Add([]byte{6, 1, 0, 2, 0, 3, 1, 4, 2, 5, 3, 5, 4, 0b10100})  // DAG, n0 and n2 fail
	f.Add([]byte{7, 1, 0, 2, 1, 3, 2, 4, 0, 5, 4, 6, 5, 0b111101}) // chains, many fail, limit 1
}

// reach returns reach[a][b]: a path of one or more edges leads from a to b. n is small, so
// Floyd–Warshall is fine and independent of the code under test.
func reach(g *graph.Graph, n int) [][]bool {
	idx := map[string]int{}
	for i, name := range g.Nodes() {
		idx[name] = i
	}
	r := make([][]bool, n)
	for i := range r {
		r[i] = make([]bool, n)
		for _, d := range g.Deps(fmt.Sprintf("n%d", i)) {
			r[i][idx[d]] = true
		}
	}
	for k := range n {
		for i := range n {
			for j := range n {
				r[i][j] = r[i][j] || r[i][k] && r[k][j]
			}
		}
	}
	return r
}

func FuzzSort(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, n := fuzzGraph(data)
		isEdge := func(from, to string) bool {
			for _, d := range g.Deps(from) {
				if d == to {
					return true
				}
			}
			return false
		}
		order, err := g.Sort()
		if err == nil {
			if len(order) != n {
				t.Fatalf("Sort() gave %d nodes, want %d", len(order), n)
			}
			pos := map[string]int{}
			for i, name := range order {
				if _, dup := pos[name]; dup {
					t.Fatalf("%q appears twice in %q", name, order)
				}
				pos[name] = i
			}
			for _, name := range order {
				for _, d := range g.Deps(name) {
					if pos[d] >= pos[name] {
						t.Fatalf("%q comes before its dependency %q in %q", name, d, order)
					}
				}
			}
			r := reach(g, n)
			for i := range n {
				if r[i][i] {
					t.Fatalf("Sort() succeeded but n%d is on a cycle", i)
				}
			}
			return
		}
		var ce *graph.CycleError
		if !errors.As(err, &ce) {
			t.Fatalf("Sort() error = %v (%T), want *CycleError", err, err)
		}
		r := reach(g, n)
		num := func(s string) int {
			var i int
			fmt.Sscanf(s, "n%d", &i)
			return i
		}
		// Every reported cycle is a real, simple, closed path of the graph; a component's
		// cycle starts at the component's earliest node.
		starts := map[int]int{} // component start -> component cycles reported
		for _, c := range ce.Cycles {
			if len(c) < 2 || c[0] != c[len(c)-1] {
				t.Fatalf("cycle %q is not closed", c)
			}
			seen := map[string]bool{}
			for k := 0; k+1 < len(c); k++ {
				if !isEdge(c[k], c[k+1]) {
					t.Fatalf("cycle %q: %s -> %s is not an edge", c, c[k], c[k+1])
				}
				if seen[c[k]] {
					t.Fatalf("cycle %q repeats %q", c, c[k])
				}
				seen[c[k]] = true
			}
			if len(c) == 2 {
				continue // a self-loop starts at its own node, checked by isEdge above
			}
			s := num(c[0])
			for j := range s {
				if r[s][j] && r[j][s] {
					t.Fatalf("cycle %q does not start at its component's earliest node n%d", c, j)
				}
			}
			starts[s]++
		}
		// And every component with a cycle of two or more nodes is reported exactly once,
		// every self-loop once.
		selfLoops := 0
		for i := range n {
			name := fmt.Sprintf("n%d", i)
			if isEdge(name, name) {
				selfLoops++
			}
			earliest := true
			for j := range i {
				if r[i][j] && r[j][i] {
					earliest = false
				}
			}
			bigComponent := false
			for j := range n {
				if j != i && r[i][j] && r[j][i] {
					bigComponent = true
				}
			}
			want := 0
			if earliest && bigComponent {
				want = 1
			}
			if starts[i] != want {
				t.Fatalf("component starting at %s reported %d times, want %d; cycles %q", name, starts[i], want, ce.Cycles)
			}
		}
		total := selfLoops
		for _, c := range starts {
			total += c
		}
		if len(ce.Cycles) != total {
			t.Fatalf("%d cycles reported, want %d; cycles %q", len(ce.Cycles), total, ce.Cycles)
		}
	})
}

func FuzzWalk(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, n := fuzzGraph(data)
		// The last byte, when present, chooses the limit (its low 2 bits: 0..3) and which
		// nodes fail (node i fails when bit 2+i%6 is set).
		var limit int
		fail := map[string]bool{}
		if len(data) > 1 {
			last := data[len(data)-1]
			limit = int(last & 3)
			for i := range n {
				if last&(1<<(2+i%6)) != 0 {
					fail[fmt.Sprintf("n%d", i)] = true
				}
			}
		}
		var mu sync.Mutex // guards finished and calls across concurrent fn calls
		finished := map[string]bool{}
		calls := map[string]int{}
		skips := map[string]string{}
		err := graph.Walk(context.Background(), g, graph.WalkOptions{
			Limit:  limit,
			OnSkip: func(node, cause string) { skips[node] = cause },
		}, func(_ context.Context, node string) error {
			mu.Lock()
			calls[node]++
			for _, d := range g.Deps(node) {
				if !finished[d] {
					t.Errorf("%s started before its dependency %s finished", node, d)
				}
			}
			mu.Unlock()
			if fail[node] {
				return errors.New("fail")
			}
			mu.Lock()
			finished[node] = true
			mu.Unlock()
			return nil
		})
		if _, serr := g.Sort(); serr != nil {
			var ce *graph.CycleError
			if !errors.As(err, &ce) || len(calls) != 0 {
				t.Fatalf("cyclic graph: Walk() = %v with %d calls, want the CycleError and none", err, len(calls))
			}
			return
		}
		for node, c := range calls {
			if c != 1 {
				t.Fatalf("fn(%s) called %d times, want 1", node, c)
			}
		}
		// Every node either ran or was skipped, never both; a skip's cause is a node that
		// failed.
		for _, node := range g.Nodes() {
			_, ran := calls[node]
			cause, skipped := skips[node]
			if ran == skipped {
				t.Fatalf("%s: ran %v, skipped %v; want exactly one", node, ran, skipped)
			}
			if skipped && !(fail[cause] && calls[cause] == 1) {
				t.Fatalf("%s skipped for %q, which did not run and fail", node, cause)
			}
		}
		var ne *graph.NodeError
		failedRan := 0
		for node := range fail {
			if calls[node] == 1 {
				failedRan++
			}
		}
		if (err == nil) != (failedRan == 0) {
			t.Fatalf("Walk() = %v with %d failed nodes run", err, failedRan)
		}
		if err != nil {
			if !errors.As(err, &ne) {
				t.Fatalf("Walk() = %v, want NodeErrors", err)
			}
			if got := len(err.(interface{ Unwrap() []error }).Unwrap()); got != failedRan {
				t.Fatalf("Walk() joined %d errors, want %d (only root causes)", got, failedRan)
			}
		}
	})
}

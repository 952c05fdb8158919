package graph_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/envctl/envctl/graph"
)

// randomDAG returns a graph of n nodes in which each node depends on up to k earlier
// nodes chosen by a PCG seeded with seed, so every run builds the same graph. Nodes are
// inserted dependencies-last, so Sort has real work to do.
func randomDAG(n, k int, seed uint64) *graph.Graph {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("node-%05d", i)
	}
	g := graph.New()
	for i := n - 1; i >= 0; i-- {
		g.Add(names[i])
	}
	for i := 1; i < n; i++ {
		for range k {
			g.Connect(names[i], names[rng.IntN(i)])
		}
	}
	return g
}

var benchSizes = []int{100, 1_000, 10_000}

func BenchmarkSort(b *testing.B) {
	for _, n := range benchSizes {
		g := randomDAG(n, 3, 1)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Sort(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLevels(b *testing.B) {
	for _, n := range benchSizes {
		g := randomDAG(n, 3, 1)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Levels(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCycleError(b *testing.B) {
	for _, n := range benchSizes {
		g := randomDAG(n, 3, 1)
		g.Connect("node-00000", fmt.Sprintf("node-%05d", n-1)) // closes cycles through the whole graph
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := g.Sort(); err == nil {
					b.Fatal("Sort() = nil error, want a cycle")
				}
			}
		})
	}
}

func BenchmarkWalk(b *testing.B) {
	noop := func(context.Context, string) error { return nil }
	for _, n := range benchSizes {
		g := randomDAG(n, 3, 1)
		for _, limit := range []int{0, 4} {
			b.Run(fmt.Sprintf("nodes=%d/limit=%d", n, limit), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: limit}, noop); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

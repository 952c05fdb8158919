package graph_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/envctl/envctl/graph"
	"github.com/google/go-cmp/cmp"
)

func TestSort(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"empty", nil, nil},
		{"single", []string{"a"}, []string{"a"}},
		{"already topological keeps order", []string{"db", "cache", "api -> db, cache", "web -> api"}, []string{"db", "cache", "api", "web"}},
		{"chain inserted backwards", []string{"web -> api", "api -> db"}, []string{"db", "api", "web"}},
		{
			// b and c are ready first; once b is placed, a (inserted before c) is ready and
			// must overtake c. A FIFO queue would give b c a.
			name:  "newly ready earlier node overtakes",
			lines: []string{"a -> b", "b", "c"},
			want:  []string{"b", "a", "c"},
		},
		{
			name:  "diamond",
			lines: []string{"top -> left, right", "left -> bottom", "right -> bottom"},
			want:  []string{"bottom", "left", "right", "top"},
		},
		{
			name:  "disconnected parts interleave by insertion order",
			lines: []string{"x2 -> x1", "y2 -> y1", "x1", "y1", "z"},
			want:  []string{"x1", "x2", "y1", "y2", "z"},
		},
		{
			name:  "duplicate edges count once",
			lines: []string{"b", "a -> b", "a -> b"},
			want:  []string{"b", "a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, tc.lines...)
			got, err := g.Sort()
			if err != nil {
				t.Fatalf("Sort() error = %v, want nil", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Sort() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSortCycles(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  [][]string
		msg   string
	}{
		{
			name:  "self loop",
			lines: []string{"a -> a"},
			want:  [][]string{{"a", "a"}},
			msg:   "dependency cycle: a -> a",
		},
		{
			name:  "two node cycle with an innocent dependent and dependency",
			lines: []string{"top -> a", "a -> b", "b -> a, leaf", "leaf"},
			want:  [][]string{{"a", "b", "a"}},
			msg:   "dependency cycle: a -> b -> a",
		},
		{
			name:  "two separate cycles both reported",
			lines: []string{"a -> b", "b -> a", "c", "d -> e", "e -> f", "f -> d"},
			want:  [][]string{{"a", "b", "a"}, {"d", "e", "f", "d"}},
			msg:   "dependency cycle: a -> b -> a\ndependency cycle: d -> e -> f -> d",
		},
		{
			name:  "nested cycles in one component reported once",
			lines: []string{"a -> b", "b -> c, d", "c -> a", "d -> b"},
			want:  [][]string{{"a", "b", "c", "a"}},
		},
		{
			name:  "shortest cycle through the start is chosen",
			lines: []string{"a -> b, x", "b -> c", "c -> d", "d -> a", "x -> a"},
			want:  [][]string{{"a", "x", "a"}},
		},
		{
			name:  "equally short cycles: first edge wins",
			lines: []string{"a -> q, p", "p -> a", "q -> a"},
			want:  [][]string{{"a", "q", "a"}},
		},
		{
			name:  "starts at earliest-inserted node of the component",
			lines: []string{"z -> y", "y -> x", "x -> w", "w -> y"},
			want:  [][]string{{"y", "x", "w", "y"}},
		},
		{
			name:  "self loop inside a component is reported too, after it",
			lines: []string{"a -> a, b", "b -> a, b"},
			want:  [][]string{{"a", "b", "a"}, {"a", "a"}, {"b", "b"}},
		},
		{
			name:  "cycles ordered by their start node",
			lines: []string{"m", "p -> q", "q -> p", "m -> m", "c -> c"},
			want:  [][]string{{"m", "m"}, {"p", "q", "p"}, {"c", "c"}},
		},
		{
			name:  "cycle downstream of a cycle",
			lines: []string{"a -> b", "b -> a, c", "c -> d", "d -> c"},
			want:  [][]string{{"a", "b", "a"}, {"c", "d", "c"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, tc.lines...)
			order, err := g.Sort()
			if order != nil {
				t.Errorf("Sort() order = %q, want nil on a cycle", order)
			}
			var ce *graph.CycleError
			if !errors.As(err, &ce) {
				t.Fatalf("Sort() error = %v (%T), want *graph.CycleError", err, err)
			}
			if diff := cmp.Diff(tc.want, ce.Cycles); diff != "" {
				t.Errorf("Cycles mismatch (-want +got):\n%s", diff)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.msg)
			}
			levels, lerr := g.Levels()
			if levels != nil {
				t.Errorf("Levels() = %q, want nil on a cycle", levels)
			}
			if diff := cmp.Diff(err, lerr, cmp.Comparer(func(a, b error) bool { return a.Error() == b.Error() })); diff != "" {
				t.Errorf("Levels() error differs from Sort()'s (-sort +levels):\n%s", diff)
			}
		})
	}
}

func TestLevels(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  [][]string
	}{
		{"empty", nil, nil},
		{"independent", []string{"b", "a", "c"}, [][]string{{"b", "a", "c"}}},
		{"diamond", []string{"top -> left, right", "left -> bottom", "right -> bottom"}, [][]string{{"bottom"}, {"left", "right"}, {"top"}}},
		{
			name:  "longest path decides",
			lines: []string{"a -> b, c", "b -> c", "c", "d -> c"},
			want:  [][]string{{"c"}, {"b", "d"}, {"a"}},
		},
		{
			name:  "disconnected",
			lines: []string{"x2 -> x1", "y3 -> y2", "y2 -> y1", "x1", "y1"},
			want:  [][]string{{"x1", "y1"}, {"x2", "y2"}, {"y3"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := build(t, tc.lines...).Levels()
			if err != nil {
				t.Fatalf("Levels() error = %v, want nil", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Levels() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLarge checks that the iterative algorithms handle 10,000-node chains and cycles; a
// recursive version would need 10,000 nested calls.
func TestLarge(t *testing.T) {
	const n = 10_000
	name := func(i int) string { return fmt.Sprintf("n%05d", i) }
	chain := graph.New()
	for i := range n - 1 {
		chain.Connect(name(i), name(i+1)) // n00000 depends on n00001 ... : deepest last
	}

	t.Run("chain sort", func(t *testing.T) {
		order, err := chain.Sort()
		if err != nil {
			t.Fatalf("Sort() error = %v", err)
		}
		for k, got := range order {
			if want := name(n - 1 - k); got != want {
				t.Fatalf("order[%d] = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("chain levels", func(t *testing.T) {
		levels, err := chain.Levels()
		if err != nil {
			t.Fatalf("Levels() error = %v", err)
		}
		if len(levels) != n {
			t.Fatalf("len(Levels()) = %d, want %d", len(levels), n)
		}
		if got, want := levels[n-1], []string{name(0)}; !cmp.Equal(got, want) {
			t.Errorf("last level = %q, want %q", got, want)
		}
	})
	t.Run("one big cycle", func(t *testing.T) {
		g := graph.New()
		for i := range n {
			g.Connect(name(i), name((i+1)%n))
		}
		_, err := g.Sort()
		var ce *graph.CycleError
		if !errors.As(err, &ce) {
			t.Fatalf("Sort() error = %v, want *CycleError", err)
		}
		if len(ce.Cycles) != 1 || len(ce.Cycles[0]) != n+1 {
			t.Fatalf("got %d cycles, first of length %d; want 1 of length %d", len(ce.Cycles), len(ce.Cycles[0]), n+1)
		}
		if got, want := ce.Cycles[0][n-1], name(n-1); got != want {
			t.Errorf("cycle[%d] = %q, want %q", n-1, got, want)
		}
	})
	t.Run("cycle at the bottom of a deep chain", func(t *testing.T) {
		g := graph.New()
		for i := range n - 1 {
			g.Connect(name(i), name(i+1))
		}
		g.Connect(name(n-1), name(n-2))
		_, err := g.Sort()
		var ce *graph.CycleError
		if !errors.As(err, &ce) {
			t.Fatalf("Sort() error = %v, want *CycleError", err)
		}
		want := [][]string{{name(n - 2), name(n - 1), name(n - 2)}}
		if diff := cmp.Diff(want, ce.Cycles); diff != "" {
			t.Errorf("Cycles mismatch (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(err.Error(), "dependency cycle: ") {
			t.Errorf("Error() = %q, want the dependency cycle prefix", err.Error())
		}
	})
}

package graph_test

import (
	"strings"
	"testing"

	"github.com/envctl/envctl/graph"
	"github.com/google/go-cmp/cmp"
)

// build makes a graph from lines in String's format: "name" or "name -> dep1, dep2". Each
// line adds its node, then connects it to each dependency in order, so a node first named as
// a dependency is inserted at that point.
func build(t testing.TB, lines ...string) *graph.Graph {
	t.Helper()
	g := graph.New()
	for _, l := range lines {
		name, deps, found := strings.Cut(l, " -> ")
		g.Add(name)
		if !found {
			continue
		}
		for _, d := range strings.Split(deps, ", ") {
			g.Connect(name, d)
		}
	}
	return g
}

func TestAddHasLen(t *testing.T) {
	g := graph.New()
	if got := g.Add("a"); !got {
		t.Errorf("Add(a) on empty graph = %v, want true", got)
	}
	if got := g.Add("b"); !got {
		t.Errorf("Add(b) = %v, want true", got)
	}
	if got := g.Add("a"); got {
		t.Errorf("second Add(a) = %v, want false", got)
	}
	if got, want := g.Len(), 2; got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	for _, tc := range []struct {
		name string
		want bool
	}{{"a", true}, {"b", true}, {"c", false}, {"", false}} {
		if got := g.Has(tc.name); got != tc.want {
			t.Errorf("Has(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestZeroValueGraph(t *testing.T) {
	var g graph.Graph
	g.Connect("a", "b")
	if got, want := g.String(), "a -> b\nb\n"; got != want {
		t.Errorf("zero Graph after Connect: String() = %q, want %q", got, want)
	}
}

func TestConnect(t *testing.T) {
	tests := []struct {
		name  string
		build func(g *graph.Graph)
		want  string
		nodes []string
	}{
		{
			name:  "adds missing nodes, from first",
			build: func(g *graph.Graph) { g.Connect("api", "db") },
			want:  "api -> db\ndb\n",
			nodes: []string{"api", "db"},
		},
		{
			name: "duplicate edges ignored",
			build: func(g *graph.Graph) {
				g.Connect("api", "db")
				g.Connect("api", "cache")
				g.Connect("api", "db")
			},
			want:  "api -> db, cache\ndb\ncache\n",
			nodes: []string{"api", "db", "cache"},
		},
		{
			name: "existing nodes keep their place",
			build: func(g *graph.Graph) {
				g.Add("db")
				g.Add("api")
				g.Connect("api", "db")
				g.Add("db")
			},
			want:  "db\napi -> db\n",
			nodes: []string{"db", "api"},
		},
		{
			name:  "self edge kept",
			build: func(g *graph.Graph) { g.Connect("a", "a") },
			want:  "a -> a\n",
			nodes: []string{"a"},
		},
		{
			name:  "empty graph",
			build: func(*graph.Graph) {},
			want:  "",
			nodes: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := graph.New()
			tc.build(g)
			if got := g.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if diff := cmp.Diff(tc.nodes, g.Nodes()); diff != "" {
				t.Errorf("Nodes() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodesIsACopy(t *testing.T) {
	g := build(t, "a", "b")
	g.Nodes()[0] = "x"
	if got, want := g.Nodes()[0], "a"; got != want {
		t.Errorf("after changing a Nodes() result, Nodes()[0] = %q, want %q", got, want)
	}
}

func TestDepsAndDependents(t *testing.T) {
	// Dependents come in node insertion order even though the edges into db were added
	// in another order.
	g := build(t,
		"web",
		"worker",
		"db",
		"cache",
		"api -> db, cache",
		"worker -> cache, db",
		"web -> api",
	)
	tests := []struct {
		node             string
		deps, dependents []string
	}{
		{node: "web", deps: []string{"api"}},
		{node: "worker", deps: []string{"cache", "db"}},
		{node: "db", dependents: []string{"worker", "api"}},
		{node: "cache", dependents: []string{"worker", "api"}},
		{node: "api", deps: []string{"db", "cache"}, dependents: []string{"web"}},
		{node: "missing"},
	}
	for _, tc := range tests {
		t.Run(tc.node, func(t *testing.T) {
			if diff := cmp.Diff(tc.deps, g.Deps(tc.node)); diff != "" {
				t.Errorf("Deps(%q) mismatch (-want +got):\n%s", tc.node, diff)
			}
			if diff := cmp.Diff(tc.dependents, g.Dependents(tc.node)); diff != "" {
				t.Errorf("Dependents(%q) mismatch (-want +got):\n%s", tc.node, diff)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"empty", nil, ""},
		{"single", []string{"db"}, "db\n"},
		{"deps in edge order", []string{"api -> db, cache"}, "api -> db, cache\ndb\ncache\n"},
		{"round trip", []string{"db", "cache", "api -> db, cache", "web -> api"}, "db\ncache\napi -> db, cache\nweb -> api\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, tc.lines...)
			got := g.String()
			if got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			// The text form is also a faithful description: rebuilding from it gives it back.
			again := build(t, strings.Split(strings.TrimSuffix(got, "\n"), "\n")...)
			if got != "" && again.String() != got {
				t.Errorf("rebuilt from String(): %q, want %q", again.String(), got)
			}
		})
	}
}

func TestReverse(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"empty", nil, ""},
		{"chain", []string{"c -> b", "b -> a", "a"}, "c\nb -> c\na -> b\n"},
		{
			name:  "diamond: dependents in insertion order",
			lines: []string{"bottom", "right -> bottom", "left -> bottom", "top -> left, right"},
			want:  "bottom -> right, left\nright -> top\nleft -> top\ntop\n",
		},
		{"self loop stays", []string{"a -> a, b"}, "a -> a\nb -> a\n"},
		{"isolated nodes kept", []string{"x", "y -> z"}, "x\ny\nz -> y\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, tc.lines...)
			before := g.String()
			r := g.Reverse()
			if got := r.String(); got != tc.want {
				t.Errorf("Reverse().String() = %q, want %q", got, tc.want)
			}
			if g.String() != before {
				t.Errorf("Reverse changed the original: %q, want %q", g.String(), before)
			}
			// Flipping twice gives the same edges back (order of deps may differ, so
			// compare as sets through Dependents of the reverse).
			for _, n := range g.Nodes() {
				if diff := cmp.Diff(g.Dependents(n), r.Deps(n)); diff != "" {
					t.Errorf("Reverse().Deps(%q) != Dependents(%q) (-orig +rev):\n%s", n, n, diff)
				}
			}
		})
	}
}

func TestSubgraph(t *testing.T) {
	lines := []string{
		"db",
		"cache",
		"queue",
		"api -> db, cache",
		"worker -> queue, db",
		"web -> api",
		"admin",
	}
	tests := []struct {
		name  string
		roots []string
		down  bool
		want  string
	}{
		{"deps of web", []string{"web"}, false, "db\ncache\napi -> db, cache\nweb -> api\n"},
		{"deps of two roots", []string{"worker", "api"}, false, "db\ncache\nqueue\napi -> db, cache\nworker -> queue, db\n"},
		{"dependents of db", []string{"db"}, true, "db\napi -> db\nworker -> db\nweb -> api\n"},
		{"dependents of a leaf", []string{"web"}, true, "web\n"},
		{"isolated root", []string{"admin"}, false, "admin\n"},
		{"unknown roots ignored", []string{"nope", "cache"}, true, "cache\napi -> cache\nweb -> api\n"},
		{"no roots", nil, false, ""},
		{"duplicate roots", []string{"api", "api"}, false, "db\ncache\napi -> db, cache\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, lines...)
			if got := g.Subgraph(tc.roots, tc.down).String(); got != tc.want {
				t.Errorf("Subgraph(%q, %v) =\n%s\nwant\n%s", tc.roots, tc.down, got, tc.want)
			}
		})
	}
}

func TestSubgraphOfCycle(t *testing.T) {
	g := build(t, "a -> b", "b -> c", "c -> a", "d -> a")
	if got, want := g.Subgraph([]string{"b"}, false).String(), "a -> b\nb -> c\nc -> a\n"; got != want {
		t.Errorf("Subgraph(b, up) = %q, want %q", got, want)
	}
	if got, want := g.Subgraph([]string{"b"}, true).String(), "a -> b\nb -> c\nc -> a\nd -> a\n"; got != want {
		t.Errorf("Subgraph(b, down) = %q, want %q", got, want)
	}
}

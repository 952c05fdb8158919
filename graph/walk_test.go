package graph_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/envctl/envctl/graph"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// reps is how often walks whose interleaving depends on timing are repeated.
const reps = 50

// barrierTimeout only turns a hang into a failure: a correct Walk meets every barrier at
// once, so the time is never waited out.
const barrierTimeout = 10 * time.Second

// barrier lets n goroutines wait for each other; it resets after each round. Its wait fails
// after barrierTimeout, which proves the goroutines did NOT all run at the same time.
type barrier struct {
	mu    sync.Mutex // guards count and ch between the meeting goroutines
	n     int
	count int
	ch    chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, ch: make(chan struct{})} }

func (b *barrier) wait() error {
	b.mu.Lock()
	ch := b.ch
	b.count++
	if b.count == b.n {
		close(ch)
		b.ch, b.count = make(chan struct{}), 0
	}
	b.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-time.After(barrierTimeout):
		return fmt.Errorf("barrier of %d not met within %v", b.n, barrierTimeout)
	}
}

// recorder logs the start and end of each fn call in one global sequence.
type recorder struct {
	mu     sync.Mutex // guards everything below across concurrent fn calls
	seq    int
	starts map[string]int
	ends   map[string]int
	calls  map[string]int
	order  []string // node names in start order
	skips  map[string]string
}

func newRecorder() *recorder {
	return &recorder{starts: map[string]int{}, ends: map[string]int{}, calls: map[string]int{}, skips: map[string]string{}}
}

func (r *recorder) start(node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.starts[node] = r.seq
	r.calls[node]++
	r.order = append(r.order, node)
}

func (r *recorder) end(node string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.ends[node] = r.seq
}

func (r *recorder) onSkip(node, cause string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, dup := r.skips[node]; dup {
		r.skips[node] = old + "+" + cause // shows up as a mismatch: each node is skipped once
		return
	}
	r.skips[node] = cause
}

// checkOrder fails unless every node that ran started after all its dependencies ended and
// ran exactly once.
func (r *recorder) checkOrder(t *testing.T, g *graph.Graph) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range g.Nodes() {
		if r.calls[n] == 0 {
			continue
		}
		if r.calls[n] != 1 {
			t.Errorf("fn(%q) called %d times, want 1", n, r.calls[n])
		}
		for _, d := range g.Deps(n) {
			end, ok := r.ends[d]
			if !ok || end > r.starts[n] {
				t.Errorf("%q started at %d before its dependency %q ended (end %d, ended %v)", n, r.starts[n], d, end, ok)
			}
		}
	}
}

// wideGraph has diamonds, a chain, fan-in and fan-out and an isolated node.
func wideGraph(t *testing.T) *graph.Graph {
	return build(t,
		"db",
		"cache",
		"queue",
		"migrate -> db",
		"api -> migrate, cache",
		"worker -> queue, migrate",
		"web -> api",
		"admin -> api, worker",
		"e2e -> web, admin, worker",
		"docs",
	)
}

func TestWalkOrder(t *testing.T) {
	for _, limit := range []int{0, 1, 2, 3} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			g := wideGraph(t)
			for range reps {
				r := newRecorder()
				err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: limit}, func(_ context.Context, n string) error {
					r.start(n)
					runtime.Gosched() // let other calls interleave
					r.end(n)
					return nil
				})
				if err != nil {
					t.Fatalf("Walk() = %v, want nil", err)
				}
				r.checkOrder(t, g)
				if got, want := len(r.order), g.Len(); got != want {
					t.Fatalf("fn called for %d nodes, want %d", got, want)
				}
			}
		})
	}
}

// TestWalkLimitOneFollowsSort checks the tie-break: with one slot, the earliest-inserted
// ready node always goes next, which is exactly Sort's order.
func TestWalkLimitOneFollowsSort(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
	}{
		{"wide", linesOf(wideGraph(t))},
		{"newly ready earlier node overtakes", []string{"a -> b", "b", "c"}},
		{"reverse insertion", []string{"e -> d", "d -> c", "c -> b", "b -> a", "z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, tc.lines...)
			want, err := g.Sort()
			if err != nil {
				t.Fatal(err)
			}
			r := newRecorder()
			if err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: 1}, func(_ context.Context, n string) error {
				r.start(n)
				r.end(n)
				return nil
			}); err != nil {
				t.Fatalf("Walk() = %v", err)
			}
			if diff := cmp.Diff(want, r.order); diff != "" {
				t.Errorf("Walk order with Limit 1 differs from Sort (-sort +walk):\n%s", diff)
			}
		})
	}
}

func TestWalkLimitNeverExceeded(t *testing.T) {
	for _, limit := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			// 4*limit independent nodes: with the barrier, each wave of exactly `limit`
			// calls must be in fn together, which proves the limit is reached; the
			// counter proves it is never passed.
			g := graph.New()
			for i := range 4 * limit {
				g.Add(fmt.Sprintf("n%d", i))
			}
			for range reps {
				var cur, peak atomic.Int32
				b := newBarrier(limit)
				err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: limit}, func(_ context.Context, n string) error {
					c := cur.Add(1)
					for {
						p := peak.Load()
						if c <= p || peak.CompareAndSwap(p, c) {
							break
						}
					}
					err := b.wait()
					cur.Add(-1)
					return err
				})
				if err != nil {
					t.Fatalf("Walk() = %v", err)
				}
				if got := int(peak.Load()); got != limit {
					t.Fatalf("max concurrent fn calls = %d, want %d", got, limit)
				}
			}
		})
	}
}

func TestWalkLimitOnDAG(t *testing.T) {
	g := randomDAG(200, 3, 7)
	for _, limit := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			for range reps {
				var cur, peak atomic.Int32
				r := newRecorder()
				err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: limit}, func(_ context.Context, n string) error {
					r.start(n)
					c := cur.Add(1)
					for {
						p := peak.Load()
						if c <= p || peak.CompareAndSwap(p, c) {
							break
						}
					}
					runtime.Gosched()
					cur.Add(-1)
					r.end(n)
					return nil
				})
				if err != nil {
					t.Fatalf("Walk() = %v", err)
				}
				if got := int(peak.Load()); got > limit {
					t.Fatalf("max concurrent fn calls = %d, want <= %d", got, limit)
				}
				r.checkOrder(t, g)
			}
		})
	}
}

func TestWalkRunsIndependentNodesInParallel(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string
		limit    int
		together []string // these must all be inside fn at the same time
	}{
		{"eight sources, unbounded", []string{"a", "b", "c", "d", "e", "f", "g", "h"}, 0, []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"limit equal to width", []string{"a", "b", "c"}, 3, []string{"a", "b", "c"}},
		{"a dependent runs alongside an unrelated slow node", []string{"slow", "a", "b -> a"}, 2, []string{"slow", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, tc.lines...)
			for range reps {
				b := newBarrier(len(tc.together))
				must := map[string]bool{}
				for _, n := range tc.together {
					must[n] = true
				}
				err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: tc.limit}, func(_ context.Context, n string) error {
					if must[n] {
						return b.wait()
					}
					return nil
				})
				if err != nil {
					t.Fatalf("Walk() = %v, want nil: %v did not run together", err, tc.together)
				}
			}
		})
	}
}

var errBoom = errors.New("boom")

func TestWalkFailureSkipsDependents(t *testing.T) {
	lines := []string{
		"db",
		"cache",
		"api -> db, cache",
		"worker -> db",
		"web -> api",
		"audit -> web, cache",
		"docs",
	}
	tests := []struct {
		name      string
		fail      []string
		limit     int
		wantErrs  []string          // root-cause nodes in the returned error, in order
		wantSkips map[string]string // node -> cause
		wantRan   []string          // sorted by insertion
	}{
		{
			name:      "dependency at the bottom fails",
			fail:      []string{"db"},
			wantErrs:  []string{"db"},
			wantSkips: map[string]string{"api": "db", "worker": "db", "web": "db", "audit": "db"},
			wantRan:   []string{"db", "cache", "docs"},
		},
		{
			name:      "middle node fails",
			fail:      []string{"api"},
			wantErrs:  []string{"api"},
			wantSkips: map[string]string{"web": "api", "audit": "api"},
			wantRan:   []string{"db", "cache", "api", "worker", "docs"},
		},
		{
			name:      "leaf fails, nothing skipped",
			fail:      []string{"audit"},
			wantErrs:  []string{"audit"},
			wantSkips: map[string]string{},
			wantRan:   []string{"db", "cache", "api", "worker", "web", "audit", "docs"},
		},
		{
			name:      "two root causes, both reported, none of the skipped",
			fail:      []string{"db", "cache"},
			limit:     1, // db runs first, so it is the cause of everything it reaches
			wantErrs:  []string{"db", "cache"},
			wantSkips: map[string]string{"api": "db", "worker": "db", "web": "db", "audit": "db"},
			wantRan:   []string{"db", "cache", "docs"},
		},
		{
			name:      "independent failures",
			fail:      []string{"worker", "web"},
			wantErrs:  []string{"worker", "web"},
			wantSkips: map[string]string{"audit": "web"},
			wantRan:   []string{"db", "cache", "api", "worker", "web", "docs"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, lines...)
			fail := map[string]bool{}
			for _, n := range tc.fail {
				fail[n] = true
			}
			for range reps {
				r := newRecorder()
				err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: tc.limit, OnSkip: r.onSkip}, func(_ context.Context, n string) error {
					r.start(n)
					defer r.end(n)
					if fail[n] {
						return fmt.Errorf("starting %s: %w", n, errBoom)
					}
					return nil
				})
				if !errors.Is(err, errBoom) {
					t.Fatalf("Walk() = %v, want an error wrapping errBoom", err)
				}
				var gotErrs []string
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var ne *graph.NodeError
					if !errors.As(e, &ne) {
						t.Fatalf("joined error %v (%T) is not a *NodeError", e, e)
					}
					if want := ne.Node + ": starting " + ne.Node + ": boom"; e.Error() != want {
						t.Errorf("NodeError.Error() = %q, want %q", e.Error(), want)
					}
					gotErrs = append(gotErrs, ne.Node)
				}
				if diff := cmp.Diff(tc.wantErrs, gotErrs); diff != "" {
					t.Fatalf("root-cause errors mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.wantSkips, r.skips); diff != "" {
					t.Fatalf("OnSkip mismatch (-want +got):\n%s", diff)
				}
				var ran []string
				for _, n := range g.Nodes() {
					if r.calls[n] > 0 {
						ran = append(ran, n)
					}
				}
				if diff := cmp.Diff(tc.wantRan, ran); diff != "" {
					t.Fatalf("ran mismatch (-want +got):\n%s", diff)
				}
				r.checkOrder(t, g)
			}
		})
	}
}

func TestWalkManyParentsRunOnce(t *testing.T) {
	// x depends on 100 parents which all depend on root: x must run once, after all of them.
	g := graph.New()
	for i := range 100 {
		p := fmt.Sprintf("p%02d", i)
		g.Connect("x", p)
		g.Connect(p, "root")
	}
	for _, limit := range []int{0, 7} {
		for range reps {
			r := newRecorder()
			err := graph.Walk(context.Background(), g, graph.WalkOptions{Limit: limit}, func(_ context.Context, n string) error {
				r.start(n)
				runtime.Gosched()
				r.end(n)
				return nil
			})
			if err != nil {
				t.Fatalf("Walk() = %v", err)
			}
			if got := r.calls["x"]; got != 1 {
				t.Fatalf("limit %d: fn(x) called %d times, want 1", limit, got)
			}
			if got, want := len(r.order), g.Len(); got != want {
				t.Fatalf("limit %d: %d calls, want %d", limit, got, want)
			}
			r.checkOrder(t, g)
		}
	}
}

func TestWalkCancel(t *testing.T) {
	t.Run("mid-walk", func(t *testing.T) {
		// a cancels; b is running and waits for the cancellation; nothing else may start.
		g := build(t, "a", "b", "c -> a", "d -> c", "e -> b")
		for range reps {
			ctx, cancel := context.WithCancel(context.Background())
			r := newRecorder()
			b := newBarrier(2)
			err := graph.Walk(ctx, g, graph.WalkOptions{OnSkip: r.onSkip}, func(ctx context.Context, n string) error {
				r.start(n)
				defer r.end(n)
				switch n {
				case "a":
					if err := b.wait(); err != nil { // b is surely running
						return err
					}
					cancel()
					return nil
				case "b":
					if err := b.wait(); err != nil {
						return err
					}
					<-ctx.Done() // a running fn sees the cancelled ctx
					return ctx.Err()
				}
				return nil
			})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Walk() = %v, want context.Canceled", err)
			}
			var ne *graph.NodeError
			if !errors.As(err, &ne) || ne.Node != "b" {
				t.Fatalf("Walk() = %v, want b's NodeError joined", err)
			}
			if got, want := err.Error(), "context canceled\nb: context canceled"; got != want {
				t.Errorf("Walk() error text = %q, want %q", got, want)
			}
			if diff := cmp.Diff([]string{"a", "b"}, r.order, cmpSortStrings); diff != "" {
				t.Fatalf("started mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"c": "", "d": "", "e": ""}, r.skips); diff != "" {
				t.Fatalf("OnSkip mismatch (-want +got):\n%s", diff)
			}
		}
	})
	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := newRecorder()
		err := graph.Walk(ctx, wideGraph(t), graph.WalkOptions{OnSkip: r.onSkip}, func(_ context.Context, n string) error {
			r.start(n)
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Walk() = %v, want context.Canceled", err)
		}
		if len(r.order) != 0 {
			t.Errorf("fn called for %q, want no calls", r.order)
		}
		if got, want := len(r.skips), wideGraph(t).Len(); got != want {
			t.Errorf("OnSkip told of %d nodes, want %d", got, want)
		}
	})
	t.Run("deadline while limit binds", func(t *testing.T) {
		// One slot; the first node blocks until the deadline passes. The others are
		// ready but never start.
		g := build(t, "a", "b", "c")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		r := newRecorder()
		err := graph.Walk(ctx, g, graph.WalkOptions{Limit: 1, OnSkip: r.onSkip}, func(ctx context.Context, n string) error {
			r.start(n)
			<-ctx.Done()
			return nil // a fn that ignores the error is not a root cause
		})
		if !errors.Is(err, context.DeadlineExceeded) || err.Error() != context.DeadlineExceeded.Error() {
			t.Fatalf("Walk() = %v, want only context.DeadlineExceeded", err)
		}
		if diff := cmp.Diff([]string{"a"}, r.order); diff != "" {
			t.Errorf("started mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"b": "", "c": ""}, r.skips); diff != "" {
			t.Errorf("OnSkip mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("cancelled after the last node started", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := graph.Walk(ctx, build(t, "b -> a"), graph.WalkOptions{}, func(_ context.Context, n string) error {
			if n == "b" {
				cancel() // nothing is left to keep from running
			}
			return nil
		})
		if err != nil {
			t.Errorf("Walk() = %v, want nil: every node ran and succeeded", err)
		}
	})
}

var cmpSortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// linesOf returns g's String form as lines for build.
func linesOf(g *graph.Graph) []string {
	return strings.Split(strings.TrimSuffix(g.String(), "\n"), "\n")
}

func TestWalkCycle(t *testing.T) {
	called := false
	err := graph.Walk(context.Background(), build(t, "ok", "a -> b", "b -> a"), graph.WalkOptions{}, func(context.Context, string) error {
		called = true
		return nil
	})
	var ce *graph.CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("Walk() = %v, want *CycleError", err)
	}
	if diff := cmp.Diff([][]string{{"a", "b", "a"}}, ce.Cycles); diff != "" {
		t.Errorf("Cycles mismatch (-want +got):\n%s", diff)
	}
	if called {
		t.Error("fn was called on a cyclic graph")
	}
}

func TestWalkDegenerate(t *testing.T) {
	noop := func(context.Context, string) error { return nil }
	if err := graph.Walk(context.Background(), nil, graph.WalkOptions{}, noop); err != nil {
		t.Errorf("Walk(nil graph) = %v, want nil", err)
	}
	if err := graph.Walk(context.Background(), graph.New(), graph.WalkOptions{}, noop); err != nil {
		t.Errorf("Walk(empty graph) = %v, want nil", err)
	}
	if err := graph.Walk(context.Background(), build(t, "a"), graph.WalkOptions{}, nil); err == nil {
		t.Error("Walk(nil fn) = nil, want an error")
	}
	if err := graph.Walk(context.Background(), build(t, "a"), graph.WalkOptions{Limit: -3}, noop); err != nil {
		t.Errorf("Walk(Limit -3) = %v, want nil (unbounded)", err)
	}
}

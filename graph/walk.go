package graph

import (
	"context"
	"errors"
)

// WalkOptions tunes Walk.
type WalkOptions struct {
	// Limit is the most fn calls that run at once; Limit <= 0 means no limit.
	Limit int
	// OnSkip, if set, is called once for every node that Walk does not run: with the
	// root-cause node whose fn failed, or with cause "" when the node was not started because
	// ctx was cancelled. Walk calls it from its own goroutine, never concurrently with
	// itself, though it may run while fn calls for other nodes are in progress.
	OnSkip func(node, cause string)
}

// NodeError is the error of one node's fn.
type NodeError struct {
	Node string
	Err  error
}

// Error returns "<node>: <err>".
func (e *NodeError) Error() string { return e.Node + ": " + e.Err.Error() }

// Unwrap returns the fn's error.
func (e *NodeError) Unwrap() error { return e.Err }

// errNilFn is returned instead of panicking when Walk is given no function.
var errNilFn = errors.New("graph: Walk called with a nil fn")

// The life of a node in a walk. A node moves only forward:
//
//	waiting --all deps ok--> ready --started--> running --nil--> done
//	   |                       |                    \----err--> failed
//	   \--dep failed/skipped or ctx cancelled-------+---------> skipped
type nodeState uint8

const (
	stateWaiting nodeState = iota
	stateReady
	stateRunning
	stateDone
	stateFailed
	stateSkipped
)

type result struct {
	node int
	err  error
}

// Walk calls fn for every node once all its dependencies' fn returned nil. At most opt.Limit
// calls run at once (Limit <= 0 means unbounded). A node whose dependency failed or was skipped
// is not run ("skipped"); opt.OnSkip, if set, is told the node and the root-cause node that
// failed. When several nodes are ready and the limit binds, the earliest-inserted runs first.
// Walk returns nil, or an error joining only ROOT-CAUSE errors (errors.Join of *NodeError), never
// the skipped ones. When ctx is cancelled, no new fn starts; nodes not started are skipped;
// running fns see the cancelled ctx; Walk waits for running fns and returns (ctx.Err() joined
// with any fn errors). Walk on a cyclic graph returns the *CycleError without calling fn.
//
// The joined errors come in node insertion order, after ctx.Err() if any; ctx.Err() is
// included only when the cancellation kept at least one node from running. A failure does
// not stop independent branches: they run to completion. fn is called with ctx itself.
//
// Walk is event-driven: the calling goroutine is the only one that decides anything. It
// starts one goroutine per fn call, only when that call may start, and sleeps on a channel
// of results and ctx.Done() until something happens. No goroutine exists for a node that is
// waiting. Cost beyond fn: O((V+E) + V log V) for the ready heap.
func Walk(ctx context.Context, g *Graph, opt WalkOptions, fn func(ctx context.Context, node string) error) error {
	if fn == nil {
		return errNilFn
	}
	if g == nil || len(g.names) == 0 {
		return nil
	}
	if _, ok := g.topo(); !ok {
		return g.cycleError()
	}
	w := &walker{
		g:       g,
		opt:     opt,
		state:   make([]nodeState, len(g.names)),
		pending: make([]int, len(g.names)),
		errs:    make([]error, len(g.names)),
	}
	return w.run(ctx, fn)
}

// walker holds the state of one Walk. Only the goroutine running Walk touches it, so it
// needs no lock: fn goroutines report back over the results channel instead.
type walker struct {
	g       *Graph
	opt     WalkOptions
	state   []nodeState
	pending []int   // dependencies of each node that have not finished successfully
	errs    []error // errs[i] is node i's *NodeError if its fn failed
	ready   minHeap // nodes whose dependencies all succeeded, earliest-inserted on top
	running int
}

func (w *walker) run(ctx context.Context, fn func(ctx context.Context, node string) error) error {
	g := w.g
	for i := range g.names {
		w.pending[i] = len(g.deps[i])
		if w.pending[i] == 0 {
			w.state[i] = stateReady
			w.ready = append(w.ready, i) // ascending, so already a heap
		}
	}
	// Buffered for every node, so that a finishing fn never blocks on the coordinator and
	// its goroutine always exits promptly.
	results := make(chan result, len(g.names))
	done := ctx.Done() // nil for a context that is never cancelled; the select then ignores it
	cancelled := false
	var cancelErr error // ctx.Err(), once the cancellation has kept a node from running

	for {
		if !cancelled && ctx.Err() != nil {
			cancelled = true
			// Stop watching ctx: its Done channel stays closed and would spin the select.
			done = nil
			if w.skipUnstarted() {
				cancelErr = ctx.Err()
			}
		}
		for !cancelled && len(w.ready) > 0 && (w.opt.Limit <= 0 || w.running < w.opt.Limit) {
			i := w.ready.pop()
			w.state[i] = stateRunning
			w.running++
			go func() { results <- result{node: i, err: fn(ctx, g.names[i])} }()
		}
		if w.running == 0 {
			// Nothing runs and nothing is ready, so in an acyclic graph every node is
			// finished or skipped: a waiting node would have a waiting dependency, down to
			// one whose dependencies are all done, which would be ready.
			break
		}
		select {
		case r := <-results:
			w.finish(r)
		case <-done:
			// Handled at the top of the loop.
		}
	}

	all := make([]error, 0, 1+len(w.errs))
	all = append(all, cancelErr)
	all = append(all, w.errs...)
	return errors.Join(all...) // nil when every element is nil
}

// finish records the outcome of one fn call and releases or skips its dependents.
func (w *walker) finish(r result) {
	w.running--
	i := r.node
	if r.err != nil {
		w.state[i] = stateFailed
		w.errs[i] = &NodeError{Node: w.g.names[i], Err: r.err}
		w.skipDependents(i)
		return
	}
	w.state[i] = stateDone
	for _, j := range w.g.dependents[i] {
		if w.state[j] != stateWaiting {
			// Already skipped, because of another failed dependency or a cancellation.
			continue
		}
		w.pending[j]--
		if w.pending[j] == 0 {
			w.state[j] = stateReady
			w.ready.push(j)
		}
	}
}

// skipDependents marks everything that depends on the failed node root, transitively, as
// skipped, and tells OnSkip with root as the cause. Nodes already skipped are left alone:
// their own dependents were handled when they were skipped, and each node is reported once.
// Dependents of a failed node can only be waiting: none of them had all deps succeed.
func (w *walker) skipDependents(root int) {
	cause := w.g.names[root]
	queue := []int{root}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:] // breadth-first, so OnSkip hears nearer nodes first
		for _, j := range w.g.dependents[i] {
			if w.state[j] != stateWaiting {
				continue
			}
			w.state[j] = stateSkipped
			if w.opt.OnSkip != nil {
				w.opt.OnSkip(w.g.names[j], cause)
			}
			queue = append(queue, j)
		}
	}
}

// skipUnstarted skips every node that has not started, in insertion order, with cause "".
// It reports whether there was any.
func (w *walker) skipUnstarted() bool {
	skipped := false
	for j, s := range w.state {
		if s != stateWaiting && s != stateReady {
			continue
		}
		skipped = true
		w.state[j] = stateSkipped
		if w.opt.OnSkip != nil {
			w.opt.OnSkip(w.g.names[j], "")
		}
	}
	w.ready = w.ready[:0]
	return skipped
}

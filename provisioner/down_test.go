package provisioner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lateBackend is an engine still finishing a killed up's requests: its environment's network
// appears some time after Down began, as an orphaned NetworkCreate lands.
type lateBackend struct {
	mu      sync.Mutex
	network bool
}

func (b *lateBackend) Name() string                                        { return "late" }
func (b *lateBackend) Observe(context.Context, string) ([]Instance, error) { return nil, nil }
func (b *lateBackend) Start(context.Context, Spec) (Instance, error)       { return Instance{}, nil }
func (b *lateBackend) Stop(context.Context, Instance, time.Duration) error { return nil }
func (b *lateBackend) Remove(context.Context, Instance) error              { return nil }
func (b *lateBackend) Close() error                                        { return nil }
func (b *lateBackend) Environments(context.Context) ([]EnvInfo, error)     { return nil, nil }
func (b *lateBackend) Teardown(context.Context, string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.network = false
	return nil
}

// A down after a killed up keeps removing the environment's own resources while the engine
// may still create them, not only once at the end (the fault suite saw a network appear 2 s
// after such a down on a loaded engine).
func TestDownSettleRemovesALateNetwork(t *testing.T) {
	b := &lateBackend{}
	landed := make(chan struct{})
	time.AfterFunc(2*time.Second, func() {
		b.mu.Lock()
		b.network = true
		b.mu.Unlock()
		close(landed)
	})
	if _, err := Down(context.Background(), b, "e", Options{Settle: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	<-landed
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.network {
		t.Fatal("the network created 2 s into the down was left behind")
	}
}

// lostBackend holds instances of which some are on a host that does not answer: Remove fails
// for them with ErrHostUnreachable.
type lostBackend struct {
	mu       sync.Mutex
	insts    []Instance
	torndown bool
}

func (b *lostBackend) Name() string { return "lost" }
func (b *lostBackend) Observe(context.Context, string) ([]Instance, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Instance(nil), b.insts...), nil
}
func (b *lostBackend) Start(context.Context, Spec) (Instance, error)       { return Instance{}, nil }
func (b *lostBackend) Stop(context.Context, Instance, time.Duration) error { return nil }
func (b *lostBackend) Remove(_ context.Context, inst Instance) error {
	if inst.State == StateUnreachable {
		return fmt.Errorf("task %s: %w", inst.ID, ErrHostUnreachable)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, x := range b.insts {
		if x.ID == inst.ID {
			b.insts = append(b.insts[:i], b.insts[i+1:]...)
			break
		}
	}
	return nil
}
func (b *lostBackend) Close() error                                    { return nil }
func (b *lostBackend) Environments(context.Context) ([]EnvInfo, error) { return nil, nil }
func (b *lostBackend) Teardown(context.Context, string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.torndown = true
	return nil
}

// Down with an instance on a host that does not answer removes the rest and the environment's
// own resources, and its error names what is left.
func TestDownLeavesUnreachable(t *testing.T) {
	b := &lostBackend{insts: []Instance{
		inst("store", "h", StateRunning, 0),
		inst("api", "h", StateUnreachable, 0, "store"),
		inst("web", "h", StateRunning, 0, "api"),
	}}
	n, err := Down(context.Background(), b, "e", Options{})
	var left *LeftError
	if !errors.As(err, &left) || !errors.Is(err, ErrHostUnreachable) || len(left.Errs) != 1 ||
		!strings.Contains(err.Error(), "api (id-api): task id-api: its host does not answer") {
		t.Fatalf("Down: %v; want a LeftError naming api", err)
	}
	if n != 2 || len(b.insts) != 1 || !b.torndown {
		t.Errorf("Down removed %d, left %v, torn down %v; want 2 removed, api left, the environment torn down", n, b.insts, b.torndown)
	}
}

// bulkBackend records how Down removes its instances.
type bulkBackend struct {
	lateBackend
	insts []Instance
	calls [][]Instance // RemoveAll's
	one   int          // Remove's
}

func (b *bulkBackend) Observe(context.Context, string) ([]Instance, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.insts, nil
}
func (b *bulkBackend) Remove(context.Context, Instance) error { b.one++; return nil }
func (b *bulkBackend) RemoveAll(_ context.Context, insts []Instance, _ time.Duration, removed func(Instance, error)) {
	b.mu.Lock()
	b.calls = append(b.calls, insts)
	b.insts = nil
	b.mu.Unlock()
	for _, inst := range insts {
		removed(inst, nil)
	}
}

// TestDownBulk: on a BulkRemover, Down removes every instance in one call, whatever depends on
// what (Mesos kills all its tasks at once), and still says removing and removed per service.
func TestDownBulk(t *testing.T) {
	b := &bulkBackend{insts: []Instance{
		{ID: "1", Service: "db", Labels: map[string]string{}},
		{ID: "2", Service: "api", Labels: map[string]string{LabelDeps: "db"}},
		{ID: "3", Service: "web", Labels: map[string]string{LabelDeps: "api"}},
		{ID: "4", Service: "web", Labels: map[string]string{LabelDeps: "api"}},
	}}
	var mu sync.Mutex
	phases := map[string][]Phase{}
	n, err := Down(context.Background(), b, "e", Options{Parallel: 2, Events: func(ev Event) {
		mu.Lock()
		phases[ev.Service] = append(phases[ev.Service], ev.Phase)
		mu.Unlock()
	}})
	if err != nil || n != 4 {
		t.Fatalf("Down = %d, %v; want 4 removed", n, err)
	}
	if len(b.calls) != 1 || len(b.calls[0]) != 4 || b.one != 0 {
		t.Errorf("RemoveAll calls %d (first of %d), Remove calls %d; want one RemoveAll of all 4", len(b.calls), len(b.calls[0]), b.one)
	}
	for _, svc := range []string{"db", "api", "web"} {
		if p := phases[svc]; len(p) != 2 || p[0] != PhaseRemoving || p[1] != PhaseRemoved {
			t.Errorf("%s: events %v, want removing then removed", svc, p)
		}
	}
}

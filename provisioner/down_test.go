package provisioner

import (
	"context"
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

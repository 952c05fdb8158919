package provisioner

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowBackend is a Backend whose Inspect answers "running" a few times and then hangs until
// its context ends, as a loaded engine does when the deadline falls inside a call.
type slowBackend struct {
	mu    sync.Mutex
	calls int
	fast  int // how many Inspect calls answer at once
}

func (*slowBackend) Name() string                                        { return "slow" }
func (*slowBackend) Observe(context.Context, string) ([]Instance, error) { return nil, nil }
func (*slowBackend) Start(context.Context, Spec) (Instance, error)       { return Instance{}, nil }
func (*slowBackend) Stop(context.Context, Instance, time.Duration) error { return nil }
func (*slowBackend) Remove(context.Context, Instance) error              { return nil }
func (*slowBackend) Close() error                                        { return nil }

func (b *slowBackend) Inspect(ctx context.Context, inst Instance) (Instance, error) {
	b.mu.Lock()
	b.calls++
	n := b.calls
	b.mu.Unlock()
	if n <= b.fast {
		inst.State = StateRunning
		return inst, nil
	}
	<-ctx.Done()
	return Instance{}, errors.New("inspect: " + ctx.Err().Error())
}

// TestProbeCutOffIsNotAnObservation: an attempt that the deadline cuts off is not reported, so
// what the user reads as the last attempt ("still running") is what the service really did.
func TestProbeCutOffIsNotAnObservation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		outer bool // the whole run's deadline (--timeout) rather than the ready timeout
	}{{"ready-timeout", false}, {"run-timeout", true}} {
		t.Run(tc.name, func(t *testing.T) {
			b := &slowBackend{fast: 3}
			var got []ProbeResult
			ctx := context.Background()
			spec := ReadySpec{Timeout: 300 * time.Millisecond}
			if tc.outer {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
				spec.Timeout = time.Hour
			}
			err := WaitReady(ctx, b, Instance{Service: "migrate"}, spec, true, func(r ProbeResult) { got = append(got, r) })
			if err == nil {
				t.Fatal("WaitReady succeeded; want a timeout")
			}
			if tc.outer && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want the run's deadline", err)
			}
			var se *ServiceError
			if !tc.outer && (!errors.As(err, &se) || !errors.Is(err, ErrNotReady)) {
				t.Errorf("error %v, want a not-ready ServiceError", err)
			}
			if len(got) != 3 {
				t.Fatalf("reported %d attempts %+v, want the 3 that answered", len(got), got)
			}
			for _, r := range got {
				if r.Detail != "still running" || strings.Contains(r.Detail, "deadline") {
					t.Errorf("reported %+v, want only \"still running\"", r)
				}
			}
		})
	}
}

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

// hangingExecer is a Backend whose exec check hangs until its context ends for the first
// `hang` attempts, then exits 0.
type hangingExecer struct {
	slowBackend
	mu    sync.Mutex
	execs int
	hang  int
}

func (b *hangingExecer) Exec(ctx context.Context, _ Instance, _ []string) (int, []byte, error) {
	b.mu.Lock()
	b.execs++
	n := b.execs
	b.mu.Unlock()
	if n <= b.hang {
		<-ctx.Done()
		return 0, nil, errors.New("exec: " + ctx.Err().Error())
	}
	return 0, nil, nil
}

// TestExecCutOffSaysSo: an exec attempt cut off by its attempt timeout says so, with the
// timeout and what to change, in the attempt's result and in the failure; an engine error is
// not called a cut-off.
func TestExecCutOffSaysSo(t *testing.T) {
	spec := ReadySpec{Kind: ProbeExec, Exec: []string{"check"}, AttemptTimeout: 30 * time.Millisecond, Interval: 10 * time.Millisecond}

	b := &hangingExecer{hang: 2}
	var got []ProbeResult
	spec.Timeout = time.Minute
	if err := WaitReady(context.Background(), b, Instance{Service: "mq"}, spec, false, func(r ProbeResult) { got = append(got, r) }); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	want := []string{"cut off after 30ms: raise attempt_timeout", "cut off after 30ms: raise attempt_timeout", "exit 0"}
	if len(got) != len(want) {
		t.Fatalf("results %+v, want %q", got, want)
	}
	for i, r := range got {
		if r.Detail != want[i] {
			t.Errorf("attempt %d: %q, want %q", i+1, r.Detail, want[i])
		}
	}

	b = &hangingExecer{hang: 1 << 30}
	spec.Timeout = 200 * time.Millisecond
	err := WaitReady(context.Background(), b, Instance{Service: "mq"}, spec, false, nil)
	var se *ServiceError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "fail: cut off after 30ms: raise attempt_timeout") {
		t.Errorf("error %v, want a not-ready ServiceError whose probes say they were cut off", err)
	}
}

// TestPerAttempt: an exec check's attempts get Compose's 30 s unless attempt_timeout or a
// shorter ready timeout says otherwise; every other probe keeps 2 s.
func TestPerAttempt(t *testing.T) {
	for _, tc := range []struct {
		spec ReadySpec
		want time.Duration
	}{
		{ReadySpec{Kind: ProbeExec}, 30 * time.Second},
		{ReadySpec{Kind: ProbeExec, Timeout: 2 * time.Minute}, 30 * time.Second},
		{ReadySpec{Kind: ProbeExec, Timeout: 10 * time.Second}, 10 * time.Second},
		{ReadySpec{Kind: ProbeExec, AttemptTimeout: 5 * time.Second}, 5 * time.Second},
		{ReadySpec{Kind: ProbeHTTP}, 2 * time.Second},
		{ReadySpec{Kind: ProbeTCP, Timeout: 2 * time.Minute}, 2 * time.Second},
		{ReadySpec{Kind: ProbePostgres}, 2 * time.Second},
		{ReadySpec{}, 2 * time.Second},
		{ReadySpec{Kind: ProbeTCP, AttemptTimeout: 7 * time.Second}, 7 * time.Second},
	} {
		if got := tc.spec.PerAttempt(); got != tc.want {
			t.Errorf("%+v: PerAttempt %s, want %s", tc.spec, got, tc.want)
		}
	}
}

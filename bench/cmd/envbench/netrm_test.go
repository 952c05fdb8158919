package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeNetwork is an engine that refuses to remove a network while it still counts endpoints:
// the first refusals removals fail with the engine's moby#17217 message, then it removes.
type fakeNetwork struct {
	refusals int // how many removals fail with "active endpoints"
	other    error
	calls    int
	gone     bool
	// disconnected: the force-disconnect ran; it clears the refusals when clears is set.
	disconnected, clears bool
}

func (f *fakeNetwork) rm(context.Context) error {
	f.calls++
	switch {
	case f.other != nil:
		return f.other
	case f.gone:
		return errors.New("Error response from daemon: network tsb-1-limit-1-30-1 not found")
	case f.calls <= f.refusals:
		return errors.New("Error response from daemon: error while removing network: network tsb-1-limit-1-30-1 id 3f2a has active endpoints")
	}
	f.gone = true
	return nil
}

func (f *fakeNetwork) disconnect(context.Context) error {
	f.disconnected = true
	if f.clears {
		f.refusals = 0
	}
	return nil
}

// testBackoff records its pauses instead of sleeping.
func testBackoff(budget time.Duration, pauses *[]time.Duration) netBackoff {
	return netBackoff{first: 10 * time.Millisecond, max: 80 * time.Millisecond, budget: budget,
		sleep: func(ctx context.Context, d time.Duration) error { *pauses = append(*pauses, d); return ctx.Err() }}
}

func TestRemoveNetworkRetriesActiveEndpointsWithBackoff(t *testing.T) {
	var pauses []time.Duration
	f := &fakeNetwork{refusals: 5}
	if err := testBackoff(10*time.Second, &pauses).removeNetwork(context.Background(), "n", f.rm, f.disconnect); err != nil {
		t.Fatalf("removal after 5 refusals: %v", err)
	}
	if f.calls != 6 {
		t.Errorf("removal tried %d times, want 6 (5 refusals, then success)", f.calls)
	}
	want := []time.Duration{10, 20, 40, 80, 80}
	if len(pauses) != len(want) {
		t.Fatalf("pauses %v, want %v ms", pauses, want)
	}
	for i := range want {
		if pauses[i] != want[i]*time.Millisecond {
			t.Errorf("pause %d is %s, want %s (doubling from 10 ms, capped at 80 ms)", i, pauses[i], want[i]*time.Millisecond)
		}
	}
	if f.disconnected {
		t.Error("force-disconnected endpoints although the retries succeeded")
	}
}

func TestRemoveNetworkGivesUpAfterBudgetAndReports(t *testing.T) {
	var pauses []time.Duration
	f := &fakeNetwork{refusals: 1 << 30}
	err := testBackoff(time.Second, &pauses).removeNetwork(context.Background(), "tsb-1-limit-1-30-1", f.rm, f.disconnect)
	if err == nil {
		t.Fatal("a network the engine never releases was reported removed")
	}
	for _, want := range []string{"tsb-1-limit-1-30-1", "moby#17217", "active endpoints", "1s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	var total time.Duration
	for _, p := range pauses {
		total += p
	}
	if total != time.Second {
		t.Errorf("paused %s in all, want exactly the 1s budget (%v)", total, pauses)
	}
	if !f.disconnected {
		t.Error("did not force-disconnect the stale endpoints before giving up")
	}
}

func TestRemoveNetworkForceDisconnectRescues(t *testing.T) {
	var pauses []time.Duration
	f := &fakeNetwork{refusals: 1 << 30, clears: true}
	if err := testBackoff(100*time.Millisecond, &pauses).removeNetwork(context.Background(), "n", f.rm, f.disconnect); err != nil {
		t.Fatalf("removal after force-disconnecting: %v", err)
	}
	if !f.gone {
		t.Error("network not removed")
	}
}

func TestRemoveNetworkOtherErrorsAndGone(t *testing.T) {
	var pauses []time.Duration
	b := testBackoff(time.Second, &pauses)
	f := &fakeNetwork{other: errors.New("permission denied")}
	err := b.removeNetwork(context.Background(), "n", f.rm, f.disconnect)
	if err == nil || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), "network n") {
		t.Errorf("other error: got %v, want it returned naming the network", err)
	}
	if f.calls != 1 || len(pauses) != 0 {
		t.Errorf("other error retried: %d calls, pauses %v", f.calls, pauses)
	}
	gone := &fakeNetwork{gone: true}
	if err := b.removeNetwork(context.Background(), "n", gone.rm, nil); err != nil {
		t.Errorf("a network already gone: %v, want nil", err)
	}
}

func TestRemoveNetworkStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var pauses []time.Duration
	f := &fakeNetwork{refusals: 1 << 30}
	err := testBackoff(time.Hour, &pauses).removeNetwork(ctx, "n", f.rm, f.disconnect)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
	if f.calls != 1 {
		t.Errorf("cancelled removal tried %d times, want 1", f.calls)
	}
}

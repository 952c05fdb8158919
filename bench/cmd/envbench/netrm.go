package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
)

// Engine 20.10 releases a removed container's network endpoint a little after the container's
// removal returns (moby#17217), so a network removed right after its last container can be
// refused with "has active endpoints". That refusal is transient: the removal is retried,
// first after a few milliseconds (the engine's limit must stay strict, so the common short
// lag costs little) and then backing off, until the pauses add up to the budget. What still
// fails after that is reported, naming the network: a leak of the engine's, not a slow engine.
type netBackoff struct {
	first, max, budget time.Duration
	// sleep pauses for d or until ctx ends; tests replace it to count pauses without waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

// networkBackoff is the backoff every network removal of envbench uses.
var networkBackoff = netBackoff{first: 10 * time.Millisecond, max: 250 * time.Millisecond, budget: 15 * time.Second, sleep: sleepCtx}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// activeEndpoints reports whether err is the engine's transient refusal of moby#17217.
func activeEndpoints(err error) bool {
	return err != nil && strings.Contains(err.Error(), "active endpoints")
}

// networkGone reports whether err says the network does not exist (any more): as good as
// removed. Both the API's typed error and the docker CLI's messages count.
func networkGone(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return cerrdefs.IsNotFound(err) || strings.Contains(msg, "not found") || strings.Contains(msg, "No such network")
}

// removeNetwork removes network name with rm, retrying (see netBackoff) while the engine
// still counts endpoints. When the budget is spent, disconnect (when not nil) force-disconnects
// the endpoints the engine still lists — moby#17217's own workaround for an endpoint whose
// container is gone — and rm gets one last try. A network that is already gone is not an
// error; any other error is returned at once.
func (b netBackoff) removeNetwork(ctx context.Context, name string, rm, disconnect func(context.Context) error) error {
	pause, waited := b.first, time.Duration(0)
	for {
		err := rm(ctx)
		switch {
		case err == nil || networkGone(err):
			return nil
		case !activeEndpoints(err):
			return fmt.Errorf("removing network %s: %w", name, err)
		case waited >= b.budget:
			if disconnect != nil {
				if derr := disconnect(ctx); derr != nil {
					err = fmt.Errorf("%w; force-disconnecting its endpoints: %v", err, derr)
				} else if err = rm(ctx); err == nil || networkGone(err) {
					return nil
				}
			}
			return fmt.Errorf("removing network %s: the engine still counts endpoints of its removed containers after %s of retries (moby#17217): %w",
				name, waited, err)
		}
		pause = min(pause, b.budget-waited)
		if serr := b.sleep(ctx, pause); serr != nil {
			return fmt.Errorf("removing network %s: %w (last refusal: %v)", name, serr, err)
		}
		waited += pause
		pause = min(2*pause, b.max)
	}
}

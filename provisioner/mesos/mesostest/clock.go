package mesostest

import (
	"sort"
	"sync"
	"time"
)

// Clock is the time source of every protocol timer in the double: heartbeats,
// the allocation tick, offer filters, status update retries, failover
// timeouts and health-check schedules. Tests inject a FakeClock so that a
// 15 s heartbeat costs no wall time.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d, like time.AfterFunc.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started; it reports whether it did.
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// FakeClock is a manual clock: time moves only when Advance is called, and
// timers whose deadline is reached fire then, in deadline order.
type FakeClock struct {
	mu     sync.Mutex // guards now, timers and seq; never held while a timer runs
	now    time.Time
	seq    int
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *FakeClock
	when    time.Time
	seq     int
	f       func()
	stopped bool
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f at Now()+d.
func (c *FakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{c: c, when: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.stopped {
		return false
	}
	t.stopped = true
	return true
}

// Advance moves the clock forward by d, firing due timers one by one (each
// synchronously, so that a test sees their effects when Advance returns).
// Timers created by a firing timer fire too if they fall inside d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool {
			if c.timers[i].when.Equal(c.timers[j].when) {
				return c.timers[i].seq < c.timers[j].seq
			}
			return c.timers[i].when.Before(c.timers[j].when)
		})
		var next *fakeTimer
		for len(c.timers) > 0 {
			t := c.timers[0]
			if t.stopped {
				c.timers = c.timers[1:]
				continue
			}
			if t.when.After(end) {
				break
			}
			next = t
			c.timers = c.timers[1:]
			break
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.when.After(c.now) {
			c.now = next.when
		}
		c.mu.Unlock()
		next.f()
	}
}

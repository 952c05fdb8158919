package mesos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/recordio"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/envctl/envctl/provisioner"
)

const schedulerPath = "/api/v1/scheduler"

// Offer filters (mesos.md §1.11). While tasks still wait, unused resources come back after a
// second (the allocation tick); when none wait the framework is suppressed anyway, and the long
// filter only keeps the unused rest of an agent away should a REVIVE of ours race with it.
const (
	refuseWhileWaiting = 1.0
	refuseWhenIdle     = 60.0
)

// Resubscription backoff after a dropped stream: quick first, since the usual cause is a
// transient one (a master failover, a proxy timeout), capped like mesos.md §1.10 suggests.
const (
	resubscribeMin = 100 * time.Millisecond
	resubscribeMax = 5 * time.Second
)

// errRemoved marks a framework the master no longer has (torn down, or reaped after its
// failover_timeout).
var errRemoved = errors.New("the framework was removed")

// taskState is what the session knows about one task: the launch it is waiting for, and every
// status update since.
type taskState struct {
	id      string
	service string
	spec    *provisioner.Spec // nil for tasks met after a re-subscribe

	pending   bool      // waiting for an offer
	enqueued  time.Time // when it began waiting
	info      *mesospb.TaskInfo
	agentID   string
	hostname  string
	hostPorts map[string]int
	launched  time.Time

	status  *mesospb.TaskStatus // the latest update
	running time.Time           // when TASK_RUNNING was first seen
	health  []provisioner.ProbeResult
	changed chan struct{} // closed and replaced on every change
}

// notifyLocked wakes everyone waiting on the task.
func (ts *taskState) notifyLocked() {
	close(ts.changed)
	ts.changed = make(chan struct{})
}

// session is one environment's framework, subscribed: the event loop, the launches waiting
// for offers and the tasks it watches.
type session struct {
	b   *Backend
	env string

	startMu sync.Mutex // serializes the first subscription of the session
	started bool

	// dispatchMu serializes offer decisions and their calls (dispatch): a SUPPRESS decided on
	// "nothing waits" must not overtake the REVIVE of a launch that arrived meanwhile, or that
	// launch would wait for an offer that never comes; and a held offer must go out in one
	// ACCEPT only.
	dispatchMu sync.Mutex

	mu             sync.Mutex // guards everything below
	info           mesospb.FrameworkInfo
	fwID           string
	streamID       string
	connected      bool
	connCh         chan struct{} // closed and replaced when connected or fatal changes
	fatal          error
	closing        bool
	body           io.Closer // the current subscription's response body
	pending        []*taskState
	tasks          map[string]*taskState
	held           []*heldOffer // offers kept for launches to come (offers.go)
	plan           *startPlan   // the launches the environment's Apply still expects; nil: none
	starting       int          // Start calls under way
	suppressed     bool
	awaitingOffers bool // a REVIVE or SUBSCRIBE was sent and its offers are not yet handled
	dispatchTimer  *time.Timer
	heartbeat      time.Duration
	acks           chan<- *scheduler.Call // the current subscription's ACKNOWLEDGE queue
	ackDone        <-chan struct{}        // closed when its sender stopped

	cancel context.CancelFunc
	done   chan struct{}

	whyMu sync.Mutex // guards why and whyAt: why launches wait (quota.go)
	why   string
	whyAt time.Time
}

func newSession(b *Backend, env string) *session {
	return &session{b: b, env: env, tasks: map[string]*taskState{}, connCh: make(chan struct{}), done: make(chan struct{})}
}

// start subscribes the session the first time it is used: with the ID of the environment's
// framework if the master has one, else as a new framework (only for Start: spec != nil). It
// returns errNoFramework when there is nothing to subscribe to.
func (s *session) start(ctx context.Context, spec *provisioner.Spec) error {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.started {
		return nil
	}
	fws, err := s.b.frameworks(ctx, s.env)
	if err != nil {
		return err
	}
	var info mesospb.FrameworkInfo
	switch {
	case spec != nil:
		info = s.b.frameworkInfo(*spec)
		if len(fws) > 0 {
			info.ID = &mesospb.FrameworkID{Value: fws[0].FrameworkInfo.ID.GetValue()}
		}
	case len(fws) > 0:
		// Down and friends keep the framework as it was: its user, labels and timeout.
		info = fws[0].FrameworkInfo
	default:
		return errNoFramework
	}
	s.mu.Lock()
	s.info = info
	s.fwID = info.ID.GetValue()
	s.mu.Unlock()
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.run(runCtx)
	s.started = true
	return nil
}

var errNoFramework = errors.New("no framework")

// close ends the subscription without tearing the framework down: its tasks keep running until
// failover_timeout, or until a later envctl re-subscribes.
func (s *session) close() {
	// Held offers go back to the master now rather than when it notices the disconnection.
	rctx, rcancel := context.WithTimeout(context.Background(), callTimeout)
	s.release(rctx)
	rcancel()
	s.mu.Lock()
	s.closing = true
	if s.dispatchTimer != nil {
		s.dispatchTimer.Stop()
	}
	if s.fatal == nil {
		s.fatal = errors.New("the backend was closed")
	}
	s.signalLocked()
	s.mu.Unlock()
	s.startMu.Lock()
	started := s.started
	s.startMu.Unlock()
	if !started {
		return
	}
	s.cancel()
	<-s.done
}

func (s *session) signalLocked() {
	close(s.connCh)
	s.connCh = make(chan struct{})
}

// waitConnected blocks until the session is subscribed.
func (s *session) waitConnected(ctx context.Context) error {
	for {
		s.mu.Lock()
		connected, fatal, ch := s.connected, s.fatal, s.connCh
		s.mu.Unlock()
		if fatal != nil {
			return fatal
		}
		if connected {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// run keeps the session subscribed until it is closed or the framework is gone.
func (s *session) run(ctx context.Context) {
	defer close(s.done)
	backoff := resubscribeMin
	for {
		subscribed, err := s.subscribeOnce(ctx)
		s.mu.Lock()
		// The master discards a disconnected framework's offers (without RESCIND).
		s.connected, s.body, s.awaitingOffers, s.held = false, nil, false, nil
		stop := s.closing || s.fatal != nil || ctx.Err() != nil
		if !stop && errors.Is(err, errRemoved) {
			s.fatal = fmt.Errorf("environment %q: %w", s.env, err)
			stop = true
		}
		s.signalLocked()
		s.mu.Unlock()
		if stop {
			return
		}
		s.b.logf("mesos: environment %s: subscription ended (%v); re-subscribing", s.env, err)
		if subscribed {
			backoff = resubscribeMin
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(backoff*2, resubscribeMax)
	}
}

// subscribeOnce subscribes and handles events until the stream ends. subscribed tells whether
// the master accepted the subscription at all (for the backoff).
func (s *session) subscribeOnce(ctx context.Context) (subscribed bool, err error) {
	s.mu.Lock()
	info := s.info
	if s.fwID != "" {
		info.ID = &mesospb.FrameworkID{Value: s.fwID}
	}
	suppress := len(s.pending) == 0
	s.mu.Unlock()
	call := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, FrameworkID: info.ID,
		Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: &info}}
	if suppress {
		// Nothing to launch (yet): no offers to decline. A launch REVIVEs.
		call.Subscribe.SuppressedRoles = frameworkRoles(info)
	}
	body, err := call.Marshal()
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := s.b.cli.post(sctx, schedulerPath, body, nil, true)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		err := statusError("SUBSCRIBE", resp)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			s.mu.Lock()
			s.fatal = fmt.Errorf("mesos master refused envctl's framework: %w", err)
			s.mu.Unlock()
		}
		return false, err
	}
	defer resp.Body.Close()
	stream := resp.Header.Get("Mesos-Stream-Id")
	if stream == "" {
		return false, errors.New("SUBSCRIBE: the master sent no Mesos-Stream-Id")
	}
	s.mu.Lock()
	acks, ackDone := make(chan *scheduler.Call, ackQueue), make(chan struct{})
	s.body, s.streamID, s.suppressed, s.acks, s.ackDone = resp.Body, stream, suppress, acks, ackDone
	s.mu.Unlock()
	go s.acknowledge(sctx, acks, ackDone)
	defer func() {
		cancel()
		<-ackDone
	}()

	// The heartbeat watchdog (mesos.md §3.5-4): a stream that stays silent for a few
	// heartbeats is dead even if TCP has not noticed; closing the body ends the read below.
	watchdog := time.AfterFunc(s.watchdogTimeout(), func() { resp.Body.Close() })
	defer watchdog.Stop()
	r := recordio.NewReader(resp.Body)
	for {
		frame, err := r.ReadFrame()
		if err != nil {
			if err == io.EOF {
				err = errors.New("the master closed the subscription")
			}
			return subscribed, err
		}
		watchdog.Reset(s.watchdogTimeout())
		ev := &scheduler.Event{}
		if err := ev.Unmarshal(frame); err != nil {
			return subscribed, fmt.Errorf("bad event from the master: %w", err)
		}
		if ev.Type == scheduler.Event_SUBSCRIBED {
			subscribed = true
		}
		if err := s.handle(ctx, ev); err != nil {
			return subscribed, err
		}
	}
}

func (s *session) watchdogTimeout() time.Duration {
	if s.b.opt.WatchdogTimeout > 0 {
		return s.b.opt.WatchdogTimeout
	}
	s.mu.Lock()
	hb := s.heartbeat
	s.mu.Unlock()
	if hb <= 0 {
		hb = 15 * time.Second // the master's fixed interval; SUBSCRIBED says so too
	}
	return 3 * hb
}

// handle acts on one event. An error ends the subscription (and, unless fatal, re-subscribes).
func (s *session) handle(ctx context.Context, ev *scheduler.Event) error {
	switch ev.Type {
	case scheduler.Event_SUBSCRIBED:
		sub := ev.Subscribed
		s.mu.Lock()
		s.fwID = sub.FrameworkID.GetValue()
		s.connected = true
		s.awaitingOffers = !s.suppressed
		if sec := sub.GetHeartbeatIntervalSeconds(); sec > 0 {
			s.heartbeat = time.Duration(sec * float64(time.Second))
		}
		s.held = nil // offers of an earlier subscription are invalid
		s.signalLocked()
		s.mu.Unlock()
		s.dispatch(ctx)
		// Reconcile after every (re-)subscription: updates sent while disconnected were
		// dropped by the master, and implicit reconciliation replays each task's latest state.
		return s.call(ctx, &scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{}})
	case scheduler.Event_OFFERS:
		s.b.offerEvents.Add(1)
		// Before any launch goes out on them: a task's health check depends on whether
		// envctl reaches its agent (reach.go).
		s.b.checkAgents(ev.Offers.Offers)
		s.addOffers(ev.Offers.Offers)
		s.dispatch(ctx)
		return nil
	case scheduler.Event_RESCIND:
		s.rescind(ev.Rescind.OfferID.Value)
		s.dispatch(ctx)
		return nil
	case scheduler.Event_UPDATE:
		return s.handleUpdate(ctx, ev.Update.Status)
	case scheduler.Event_ERROR:
		msg := ev.Error.Message
		var err error
		switch {
		case strings.Contains(msg, "removed"):
			err = fmt.Errorf("%w: %s", errRemoved, msg)
		default:
			// "Framework failed over" (another envctl subscribed it) or a refusal: either way
			// this process is no longer the scheduler, and fighting over it helps nobody.
			err = fmt.Errorf("mesos master: %s", msg)
		}
		s.mu.Lock()
		s.fatal = fmt.Errorf("environment %q: %w", s.env, err)
		s.mu.Unlock()
		return err
	}
	// HEARTBEAT only feeds the watchdog. FAILURE: the lost agent's tasks arrive as TASK_LOST
	// updates.
	return nil
}

// call sends a non-SUBSCRIBE call on the current subscription. Any failure drops the
// subscription, which the run loop re-establishes: after a 4xx the stream is no longer
// trustworthy (mesos.md §3.5-1).
func (s *session) call(ctx context.Context, c *scheduler.Call) error {
	s.mu.Lock()
	fwID, stream, connected := s.fwID, s.streamID, s.connected
	s.mu.Unlock()
	if !connected || fwID == "" {
		return fmt.Errorf("%s: not subscribed", c.Type)
	}
	c.FrameworkID = &mesospb.FrameworkID{Value: fwID}
	body, err := c.Marshal()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := s.b.cli.post(ctx, schedulerPath, body, http.Header{"Mesos-Stream-Id": {stream}}, false)
	if err == nil && resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		err = statusError(c.Type.String(), resp)
	} else if err == nil {
		drain(resp)
	}
	if err != nil {
		s.dropStream(stream)
		return err
	}
	return nil
}

// dropStream ends the subscription stream if it is still the one a failed call used.
func (s *session) dropStream(stream string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.body != nil && s.streamID == stream {
		s.body.Close()
	}
}

// enqueue adds a launch for spec and returns its task; the launch goes out on a held offer
// at once when nothing else is expected soon (dispatch). finished must be called when the
// Start that enqueued it returns.
func (s *session) enqueue(spec provisioner.Spec) *taskState {
	ts := &taskState{id: newTaskID(spec.Env, spec.Service), service: spec.Service, spec: &spec,
		pending: true, enqueued: time.Now(), changed: make(chan struct{})}
	s.mu.Lock()
	s.tasks[ts.id] = ts
	s.pending = append(s.pending, ts)
	s.starting++
	if s.plan != nil {
		s.plan.start(spec.Service)
	}
	s.mu.Unlock()
	// Not the caller's context: a Start given up half-way must not break a call that others'
	// launches ride on (a failed call drops the subscription).
	s.dispatch(context.Background())
	return ts
}

// finished records that a Start returned.
func (s *session) finished() {
	s.mu.Lock()
	s.starting--
	s.mu.Unlock()
}

// dequeue withdraws a launch that no longer wants to start; it reports false if the task was
// launched already.
func (s *session) dequeue(ts *taskState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.pending {
		if p == ts {
			s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
			ts.pending = false
			delete(s.tasks, ts.id)
			return true
		}
	}
	return false
}

// setPlan records the launches an Apply is going to make (nil: it is done) and lets dispatch
// act on it: hold offers for them, or release what it held.
func (s *session) setPlan(pl *startPlan, only *startPlan) {
	s.mu.Lock()
	if only != nil && s.plan != only {
		s.mu.Unlock()
		return // a later Apply's plan replaced it
	}
	s.plan = pl
	s.mu.Unlock()
	s.dispatch(context.Background())
}

// agentSlot is what one agent offers in one round, and what envctl puts on it.
type agentSlot struct {
	agentID  string
	hostname string
	role     string // the role its offers were allocated to
	offerIDs []mesospb.OfferID
	cpus     float64
	mem      float64
	ports    []portRange
	tasks    []mesospb.TaskInfo
	states   []*taskState
}

// requeue puts launches whose ACCEPT failed back in line; they get fresh task IDs, since the
// master may or may not have seen the old ones.
func (s *session) requeue(states []*taskState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range states {
		s.requeueLocked(ts)
	}
}

func (s *session) requeueLocked(ts *taskState) {
	delete(s.tasks, ts.id)
	ts.id = newTaskID(s.env, ts.service)
	ts.pending, ts.info, ts.status = true, nil, nil
	s.tasks[ts.id] = ts
	s.pending = append(s.pending, ts)
	ts.notifyLocked()
}

// handleUpdate records a status update, wakes its waiters, and acknowledges it.
func (s *session) handleUpdate(ctx context.Context, st mesospb.TaskStatus) error {
	id := st.TaskID.Value
	s.mu.Lock()
	ts := s.tasks[id]
	if ts == nil {
		// A task this process did not launch (down after a re-subscribe), or one whose
		// launch was withdrawn: watched all the same, so that KILL can wait for its end.
		ts = &taskState{id: id, changed: make(chan struct{})}
		s.tasks[id] = ts
	}
	if state := st.GetState(); ts.spec != nil && ts.info != nil && ts.status == nil &&
		(state == mesospb.TASK_LOST || state == mesospb.TASK_DROPPED) && st.GetReason() == mesospb.REASON_INVALID_OFFERS {
		// The offer it went out on was gone by then: rescinded while held, the RESCIND
		// crossing the ACCEPT. Nothing was launched; the launch waits for another offer.
		s.b.logf("mesos: environment %s: task %s: %s; launching it again", s.env, id, st.GetMessage())
		s.requeueLocked(ts)
		s.mu.Unlock()
		s.dispatch(ctx)
		return nil
	}
	stc := st
	ts.status = &stc
	if st.GetState() == mesospb.TASK_RUNNING && ts.running.IsZero() {
		ts.running = time.Now()
	}
	if st.Healthy != nil && st.GetReason() == mesospb.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED {
		ts.health = append(ts.health, healthResult(len(ts.health)+1, st))
	}
	ts.notifyLocked()
	s.mu.Unlock()
	// Only updates with a uuid come from an agent and wait for an acknowledgement; the master's
	// own (reconciliation, validation) have none and must not be acknowledged (§1.8).
	if len(st.UUID) == 16 && st.AgentID != nil {
		s.mu.Lock()
		acks, stopped := s.acks, s.ackDone
		s.mu.Unlock()
		select {
		case acks <- &scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{
			AgentID: *st.AgentID, TaskID: st.TaskID, UUID: st.UUID}}:
		case <-stopped:
			// Its call failed and the subscription is ending: the agent sends the update again.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// ackQueue bounds the ACKNOWLEDGEs waiting to be sent; the event loop waits when it is full.
const ackQueue = 256

// acknowledge sends the subscription's ACKNOWLEDGEs, in the order their updates came, until
// the subscription ends. They are sent here rather than on the event loop, where each cost a
// round trip before the next event was handled (measured on the double under load: 0.8-1.8 ms
// each, up to 115 ms, 0.2-0.5 s per 30-service up). An update whose ACKNOWLEDGE is lost, or
// still queued when the subscription ends, is sent again by its agent (at-least-once), and a
// failed call drops the stream like any other.
func (s *session) acknowledge(ctx context.Context, acks <-chan *scheduler.Call, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case c := <-acks:
			if err := s.call(ctx, c); err != nil {
				s.b.logf("mesos: environment %s: ACKNOWLEDGE: %v", s.env, err)
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

func healthResult(attempt int, st mesospb.TaskStatus) provisioner.ProbeResult {
	r := provisioner.ProbeResult{Attempt: attempt, At: statusTime(st), OK: st.GetHealthy()}
	switch {
	case st.GetHealthy():
		r.Detail = "Mesos health check passed"
	case st.GetMessage() != "":
		r.Detail = st.GetMessage()
	default:
		r.Detail = "Mesos health check failed"
	}
	return r
}

func statusTime(st mesospb.TaskStatus) time.Time {
	if st.Timestamp == nil {
		return time.Now()
	}
	sec := st.GetTimestamp()
	return time.Unix(0, int64(sec*1e9))
}

// kill asks Mesos to kill a task and waits until it reached a terminal state. A KILL is sent
// again every few seconds, since a KILL that met a re-subscription may be lost.
func (s *session) kill(ctx context.Context, taskID, agentID string, grace time.Duration) error {
	s.mu.Lock()
	ts := s.tasks[taskID]
	if ts == nil {
		ts = &taskState{id: taskID, changed: make(chan struct{})}
		s.tasks[taskID] = ts
	}
	if agentID == "" {
		agentID = ts.agentID
	}
	s.mu.Unlock()
	for {
		if err := s.waitConnected(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		done := ts.status != nil && terminal(ts.status.GetState())
		lost := ts.status != nil && ts.status.GetState() == mesospb.TASK_UNREACHABLE
		var since time.Time
		if lost && ts.status.UnreachableTime != nil {
			since = time.Unix(0, ts.status.UnreachableTime.Nanoseconds)
		}
		s.mu.Unlock()
		if done {
			return nil
		}
		if lost {
			return unreachableError(taskID, agentID, since)
		}
		k := &scheduler.Call_Kill{TaskID: mesospb.TaskID{Value: taskID},
			KillPolicy: &mesospb.KillPolicy{GracePeriod: &mesospb.DurationInfo{Nanoseconds: grace.Nanoseconds()}}}
		if agentID != "" {
			k.AgentID = &mesospb.AgentID{Value: agentID}
		}
		if err := s.call(ctx, &scheduler.Call{Type: scheduler.Call_KILL, Kill: k}); err != nil {
			s.b.logf("mesos: environment %s: KILL %s: %v", s.env, taskID, err)
		}
		resend := time.NewTimer(grace + 5*time.Second)
	wait:
		for {
			s.mu.Lock()
			done := ts.status != nil && terminal(ts.status.GetState())
			lost := ts.status != nil && ts.status.GetState() == mesospb.TASK_UNREACHABLE
			ch := ts.changed
			s.mu.Unlock()
			if done {
				resend.Stop()
				return nil
			}
			if lost {
				resend.Stop()
				break wait // the top of the loop says so
			}
			select {
			case <-ch:
			case <-resend.C:
				break wait
			case <-ctx.Done():
				resend.Stop()
				return ctx.Err()
			}
		}
	}
}

// teardown removes the framework through the scheduler API and ends the session.
func (s *session) teardown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true // the stream the master is about to close must not be re-subscribed
	s.mu.Unlock()
	s.release(ctx)
	err := s.call(ctx, &scheduler.Call{Type: scheduler.Call_TEARDOWN})
	s.close()
	return err
}

// view returns what the session knows of a task, if it watches it.
func (s *session) view(taskID string) (taskView, <-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.tasks[taskID]
	if ts == nil || (ts.status == nil && !ts.pending && ts.info == nil) {
		return taskView{}, nil, false
	}
	v := taskView{known: ts.status != nil, health: append([]provisioner.ProbeResult(nil), ts.health...),
		hasCheck: ts.info != nil && ts.info.HealthCheck != nil, agentID: ts.agentID}
	if ts.status != nil {
		v.status = *ts.status
	}
	return v, ts.changed, true
}

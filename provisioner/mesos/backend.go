package mesos

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"

	"github.com/envctl/envctl/provisioner"
)

// Options configure a Backend. Only Master is required.
type Options struct {
	// Master is the master's URL, http://HOST:PORT; any master of the cluster will do, since
	// envctl follows its redirect to the leader.
	Master string
	// Principal and Secret are sent as HTTP basic authentication when Principal is set.
	Principal, Secret string
	// Role is the role environments' frameworks register under ("" = "*", the default
	// role): a team's quota and weight apply to what its environments use.
	Role string
	// Containerizer is how the agents run a task's Docker image: ContainerizerDocker (the
	// default; the agent's Docker Engine runs it on a bridge network and publishes its ports
	// on host ports from the offer) or ContainerizerMesos (the agent's Mesos containerizer
	// pulls the image itself and runs it in the agent's own network: the task listens on its
	// container ports at the agent's address; see doc.go).
	Containerizer string
	// DefaultFailover is the failover_timeout of an environment without an expiry (24 h).
	DefaultFailover time.Duration
	// Probe says who checks readiness: "envctl" (envctl probes every task from outside,
	// through its agent's host and host port), "mesos" (Mesos health checks), or "" to
	// decide per agent: envctl where it reaches the agent's host ports (reach.go), Mesos
	// elsewhere. "" reads ENVCTL_MESOS_PROBE. An exec probe is a Mesos COMMAND check always.
	Probe string
	// HealthInterval is the interval of the Mesos health checks envctl still uses when the
	// ready block sets none (1 s, and never less: task.go).
	HealthInterval time.Duration
	// BatchWindow is how long a new launch waits for others before envctl asks for offers
	// (250 ms): services freed by dependencies that get ready close together then share one
	// offer round. Measured on the double (30 services, 5 layers, each on two of the layer
	// before): 16 rounds at 25 ms, 11 at 150 ms, 8 at 300 ms — an agent starts its containers
	// one after another, so a layer's services get ready spread over about a second.
	BatchWindow time.Duration
	// LaunchWait is the least time a launch waits for the others its environment's Apply
	// expects soon (services whose dependencies were all launched) before it takes the last
	// held offer (1 s; it waits up to 4x that when its dependencies were that slow to get
	// ready: offers.go): an agent's offer serves one launch, so a layer that becomes
	// launchable piecemeal would otherwise cost an offer round per piece. About the spread of
	// a layer's readiness on the double (see BatchWindow); a piece that finds two agents'
	// offers held goes out at once on one of them.
	LaunchWait time.Duration
	// OfferHold bounds how long an offer is held for launches to come before it is declined
	// (15 s). A held offer's resources are unavailable to every other framework, so it must
	// not be kept for a service that takes minutes to get ready; 15 s covers a layer of the
	// real test cluster (about 12 s each). A master with a shorter --offer_timeout rescinds it
	// earlier, which the session handles.
	OfferHold time.Duration
	// WatchdogTimeout is how long a silent subscription is trusted before envctl re-subscribes
	// (default: three heartbeat intervals, 45 s on a real master).
	WatchdogTimeout time.Duration
	// Logf receives diagnostics (re-subscriptions, failed calls); nil discards them.
	Logf func(format string, args ...any)
	// Notice is told what the user must know while envctl waits: why launches get no offer
	// (the role's quota, or no agent with room). nil: Logf.
	Notice func(msg string)
}

// Backend runs envctl environments on a Mesos cluster. It is safe for concurrent use.
type Backend struct {
	opt Options
	cli *client

	mu       sync.Mutex // guards sessions and removed: Start runs from many goroutines
	sessions map[string]*session
	// removed holds the tasks this process removed. Mesos keeps ended tasks on record (its
	// completed tasks) and has no call to delete one; a removed instance must still vanish
	// from Observe, or a rollback would never find its environment empty.
	removed map[string]bool

	probe string     // Options.Probe resolved: "", "envctl" or "mesos"
	reach reachState // which agents envctl reaches (reach.go)

	// offerEvents counts the OFFERS events this process received: the offer rounds of its
	// ups, which the benchmarks report on a real master (that keeps no such count).
	offerEvents atomic.Int64
}

var (
	_ provisioner.Backend            = (*Backend)(nil)
	_ provisioner.NativeReadiness    = (*Backend)(nil)
	_ provisioner.Inspector          = (*Backend)(nil)
	_ provisioner.LogReader          = (*Backend)(nil)
	_ provisioner.EnvironmentManager = (*Backend)(nil)
	_ provisioner.StartPlanner       = (*Backend)(nil)
	_ provisioner.Reacher            = (*Backend)(nil)
	_ provisioner.BulkRemover        = (*Backend)(nil)
	_ provisioner.UnboundedStarts    = (*Backend)(nil)
)

// UnboundedStarts: every Start of an Apply may wait for its offer at once (one ACCEPT per
// agent carries them all); see provisioner.UnboundedStarts.
func (b *Backend) UnboundedStarts() {}

// New connects to the master. A master that does not answer gives an error that wraps
// provisioner.ErrUnreachable and names the URL.
func New(ctx context.Context, opt Options) (*Backend, error) {
	if opt.DefaultFailover <= 0 {
		opt.DefaultFailover = 24 * time.Hour
	}
	if opt.HealthInterval <= 0 {
		opt.HealthInterval = defaultHealthInterval
	}
	if opt.BatchWindow <= 0 {
		opt.BatchWindow = 250 * time.Millisecond
	}
	if opt.LaunchWait <= 0 {
		opt.LaunchWait = time.Second
	}
	if opt.OfferHold <= 0 {
		opt.OfferHold = 15 * time.Second
	}
	switch opt.Containerizer {
	case "":
		opt.Containerizer = ContainerizerDocker
	case ContainerizerDocker, ContainerizerMesos:
	default:
		return nil, fmt.Errorf("mesos containerizer %q: choose %s or %s", opt.Containerizer, ContainerizerDocker, ContainerizerMesos)
	}
	probe, err := probeMode(opt)
	if err != nil {
		return nil, err
	}
	cli, err := newClient(opt.Master, opt.Principal, opt.Secret)
	if err != nil {
		return nil, err
	}
	b := &Backend{opt: opt, cli: cli, sessions: map[string]*session{}, removed: map[string]bool{}, probe: probe}
	// One cheap call proves the master (or its leader) answers, within the dial timeout.
	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if _, err := cli.operator(pctx, &master.Call{Type: master.Call_GET_VERSION}); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("mesos master %s: %w: no answer within %s", opt.Master, errUnreachable, dialTimeout)
		}
		return nil, err
	}
	return b, nil
}

func (b *Backend) notice(msg string) {
	if b.opt.Notice != nil {
		b.opt.Notice(msg)
		return
	}
	b.logf("mesos: %s", msg)
}

func (b *Backend) logf(format string, args ...any) {
	if b.opt.Logf != nil {
		b.opt.Logf(format, args...)
	}
}

// Name is "mesos".
func (b *Backend) Name() string { return "mesos" }

// Close disconnects every framework without tearing it down: the tasks keep running, and a
// later envctl re-subscribes (or Mesos reaps them after failover_timeout).
func (b *Backend) Close() error {
	b.mu.Lock()
	ss := b.sessions
	b.sessions = map[string]*session{}
	b.mu.Unlock()
	for _, s := range ss {
		s.close()
	}
	return nil
}

// session returns env's subscribed session, creating it on first use. spec is nil for calls
// that must not create a framework (Stop, Remove); they get errNoFramework when there is none.
func (b *Backend) session(ctx context.Context, env string, spec *provisioner.Spec) (*session, error) {
	b.mu.Lock()
	s := b.sessions[env]
	if s != nil {
		s.mu.Lock()
		dead := s.fatal != nil
		s.mu.Unlock()
		if dead {
			// A new session takes over the plan of the Apply under way.
			old := s
			s = newSession(b, env)
			old.mu.Lock()
			s.plan = old.plan
			old.mu.Unlock()
			b.sessions[env] = s
		}
	}
	if s == nil {
		s = newSession(b, env)
		b.sessions[env] = s
	}
	b.mu.Unlock()
	if err := s.start(ctx, spec); err != nil {
		return nil, err
	}
	return s, nil
}

// Start launches spec as a task and returns once it runs (a job: once it ran, or already
// finished). A task that fails to launch is an error naming the service and Mesos's reason.
func (b *Backend) Start(ctx context.Context, spec provisioner.Spec) (provisioner.Instance, error) {
	if spec.Image == "" {
		return provisioner.Instance{}, fmt.Errorf("service %q: no image (the Mesos backend cannot build images; give the service an image the agents can pull)", spec.Service)
	}
	if err := SpecChecker(b.opt.Containerizer)(spec); err != nil {
		return provisioner.Instance{}, err
	}
	if r := spec.Ready; b.probe == ProbeMesos && !spec.Once && r.Kind == provisioner.ProbeHTTP && r.Status != 0 && (r.Status < 200 || r.Status > 399) {
		// A Mesos HTTP health check passes on 200-399 only (mesos.md §2.3), so such a task would
		// be killed as unhealthy however well it answered. (envctl's own probe checks any.)
		return provisioner.Instance{}, fmt.Errorf("service %q: ready http status = %d cannot be checked with --mesos-probe=mesos: Mesos's HTTP health checks count only 200-399 as healthy", spec.Service, r.Status)
	}
	s, err := b.session(ctx, spec.Env, &spec)
	if err != nil {
		return provisioner.Instance{}, err
	}
	if msg := execCheckNotice(spec, b.opt.HealthInterval); msg != "" {
		b.notice(msg)
	}
	ts := s.enqueue(spec)
	defer s.finished()
	inst := provisioner.Instance{ID: ts.id, Name: ts.id, Env: spec.Env, Service: spec.Service,
		Labels: spec.Labels, State: provisioner.StateStarting, Created: time.Now()}
	// A task no agent can take waits for offers for ever: its ready timeout bounds that wait
	// too (but never below minOfferWait), and the error says it was never launched
	// (neverLaunched).
	offerWait := max(spec.Ready.Timeout, minOfferWait)
	if spec.Ready.Timeout <= 0 {
		offerWait = max(provisioner.DefaultReadyTimeout, minOfferWait)
	}
	unlaunched := time.NewTimer(offerWait)
	defer unlaunched.Stop()
	// While it waits for offers, envctl looks for why (quota.go) and says so.
	report := time.NewTimer(waitReportAfter)
	defer report.Stop()
	for {
		s.mu.Lock()
		st, fatal, ch := ts.status, s.fatal, ts.changed
		id := ts.id // a failed ACCEPT requeues under a new ID
		s.mu.Unlock()
		inst.ID, inst.Name = id, id
		if st != nil {
			switch state := st.GetState(); {
			case state == mesospb.TASK_RUNNING || (state == mesospb.TASK_FINISHED) ||
				(state == mesospb.TASK_FAILED && st.GetSource() == mesospb.SOURCE_EXECUTOR && exitCode(*st) >= 0):
				// Running, or it ran and exited by itself: readiness (WaitReady) tells the
				// exit code and the output.
				return b.launchedInstance(s, ts, inst), nil
			case terminal(state):
				return inst, fmt.Errorf("service %q: Mesos could not run task %s: %s", spec.Service, id, describe(*st))
			}
		}
		if fatal != nil {
			return inst, fatal
		}
		select {
		case <-ch:
		case <-report.C:
			s.mu.Lock()
			waiting := ts.pending
			s.mu.Unlock()
			if waiting {
				if why, changed := s.reason(ctx); why != "" && changed {
					b.notice(fmt.Sprintf("environment %q waits for Mesos offers: %s", spec.Env, why))
				}
				report.Reset(waitReportEvery)
			}
		case <-unlaunched.C:
			why := s.pendingReason(ts) // before the dequeue: the launch must count as waiting
			if s.dequeue(ts) {
				inst.ID = "" // never launched: nothing to roll back
				return inst, neverLaunched(spec, offerWait, why)
			}
			// Launched: the task is on its way; readiness is WaitReady's to time.
		case <-ctx.Done():
			why := ""
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why = s.pendingReason(ts)
			}
			if s.dequeue(ts) {
				inst.ID = "" // never launched: nothing to roll back
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					// The caller's deadline (up --timeout) ended the wait for offers: the
					// error says why none came rather than only that time ran out.
					return inst, neverLaunched(spec, time.Since(ts.enqueued).Round(time.Second), why)
				}
			}
			return inst, ctx.Err()
		}
	}
}

// PlanStarts records the launches an Apply is going to make in an environment, so that its
// session holds the offers it gets for them instead of declining them (offers.go).
func (b *Backend) PlanStarts(p provisioner.StartPlan) (done func()) {
	pl := newStartPlan(p)
	b.mu.Lock()
	s := b.sessions[p.Env]
	if s == nil {
		// Not subscribed yet: the first Start does that, and finds the plan.
		s = newSession(b, p.Env)
		b.sessions[p.Env] = s
	}
	b.mu.Unlock()
	s.setPlan(pl, nil)
	return func() {
		b.mu.Lock()
		cur := b.sessions[p.Env]
		b.mu.Unlock()
		s.setPlan(nil, pl)
		if cur != nil && cur != s {
			cur.setPlan(nil, pl)
		}
	}
}

// minOfferWait is the least time a task waits for an offer before it is failed as never
// launched, whatever its ready timeout: a ready timeout of a few seconds is about the service,
// and an offer round on a loaded cluster (a REVIVE, the allocator, a held offer's LaunchWait)
// can take seconds of its own.
const minOfferWait = 10 * time.Second

func (b *Backend) launchedInstance(s *session, ts *taskState, inst provisioner.Instance) provisioner.Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst.Labels = labelMap(ts.info.Labels)
	inst.State = stateOf(ts.status.GetState())
	inst.ExitCode = exitCode(*ts.status)
	inst.Created, inst.Started = ts.launched, ts.running
	endpoints(&inst, ts.hostname, ts.hostPorts)
	inst.CPUs, inst.Memory = held(ts.info.Resources)
	inst.HostID = ts.agentID
	return inst
}

// Stop kills the task, giving it grace to stop, and waits until Mesos reports it ended.
func (b *Backend) Stop(ctx context.Context, inst provisioner.Instance, grace time.Duration) error {
	return b.kill(ctx, inst, grace)
}

// Remove kills the task at once, unless it already ended; Mesos forgets a task by itself once
// its terminal update is acknowledged.
func (b *Backend) Remove(ctx context.Context, inst provisioner.Instance) error {
	if err := b.kill(ctx, inst, 0); err != nil {
		return err
	}
	b.mu.Lock()
	b.removed[inst.ID] = true
	b.mu.Unlock()
	return nil
}

// RemoveAll kills every instance at once — each KILL goes out at the same moment, on the
// environment's one subscription — and then waits for all their terminal updates together,
// so that removing 30 tasks takes about as long as killing one (Mesos's own limit, which
// make bench measures with a bare scheduler), instead of a walk of dependents before their
// dependencies that waits for each layer's stop before it kills the next.
func (b *Backend) RemoveAll(ctx context.Context, insts []provisioner.Instance, grace time.Duration, removed func(provisioner.Instance, error)) {
	var wg sync.WaitGroup
	for _, inst := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := grace
			if inst.State != provisioner.StateRunning {
				g = 0
			}
			err := b.kill(ctx, inst, g)
			if err == nil && inst.ID != "" {
				b.mu.Lock()
				b.removed[inst.ID] = true
				b.mu.Unlock()
			}
			removed(inst, err)
		}()
	}
	wg.Wait()
}

func (b *Backend) isRemoved(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.removed[id]
}

func (b *Backend) kill(ctx context.Context, inst provisioner.Instance, grace time.Duration) error {
	if inst.ID == "" {
		return nil
	}
	if inst.State == provisioner.StateUnreachable {
		// The master cannot reach its agent: a KILL would only be answered by reconciliation
		// (TASK_UNREACHABLE again). Once the agent is back, the task is shut down with its
		// framework if the environment is gone, or killed by a later down.
		return unreachableError(inst.ID, inst.HostID, inst.Unreachable)
	}
	if inst.State == provisioner.StateExited {
		// Ended already: nothing to kill, and no reason to subscribe for it.
		b.mu.Lock()
		s := b.sessions[inst.Env]
		b.mu.Unlock()
		if s == nil {
			return nil
		}
		if v, _, ok := s.view(inst.ID); !ok || (v.known && terminal(v.status.GetState())) {
			return nil
		}
	}
	s, err := b.session(ctx, inst.Env, nil)
	if errors.Is(err, errNoFramework) {
		return nil // no framework, no task
	}
	if err != nil {
		return err
	}
	if v, _, ok := s.view(inst.ID); ok && v.known && terminal(v.status.GetState()) {
		return nil
	}
	return s.kill(ctx, inst.ID, "", grace)
}

// unreachableError is Remove's error for a task whose agent is unreachable.
func unreachableError(taskID, agentID string, since time.Time) error {
	when := ""
	if !since.IsZero() {
		when = " since " + since.UTC().Format(time.RFC3339)
	}
	return fmt.Errorf("Mesos task %s: its agent %s has been unreachable%s: %w", taskID, agentID, when, provisioner.ErrHostUnreachable)
}

// Containerizer is the containerizer the backend launches through (Options.Containerizer).
func (b *Backend) Containerizer() string { return b.opt.Containerizer }

// AgentHostnames are the host names the cluster's agents advertise, sorted: where their tasks
// are reached. The CLI asks whether they are this machine (and so see its Docker Engine's
// images) before it launches a service whose image it built.
func (b *Backend) AgentHostnames(ctx context.Context) ([]string, error) {
	as, err := b.agents(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range as {
		if !seen[a.hostname] {
			seen[a.hostname] = true
			out = append(out, a.hostname)
		}
	}
	sort.Strings(out)
	return out, nil
}

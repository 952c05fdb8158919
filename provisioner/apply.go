package provisioner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/graph"
)

// Phase is where one service is in an up or down. The values are what the display and the
// JSON document print.
type Phase string

const (
	PhaseWaiting  Phase = "waiting"  // for a dependency (Event.Detail names it)
	PhaseCreating Phase = "creating" // backend calls under way
	PhaseProbing  Phase = "probing"  // started; readiness attempts under way
	PhaseReady    Phase = "ready"
	PhaseKept     Phase = "kept" // up to date; confirmed ready
	PhaseFailed   Phase = "failed"
	PhaseSkipped  Phase = "skipped" // a dependency failed or the run was interrupted
	PhaseRemoving Phase = "removing"
	PhaseRemoved  Phase = "removed"
)

// Event is one change of one service's phase, for progress displays.
type Event struct {
	Time    time.Time
	Service string
	Phase   Phase
	Detail  string
	Attempt int           // PhaseProbing: the attempt number
	Elapsed time.Duration // since the service began (ready, failed)
}

// Options steer Apply and Down.
type Options struct {
	// Parallel bounds the backend calls that create and remove instances at once; readiness
	// waits are not bounded, since a service waiting to get ready costs the engine nothing.
	Parallel int
	// Grace is how long a stopping instance gets before it is killed.
	Grace time.Duration
	// Rollback removes what this run created when it fails or is interrupted.
	Rollback bool
	// Settle, for Down: when not zero, the environment may still be changing under it (the
	// up that made it was killed, and the engine is finishing the creates it had asked for),
	// so after removing what it saw, Down waits Settle and looks again, until a look finds
	// nothing (at most maxSettleRounds). Zero: one look, as for any finished environment.
	Settle time.Duration
	// KeepVolumes, for Down: leave the environment's named volumes (down --keep-volumes).
	KeepVolumes bool
	// CleanupCtx bounds the rollback; the CLI cancels it on a second Ctrl-C. Nil: a fresh
	// context with a generous timeout.
	CleanupCtx context.Context
	// Events, if set, is told every phase change. It is called from several goroutines, one
	// call at a time.
	Events func(Event)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// NoCreateAhead turns off creating instances ahead of their dependencies on a backend that
	// can (AheadCreator): every instance is then created when its dependencies are ready.
	NoCreateAhead bool
	// BeforeRollback, if set, is called when the run failed, before anything is removed: the
	// last moment the failed instances, their logs and their state can be read (the CLI's
	// --diagnostics writes them then).
	BeforeRollback func(ctx context.Context, r *Result)
}

// maxProbeHistory bounds the probe history kept per service: a minute of fast probing is a few
// hundred attempts, and the diagnostics want the whole story, not a sample.
const maxProbeHistory = 500

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// ServiceResult is what became of one service in an Apply.
type ServiceResult struct {
	Service     string
	Action      Action
	Cause       string
	Phase       Phase // ready, kept, failed, skipped; "" when the walk never reached it
	Instance    Instance
	Begin       time.Time // when its dependencies were ready and envctl began on it
	ReadyAt     time.Time
	TimeToReady time.Duration // from Begin to ReadyAt
	LastProbe   *ProbeResult
	Attempts    int
	Probes      []ProbeResult // the probe history, oldest first (at most maxProbeHistory, the latest)
	Err         error         // for a failed service: why
	SkippedBy   string        // for a skipped service: the failed dependency at the root
	// StartPath says how its instance came to run when that was not the plain create and
	// start: "started ahead, held by the gate" (created and started while its dependencies
	// got ready, its process released once they were), "created ahead; not started held:
	// WHY" (created while they got ready, started once they were), or why a created-ahead
	// instance was not used.
	StartPath string
}

// Result is the outcome of an Apply.
type Result struct {
	Env          string
	Backend      string
	Begin        time.Time
	Duration     time.Duration
	Services     []*ServiceResult // declaration order
	CriticalPath []string         // the chain of services that bounded the total time
	Created      int              // instances this run started
	Err          error
	RolledBack   bool

	// byName indexes Services, so that Service is O(1): Apply and the CLI look up every
	// service, some once per dependency, and a scan made that quadratic. Apply fills it; a
	// Result built by hand or changed afterwards falls back to the scan.
	byName map[string]int
}

// Service returns the result of one service, or nil.
func (r *Result) Service(name string) *ServiceResult {
	if i, ok := r.byName[name]; ok && i < len(r.Services) && r.Services[i].Service == name {
		return r.Services[i]
	}
	for _, s := range r.Services {
		if s.Service == name {
			return s
		}
	}
	return nil
}

// ErrInterrupted is returned by Apply when its context was cancelled (Ctrl-C).
var ErrInterrupted = errors.New("interrupted")

// Apply carries out plan for target on b. It decides nothing: every choice is the plan's. Each
// service starts as soon as all of its dependencies are ready, independent services in
// parallel; a failure stops the launching of new services, and with opt.Rollback everything
// this run started is removed again.
func Apply(ctx context.Context, b Backend, target *Target, plan *Plan, opt Options) *Result {
	if _, ok := b.(UnboundedStarts); ok && opt.Parallel < len(target.Env.Services) {
		opt.Parallel = len(target.Env.Services)
	}
	a := &applier{b: b, t: target, plan: plan, opt: opt, res: &Result{Env: target.Env.Name, Backend: b.Name(), Begin: opt.now()}}
	a.emitMu = &sync.Mutex{}
	a.sem = make(chan struct{}, max(opt.Parallel, 1))
	a.res.byName = make(map[string]int, len(target.Env.Services))
	for _, s := range target.Env.Services {
		sr := &ServiceResult{Service: s.Name}
		if st := plan.Step(s.Name); st != nil {
			sr.Action, sr.Cause = st.Action, st.Cause
		}
		a.res.byName[s.Name] = len(a.res.Services)
		a.res.Services = append(a.res.Services, sr)
	}
	done := planStarts(b, target, plan, opt)
	a.run(ctx)
	done()
	a.res.Duration = opt.now().Sub(a.res.Begin)
	return a.res
}

type applier struct {
	b    Backend
	t    *Target
	plan *Plan
	opt  Options
	res  *Result
	sem  chan struct{} // bounds concurrent create/remove calls (Options.Parallel)

	emitMu *sync.Mutex // Events is called one at a time, so displays need no lock of their own

	mu        sync.Mutex // guards endpoints, created, failures, ahead's claimed
	endpoints map[string]envs.Endpoint
	created   []Instance
	failures  []error

	ahead     map[string]*ahead // by service; written before the walk, read-only after
	aheadSem  chan struct{}
	aheadDone sync.WaitGroup
	started   map[string]*startedSignal // by service, for createAhead's timing
}

// startedSignal is closed once a service's instance runs (started or kept).
type startedSignal struct {
	once sync.Once
	ch   chan struct{}
}

func (a *applier) markStarted(name string) {
	if s := a.started[name]; s != nil {
		s.once.Do(func() { close(s.ch) })
	}
}

// ahead is one service's instance being created ahead of its dependencies (AheadCreator).
type ahead struct {
	done    chan struct{}            // closed when the create returned
	inst    Instance                 // has an ID once created
	err     error                    // the create's
	deps    map[string]envs.Endpoint // the dependencies' endpoints its spec was resolved with
	claimed bool                     // started or removed (guarded by applier.mu)
	// whyNot is "" when the instance was started held (Holder), else why it was only created.
	whyNot string
}

// createOrHold creates spec's instance ahead and, on a Holder, starts it held; whyNot says why
// it was only created (the reason StartHeld gave, or that the backend cannot hold at all).
func (a *applier) createOrHold(ctx context.Context, ac AheadCreator, spec Spec) (inst Instance, whyNot string, err error) {
	h, ok := a.b.(Holder)
	if !ok {
		inst, err = ac.Create(ctx, spec)
		return inst, "the backend cannot hold a process", err
	}
	inst, err = h.StartHeld(ctx, spec)
	if err == nil || !errors.Is(err, ErrCannotHold) {
		return inst, "", err
	}
	whyNot = strings.TrimPrefix(err.Error(), ErrCannotHold.Error()+": ")
	inst, err = ac.Create(ctx, spec)
	return inst, whyNot, err
}

func (a *applier) emit(ev Event) {
	if a.opt.Events == nil {
		return
	}
	ev.Time = a.opt.now()
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	a.opt.Events(ev)
}

func (a *applier) run(ctx context.Context) {
	a.endpoints = map[string]envs.Endpoint{}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	// Orphans go first: they may hold names or ports the new services need.
	for _, st := range a.plan.Steps {
		if st.Action != ActionRemove {
			continue
		}
		for _, old := range st.Old {
			a.emit(Event{Service: st.Service, Phase: PhaseRemoving, Detail: st.Cause})
			if err := a.b.Remove(runCtx, old); err != nil {
				a.fail(fmt.Errorf("remove %s of service %q: %w", old.Name, st.Service, err))
				stop()
			} else {
				a.emit(Event{Service: st.Service, Phase: PhaseRemoved})
			}
		}
	}

	if len(a.failures) == 0 {
		a.createAhead(runCtx)
	}
	g := a.t.Env.Graph()
	for _, s := range a.t.Env.Services {
		if len(s.Deps) > 0 {
			a.emit(Event{Service: s.Name, Phase: PhaseWaiting, Detail: s.Deps[0].Name})
		}
	}
	if len(a.failures) == 0 {
		// Two contexts: the walk's ends only with the caller's (Ctrl-C), so that the walk can
		// still name the failed dependency of each service it skips; runCtx also ends at the
		// first failure, which interrupts the services still starting or probing and keeps
		// new ones from starting: an environment with a broken part is of no use, and the
		// sooner the user hears, the better.
		_ = graph.Walk(ctx, g, graph.WalkOptions{
			OnSkip: func(node, cause string) {
				sr := a.res.Service(node)
				if sr.Phase != "" {
					return
				}
				sr.Phase, sr.SkippedBy = PhaseSkipped, cause
				a.emit(Event{Service: node, Phase: PhaseSkipped, Detail: cause})
			},
		}, func(_ context.Context, name string) error {
			if runCtx.Err() != nil {
				sr := a.res.Service(name)
				sr.Phase = PhaseSkipped
				a.emit(Event{Service: name, Phase: PhaseSkipped, Detail: "stopped"})
				return runCtx.Err()
			}
			err := a.service(runCtx, name)
			if err != nil {
				stop()
			}
			return err
		})
	}
	// Creates ahead that the walk never claimed (a dependency failed, Ctrl-C) must finish
	// before anything is rolled back, or a container landing after the rollback would leak.
	stop()
	a.aheadDone.Wait()
	a.res.CriticalPath = criticalPath(a.t.Env, a.res)

	interrupted := ctx.Err() != nil
	switch {
	case len(a.failures) > 0:
		a.res.Err = errors.Join(a.failures...)
	case interrupted:
		a.res.Err = ErrInterrupted
	}
	if a.res.Err != nil && a.opt.BeforeRollback != nil {
		cctx := a.opt.CleanupCtx
		if cctx == nil {
			cctx = context.WithoutCancel(ctx)
		}
		a.opt.BeforeRollback(cctx, a.res)
	}
	if a.res.Err != nil && a.opt.Rollback {
		a.rollback()
	} else {
		a.removeUnclaimed()
	}
}

func (a *applier) fail(err error) {
	a.mu.Lock()
	a.failures = append(a.failures, err)
	a.mu.Unlock()
}

// service brings up one service whose dependencies are all ready.
func (a *applier) service(ctx context.Context, name string) error {
	sr := a.res.Service(name)
	st := a.plan.Step(name)
	s := a.t.Env.Service(name)
	sr.Begin = a.opt.now()
	once := s.Run == envs.RunOnce
	report := func(p ProbeResult) {
		sr.Attempts = p.Attempt
		pr := p
		sr.LastProbe = &pr
		if len(sr.Probes) == maxProbeHistory {
			sr.Probes = append(sr.Probes[:0], sr.Probes[1:]...)
		}
		sr.Probes = append(sr.Probes, p)
		a.emit(Event{Service: name, Phase: PhaseProbing, Attempt: p.Attempt, Detail: p.Detail})
	}

	var inst Instance
	if st.Action == ActionKeep {
		a.markStarted(name)
		inst = st.Old[0]
		if h, ok := a.b.(Holder); ok {
			// Held by a gate a killed run never released: its dependencies are ready now.
			if err := h.Release(ctx, inst); err != nil {
				return a.serviceFailed(ctx, sr, err)
			}
		}
		if !once {
			if err := WaitReady(ctx, a.b, inst, ReadySpecOf(s.Ready), false, report); err != nil {
				return a.serviceFailed(ctx, sr, err)
			}
		}
		sr.Phase, sr.Instance, sr.ReadyAt = PhaseKept, inst, a.opt.now()
		sr.TimeToReady = sr.ReadyAt.Sub(sr.Begin)
		a.ready(name, inst)
		a.emit(Event{Service: name, Phase: PhaseKept, Detail: st.Cause, Elapsed: sr.TimeToReady})
		return nil
	}

	a.emit(Event{Service: name, Phase: PhaseCreating, Detail: st.Cause})
	inst, used, err := a.startAhead(ctx, sr, s)
	if !used && err == nil {
		inst, err = a.create(ctx, s, st)
	}
	if err != nil {
		return a.serviceFailed(ctx, sr, err)
	}
	sr.Instance = inst
	a.markStarted(name)
	a.emit(Event{Service: name, Phase: PhaseProbing, Detail: "started"})
	if err := WaitReady(ctx, a.b, inst, ReadySpecOf(s.Ready), once, report); err != nil {
		return a.serviceFailed(ctx, sr, err)
	}
	sr.Phase, sr.ReadyAt = PhaseReady, a.opt.now()
	sr.TimeToReady = sr.ReadyAt.Sub(sr.Begin)
	a.ready(name, inst)
	a.emit(Event{Service: name, Phase: PhaseReady, Elapsed: sr.TimeToReady})
	return nil
}

// create removes the old instances of a recreated service and starts the new one, holding a
// slot of the Parallel bound for the backend calls only.
func (a *applier) create(ctx context.Context, s *envs.Service, st *Step) (Instance, error) {
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return Instance{}, ctx.Err()
	}
	defer func() { <-a.sem }()
	for _, old := range st.Old {
		if err := a.b.Remove(ctx, old); err != nil {
			if old.State == StateUnreachable && errors.Is(err, ErrHostUnreachable) {
				// Nothing stops it until its host is back, and nothing reaches it meanwhile:
				// its replacement starts elsewhere (the backend stops it once it can).
				continue
			}
			return Instance{}, fmt.Errorf("remove the old instance %s: %w", old.Name, err)
		}
	}
	a.mu.Lock()
	deps := make(map[string]envs.Endpoint, len(s.Deps))
	for _, d := range s.Deps {
		deps[d.Name] = a.endpoints[d.Name]
	}
	a.mu.Unlock()
	spec, err := a.t.Spec(s, deps)
	if err != nil {
		return Instance{}, err
	}
	inst, err := a.b.Start(ctx, spec)
	if inst.ID != "" {
		// Recorded even when Start failed half-way: whatever exists must be rolled back.
		a.mu.Lock()
		a.created = append(a.created, inst)
		a.res.Created++
		a.mu.Unlock()
	}
	if err != nil {
		return inst, fmt.Errorf("start: %w", err)
	}
	return inst, nil
}

// createAhead starts creating, in the background, the instance of every service to be
// created whose dependencies are not ready yet, when the backend's addresses are static
// (AheadCreator). A service that cannot be resolved now is simply created later, as usual.
// The creates have a Parallel bound of their own, so that they never hold up a service whose
// dependencies are ready.
func (a *applier) createAhead(ctx context.Context) {
	ac, ok := a.b.(AheadCreator)
	if !ok || a.opt.NoCreateAhead {
		return
	}
	a.ahead = map[string]*ahead{}
	a.aheadSem = make(chan struct{}, max(a.opt.Parallel, 1))
	a.started = map[string]*startedSignal{}
	for _, s := range a.t.Env.Services {
		a.started[s.Name] = &startedSignal{ch: make(chan struct{})}
	}
	// Dependency order (the plan's), so that the first layers' creates come first.
	for _, st := range a.plan.Steps {
		s := a.t.Env.Service(st.Service)
		if st.Action != ActionCreate || s == nil || len(s.Deps) == 0 {
			continue
		}
		deps := make(map[string]envs.Endpoint, len(s.Deps))
		for _, d := range s.Deps {
			ds := a.t.Env.Service(d.Name)
			if ds == nil {
				break
			}
			ports := make([]Port, 0, len(ds.Ports))
			for _, p := range ds.Ports {
				ports = append(ports, Port{Name: p.Name, Port: p.Port})
			}
			deps[d.Name] = ac.StaticEndpoint(a.t.Env.Name, d.Name, ports)
		}
		if len(deps) != len(s.Deps) {
			continue
		}
		spec, err := a.t.Spec(s, deps)
		if err != nil {
			continue // reported when the service is reached, with its dependencies' real values
		}
		ah := &ahead{done: make(chan struct{}), deps: deps}
		a.ahead[s.Name] = ah
		a.aheadDone.Add(1)
		go func() {
			defer a.aheadDone.Done()
			defer close(ah.done)
			// Not before its dependencies run: until then the engine's work on them is
			// the critical path, and a create ahead would only compete with it (measured:
			// a whole environment's creates at once held up the first layer's starts). Once
			// they run, the engine is idle while they get ready, and that is when this
			// create happens.
			for _, d := range s.Deps {
				select {
				case <-a.started[d.Name].ch:
				case <-ctx.Done():
					ah.err = ctx.Err()
					return
				}
			}
			select {
			case a.aheadSem <- struct{}{}:
			case <-ctx.Done():
				ah.err = ctx.Err()
				return
			}
			defer func() { <-a.aheadSem }()
			ah.inst, ah.whyNot, ah.err = a.createOrHold(ctx, ac, spec)
			if ah.err == nil && ah.whyNot == "" {
				// Running held, its start done: its own dependents' containers go next, so
				// that every layer's start work is done while the first layers get ready,
				// and each layer's readiness then costs only a release.
				a.markStarted(s.Name)
			}
			if ah.inst.ID != "" {
				// Not counted in Created (instances this run started) until it starts.
				a.mu.Lock()
				a.created = append(a.created, ah.inst)
				a.mu.Unlock()
			}
		}()
	}
}

// startAhead starts the instance created ahead for s, now that its dependencies are ready.
// used is false when there is none to use: it was not created (the create failed: the usual
// path will say why), or a dependency's real endpoint differs from the static one its spec
// was resolved with (then it is removed); the caller then creates the instance as usual.
func (a *applier) startAhead(ctx context.Context, sr *ServiceResult, s *envs.Service) (inst Instance, used bool, err error) {
	ah := a.ahead[s.Name]
	if ah == nil {
		return Instance{}, false, nil
	}
	select {
	case <-ah.done:
	case <-ctx.Done():
		return Instance{}, false, ctx.Err()
	}
	if ah.err != nil || ah.inst.ID == "" {
		sr.StartPath = "created when ready: the create ahead failed"
		if ah.inst.ID != "" {
			a.discardAhead(ctx, ah)
		}
		return Instance{}, false, nil
	}
	a.mu.Lock()
	var changed string
	for name, want := range ah.deps {
		if !sameEndpoint(a.endpoints[name], want) {
			changed = name
			break
		}
	}
	a.mu.Unlock()
	if changed != "" {
		sr.StartPath = "created when ready: " + changed + "'s address is not the one it was created with"
		if err := a.discardAhead(ctx, ah); err != nil {
			return Instance{}, false, fmt.Errorf("remove the instance created ahead: %w", err)
		}
		return Instance{}, false, nil
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		return Instance{}, false, ctx.Err()
	}
	defer func() { <-a.sem }()
	if ah.whyNot == "" {
		sr.StartPath = "started ahead, held by the gate"
	} else {
		sr.StartPath = "created ahead; not started held: " + ah.whyNot
	}
	a.mu.Lock()
	ah.claimed = true
	a.res.Created++
	a.mu.Unlock()
	inst, err = a.b.(AheadCreator).StartCreated(ctx, ah.inst)
	if err != nil {
		return ah.inst, true, fmt.Errorf("start: %w", err)
	}
	return inst, true, nil
}

func sameEndpoint(a, b envs.Endpoint) bool {
	if a.Host != b.Host || len(a.Ports) != len(b.Ports) {
		return false
	}
	for k, v := range a.Ports {
		if w, ok := b.Ports[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// removeUnclaimed removes the instances created ahead for services the run never reached
// (a dependency failed, or Ctrl-C) when there is no rollback: they never ran, and without
// this they would stay behind as created-but-never-started containers.
func (a *applier) removeUnclaimed() {
	if len(a.ahead) == 0 {
		return
	}
	ctx := a.opt.CleanupCtx
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
	}
	for _, ah := range a.ahead {
		if !ah.claimed && ah.inst.ID != "" {
			_ = a.discardAhead(ctx, ah)
		}
	}
}

// discardAhead removes an instance created ahead that will not be started, and forgets it.
func (a *applier) discardAhead(ctx context.Context, ah *ahead) error {
	a.mu.Lock()
	ah.claimed = true
	a.mu.Unlock()
	if err := a.b.Remove(ctx, ah.inst); err != nil {
		return err // still in created: a rollback tries again
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, c := range a.created {
		if c.ID == ah.inst.ID {
			a.created = append(a.created[:i], a.created[i+1:]...)
			break
		}
	}
	return nil
}

func (a *applier) ready(name string, inst Instance) {
	a.mu.Lock()
	a.endpoints[name] = envs.Endpoint{Host: inst.Host, Ports: inst.Ports}
	a.mu.Unlock()
}

// serviceFailed records a service's failure. A failure caused only by the run being stopped
// (another service failed first, or Ctrl-C) is not a root cause and is recorded as skipped.
func (a *applier) serviceFailed(ctx context.Context, sr *ServiceResult, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		sr.Phase = PhaseSkipped
		a.emit(Event{Service: sr.Service, Phase: PhaseSkipped, Detail: "stopped"})
		return err
	}
	var se *ServiceError
	if errors.As(err, &se) {
		err = se // it says what happened itself ("service %q was never launched: ..."), unprefixed
	} else {
		err = &ServiceError{Service: sr.Service, Reason: "failed to start: " + err.Error(), ExitCode: -1, Err: err}
	}
	sr.Phase, sr.Err = PhaseFailed, err
	a.fail(err)
	a.emit(Event{Service: sr.Service, Phase: PhaseFailed, Detail: firstLine(err.Error()), Elapsed: a.opt.now().Sub(sr.Begin)})
	return err
}

// rollback removes what this run started, dependents first, and the environment's own
// resources when nothing of it is left.
func (a *applier) rollback() {
	ctx := a.opt.CleanupCtx
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
	}
	created := a.created
	byService := map[string]Instance{}
	var names []string
	for _, inst := range created {
		byService[inst.Service] = inst
		names = append(names, inst.Service)
	}
	sort.Strings(names)
	depsOf := func(n string) []string { return ParseDeps(byService[n].Labels[LabelDeps]) }
	var errs []error
	if br, ok := a.b.(BulkRemover); ok {
		_, lost, failed := removeAll(ctx, br, created, 0, a.emit, "rollback")
		errs = append(failed, lost...)
		for i, err := range errs {
			errs[i] = fmt.Errorf("rollback: %w", err)
		}
		names = nil
	}
	for _, n := range DependentsFirst(names, depsOf) {
		inst := byService[n]
		a.emit(Event{Service: n, Phase: PhaseRemoving, Detail: "rollback"})
		if err := a.b.Remove(ctx, inst); err != nil {
			errs = append(errs, fmt.Errorf("rollback: remove %s: %w", inst.Name, err))
			continue
		}
		a.emit(Event{Service: n, Phase: PhaseRemoved})
	}
	if err := TeardownIfEmpty(ctx, a.b, a.t.Env.Name); err != nil {
		errs = append(errs, fmt.Errorf("rollback: %w", err))
	}
	if vm, ok := a.b.(VolumeManager); ok {
		// Only the volumes this run created: an earlier up's data stays.
		if err := vm.RemoveVolumes(ctx, a.t.Env.Name, true); err != nil {
			errs = append(errs, fmt.Errorf("rollback: %w", err))
		}
	}
	if len(errs) > 0 {
		a.res.Err = errors.Join(append([]error{a.res.Err}, errs...)...)
		return
	}
	a.res.RolledBack = true
}

// TeardownIfEmpty removes the environment's own resources once no instance is left.
func TeardownIfEmpty(ctx context.Context, b Backend, env string) error {
	em, ok := b.(EnvironmentManager)
	if !ok {
		return nil
	}
	left, err := b.Observe(ctx, env)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return nil
	}
	return em.Teardown(ctx, env)
}

// criticalPath follows, from the service that finished last, the dependency that finished
// last, back to a root: the chain that bounded the time of the whole run.
func criticalPath(env *envs.Environment, r *Result) []string {
	var last *ServiceResult
	for _, s := range r.Services {
		if s.ReadyAt.IsZero() {
			continue
		}
		if last == nil || s.ReadyAt.After(last.ReadyAt) {
			last = s
		}
	}
	var path []string
	for last != nil {
		path = append(path, last.Service)
		var next *ServiceResult
		for _, d := range env.Service(last.Service).Deps {
			ds := r.Service(d.Name)
			if ds != nil && !ds.ReadyAt.IsZero() && (next == nil || ds.ReadyAt.After(next.ReadyAt)) {
				next = ds
			}
		}
		last = next
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

package provisioner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/envctl/envctl/graph"
)

// Down removes everything of one environment, dependents before their dependencies, read from
// the backend alone (no file). Instances are stopped with opt.Grace, then removed; the
// environment's own resources go last. It returns how many instances it removed.
func Down(ctx context.Context, b Backend, env string, opt Options) (int, error) {
	removed := 0
	began := time.Now()
	for round := 0; ; round++ {
		insts, err := b.Observe(ctx, env)
		if err != nil {
			return removed, err
		}
		settled := round > 0 && len(insts) == 0 && time.Since(began) >= minSettle
		if round > 0 && len(insts) == 0 && (settled || round >= maxSettleRounds) {
			break
		}
		n, lost, err := removeInstances(ctx, b, insts, opt)
		removed += n
		if err != nil {
			return removed, err
		}
		if len(lost) > 0 {
			// Instances on hosts that do not answer stay until their hosts are back; the
			// environment's own resources go all the same (on Mesos, a removed framework's
			// tasks are shut down by the master when their agent comes back), and the error
			// names what is left.
			if err := removeEnvironment(ctx, b, env, opt); err != nil {
				return removed, err
			}
			return removed, &LeftError{Env: env, Errs: lost}
		}
		if opt.Settle <= 0 || round >= maxSettleRounds {
			break
		}
		// A killed up's network create may land after its last container's: the
		// environment's own resources are removed in every round too, not only at the end
		// (the fault suite saw a network appear 2 s after a down on a loaded engine).
		if err := removeEnvironment(ctx, b, env, opt); err != nil {
			return removed, err
		}
		select {
		case <-ctx.Done():
			return removed, ctx.Err()
		case <-time.After(opt.Settle):
		}
	}
	return removed, removeEnvironment(ctx, b, env, opt)
}

// removeEnvironment removes env's own resources: its network, and its volumes unless kept.
func removeEnvironment(ctx context.Context, b Backend, env string, opt Options) error {
	if em, ok := b.(EnvironmentManager); ok {
		if err := em.Teardown(ctx, env); err != nil {
			return err
		}
	}
	if vm, ok := b.(VolumeManager); ok && !opt.KeepVolumes {
		if err := vm.RemoveVolumes(ctx, env, false); err != nil {
			return err
		}
	}
	return nil
}

// maxSettleRounds bounds Options.Settle's looks: a killed up had at most --parallel creates in
// flight, and the engine finishes them within a few seconds even when loaded.
const maxSettleRounds = 6

// minSettle is how long, at least, Down keeps looking with Settle: the engine finishes an
// orphaned create within a second when idle, but took over 2 s at a load average of 18.
const minSettle = 3 * time.Second

// BulkRemover is a backend that removes many instances best all at once (Mesos: every KILL
// sent together, then one wait for all the terminal updates; a walk of dependents before
// their dependencies would make each layer wait for the stop of the one above it). Down and a
// rollback give it every instance in one call. RemoveAll stops running instances with grace
// (0: at once), removes them, and calls removed for each (err nil when it is gone) from any
// goroutine; it returns once every instance is settled or ctx ends.
type BulkRemover interface {
	RemoveAll(ctx context.Context, insts []Instance, grace time.Duration, removed func(Instance, error))
}

// removeAll removes insts through a BulkRemover, with the events Down's walk emits: removing
// for every service at once, removed for each once all its instances are gone.
func removeAll(ctx context.Context, br BulkRemover, insts []Instance, grace time.Duration, emit func(Event), what string) (removed int, lost, errs []error) {
	left := map[string]int{}
	var order []string
	for _, inst := range insts {
		if left[inst.Service] == 0 {
			order = append(order, inst.Service)
		}
		left[inst.Service]++
	}
	for _, svc := range order {
		emit(Event{Service: svc, Phase: PhaseRemoving, Detail: what})
	}
	var mu sync.Mutex
	br.RemoveAll(ctx, insts, grace, func(inst Instance, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs, lost = removeFailed(inst, err, errs, lost)
			return
		}
		removed++
		if left[inst.Service]--; left[inst.Service] == 0 {
			emit(Event{Service: inst.Service, Phase: PhaseRemoved})
		}
	})
	sort.Slice(lost, func(i, j int) bool { return lost[i].Error() < lost[j].Error() })
	return removed, lost, errs
}

// removeFailed files a failed removal: lost when the instance's host does not answer, else an
// error.
func removeFailed(inst Instance, err error, errs, lost []error) ([]error, []error) {
	if errors.Is(err, ErrHostUnreachable) {
		who := inst.Name
		if who == "" {
			who = inst.ID
		}
		return errs, append(lost, fmt.Errorf("%s (%s): %w", inst.Service, who, err))
	}
	return append(errs, fmt.Errorf("remove %s: %w", inst.Name, err)), lost
}

// LeftError is Down's error when instances could not be removed because their hosts do not
// answer (ErrHostUnreachable); everything else of the environment is gone.
type LeftError struct {
	Env  string
	Errs []error // one per instance left
}

func (e *LeftError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "removed all but %d instance(s), on hosts that do not answer; they are stopped when their hosts are back:", len(e.Errs))
	for _, err := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *LeftError) Unwrap() error { return ErrHostUnreachable }

// removeInstances removes insts, dependents before their dependencies (or all at once on a
// BulkRemover). lost are the removals that failed because the instance's host does not answer.
func removeInstances(ctx context.Context, b Backend, insts []Instance, opt Options) (int, []error, error) {
	byService := map[string][]Instance{}
	g := graph.New()
	for _, inst := range insts {
		if _, ok := byService[inst.Service]; !ok {
			g.Add(inst.Service)
		}
		byService[inst.Service] = append(byService[inst.Service], inst)
	}
	for svc, list := range byService {
		for _, d := range ParseDeps(list[0].Labels[LabelDeps]) {
			if _, ok := byService[d]; ok {
				// Reversed: a dependency "depends on" its dependents being gone first.
				g.Connect(d, svc)
			}
		}
	}
	sem := make(chan struct{}, max(opt.Parallel, 1))
	var mu sync.Mutex // guards removed and errs across walkers
	removed := 0
	var errs, lost []error
	emitMu := sync.Mutex{}
	emit := func(ev Event) {
		if opt.Events != nil {
			ev.Time = opt.now()
			emitMu.Lock()
			opt.Events(ev)
			emitMu.Unlock()
		}
	}
	if br, ok := b.(BulkRemover); ok {
		var grace time.Duration
		if opt.Grace > 0 {
			grace = opt.Grace
		}
		n, lost, errs := removeAll(ctx, br, insts, grace, emit, "")
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
		}
		return n, lost, errors.Join(errs...)
	}
	walkErr := graph.Walk(ctx, g, graph.WalkOptions{}, func(ctx context.Context, svc string) error {
		sem <- struct{}{}
		defer func() { <-sem }()
		emit(Event{Service: svc, Phase: PhaseRemoving})
		for _, inst := range byService[svc] {
			if inst.State == StateRunning && opt.Grace > 0 {
				// A failed stop is not fatal: Remove kills what did not stop.
				_ = b.Stop(ctx, inst, opt.Grace)
			}
			if err := b.Remove(ctx, inst); err != nil {
				mu.Lock()
				errs, lost = removeFailed(inst, err, errs, lost)
				mu.Unlock()
				// Keep going: a dependency left behind is better than a half-done down that
				// stops at the first error.
				continue
			}
			mu.Lock()
			removed++
			mu.Unlock()
		}
		emit(Event{Service: svc, Phase: PhaseRemoved})
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	sort.Slice(lost, func(i, j int) bool { return lost[i].Error() < lost[j].Error() })
	return removed, lost, errors.Join(errs...)
}

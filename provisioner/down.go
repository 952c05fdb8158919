package provisioner

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/envctl/envctl/graph"
)

// Down removes everything of one environment, dependents before their dependencies, read from
// the backend alone (no file). Instances are stopped with opt.Grace, then removed; the
// environment's own resources go last. It returns how many instances it removed.
func Down(ctx context.Context, b Backend, env string, opt Options) (int, error) {
	insts, err := b.Observe(ctx, env)
	if err != nil {
		return 0, err
	}
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
	var errs []error
	emitMu := sync.Mutex{}
	emit := func(ev Event) {
		if opt.Events != nil {
			ev.Time = opt.now()
			emitMu.Lock()
			opt.Events(ev)
			emitMu.Unlock()
		}
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
				errs = append(errs, fmt.Errorf("remove %s: %w", inst.Name, err))
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
	if em, ok := b.(EnvironmentManager); ok && len(errs) == 0 {
		if err := em.Teardown(ctx, env); err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

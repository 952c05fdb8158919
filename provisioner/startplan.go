package provisioner

// planStarts tells a StartPlanner backend which services Apply is going to start, and returns
// the function that says it is done; a no-op for other backends.
func planStarts(b Backend, t *Target, plan *Plan, opt Options) (done func()) {
	sp, ok := b.(StartPlanner)
	if !ok {
		return func() {}
	}
	starts := map[string]bool{}
	for _, s := range t.Env.Services {
		if st := plan.Step(s.Name); st != nil && (st.Action == ActionCreate || st.Action == ActionRecreate) {
			starts[s.Name] = true
		}
	}
	deps := make(map[string][]string, len(starts))
	for _, s := range t.Env.Services {
		if !starts[s.Name] {
			continue
		}
		var ds []string
		for _, d := range s.Deps {
			if starts[d.Name] {
				ds = append(ds, d.Name)
			}
		}
		deps[s.Name] = ds
	}
	return sp.PlanStarts(StartPlan{Env: t.Env.Name, Deps: deps, Parallel: max(opt.Parallel, 1)})
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/envctl/envctl/internal/envgen"
)

// planScale is plan's and validate's CPU time on the loader benchmark's files (internal/envgen)
// of several sizes. validate is the loader alone (load, check, order); plan adds the
// planner and the rendering of every service. Both must grow linearly: plan once did not (a
// lookup by scan per service made its own part quadratic, 0.1 s at 1,000 services and 2.5 s at
// 10,000), which this table would have shown as a per-service time rising with size.
type planScale struct {
	Services int
	Validate []Measurement
	Plan     []Measurement
}

// measurePlanScale runs `envctl validate` and `envctl plan --offline` runs times on each size,
// rounds as the outer loop so that a burst of load spreads over all sizes.
func (b *bench) measurePlanScale(ctx context.Context, sizes []int) ([]*planScale, error) {
	var out []*planScale
	for _, n := range sizes {
		dir := filepath.Join(b.dir, "plan-"+strconv.Itoa(n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(envgen.Realistic(n)), 0o644); err != nil {
			return nil, err
		}
		out = append(out, &planScale{Services: n})
	}
	for r := 1; r <= b.cfg.runs; r++ {
		for _, p := range out {
			dir := filepath.Join(b.dir, "plan-"+strconv.Itoa(p.Services))
			cctx, cancel := context.WithTimeout(ctx, commandTimeout)
			v, err := measure(cctx, dir, b.envctl, "validate", "-f", dir)
			if err == nil {
				var pl Measurement
				pl, err = measure(cctx, dir, b.envctl, "plan", "--offline", "-f", dir)
				p.Plan = append(p.Plan, pl)
			}
			cancel()
			if err != nil {
				return out, err
			}
			p.Validate = append(p.Validate, v)
			b.logf("round %d/%d: plan scaling, %d services: validate CPU %s, plan CPU %s", r, b.cfg.runs, p.Services,
				ms(v.CPU), ms(p.Plan[len(p.Plan)-1].CPU))
		}
	}
	return out, nil
}

// perService is a duration divided by a number of services, in microseconds.
func perService(d time.Duration, n int) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d µs", (d / time.Duration(n)).Microseconds())
}

// planLinear is the plan goal: 10× the services in at most 11× plan's CPU time, the loader's
// criterion (issue 2) applied to plan, between the smallest and the largest size measured.
func planLinear(ps []*planScale) (goal, bool) {
	if len(ps) < 2 || len(ps[0].Plan) == 0 || len(ps[len(ps)-1].Plan) == 0 {
		return goal{"`plan` linear (CPU grows no faster than the services, +10 %)", "not run", "not measured"}, false
	}
	lo, hi := ps[0], ps[len(ps)-1]
	a, z := summarize(cpus(lo.Plan)).Median, summarize(cpus(hi.Plan)).Median
	scale := float64(hi.Services) / float64(lo.Services)
	limit := 1.1 * scale
	got := float64(z) / float64(a)
	ok := got <= limit
	v := "**not met**"
	if ok {
		v = "**met**"
	}
	return goal{fmt.Sprintf("`plan` linear: %d → %d services within %.0f× CPU", lo.Services, hi.Services, limit),
		fmt.Sprintf("%s → %s = %.1f×", ms(a), ms(z), got), v}, ok
}

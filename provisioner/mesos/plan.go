package mesos

import (
	"time"

	"github.com/envctl/envctl/provisioner"
)

// startPlan is what the session knows of the launches an Apply is going to make
// (provisioner.StartPlanner): which services are still to come, and how many of them will
// come soon. "Soon" is a guess the layered shape of environments makes good: a service whose
// dependencies have all been launched is typically started within the second their layer
// takes to get ready, while one with a dependency not launched yet is a whole layer away.
type startPlan struct {
	parallel   int
	deps       map[string][]string  // service -> the plan's services it waits for
	dependents map[string][]string  // service -> the plan's services that wait for it
	unlaunched map[string]int       // service not yet started -> its dependencies not yet launched
	started    map[string]bool      // Start came (enqueued)
	launchedAt map[string]time.Time // when its task went out in an ACCEPT
	toStart    int                  // services whose Start has not come yet
	soon       int                  // of those, the ones whose dependencies are all launched
}

func newStartPlan(p provisioner.StartPlan) *startPlan {
	pl := &startPlan{parallel: max(p.Parallel, 1), deps: map[string][]string{}, dependents: map[string][]string{},
		unlaunched: map[string]int{}, started: map[string]bool{}, launchedAt: map[string]time.Time{}}
	for svc, deps := range p.Deps {
		n := 0
		for _, d := range deps {
			if _, ok := p.Deps[d]; ok && d != svc {
				pl.deps[svc] = append(pl.deps[svc], d)
				pl.dependents[d] = append(pl.dependents[d], svc)
				n++
			}
		}
		pl.unlaunched[svc] = n
		pl.toStart++
		if n == 0 {
			pl.soon++
		}
	}
	return pl
}

// expecting tells whether Starts are still to come.
func (pl *startPlan) expecting() bool { return pl != nil && pl.toStart > 0 }

// start records that service's Start came.
func (pl *startPlan) start(service string) {
	n, ok := pl.unlaunched[service]
	if !ok || pl.started[service] {
		return // not planned (a Start the plan does not name), or a second Start
	}
	pl.started[service] = true
	pl.toStart--
	if n == 0 {
		pl.soon--
	}
}

// launch records that service's task was launched: the services waiting for it may come soon.
func (pl *startPlan) launch(service string, at time.Time) {
	if _, ok := pl.unlaunched[service]; !ok || !pl.launchedAt[service].IsZero() {
		return
	}
	pl.launchedAt[service] = at
	for _, d := range pl.dependents[service] {
		pl.unlaunched[d]--
		if pl.unlaunched[d] == 0 && !pl.started[d] {
			pl.soon++
		}
	}
}

package mesos

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/envctl/envctl/provisioner"
)

// taskView is one task's latest status as envctl knows it.
type taskView struct {
	known    bool // a status has been seen
	status   mesospb.TaskStatus
	health   []provisioner.ProbeResult // health observations, oldest first
	hasCheck bool                      // the task has a Mesos health check
	agentID  string
}

// pollInterval paces readiness and log polling where no event stream tells envctl of a
// change: tasks this process did not launch, and the sandbox files of a log probe.
const pollInterval = 200 * time.Millisecond

// failureLogLines is how much of a failed service's output its error carries.
const failureLogLines = 20

// watch returns a task's view and a channel that is closed when it may have changed: the
// session's own when this process watches the task, else a poll of the operator API.
func (b *Backend) watch(ctx context.Context, inst provisioner.Instance) (taskView, <-chan struct{}, error) {
	b.mu.Lock()
	s := b.sessions[inst.Env]
	b.mu.Unlock()
	if s != nil {
		if v, ch, ok := s.view(inst.ID); ok {
			return v, ch, nil
		}
	}
	tick := make(chan struct{})
	time.AfterFunc(pollInterval, func() { close(tick) })
	_, t, err := b.findTask(ctx, inst.Env, inst.ID)
	if err != nil {
		return taskView{}, tick, err
	}
	v := taskView{known: true, hasCheck: t.HealthCheck != nil, agentID: t.AgentID.Value}
	if st, ok := lastStatus(t); ok {
		v.status = st
	}
	v.status.State = t.State
	if v.status.Healthy != nil && v.status.GetState() == mesospb.TASK_RUNNING {
		v.health = []provisioner.ProbeResult{healthResult(0, v.status)}
	}
	return v, tick, nil
}

// ChecksNatively tells which readiness this backend checks itself (WaitReady) rather than
// envctl's generic prober: a job (its end, TASK_FINISHED), a log probe (the task's sandbox
// through the agent's files API), an exec probe (a Mesos COMMAND health check: the Docker
// containerizer gives a framework no other way into a container), and every probe of a task
// that carries a Mesos health check because envctl cannot reach its agent's host ports
// (LabelReadiness). Everything else — http, tcp, the default ports check and any protocol
// probe — is probed by envctl from outside, through ProbeAddrs: the agent's host and the
// task's host port, on the same adaptive schedule as on Docker, and nothing runs on the
// cluster for it, during the start or after.
func (b *Backend) ChecksNatively(inst provisioner.Instance, rs provisioner.ReadySpec, once bool) bool {
	return once || inst.Labels[provisioner.LabelRun] == "once" || rs.Kind == provisioner.ProbeLog ||
		rs.Kind == provisioner.ProbeExec || inst.Labels[LabelReadiness] == ProbeMesos
}

// unreachable tells whether envctl found inst's agent out of its reach (reach.go).
func (b *Backend) unreachable(inst provisioner.Instance) bool {
	b.reach.mu.Lock()
	defer b.reach.mu.Unlock()
	a := b.reach.agents[inst.Host]
	return a != nil && !a.ok
}

// WaitReady waits until the Mesos health check of inst passes (or, without one, it runs; a job:
// it finished; a log probe: a line of its sandbox output matches). The caller bounds ctx with
// the ready timeout. Every health observation is reported.
func (b *Backend) WaitReady(ctx context.Context, inst provisioner.Instance, rs provisioner.ReadySpec, report func(provisioner.ProbeResult)) error {
	once := inst.Labels[provisioner.LabelRun] == "once"
	timeout := rs.Timeout
	if timeout <= 0 {
		timeout = provisioner.DefaultReadyTimeout
	}
	var re *regexp.Regexp
	var sb *sandbox
	if rs.Kind == provisioner.ProbeLog && !once {
		var err error
		if re, err = regexp.Compile(rs.Log); err != nil {
			return &provisioner.ServiceError{Service: inst.Service, Reason: "has an invalid log pattern: " + err.Error(), ExitCode: -1}
		}
	}
	var history []provisioner.ProbeResult
	seen := map[string]bool{}
	attempt, lineNo := 0, 0
	rep := func(r provisioner.ProbeResult) {
		attempt++
		r.Attempt = attempt
		history = append(history, r)
		if len(history) > 5 {
			history = history[len(history)-5:]
		}
		if report != nil {
			report(r)
		}
	}
	for {
		var poll <-chan time.Time
		v, ch, err := b.watch(ctx, inst)
		switch {
		case errors.Is(err, errTaskNotFound):
			return &provisioner.ServiceError{Service: inst.Service, Reason: "is gone from Mesos (its task " + inst.ID + " is unknown to the master)", ExitCode: -1, Probes: history}
		case err != nil && ctx.Err() == nil:
			b.logf("mesos: readiness of %s: %v", inst.ID, err) // transient: try again
		}
		for _, h := range v.health {
			key := fmt.Sprintf("%d/%d/%v", h.Attempt, h.At.UnixNano(), h.OK)
			if !seen[key] {
				seen[key] = true
				if !h.OK && rs.Kind == provisioner.ProbeHTTP && ctx.Err() == nil && !b.unreachable(inst) {
					// Mesos says only "unhealthy" (its executor logs why, among its own lines):
					// envctl asks once itself through the published port, so the report says
					// what the service answered ("HTTP 503").
					if _, detail := provisioner.ProbeOnce(ctx, b, inst, rs); detail != "" && ctx.Err() == nil {
						h.Detail += "; envctl's own check: " + detail
					}
				}
				rep(h)
			}
		}
		if v.known {
			state := v.status.GetState()
			switch {
			case once && state == mesospb.TASK_FINISHED:
				rep(provisioner.ProbeResult{At: time.Now(), OK: true, Detail: "finished: exited 0"})
				return nil
			case terminal(state):
				return b.ended(ctx, inst, v, once, history)
			case !once && state == mesospb.TASK_RUNNING:
				switch {
				case re != nil:
					if sb == nil {
						sb, err = b.sandboxOf(ctx, inst)
						if err != nil {
							b.logf("mesos: sandbox of %s: %v", inst.ID, err)
						}
					}
					if sb != nil {
						lines, err := sb.newLines(ctx)
						if err != nil {
							b.logf("mesos: sandbox of %s: %v", inst.ID, err)
						}
						for _, l := range lines {
							lineNo++
							if re.MatchString(l) {
								rep(provisioner.ProbeResult{At: time.Now(), OK: true, Detail: fmt.Sprintf("line %d matches %q", lineNo, rs.Log)})
								return nil
							}
						}
					}
				case v.hasCheck:
					healthy := v.status.Healthy != nil && v.status.GetHealthy()
					if n := len(v.health); n > 0 && v.health[n-1].OK {
						healthy = true
					}
					switch {
					case !healthy:
					case exactStatus(rs) && b.unreachable(inst):
						rep(provisioner.ProbeResult{At: time.Now(), OK: true, Detail: fmt.Sprintf(
							"Mesos health check passed (any HTTP 200-399: envctl cannot reach the agent to check for %d itself)", rs.Status)})
						return nil
					case exactStatus(rs):
						// Mesos passed any 200-399; the file asked for one status. envctl checks
						// it itself through the published port (an HTTP answer, unlike a TCP
						// accept, cannot come from the Docker port proxy), every poll.
						ok, detail := provisioner.ProbeOnce(ctx, b, inst, rs)
						if ok || ctx.Err() == nil { // an attempt cut off by the deadline is no observation
							rep(provisioner.ProbeResult{At: time.Now(), OK: ok, Detail: "Mesos health check passed; " + detail})
						}
						if ok {
							return nil
						}
						poll = time.After(pollInterval)
					case len(v.health) > 0:
						return nil
					default:
						rep(provisioner.ProbeResult{At: time.Now(), OK: true, Detail: "Mesos health check passed"})
						return nil
					}
				default:
					rep(provisioner.ProbeResult{At: time.Now(), OK: true, Detail: "running"})
					return nil
				}
			}
		}
		if re != nil {
			poll = time.After(pollInterval)
		}
		select {
		case <-ch:
		case <-poll:
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ctx.Err()
			}
			if re != nil {
				rep(provisioner.ProbeResult{At: time.Now(), Detail: fmt.Sprintf("no line matched %q", rs.Log)})
			}
			return &provisioner.ServiceError{Service: inst.Service, Reason: "did not become ready within " + timeout.String(),
				ExitCode: -1, Probes: history, Logs: b.tail(ctx, inst), Err: provisioner.ErrNotReady}
		}
	}
}

// neverLaunched is the error of a task still waiting for offers when its ready timeout ended:
// no agent offered it what it asks for — not a service that failed to get ready, which would
// send its owner looking at its health check or its logs. It names the request, so that the
// file's resources or the cluster's agents can be compared with it.
func neverLaunched(spec provisioner.Spec, waited time.Duration, why string) error {
	need := demand(spec)
	ask := fmt.Sprintf("cpus %g, mem %g MB", need.cpus, need.mem)
	if n := len(spec.Ports); n > 0 {
		ask += fmt.Sprintf(", %d port", n)
		if n > 1 {
			ask += "s"
		}
	}
	if why == "" {
		why = "an agent's free resources must cover all of it; lower the service's resources, or add agents"
	}
	return &provisioner.ServiceError{Service: spec.Service, ExitCode: -1, Err: provisioner.ErrNotReady,
		Reason: fmt.Sprintf("was never launched: still waiting for offers after %s — no agent offered the %s it asks for: %s", waited, ask, why)}
}

// ended is the error of a task that ended before it was ready (or a job that failed).
func (b *Backend) ended(ctx context.Context, inst provisioner.Instance, v taskView, once bool, history []provisioner.ProbeResult) error {
	st := v.status
	code := exitCode(st)
	var reason string
	switch {
	case once && code >= 0:
		reason = fmt.Sprintf("exited with code %d", code)
	case once:
		reason = "failed: " + describe(st)
	case st.GetState() == mesospb.TASK_KILLED && st.Healthy != nil && !st.GetHealthy():
		reason = "was killed by Mesos after its health check kept failing"
	case code >= 0:
		reason = fmt.Sprintf("exited with code %d before it was ready", code)
	default:
		reason = "ended before it was ready: " + describe(st)
	}
	return &provisioner.ServiceError{Service: inst.Service, Reason: reason, ExitCode: code, Probes: history, Logs: b.tail(ctx, inst)}
}

// exactStatus tells whether rs asks for an HTTP status that a Mesos health check alone does not
// prove: any status but the default, which Mesos's 200-399 covers as Docker's probe would not.
func exactStatus(rs provisioner.ReadySpec) bool {
	return rs.Kind == provisioner.ProbeHTTP && rs.Status != 0 && rs.Status != 200
}

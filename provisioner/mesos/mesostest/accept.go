package mesostest

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// acceptLocked is Master::accept and Master::_accept (mesos.md §1.6). It
// returns the number of tasks the call named.
func (m *Master) acceptLocked(fw *framework, acc *scheduler.Call_Accept) int {
	var launches [][]mesos.TaskInfo // per LAUNCH/LAUNCH_GROUP operation
	var groups []bool
	var groupExec []*mesos.ExecutorInfo
	n := 0
	for _, op := range acc.Operations {
		switch op.Type {
		case mesos.Offer_Operation_LAUNCH:
			if op.Launch != nil {
				launches = append(launches, op.Launch.TaskInfos)
				groups = append(groups, false)
				groupExec = append(groupExec, nil)
				n += len(op.Launch.TaskInfos)
			}
		case mesos.Offer_Operation_LAUNCH_GROUP:
			if op.LaunchGroup != nil {
				launches = append(launches, op.LaunchGroup.TaskGroup.Tasks)
				groups = append(groups, true)
				e := op.LaunchGroup.Executor
				groupExec = append(groupExec, &e)
				n += len(op.LaunchGroup.TaskGroup.Tasks)
			}
		}
	}

	offers, err := m.validateOffersLocked(fw, acc.OfferIDs)
	if err != nil {
		// Discard every named offer that still exists, with no filter.
		for _, id := range acc.OfferIDs {
			if o := m.offers[id.Value]; o != nil && o.fw == fw {
				m.removeOfferLocked(o)
			}
		}
		state := mesos.TASK_LOST
		if fw.hasCap(mesos.FrameworkInfo_Capability_PARTITION_AWARE) {
			state = mesos.TASK_DROPPED
		}
		for _, tasks := range launches {
			for _, ti := range tasks {
				st := m.masterStatus(ti.TaskID, ti.AgentID.Value, state, mesos.REASON_INVALID_OFFERS,
					"Task launched with invalid offers: "+err.Error())
				m.sendUpdateLocked(fw, st)
			}
		}
		return n
	}
	a := offers[0].agent
	role := offers[0].role
	var available res
	for _, o := range offers {
		available = available.plus(o.res)
		m.removeOfferLocked(o)
	}
	for i, tasks := range launches {
		if groups[i] {
			if msg := validateGroup(groupExec[i], tasks); msg != "" {
				for _, ti := range tasks {
					m.sendUpdateLocked(fw, m.masterStatus(ti.TaskID, a.id, mesos.TASK_ERROR,
						mesos.REASON_TASK_GROUP_INVALID, msg))
				}
				continue
			}
		}
		for _, ti := range tasks {
			r, msg := m.validateTaskLocked(fw, a, &ti, available)
			if msg != "" {
				m.sendUpdateLocked(fw, m.masterStatus(ti.TaskID, a.id, mesos.TASK_ERROR,
					mesos.REASON_TASK_INVALID, msg))
				continue
			}
			available = available.minus(r)
			m.launchLocked(fw, a, ti, r, role)
		}
	}
	m.recoverLocked(fw, a, role, available, acc.Filters)
	return n
}

// validateOffersLocked is validation::offer::validate.
func (m *Master) validateOffersLocked(fw *framework, ids []mesos.OfferID) ([]*offer, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("No offers specified")
	}
	seen := map[string]bool{}
	var out []*offer
	for _, id := range ids {
		if seen[id.Value] {
			return nil, fmt.Errorf("Duplicate offer %s in offer list", id.Value)
		}
		seen[id.Value] = true
		o := m.offers[id.Value]
		if o == nil {
			return nil, fmt.Errorf("Offer %s is no longer valid", id.Value)
		}
		if o.fw != fw {
			return nil, fmt.Errorf("Offer %s has invalid framework %s while framework %s is expected", id.Value, o.fw.id, fw.id)
		}
		if len(out) > 0 && o.agent != out[0].agent {
			return nil, fmt.Errorf("Aggregated offers must belong to one single agent. Offer %s uses agent %s and offer %s uses agent %s",
				out[0].id, out[0].agent.id, o.id, o.agent.id)
		}
		if len(out) > 0 && o.role != out[0].role {
			return nil, fmt.Errorf("Aggregated offers must be allocated to the same role. Offer %s uses role %s and offer %s uses role %s",
				out[0].id, out[0].role, o.id, o.role)
		}
		out = append(out, o)
	}
	return out, nil
}

// validateTaskLocked is validation::task::validate against the resources
// still available in this ACCEPT. It returns the task's resources.
func (m *Master) validateTaskLocked(fw *framework, a *agent, ti *mesos.TaskInfo, available res) (res, string) {
	if msg := validateTaskID(ti.TaskID.Value); msg != "" {
		// Mesos 1.12 sends common::validation::validateTaskID's message alone (seen on the
		// real master: "'bad/id' contains invalid characters").
		return res{}, msg
	}
	if _, dup := fw.tasks[ti.TaskID.Value]; dup {
		return res{}, "Task has duplicate ID: " + ti.TaskID.Value
	}
	if ti.AgentID.Value != a.id {
		return res{}, fmt.Sprintf("Task uses invalid agent %s while agent %s is expected", ti.AgentID.Value, a.id)
	}
	if (ti.Command == nil) == (ti.Executor == nil) {
		return res{}, "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
	}
	if ti.Executor != nil {
		return res{}, "Custom executors are not supported by the double's agents"
	}
	if kp := ti.KillPolicy; kp != nil && kp.GracePeriod != nil && kp.GracePeriod.Nanoseconds < 0 {
		return res{}, "Task's 'kill_policy.grace_period' must be non-negative"
	}
	if msg := validateHealthCheck(ti.HealthCheck); msg != "" {
		return res{}, "Task uses invalid health check: " + msg
	}
	if c := ti.Container; c != nil {
		if c.GetType() == mesos.ContainerInfo_DOCKER {
			if c.Docker == nil {
				return res{}, "DockerInfo 'docker' is not set for DOCKER typed ContainerInfo"
			}
			for _, p := range c.Docker.Parameters {
				if p.Key == "name" {
					return res{}, "Parameter in DockerInfo must not be 'name'"
				}
			}
		}
	}
	if len(ti.Resources) == 0 {
		return res{}, "Task uses no resources"
	}
	r, err := fromProto(ti.Resources)
	if err != nil {
		return res{}, "Task uses invalid resources: " + err.Error()
	}
	if !available.contains(r) {
		return res{}, fmt.Sprintf("Total resources %s required by task and its executor is more than available %s", r, available)
	}
	return r, ""
}

// validateTaskID follows common::validation::validateID.
func validateTaskID(id string) string {
	switch {
	case id == "":
		return "ID must not be empty"
	case len(id) > 255:
		return "ID must not be greater than 255 characters"
	case id == "." || id == "..":
		return "'" + id + "' is disallowed"
	}
	for _, c := range id {
		if c == '/' || c == '\\' || unicode.IsControl(c) || unicode.IsSpace(c) {
			return "'" + id + "' contains invalid characters"
		}
	}
	return ""
}

func validateHealthCheck(h *mesos.HealthCheck) string {
	if h == nil {
		return ""
	}
	switch h.Type {
	case mesos.HealthCheck_UNKNOWN:
		return "HealthCheck must specify 'type'"
	case mesos.HealthCheck_COMMAND:
		if h.Command == nil || (h.Command.GetShell() && h.Command.GetValue() == "") {
			return "Expecting 'command' to be set for COMMAND health check"
		}
	case mesos.HealthCheck_HTTP:
		if h.HTTP == nil {
			return "Expecting 'http' to be set for HTTP health check"
		}
		if s := h.HTTP.GetScheme(); s != "" && s != "http" && s != "https" {
			return "Unsupported HTTP health check scheme: '" + s + "'"
		}
		if p := h.HTTP.GetPath(); p != "" && !strings.HasPrefix(p, "/") {
			return "The path '" + p + "' of HTTP health check must start with '/'"
		}
	case mesos.HealthCheck_TCP:
		if h.TCP == nil {
			return "Expecting 'tcp' to be set for TCP health check"
		}
	}
	for name, v := range map[string]*float64{"delay_seconds": h.DelaySeconds, "interval_seconds": h.IntervalSeconds,
		"timeout_seconds": h.TimeoutSeconds, "grace_period_seconds": h.GracePeriodSeconds} {
		if v != nil && *v < 0 {
			return "Expecting '" + name + "' to be non-negative"
		}
	}
	return ""
}

// validateGroup is group::internal validation of LAUNCH_GROUP.
func validateGroup(e *mesos.ExecutorInfo, tasks []mesos.TaskInfo) string {
	if e == nil || e.Type != mesos.ExecutorInfo_DEFAULT {
		return "'ExecutorInfo.type' must be 'DEFAULT'"
	}
	if e.Container != nil && e.Container.GetType() == mesos.ContainerInfo_DOCKER {
		return "Docker ContainerInfo is not supported on the executor"
	}
	for _, t := range tasks {
		if t.Container != nil && t.Container.GetType() == mesos.ContainerInfo_DOCKER {
			return "Task '" + t.TaskID.Value + "' is invalid: Docker ContainerInfo is not supported on the task"
		}
		if t.Executor != nil {
			return "Task '" + t.TaskID.Value + "' should not have executor set"
		}
	}
	return ""
}

// launchLocked adds a task in TASK_STAGING and hands it to its agent.
func (m *Master) launchLocked(fw *framework, a *agent, ti mesos.TaskInfo, r res, role string) {
	t := &task{fw: fw, agent: a, info: ti, res: r, role: role, state: mesos.TASK_STAGING}
	fw.tasks[ti.TaskID.Value] = t
	a.used = a.used.plus(r)
	run := newTaskRun(m, a, t)
	t.run = run
	a.runs[run.key] = run
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		run.execute()
	}()
}

// killLocked is Master::kill (mesos.md §1.9).
func (m *Master) killLocked(fw *framework, k *scheduler.Call_Kill) {
	t := fw.tasks[k.TaskID.Value]
	if t == nil {
		agentID := ""
		if k.AgentID != nil {
			agentID = k.AgentID.Value
		}
		m.reconcileUnknownLocked(fw, k.TaskID, agentID)
		return
	}
	if k.AgentID != nil && k.AgentID.Value != t.agent.id {
		m.logf("ignoring KILL of task %s: agent %s is not its agent %s", t.info.TaskID.Value, k.AgentID.Value, t.agent.id)
		return
	}
	if t.run == nil {
		return
	}
	grace := defaultShutdownGrace
	if kp := t.info.KillPolicy; kp != nil && kp.GracePeriod != nil {
		grace = time.Duration(kp.GracePeriod.Nanoseconds)
	}
	if kp := k.KillPolicy; kp != nil && kp.GracePeriod != nil {
		grace = time.Duration(kp.GracePeriod.Nanoseconds)
	}
	t.run.requestKill(grace, false)
}

// acknowledgeLocked is Master::acknowledge: 202 whatever happens; only a
// matching uuid releases the next update.
func (m *Master) acknowledgeLocked(fw *framework, ack *scheduler.Call_Acknowledge) {
	do := func() {
		a := m.agentByID(ack.AgentID.Value)
		if a == nil {
			return
		}
		r := a.runs[fw.id+"/"+ack.TaskID.Value]
		if r == nil {
			m.logf("ignoring ACKNOWLEDGE for unknown task %s", ack.TaskID.Value)
			return
		}
		r.acknowledgeLocked(ack.UUID)
	}
	if d := m.faults.ackDelay; d > 0 {
		m.clock.AfterFunc(d, func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if !m.closed {
				do()
			}
		})
		return
	}
	do()
}

// reconcileLocked is Master::reconcile.
func (m *Master) reconcileLocked(fw *framework, tasks []scheduler.Call_Reconcile_Task) {
	if len(tasks) == 0 {
		for _, t := range fw.sortedTasks() {
			m.sendUpdateLocked(fw, m.reconcileStatus(t))
		}
		return
	}
	for _, rt := range tasks {
		agentID := ""
		if rt.AgentID != nil {
			agentID = rt.AgentID.Value
		}
		if t := fw.tasks[rt.TaskID.Value]; t != nil {
			m.sendUpdateLocked(fw, m.reconcileStatus(t))
			continue
		}
		m.reconcileUnknownLocked(fw, rt.TaskID, agentID)
	}
}

func (m *Master) reconcileStatus(t *task) mesos.TaskStatus {
	state := t.state
	if t.last != nil {
		state = t.last.GetState()
	}
	st := m.masterStatus(t.info.TaskID, t.agent.id, state, mesos.REASON_RECONCILIATION,
		"Reconciliation: Latest task state")
	st.Healthy = t.healthy
	// The master keeps the latest status's container_status and answers with it.
	if t.last != nil && t.last.ContainerStatus != nil {
		cs := *t.last.ContainerStatus
		st.ContainerStatus = &cs
	}
	return st
}

// reconcileUnknownLocked answers a task the master does not know.
func (m *Master) reconcileUnknownLocked(fw *framework, id mesos.TaskID, agentID string) {
	pa := fw.hasCap(mesos.FrameworkInfo_Capability_PARTITION_AWARE)
	state, msg := mesos.TASK_LOST, "Reconciliation: Task is unknown"
	if agentID != "" {
		a := m.agentByID(agentID)
		switch {
		case a == nil:
			if pa {
				state = mesos.TASK_UNKNOWN
			}
		case a.lost:
			if pa {
				state = mesos.TASK_UNREACHABLE
			}
			msg = "Reconciliation: Task is unreachable"
		default:
			if pa {
				state = mesos.TASK_GONE
			}
			msg = "Reconciliation: Task is unknown to the agent"
		}
	} else if pa {
		state = mesos.TASK_UNKNOWN
	}
	m.sendUpdateLocked(fw, m.masterStatus(id, agentID, state, mesos.REASON_RECONCILIATION, msg))
}

package mesostest

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// framework is the master's record of one framework (Master::Framework).
type framework struct {
	id            string
	info          mesos.FrameworkInfo
	stream        *stream // current subscription, nil when disconnected
	connected     bool
	hbTimer       Timer
	failoverTimer Timer
	filters       []offerFilter
	suppressed    map[string]bool // roles
	tasks         map[string]*task
	completed     []*task
	unreachable   []*task // on an agent lost while the framework is PARTITION_AWARE (LoseAgent)
	registered    time.Time
	reregistered  time.Time
	unregistered  time.Time
}

// offerFilter hides an agent's resources for one role from a framework.
type offerFilter struct {
	agent *agent
	role  string
	until time.Time
}

// task is the master's record of a task.
type task struct {
	fw      *framework
	agent   *agent
	info    mesos.TaskInfo
	res     res
	role    string
	state   mesos.TaskState   // latest state the master knows (STAGING until the agent reports)
	last    *mesos.TaskStatus // latest status received from the agent
	healthy *bool
	run     *taskRun // agent side; nil for tasks that never reached an agent
	// acked is set once the terminal update was acknowledged, so the task
	// leaves implicit reconciliation.
	done bool
}

func (fw *framework) hasCap(c mesos.FrameworkInfo_Capability_Type) bool {
	for _, k := range fw.info.Capabilities {
		if k.Type == c {
			return true
		}
	}
	return false
}

// fwRoles returns the framework's roles: roles with MULTI_ROLE, else role
// (default "*").
func fwRoles(info *mesos.FrameworkInfo) []string {
	if len(info.Roles) > 0 {
		return info.Roles
	}
	if info.Role != nil {
		return []string{*info.Role}
	}
	return []string{"*"}
}

func (fw *framework) sortedTasks() []*task {
	out := make([]*task, 0, len(fw.tasks))
	for _, t := range fw.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].info.TaskID.Value < out[j].info.TaskID.Value })
	return out
}

func (fw *framework) stopTimers() {
	if fw.hbTimer != nil {
		fw.hbTimer.Stop()
		fw.hbTimer = nil
	}
	if fw.failoverTimer != nil {
		fw.failoverTimer.Stop()
		fw.failoverTimer = nil
	}
}

// validateRole follows roles::validate in the Mesos source.
func validateRole(role string) string {
	switch {
	case role == "":
		return "Empty role name is invalid"
	case role == "." || role == "..":
		return "Role name '" + role + "' is disallowed"
	case strings.HasPrefix(role, "-"):
		return "Role name '" + role + "' cannot start with '-'"
	case role == "*":
		return ""
	}
	for _, part := range strings.Split(role, "/") {
		if part == "" || part == "." || part == ".." || part == "*" {
			return "Role '" + role + "' cannot contain an empty, '.', '..' or '*' path component"
		}
	}
	for _, c := range role {
		if c <= ' ' || c == 0x7f || c == '\\' {
			return "Role name '" + role + "' cannot include whitespace, control characters or '\\'"
		}
	}
	return ""
}

// validateFramework is the part of Master::subscribe that refuses a
// framework in the stream (ERROR event) rather than with an HTTP status.
func (m *Master) validateFrameworkLocked(info *mesos.FrameworkInfo) string {
	if info.Role != nil && len(info.Roles) > 0 {
		return "FrameworkInfo.role and FrameworkInfo.roles are both set"
	}
	multi := false
	for _, c := range info.Capabilities {
		if c.Type == mesos.FrameworkInfo_Capability_MULTI_ROLE {
			multi = true
		}
	}
	if len(info.Roles) > 0 && !multi {
		return "FrameworkInfo.roles is set but MULTI_ROLE capability is not"
	}
	seen := map[string]bool{}
	for _, r := range fwRoles(info) {
		if msg := validateRole(r); msg != "" {
			return msg
		}
		if seen[r] {
			return "FrameworkInfo.roles contains duplicate role '" + r + "'"
		}
		seen[r] = true
		if len(m.opt.Roles) > 0 && r != "*" {
			ok := false
			for _, w := range m.opt.Roles {
				ok = ok || w == r
			}
			if !ok {
				return "Role '" + r + "' is not present in the master's --roles"
			}
		}
	}
	if info.FailoverTimeout != nil {
		f := *info.FailoverTimeout
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > float64(math.MaxInt64/int64(time.Second)) {
			return "Invalid failover_timeout: must be a non-negative number of seconds"
		}
	}
	if info.User == "root" && m.opt.DenyRootSubmissions {
		return "User 'root' is not allowed to run frameworks without --root_submissions set"
	}
	return ""
}

// subscribeLocked implements Master::subscribe for an HTTP framework whose
// call passed the HTTP-level checks. It returns the new stream's events
// already queued (ERROR, or SUBSCRIBED + HEARTBEAT).
func (m *Master) subscribeLocked(call *scheduler.Call, s *stream) {
	info := *call.Subscribe.FrameworkInfo
	refuse := func(msg string) {
		_ = s.push(&scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: msg}})
		s.close()
	}
	if msg := m.validateFrameworkLocked(&info); msg != "" {
		refuse(msg)
		return
	}
	now := m.clock.Now()
	var fw *framework
	if info.ID != nil && info.ID.Value != "" {
		id := info.ID.Value
		if m.removed[id] {
			refuse("Framework has been removed")
			return
		}
		fw = m.frameworks[id]
		if fw != nil {
			// Failover: the old stream, if any, learns it was replaced. Its
			// offers are discarded without RESCIND (_failoverFramework).
			if fw.stream != nil {
				old := fw.stream
				_ = old.push(&scheduler.Event{Type: scheduler.Event_ERROR,
					Error: &scheduler.Event_Error{Message: "Framework failed over"}})
				old.close()
			}
			m.discardOffersLocked(fw)
			fw.stopTimers()
			fw.info = info
			fw.reregistered = now
		} else {
			// An ID this master does not know yet (e.g. after master
			// failover): the framework re-registers with it.
			fw = &framework{id: id, info: info, tasks: map[string]*task{}, registered: now, reregistered: now}
			m.frameworks[id] = fw
			m.fwOrder = append(m.fwOrder, id)
		}
	} else {
		id := m.newFrameworkIDLocked()
		info.ID = &mesos.FrameworkID{Value: id}
		// Mesos sets reregistered_time at the first subscription too (seen in
		// TestDifferential's GET_FRAMEWORKS).
		fw = &framework{id: id, info: info, tasks: map[string]*task{}, registered: now, reregistered: now}
		m.frameworks[id] = fw
		m.fwOrder = append(m.fwOrder, id)
	}
	// The master fills FrameworkInfo's defaults: checkpoint appears as false when unset.
	if fw.info.Checkpoint == nil {
		fw.info.Checkpoint = ptr(false)
	}
	fw.stream = s
	fw.connected = true
	fw.suppressed = map[string]bool{}
	for _, r := range call.Subscribe.SuppressedRoles {
		fw.suppressed[r] = true
	}
	hb := m.opt.HeartbeatInterval.Seconds()
	mi := m.info
	_ = s.push(&scheduler.Event{Type: scheduler.Event_SUBSCRIBED, Subscribed: &scheduler.Event_Subscribed{
		FrameworkID: &mesos.FrameworkID{Value: fw.id}, HeartbeatIntervalSeconds: &hb, MasterInfo: &mi}})
	m.heartbeatLocked(fw, s)
	// Agents resend pending status updates at once (Slave::updateFramework).
	for _, t := range fw.sortedTasks() {
		if t.run != nil {
			t.run.resendLocked()
		}
	}
	m.allocateLocked() // addFramework/activateFramework allocate at once
}

func (m *Master) newFrameworkIDLocked() string {
	id := m.id + "-" + pad4(m.nextFw)
	m.nextFw++
	return id
}

func pad4(n int) string { return fmt.Sprintf("%04d", n) }

// heartbeatLocked sends a HEARTBEAT now and arms the next one.
func (m *Master) heartbeatLocked(fw *framework, s *stream) {
	if !m.faults.noHeartbeats {
		_ = s.push(&scheduler.Event{Type: scheduler.Event_HEARTBEAT})
	}
	fw.hbTimer = m.clock.AfterFunc(m.opt.HeartbeatInterval, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed || fw.stream != s || !fw.connected {
			return
		}
		m.heartbeatLocked(fw, s)
	})
}

// streamEnded runs when a subscription's connection ended. broken means the
// connection failed (client gone or fault switch) rather than the master
// closing it.
func (m *Master) streamEnded(s *stream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, fw := range m.frameworks {
		if fw.stream == s {
			m.disconnectLocked(fw)
		}
	}
}

// disconnectLocked is Master::_exited: deactivate, drop offers and filters,
// and start the failover timer.
func (m *Master) disconnectLocked(fw *framework) {
	fw.stream = nil
	fw.connected = false
	fw.unregistered = m.clock.Now()
	fw.stopTimers()
	m.discardOffersLocked(fw)
	fw.filters = nil
	timeout := 0.0
	if fw.info.FailoverTimeout != nil {
		timeout = *fw.info.FailoverTimeout
	}
	if timeout <= 0 || m.closed {
		if !m.closed {
			m.removeFrameworkLocked(fw)
		}
		return
	}
	d := time.Duration(timeout * float64(time.Second))
	fw.failoverTimer = m.clock.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed || fw.connected || m.frameworks[fw.id] != fw {
			return
		}
		m.logf("framework %s failover timeout: removing it", fw.id)
		m.removeFrameworkLocked(fw)
	})
}

// removeFrameworkLocked is Master::removeFramework: its tasks are killed
// (TASK_KILLED/REASON_FRAMEWORK_REMOVED internally, never streamed), its
// offers dropped and its stream closed. The ID can never subscribe again.
func (m *Master) removeFrameworkLocked(fw *framework) {
	fw.stopTimers()
	m.discardOffersLocked(fw)
	if fw.stream != nil {
		fw.stream.close()
		fw.stream = nil
	}
	fw.connected = false
	for _, t := range fw.sortedTasks() {
		if !isTerminal(t.state) {
			t.state = mesos.TASK_KILLED
		}
		if t.run != nil {
			r := t.run
			m.bg.Add(1)
			go func() {
				defer m.bg.Done()
				r.destroy()
			}()
		}
		m.completeTaskLocked(fw, t)
	}
	fw.unreachable = nil // a removed framework's tasks are not listed any more
	delete(m.frameworks, fw.id)
	for i, id := range m.fwOrder {
		if id == fw.id {
			m.fwOrder = append(m.fwOrder[:i:i], m.fwOrder[i+1:]...)
			break
		}
	}
	m.removed[fw.id] = true
	fw.unregistered = m.clock.Now()
	m.completedFws = append(m.completedFws, fw)
}

// completeTaskLocked moves a task to the framework's completed list and
// frees its resources on the agent.
func (m *Master) completeTaskLocked(fw *framework, t *task) {
	if _, ok := fw.tasks[t.info.TaskID.Value]; !ok {
		return
	}
	delete(fw.tasks, t.info.TaskID.Value)
	t.done = true
	fw.completed = append(fw.completed, t)
	if t.agent != nil && !t.agent.lost {
		t.agent.used = t.agent.used.minus(t.res)
	}
	if t.run != nil {
		delete(t.agent.runs, t.run.key)
	}
}

func (m *Master) sendLocked(fw *framework, ev *scheduler.Event) {
	if fw.stream == nil || !fw.connected {
		return // the master drops events for a disconnected framework
	}
	if err := fw.stream.push(ev); err != nil {
		m.logf("encoding %s event: %v", ev.Type, err)
	}
}

// sendUpdateLocked forwards a status to the framework as an UPDATE event.
func (m *Master) sendUpdateLocked(fw *framework, st mesos.TaskStatus) {
	m.sendLocked(fw, &scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: st}})
}

// masterStatus builds a status generated by the master: SOURCE_MASTER and
// no uuid, so it is never acknowledged or resent.
func (m *Master) masterStatus(taskID mesos.TaskID, agentID string, state mesos.TaskState,
	reason mesos.TaskStatus_Reason, msg string) mesos.TaskStatus {
	st := mesos.TaskStatus{TaskID: taskID, State: state.Enum(), Source: mesos.SOURCE_MASTER.Enum(),
		Reason: reason.Enum(), Message: &msg, Timestamp: m.timestamp()}
	if agentID != "" {
		st.AgentID = &mesos.AgentID{Value: agentID}
	}
	return st
}

func (m *Master) timestamp() *float64 {
	t := float64(m.clock.Now().UnixNano()) / 1e9
	return &t
}

func isTerminal(s mesos.TaskState) bool {
	switch s {
	case mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_ERROR,
		mesos.TASK_LOST, mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR:
		return true
	}
	return false
}

package mesostest

import (
	"fmt"
	"io"
	"net/http"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"
)

// serveOperator is POST /api/v1, the operator API, for the calls envctl and
// tests need: GET_FRAMEWORKS, GET_TASKS, GET_AGENTS, GET_STATE, GET_HEALTH,
// GET_VERSION, GET_MASTER, GET_QUOTA, GET_ROLES, UPDATE_QUOTA and TEARDOWN.
func (m *Master) serveOperator(w http.ResponseWriter, r *http.Request) {
	rec := Call{Endpoint: "operator", ContentType: r.Header.Get("Content-Type")}
	reply := func(code int, msg string) {
		rec.Status = code
		m.record(rec)
		if msg != "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.WriteHeader(code)
		io.WriteString(w, msg)
	}
	if !m.gate(w, r, "/api/v1", reply) {
		return
	}
	ct := rec.ContentType
	if ct == "" {
		reply(http.StatusBadRequest, "Expecting 'Content-Type' to be present")
		return
	}
	if ct != mediaJSON && ct != mediaProtobuf {
		reply(http.StatusUnsupportedMediaType, fmt.Sprintf("Expecting 'Content-Type' of %s or %s", mediaJSON, mediaProtobuf))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		reply(http.StatusBadRequest, err.Error())
		return
	}
	call := &master.Call{}
	if ct == mediaJSON {
		err = unmarshalJSON(body, call)
	} else {
		err = call.Unmarshal(body)
	}
	if err != nil {
		reply(http.StatusBadRequest, "Failed to parse body into Call: "+err.Error())
		return
	}
	rec.Type = call.Type.String()
	media, ok := negotiate(r.Header.Values("Accept"))
	if !ok {
		reply(http.StatusNotAcceptable, "")
		return
	}
	var resp *master.Response
	m.mu.Lock()
	switch call.Type {
	case master.Call_GET_HEALTH:
		resp = &master.Response{Type: master.Response_GET_HEALTH, GetHealth: &master.Response_GetHealth{Healthy: true}}
	case master.Call_GET_VERSION:
		resp = &master.Response{Type: master.Response_GET_VERSION, GetVersion: &master.Response_GetVersion{
			VersionInfo: mesos.VersionInfo{Version: mesosVersion}}}
	case master.Call_GET_MASTER:
		mi := m.info
		resp = &master.Response{Type: master.Response_GET_MASTER, GetMaster: &master.Response_GetMaster{MasterInfo: &mi}}
	case master.Call_GET_FRAMEWORKS:
		resp = &master.Response{Type: master.Response_GET_FRAMEWORKS, GetFrameworks: m.getFrameworksLocked()}
	case master.Call_GET_TASKS:
		resp = &master.Response{Type: master.Response_GET_TASKS, GetTasks: m.getTasksLocked()}
	case master.Call_GET_AGENTS:
		resp = &master.Response{Type: master.Response_GET_AGENTS, GetAgents: m.getAgentsLocked()}
	case master.Call_GET_STATE:
		resp = &master.Response{Type: master.Response_GET_STATE, GetState: &master.Response_GetState{
			GetTasks: m.getTasksLocked(), GetFrameworks: m.getFrameworksLocked(), GetAgents: m.getAgentsLocked(),
			GetExecutors: &master.Response_GetExecutors{}}}
	case master.Call_GET_QUOTA:
		resp = &master.Response{Type: master.Response_GET_QUOTA, GetQuota: m.getQuotaLocked()}
	case master.Call_GET_ROLES:
		resp = &master.Response{Type: master.Response_GET_ROLES, GetRoles: m.getRolesLocked()}
	case master.Call_UPDATE_QUOTA:
		if call.UpdateQuota == nil {
			m.mu.Unlock()
			reply(http.StatusBadRequest, "Expecting 'update_quota' to be present")
			return
		}
		err := m.updateQuotaLocked(call.UpdateQuota)
		m.mu.Unlock()
		if err != nil {
			reply(http.StatusBadRequest, err.Error())
			return
		}
		reply(http.StatusOK, "")
		return
	case master.Call_TEARDOWN:
		if call.Teardown == nil {
			m.mu.Unlock()
			reply(http.StatusBadRequest, "Expecting 'teardown' to be present")
			return
		}
		fw := m.frameworks[call.Teardown.FrameworkID.Value]
		if fw == nil {
			m.mu.Unlock()
			reply(http.StatusBadRequest, "No framework found with specified ID")
			return
		}
		m.removeFrameworkLocked(fw)
		m.mu.Unlock()
		reply(http.StatusOK, "")
		return
	default:
		m.mu.Unlock()
		reply(http.StatusNotImplemented, "")
		return
	}
	m.mu.Unlock()
	var out []byte
	if media == mediaProtobuf {
		out, err = resp.Marshal()
	} else {
		out, err = marshalJSON(resp)
	}
	if err != nil {
		reply(http.StatusInternalServerError, err.Error())
		return
	}
	rec.Status = http.StatusOK
	m.record(rec)
	w.Header().Set("Content-Type", media)
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

func timeInfo(t time.Time) *mesos.TimeInfo {
	if t.IsZero() {
		return nil
	}
	return &mesos.TimeInfo{Nanoseconds: t.UnixNano()}
}

func (m *Master) frameworkProto(fw *framework) master.Response_GetFrameworks_Framework {
	out := master.Response_GetFrameworks_Framework{
		FrameworkInfo:    fw.info,
		Active:           fw.connected,
		Connected:        fw.connected,
		RegisteredTime:   timeInfo(fw.registered),
		ReregisteredTime: timeInfo(fw.reregistered),
		UnregisteredTime: timeInfo(fw.unregistered),
	}
	if !fw.connected {
		out.UnregisteredTime = timeInfo(fw.unregistered)
	}
	var alloc, offered res
	for _, t := range fw.tasks {
		alloc = alloc.plus(t.res)
	}
	for _, o := range m.offers {
		if o.fw == fw {
			out.Offers = append(out.Offers, m.offerProto(o))
			offered = offered.plus(o.res)
		}
	}
	out.AllocatedResources = alloc.toProto("")
	out.OfferedResources = offered.toProto("")
	return out
}

func (m *Master) getFrameworksLocked() *master.Response_GetFrameworks {
	out := &master.Response_GetFrameworks{}
	for _, id := range m.fwOrder {
		if fw := m.frameworks[id]; fw != nil {
			out.Frameworks = append(out.Frameworks, m.frameworkProto(fw))
		}
	}
	for _, fw := range m.completedFws {
		out.CompletedFrameworks = append(out.CompletedFrameworks, m.frameworkProto(fw))
	}
	return out
}

func (m *Master) taskProto(t *task) mesos.Task {
	state := t.state
	out := mesos.Task{
		Name: t.info.Name, TaskID: t.info.TaskID, FrameworkID: mesos.FrameworkID{Value: t.fw.id},
		AgentID: mesos.AgentID{Value: t.agent.id}, State: state.Enum(), Resources: t.info.Resources,
		Labels: t.info.Labels, Discovery: t.info.Discovery, Container: t.info.Container,
		HealthCheck: t.info.HealthCheck, KillPolicy: t.info.KillPolicy,
	}
	if t.last != nil {
		out.Statuses = []mesos.TaskStatus{*t.last}
		out.StatusUpdateState = t.last.State
		out.StatusUpdateUUID = t.last.UUID
	}
	return out
}

func (m *Master) getTasksLocked() *master.Response_GetTasks {
	out := &master.Response_GetTasks{}
	fws := []*framework{}
	for _, id := range m.fwOrder {
		if fw := m.frameworks[id]; fw != nil {
			fws = append(fws, fw)
		}
	}
	for _, fw := range fws {
		for _, t := range fw.sortedTasks() {
			out.Tasks = append(out.Tasks, m.taskProto(t))
		}
		for _, t := range fw.unreachable {
			out.UnreachableTasks = append(out.UnreachableTasks, m.taskProto(t))
		}
	}
	for _, fw := range append(fws, m.completedFws...) {
		for _, t := range fw.completed {
			out.CompletedTasks = append(out.CompletedTasks, m.taskProto(t))
		}
	}
	return out
}

func (m *Master) getAgentsLocked() *master.Response_GetAgents {
	out := &master.Response_GetAgents{}
	for _, a := range m.agents {
		if a.lost {
			continue
		}
		pid := fmt.Sprintf("slave(1)@%s:%d", a.ip, a.port)
		var offered res
		for _, o := range m.offers {
			if o.agent == a {
				offered = offered.plus(o.res)
			}
		}
		out.Agents = append(out.Agents, master.Response_GetAgents_Agent{
			AgentInfo: a.infoLocked(), Active: true, Version: mesosVersion, PID: &pid,
			RegisteredTime: timeInfo(a.started), TotalResources: a.total.toProto(""),
			AllocatedResources: a.used.toProto(""), OfferedResources: offered.toProto(""),
			Deactivated: ptr(false), Capabilities: agentCapabilities(),
		})
	}
	return out
}

// gate makes the checks that come first on both HTTP APIs, in the master's order: the fault
// modes of a master that is not the leader or is recovering (mesos.md §5 items 2 and 3), then
// POST as the only method (item 1). It answers the request itself when one fails.
func (m *Master) gate(w http.ResponseWriter, r *http.Request, path string, reply func(int, string)) bool {
	m.mu.Lock()
	f := m.faults
	m.mu.Unlock()
	switch {
	case f.redirect != "":
		w.Header().Set("Location", "//"+f.redirect+path)
		reply(http.StatusTemporaryRedirect, "")
		return false
	case f.noLeader:
		reply(http.StatusServiceUnavailable, "No leader elected")
		return false
	case f.recovering:
		reply(http.StatusServiceUnavailable, "Master has not finished recovery")
		return false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		reply(http.StatusMethodNotAllowed, fmt.Sprintf("Expecting one of { 'POST' }, but received '%s'", r.Method))
		return false
	}
	return true
}

// agentCapabilities are those a Mesos 1.12 agent announces (GET_AGENTS, TestDifferential).
func agentCapabilities() []mesos.AgentInfo_Capability {
	var out []mesos.AgentInfo_Capability
	for _, t := range []mesos.AgentInfo_Capability_Type{mesos.AgentInfo_Capability_MULTI_ROLE,
		mesos.AgentInfo_Capability_HIERARCHICAL_ROLE, mesos.AgentInfo_Capability_RESERVATION_REFINEMENT,
		mesos.AgentInfo_Capability_RESOURCE_PROVIDER, mesos.AgentInfo_Capability_RESIZE_VOLUME,
		mesos.AgentInfo_Capability_AGENT_OPERATION_FEEDBACK, mesos.AgentInfo_Capability_AGENT_DRAINING,
		mesos.AgentInfo_Capability_TASK_RESOURCE_LIMITS} {
		out = append(out, mesos.AgentInfo_Capability{Type: t})
	}
	return out
}

package mesos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"

	"github.com/envctl/envctl/provisioner"
)

// frameworks lists the live frameworks envctl registered for env ("" = every environment),
// from the operator API. Disconnected frameworks still inside their failover_timeout count:
// their tasks run on.
func (b *Backend) frameworks(ctx context.Context, env string) ([]master.Response_GetFrameworks_Framework, error) {
	resp, err := b.cli.operator(ctx, &master.Call{Type: master.Call_GET_FRAMEWORKS})
	if err != nil {
		return nil, err
	}
	var out []master.Response_GetFrameworks_Framework
	for _, fw := range resp.GetGetFrameworks().GetFrameworks() {
		name := envOf(fw.FrameworkInfo)
		if name == "" || (env != "" && name != env) {
			continue
		}
		out = append(out, fw)
	}
	return out, nil
}

// envOf is the environment of an envctl framework, "" for anyone else's.
func envOf(fi mesospb.FrameworkInfo) string {
	env := labelMap(fi.Labels)[provisioner.LabelEnv]
	if env == "" || fi.Name != frameworkPrefix+env {
		return ""
	}
	return env
}

// agentAddr is where an agent is: its hostname (the address its tasks' host ports are on) and
// the address of its own HTTP API (files API). The two differ on many clusters, as on the
// tests' real one: agents advertise the Docker bridge's gateway but listen on 127.0.0.1. The
// API's address is the agent's libprocess PID, slave(1)@IP:PORT (mesos.md §2).
type agentAddr struct {
	hostname string
	api      string // host:port
}

func (a agentAddr) url() string { return "http://" + a.api }

// agentAPI is the host:port of an agent's HTTP API: the address in its PID, else (a master that
// leaves the PID out) its hostname and port.
func agentAPI(pid, hostname string, port int32) string {
	if _, addr, ok := strings.Cut(pid, "@"); ok {
		if h, p, err := net.SplitHostPort(addr); err == nil && h != "" && p != "" {
			return addr
		}
	}
	if port == 0 {
		port = 5051
	}
	return net.JoinHostPort(hostname, strconv.Itoa(int(port)))
}

func (b *Backend) agents(ctx context.Context) (map[string]agentAddr, error) {
	resp, err := b.cli.operator(ctx, &master.Call{Type: master.Call_GET_AGENTS})
	if err != nil {
		return nil, err
	}
	out := map[string]agentAddr{}
	for _, a := range resp.GetGetAgents().GetAgents() {
		out[a.AgentInfo.ID.GetValue()] = agentAddr{hostname: a.AgentInfo.Hostname,
			api: agentAPI(a.GetPID(), a.AgentInfo.Hostname, a.AgentInfo.GetPort())}
	}
	return out, nil
}

// snapshot is the master's view of envctl's tasks.
type snapshot struct {
	fws    map[string]master.Response_GetFrameworks_Framework // by framework ID
	live   []mesospb.Task                                     // staging, running, or ended but not yet acknowledged
	done   []mesospb.Task                                     // completed
	agents map[string]agentAddr
}

func (b *Backend) snapshot(ctx context.Context, env string) (*snapshot, error) {
	fws, err := b.frameworks(ctx, env)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{fws: map[string]master.Response_GetFrameworks_Framework{}}
	if len(fws) == 0 {
		return snap, nil
	}
	for _, fw := range fws {
		snap.fws[fw.FrameworkInfo.ID.GetValue()] = fw
	}
	resp, err := b.cli.operator(ctx, &master.Call{Type: master.Call_GET_TASKS})
	if err != nil {
		return nil, err
	}
	ours := func(t mesospb.Task) bool {
		_, ok := snap.fws[t.FrameworkID.Value]
		return ok && labelMap(t.Labels)[provisioner.LabelService] != ""
	}
	gt := resp.GetGetTasks()
	for _, list := range [][]mesospb.Task{gt.GetPendingTasks(), gt.GetTasks(), gt.GetUnreachableTasks()} {
		for _, t := range list {
			if ours(t) {
				snap.live = append(snap.live, t)
			}
		}
	}
	for _, t := range gt.GetCompletedTasks() {
		if ours(t) {
			snap.done = append(snap.done, t)
		}
	}
	if snap.agents, err = b.agents(ctx); err != nil {
		return nil, err
	}
	return snap, nil
}

// instance converts a task into an Instance.
func (snap *snapshot) instance(t mesospb.Task) provisioner.Instance {
	labels := labelMap(t.Labels)
	inst := provisioner.Instance{
		ID: t.TaskID.Value, Name: t.TaskID.Value,
		Env: labels[provisioner.LabelEnv], Service: labels[provisioner.LabelService],
		Labels: labels, State: stateOf(t.GetState()), ExitCode: -1,
	}
	for _, st := range t.Statuses {
		at := statusTime(st)
		if inst.Created.IsZero() || at.Before(inst.Created) {
			inst.Created = at
		}
		if st.GetState() == mesospb.TASK_RUNNING && (inst.Started.IsZero() || at.Before(inst.Started)) {
			inst.Started = at
		}
	}
	if st, ok := lastStatus(t); ok && inst.State == provisioner.StateExited {
		inst.ExitCode = exitCode(st)
	}
	inst.HostID = t.AgentID.Value
	if inst.State == provisioner.StateUnreachable {
		inst.Unreachable = unreachableSince(t)
	}
	endpoints(&inst, snap.agents[t.AgentID.Value].hostname, parseHostPorts(labels[LabelHostPorts]))
	inst.CPUs, inst.Memory = held(t.Resources)
	return inst
}

// held sums the cpus and mem (as bytes) of a task's resources.
func held(rs []mesospb.Resource) (cpus float64, mem int64) {
	var mb float64
	for _, r := range rs {
		switch r.Name {
		case "cpus":
			cpus += r.GetScalar().GetValue()
		case "mem":
			mb += r.GetScalar().GetValue()
		}
	}
	return cpus, int64(mb * (1 << 20))
}

// unreachableSince is when the master marked a task's agent unreachable: the unreachable_time
// of its TASK_UNREACHABLE status, else that status's time.
func unreachableSince(t mesospb.Task) time.Time {
	var since time.Time
	for _, st := range t.Statuses {
		if st.GetState() != mesospb.TASK_UNREACHABLE {
			continue
		}
		at := statusTime(st)
		if ut := st.GetUnreachableTime(); ut != nil {
			at = time.Unix(0, ut.Nanoseconds)
		}
		if since.IsZero() || at.Before(since) {
			since = at
		}
	}
	return since
}

func lastStatus(t mesospb.Task) (mesospb.TaskStatus, bool) {
	if len(t.Statuses) == 0 {
		return mesospb.TaskStatus{}, false
	}
	last := t.Statuses[0]
	for _, st := range t.Statuses[1:] {
		if st.GetTimestamp() >= last.GetTimestamp() {
			last = st
		}
	}
	return last, true
}

// Observe lists env's instances ("" = every environment) from the master alone: every task
// that has not ended, and, for a service with none, its most recent ended task (a finished job
// is an instance too: exited 0), except the tasks this process removed.
func (b *Backend) Observe(ctx context.Context, env string) ([]provisioner.Instance, error) {
	snap, err := b.snapshot(ctx, env)
	if err != nil {
		return nil, err
	}
	var out []provisioner.Instance
	liveSvc := map[string]bool{}
	var lost []provisioner.Instance
	for _, t := range snap.live {
		if b.isRemoved(t.TaskID.Value) && terminal(t.GetState()) {
			continue
		}
		inst := snap.instance(t)
		liveSvc[inst.Env+"/"+inst.Service] = true
		if inst.State == provisioner.StateUnreachable {
			lost = append(lost, inst)
			continue
		}
		out = append(out, inst)
	}
	// An unreachable task that an up replaced is no instance any more: its service runs
	// elsewhere, and nothing can stop it until its agent is back (then the master shuts it
	// down if the framework is gone, or it shows as running again, a second instance).
	for _, inst := range lost {
		replaced := false
		for _, o := range out {
			replaced = replaced || (o.Env == inst.Env && o.Service == inst.Service && o.Created.After(inst.Created))
		}
		if !replaced {
			out = append(out, inst)
		}
	}
	latest := map[string]provisioner.Instance{}
	for _, t := range snap.done {
		if b.isRemoved(t.TaskID.Value) {
			continue
		}
		inst := snap.instance(t)
		key := inst.Env + "/" + inst.Service
		if liveSvc[key] {
			continue
		}
		if old, ok := latest[key]; !ok || inst.Created.After(old.Created) {
			latest[key] = inst
		}
	}
	for _, inst := range latest {
		out = append(out, inst)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Env != out[j].Env {
			return out[i].Env < out[j].Env
		}
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Environments lists the environments that have a framework, with the framework's labels.
func (b *Backend) Environments(ctx context.Context) ([]provisioner.EnvInfo, error) {
	fws, err := b.frameworks(ctx, "")
	if err != nil {
		return nil, err
	}
	byName := map[string]provisioner.EnvInfo{}
	for _, fw := range fws {
		name := envOf(fw.FrameworkInfo)
		info := provisioner.EnvInfo{Name: name, Labels: labelMap(fw.FrameworkInfo.Labels)}
		if t := fw.RegisteredTime; t != nil {
			info.Created = time.Unix(0, t.Nanoseconds)
		}
		if old, ok := byName[name]; ok && !old.Created.IsZero() && old.Created.Before(info.Created) {
			continue // two frameworks of one environment: the older one speaks for it
		}
		byName[name] = info
	}
	out := make([]provisioner.EnvInfo, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Inspect reads one instance's current state: from the status updates of this process's
// subscription when it watches the task (envctl's prober asks every few attempts whether the
// task exited, and a snapshot of the master is three operator calls), else from the master.
func (b *Backend) Inspect(ctx context.Context, inst provisioner.Instance) (provisioner.Instance, error) {
	b.mu.Lock()
	s := b.sessions[inst.Env]
	b.mu.Unlock()
	if s != nil {
		if v, _, ok := s.view(inst.ID); ok && v.known {
			out := inst
			out.State = stateOf(v.status.GetState())
			out.ExitCode = -1
			if out.State == provisioner.StateExited {
				out.ExitCode = exitCode(v.status)
			}
			return out, nil
		}
	}
	snap, t, err := b.findTask(ctx, inst.Env, inst.ID)
	if err != nil {
		return inst, err
	}
	return snap.instance(t), nil
}

// errTaskNotFound is returned for a task the master does not know (any more).
var errTaskNotFound = errors.New("task not found")

func (b *Backend) findTask(ctx context.Context, env, id string) (*snapshot, mesospb.Task, error) {
	snap, err := b.snapshot(ctx, env)
	if err != nil {
		return nil, mesospb.Task{}, err
	}
	for _, list := range [][]mesospb.Task{snap.live, snap.done} {
		for _, t := range list {
			if t.TaskID.Value == id {
				return snap, t, nil
			}
		}
	}
	return snap, mesospb.Task{}, fmt.Errorf("mesos task %s: %w", id, errTaskNotFound)
}

// Teardown removes env's framework: through this process's subscription when it has one (the
// scheduler's TEARDOWN), else through the operator API, which needs none.
func (b *Backend) Teardown(ctx context.Context, env string) error {
	b.mu.Lock()
	s := b.sessions[env]
	delete(b.sessions, env)
	b.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		connected := s.connected
		s.mu.Unlock()
		if connected {
			if err := s.teardown(ctx); err != nil {
				b.logf("mesos: environment %s: TEARDOWN: %v; asking the operator API", env, err)
			}
		} else {
			s.close()
		}
	}
	fws, err := b.frameworks(ctx, env)
	if err != nil {
		return err
	}
	var errs []error
	for _, fw := range fws {
		id := fw.FrameworkInfo.ID.GetValue()
		_, err := b.cli.operator(ctx, &master.Call{Type: master.Call_TEARDOWN, Teardown: &master.Call_Teardown{FrameworkID: mesospb.FrameworkID{Value: id}}})
		if err != nil && !(isStatus(err, 400) && strings.Contains(err.Error(), "ramework")) {
			errs = append(errs, fmt.Errorf("teardown framework %s of environment %q: %w", id, env, err))
		}
	}
	return errors.Join(errs...)
}

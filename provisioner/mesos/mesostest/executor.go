package mesostest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// taskRun is the agent side of one task: the built-in executor (the Docker
// executor or the command executor) that really runs it, and the task's
// status update stream with acknowledgement gating and retries
// (task_status_update_manager.cpp).
type taskRun struct {
	m           *Master
	a           *agent
	t           *task
	key         string
	fwID        string
	containerID string
	sandbox     string
	docker      bool   // Docker containerizer task
	name        string // Docker container name

	// Guarded by Master.mu: the status update stream.
	pending  []mesos.TaskStatus // oldest first; pending[0] is in flight once forwarded
	sent     bool               // pending[0] was forwarded at least once
	retry    Timer
	interval time.Duration
	freed    bool // resources released after a terminal update reached the master

	// Guarded by kmu: kill requests from the scheduler, the health checker,
	// or destroy.
	kmu       sync.Mutex // a kill can arrive from any goroutine while the executor runs
	killReq   bool
	silent    bool // destroy: no more status updates
	healthHit bool // killed by the health checker
	grace     time.Duration
	killCh    chan struct{} // closed on the first kill request
	proc      *os.Process   // host process, or the foreground `docker run`
	started   bool          // executor has started the task (not KILLED_DURING_LAUNCH)
	ip        string        // container IP for health checks

	done chan struct{} // closed when execute returns
}

func newTaskRun(m *Master, a *agent, t *task) *taskRun {
	cid := newUUID()
	r := &taskRun{m: m, a: a, t: t, fwID: t.fw.id, key: t.fw.id + "/" + t.info.TaskID.Value, containerID: cid,
		killCh: make(chan struct{}), done: make(chan struct{})}
	r.sandbox = filepath.Join(a.workDir, "frameworks", t.fw.id, "executors", t.info.TaskID.Value, "runs", cid)
	r.docker = t.info.Container != nil && t.info.Container.GetType() == mesos.ContainerInfo_DOCKER
	r.name = "mesos-" + a.id + "." + cid
	return r
}

// update enqueues a status from this agent or executor (with uuid) and
// forwards it if nothing is in flight.
func (r *taskRun) update(st mesos.TaskStatus) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	r.updateLocked(st)
}

func (r *taskRun) updateLocked(st mesos.TaskStatus) {
	r.kmu.Lock()
	silent := r.silent
	r.kmu.Unlock()
	if silent || r.m.closed || r.t.done && r.t.fw.tasks[r.t.info.TaskID.Value] != r.t {
		return
	}
	st.UUID = newUUIDBytes()
	st.AgentID = &mesos.AgentID{Value: r.a.id}
	st.ExecutorID = &mesos.ExecutorID{Value: r.t.info.TaskID.Value}
	st.Timestamp = r.m.timestamp()
	if st.ContainerStatus == nil {
		st.ContainerStatus = &mesos.ContainerStatus{ContainerID: &mesos.ContainerID{Value: r.containerID}}
	}
	r.pending = append(r.pending, st)
	// The agent tells the master the latest state with every update it
	// forwards; a terminal one releases the task's resources at once.
	if isTerminal(st.GetState()) && !r.freed {
		r.freed = true
		if !r.a.lost {
			r.a.used = r.a.used.minus(r.t.res)
		}
		r.t.res = res{}
	}
	if len(r.pending) == 1 {
		r.forwardLocked()
	}
}

// forwardLocked sends pending[0] to the master and arms the retry timer.
func (r *taskRun) forwardLocked() {
	if len(r.pending) == 0 {
		return
	}
	st := r.pending[0]
	t := r.t
	t.state = st.GetState()
	last := st
	t.last = &last
	if st.Healthy != nil {
		h := *st.Healthy
		t.healthy = &h
	}
	r.m.sendUpdateLocked(t.fw, st)
	r.sent = true
	if r.interval == 0 {
		r.interval = statusRetryMin
	}
	if r.retry != nil {
		r.retry.Stop()
	}
	uuid := st.UUID
	d := r.interval
	r.retry = r.m.clock.AfterFunc(d, func() {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		if r.m.closed || len(r.pending) == 0 || !bytes.Equal(r.pending[0].UUID, uuid) {
			return
		}
		r.interval *= 2
		if r.interval > statusRetryMax {
			r.interval = statusRetryMax
		}
		r.forwardLocked()
	})
}

// resendLocked forwards the in-flight update again at once (after a
// re-SUBSCRIBE), restarting the backoff.
func (r *taskRun) resendLocked() {
	if len(r.pending) == 0 {
		return
	}
	r.interval = statusRetryMin
	r.forwardLocked()
}

// acknowledgeLocked releases the next update if uuid matches the one in flight.
func (r *taskRun) acknowledgeLocked(uuid []byte) {
	if len(r.pending) == 0 || !r.sent || !bytes.Equal(r.pending[0].UUID, uuid) {
		r.m.logf("ignoring ACKNOWLEDGE with unexpected uuid %s for task %s", fmtUUID(uuid), r.t.info.TaskID.Value)
		return
	}
	st := r.pending[0]
	r.pending = r.pending[1:]
	r.sent = false
	r.interval = 0
	if r.retry != nil {
		r.retry.Stop()
		r.retry = nil
	}
	if isTerminal(st.GetState()) {
		// The terminal update is acknowledged: the master forgets the task.
		r.m.completeTaskLocked(r.t.fw, r.t)
		return
	}
	r.forwardLocked()
}

// requestKill asks the executor to kill the task with a grace period.
func (r *taskRun) requestKill(grace time.Duration, byHealth bool) {
	r.kmu.Lock()
	defer r.kmu.Unlock()
	if r.killReq {
		return
	}
	r.killReq = true
	r.healthHit = byHealth
	r.grace = grace
	close(r.killCh)
}

// destroy kills the task at once and silently (framework removed, agent
// lost, Close) and waits for the executor to finish.
func (r *taskRun) destroy() {
	r.kmu.Lock()
	r.silent = true
	r.kmu.Unlock()
	r.requestKill(0, false)
	<-r.done
}

func (r *taskRun) killed() (bool, bool) {
	r.kmu.Lock()
	defer r.kmu.Unlock()
	return r.killReq, r.healthHit
}

func status(state mesos.TaskState, src mesos.TaskStatus_Source, msg string) mesos.TaskStatus {
	st := mesos.TaskStatus{State: state.Enum(), Source: src.Enum()}
	if msg != "" {
		st.Message = &msg
	}
	return st
}

func (r *taskRun) send(state mesos.TaskState, src mesos.TaskStatus_Source, reason *mesos.TaskStatus_Reason, msg string) {
	st := status(state, src, msg)
	st.TaskID = r.t.info.TaskID
	st.Reason = reason
	r.update(st)
}

// execute is the executor: launch, STARTING, RUNNING, health checks, and a
// terminal state when the task ends.
func (r *taskRun) execute() {
	defer close(r.done)
	ti := &r.t.info
	ctx := context.Background()
	failLaunch := func(err error) {
		r.send(mesos.TASK_FAILED, mesos.SOURCE_AGENT, mesos.REASON_CONTAINER_LAUNCH_FAILED.Enum(),
			"Failed to launch container: "+err.Error())
	}
	if err := os.MkdirAll(r.sandbox, 0o755); err != nil {
		failLaunch(err)
		return
	}
	// runs/latest points at the newest run, as on a real agent; the files
	// API serves it as /frameworks/F/executors/E/runs/latest.
	latest := filepath.Join(filepath.Dir(r.sandbox), "latest")
	_ = os.Remove(latest)
	_ = os.Symlink(r.containerID, latest)
	stdout, err1 := os.Create(filepath.Join(r.sandbox, "stdout"))
	stderr, err2 := os.Create(filepath.Join(r.sandbox, "stderr"))
	if err := errors.Join(err1, err2); err != nil {
		failLaunch(err)
		return
	}
	defer stdout.Close()
	defer stderr.Close()

	r.m.mu.Lock()
	delay := r.m.faults.launchDelay
	r.m.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.killCh:
		}
	}
	if r.docker {
		if r.m.opt.NoDocker {
			failLaunch(errors.New("the Docker containerizer is disabled on this agent (NoDocker)"))
			return
		}
		// The containerizer pulls the image before the executor starts.
		if err := ensureImage(ctx, r.m.opt.DockerCLI, ti.Container.Docker.Image, ti.Container.Docker.GetForcePullImage()); err != nil {
			failLaunch(err)
			return
		}
	} else if c := ti.Container; c != nil && c.GetType() == mesos.ContainerInfo_MESOS && c.Mesos != nil && c.Mesos.Image != nil {
		failLaunch(errors.New("container images in the Mesos containerizer are not supported by the double's agents"))
		return
	}
	if k, _ := r.killed(); k {
		r.send(mesos.TASK_KILLED, mesos.SOURCE_AGENT, mesos.REASON_TASK_KILLED_DURING_LAUNCH.Enum(),
			"Task killed before delivery to the executor")
		return
	}
	r.send(mesos.TASK_STARTING, mesos.SOURCE_EXECUTOR, nil, "")

	var cmd *exec.Cmd
	var err error
	if r.docker {
		var args []string
		args, err = r.dockerRunArgs()
		if err != nil {
			r.send(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, nil, "Failed to create docker run options: "+err.Error())
			return
		}
		cmd = exec.Command(r.m.opt.DockerCLI, args...)
	} else {
		cmd, err = r.hostCommand()
		if err != nil {
			r.send(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, nil, "Failed to launch command: "+err.Error())
			return
		}
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so a kill reaches the whole process group
	if err := cmd.Start(); err != nil {
		r.send(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, nil, "Failed to launch: "+err.Error())
		return
	}
	r.kmu.Lock()
	r.proc = cmd.Process
	r.started = true
	r.kmu.Unlock()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	running := status(mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR, "")
	running.TaskID = ti.TaskID
	if r.docker {
		data, ip, ok := r.waitContainer(exited)
		if !ok {
			// `docker run` failed before the container existed.
			<-exited
			r.send(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, nil,
				"Failed to run docker container: "+lastLine(filepath.Join(r.sandbox, "stderr")))
			return
		}
		r.kmu.Lock()
		r.ip = ip
		r.kmu.Unlock()
		// The Docker executor sends `docker inspect`'s whole output, the array around the
		// container's object (seen on Mesos 1.12).
		running.Data = append(append([]byte("["), data...), ']')
		cs := &mesos.ContainerStatus{ContainerID: &mesos.ContainerID{Value: r.containerID}}
		if ip != "" {
			cs.NetworkInfos = []mesos.NetworkInfo{{IPAddresses: []mesos.NetworkInfo_IPAddress{{IPAddress: &ip}}}}
		}
		running.ContainerStatus = cs
	} else {
		pid := uint32(cmd.Process.Pid)
		running.ContainerStatus = &mesos.ContainerStatus{ContainerID: &mesos.ContainerID{Value: r.containerID}, ExecutorPID: &pid}
	}
	r.update(running)
	hc := r.startHealth()

	var waitErr error
	select {
	case waitErr = <-exited:
	case <-r.killCh:
		// Health checks end when the kill begins, as the Docker executor's killTask pauses
		// its checker: a check failing on the stopping container is never reported (the
		// real master sent TASK_KILLED with no healthy=false before it; TestDifferential).
		if hc != nil {
			hc.stop()
		}
		r.kill(exited)
		waitErr = <-exited
	}
	if hc != nil {
		hc.stop()
	}
	code := exitCode(waitErr)
	if r.docker {
		if c, ok := containerExitCode(ctx, r.m.opt.DockerCLI, r.name); ok {
			code = c
		}
		removeContainer(ctx, r.m.opt.DockerCLI, r.name)
	}
	killed, byHealth := r.killed()
	what := "Command"
	if r.docker {
		what = "Container"
	}
	switch {
	case killed:
		st := status(mesos.TASK_KILLED, mesos.SOURCE_EXECUTOR, what+" killed")
		st.TaskID = ti.TaskID
		if byHealth {
			f := false
			st.Healthy = &f
			// healthy=false but no reason: so does Mesos 1.12's Docker executor
			// (TestDifferential, health-failing).
			st.Message = ptr(what + " killed: task is unhealthy")
		}
		r.update(st)
	case code == 0:
		r.send(mesos.TASK_FINISHED, mesos.SOURCE_EXECUTOR, nil, fmt.Sprintf("%s exited with status 0", what))
	default:
		r.send(mesos.TASK_FAILED, mesos.SOURCE_EXECUTOR, nil, fmt.Sprintf("%s exited with status %d", what, code))
	}
}

func ptr[T any](v T) *T { return &v }

// kill stops the task: TASK_KILLING first for frameworks with the
// capability, then SIGTERM, then SIGKILL after the grace period.
func (r *taskRun) kill(exited chan error) {
	r.kmu.Lock()
	grace, silent, proc := r.grace, r.silent, r.proc
	r.kmu.Unlock()
	if !silent && r.t.fw.hasCap(mesos.FrameworkInfo_Capability_TASK_KILLING_STATE) {
		r.send(mesos.TASK_KILLING, mesos.SOURCE_EXECUTOR, nil, "")
	}
	if r.docker {
		secs := int(grace.Seconds())
		ctx, cancel := context.WithTimeout(context.Background(), grace+30*time.Second) // docker stop itself waits grace
		defer cancel()
		_ = exec.CommandContext(ctx, r.m.opt.DockerCLI, "stop", "-t", fmt.Sprint(secs), r.name).Run()
		// If the container never came up, the foreground docker run may
		// still be pulling or creating: stop the CLI too.
		if proc != nil {
			_ = syscall.Kill(-proc.Pid, syscall.SIGTERM)
		}
		return
	}
	if proc == nil {
		return
	}
	_ = syscall.Kill(-proc.Pid, syscall.SIGTERM)
	if grace <= 0 {
		_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
		return
	}
	// The grace period is wall time: it is how long a real process gets.
	go func() {
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-timer.C:
			_ = syscall.Kill(-proc.Pid, syscall.SIGKILL)
		case <-r.done:
		}
	}()
}

// hostCommand builds a command task's process (the command executor).
func (r *taskRun) hostCommand() (*exec.Cmd, error) {
	c := r.t.info.Command
	var cmd *exec.Cmd
	if c.GetShell() {
		if c.GetValue() == "" {
			return nil, errors.New("Shell specified but no command value provided")
		}
		cmd = exec.Command("/bin/sh", "-c", c.GetValue())
	} else {
		if c.GetValue() == "" {
			return nil, errors.New("Command value is required when 'shell' is false")
		}
		cmd = exec.Command(c.GetValue())
		if len(c.Arguments) > 0 {
			cmd.Args = append([]string(nil), c.Arguments...) // arguments[0] is argv[0]
		}
	}
	cmd.Dir = r.sandbox
	cmd.Env = append(os.Environ(), "MESOS_SANDBOX="+r.sandbox, "MESOS_DIRECTORY="+r.sandbox,
		"MESOS_TASK_ID="+r.t.info.TaskID.Value, "MESOS_AGENT_ENDPOINT="+r.a.hostname)
	for _, v := range envVars(c) {
		cmd.Env = append(cmd.Env, v)
	}
	return cmd, nil
}

func envVars(c *mesos.CommandInfo) []string {
	var out []string
	if c == nil || c.Environment == nil {
		return nil
	}
	for _, v := range c.Environment.Variables {
		out = append(out, v.Name+"="+v.GetValue())
	}
	return out
}

// dockerRunArgs is Docker::RunOptions::create plus the docker run argv.
func (r *taskRun) dockerRunArgs() ([]string, error) {
	ti := &r.t.info
	c := ti.Container
	d := c.Docker
	args := []string{"run", "--name", r.name, "--label", LabelInstance + "=" + r.m.instance}
	if r.t.res.cpus > 0 {
		args = append(args, "--cpu-shares", fmt.Sprint(int(r.t.res.cpus*1024)))
	}
	if r.t.res.mem >= 32 { // MIN_MEMORY: below it Mesos sets no limit
		args = append(args, "--memory", fmt.Sprintf("%dm", int(r.t.res.mem)))
	}
	args = append(args, "-e", "MESOS_SANDBOX=/mnt/mesos/sandbox", "-e", "MESOS_CONTAINER_NAME="+r.name,
		"-e", "MESOS_TASK_ID="+ti.TaskID.Value)
	for _, v := range envVars(ti.Command) {
		args = append(args, "-e", v)
	}
	args = append(args, "-v", r.sandbox+":/mnt/mesos/sandbox")
	for _, v := range c.Volumes {
		if v.HostPath == nil {
			continue
		}
		mode := "rw"
		if v.GetMode() == mesos.RO {
			mode = "ro"
		}
		args = append(args, "-v", v.GetHostPath()+":"+v.ContainerPath+":"+mode)
	}
	if d.GetPrivileged() {
		args = append(args, "--privileged")
	}
	network := d.GetNetwork()
	switch network {
	case mesos.ContainerInfo_DockerInfo_HOST:
		args = append(args, "--net", "host")
	case mesos.ContainerInfo_DockerInfo_BRIDGE:
		// The agent's own bridge network stands in for docker0, so that
		// each agent has its own host address.
		args = append(args, "--net", r.a.network)
	case mesos.ContainerInfo_DockerInfo_USER:
		if len(c.NetworkInfos) != 1 || c.NetworkInfos[0].GetName() == "" {
			return nil, errors.New("Only one network name must be specified for the USER network")
		}
		args = append(args, "--net", c.NetworkInfos[0].GetName())
	case mesos.ContainerInfo_DockerInfo_NONE:
		args = append(args, "--net", "none")
	}
	if c.Hostname != nil {
		if network == mesos.ContainerInfo_DockerInfo_HOST {
			return nil, errors.New("Unable to set hostname with host network")
		}
		args = append(args, "--hostname", c.GetHostname())
	}
	if len(d.PortMappings) > 0 {
		if network != mesos.ContainerInfo_DockerInfo_BRIDGE && network != mesos.ContainerInfo_DockerInfo_USER {
			return nil, errors.New("Port mappings are only supported for bridge and user-defined networks")
		}
		for _, pm := range d.PortMappings {
			if !rangesContain(r.t.res.ports, portRange{uint64(pm.HostPort), uint64(pm.HostPort)}) {
				return nil, fmt.Errorf("Port [%d] not included in resources", pm.HostPort)
			}
			proto := "tcp"
			if pm.Protocol != nil {
				proto = strings.ToLower(*pm.Protocol)
			}
			args = append(args, "-p", fmt.Sprintf("%s:%d:%d/%s", r.a.hostname, pm.HostPort, pm.ContainerPort, proto))
		}
	}
	for _, p := range d.Parameters {
		args = append(args, "--"+p.Key+"="+p.Value)
	}
	cmd := ti.Command
	if cmd.GetShell() {
		if cmd.GetValue() == "" {
			return nil, errors.New("Shell specified but no command value provided")
		}
		args = append(args, "--entrypoint", "/bin/sh", d.Image, "-c", cmd.GetValue())
		return args, nil
	}
	args = append(args, d.Image)
	if cmd.Value != nil {
		args = append(args, cmd.GetValue())
	}
	args = append(args, cmd.Arguments...)
	return args, nil
}

// waitContainer polls docker inspect until the container exists (the
// Docker executor's inspect-with-retry), returning the inspect JSON and the
// container's IP. ok is false when docker run ended without a container.
func (r *taskRun) waitContainer(exited chan error) (data []byte, ip string, ok bool) {
	ctx := context.Background()
	for {
		raw, err := inspectContainer(ctx, r.m.opt.DockerCLI, r.name)
		// A container that exists but is still "created" has no IP yet.
		if err == nil && containerStatus(raw) != "created" {
			return raw, containerIP(raw), true
		}
		select {
		case err := <-exited:
			// Put the result back for the caller, then look once more: the
			// container may have run and exited between our polls.
			exited <- err
			if raw, err := inspectContainer(ctx, r.m.opt.DockerCLI, r.name); err == nil {
				return raw, containerIP(raw), true
			}
			return nil, "", false
		case <-time.After(50 * time.Millisecond): // polling interval of inspect, as Mesos's DOCKER_INSPECT_DELAY
		}
	}
}

func containerStatus(raw []byte) string {
	var c struct{ State struct{ Status string } }
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	return c.State.Status
}

func containerIP(raw []byte) string {
	var c struct {
		NetworkSettings struct {
			IPAddress string
			Networks  map[string]struct{ IPAddress string }
		}
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	if c.NetworkSettings.IPAddress != "" {
		return c.NetworkSettings.IPAddress
	}
	for _, n := range c.NetworkSettings.Networks {
		if n.IPAddress != "" {
			return n.IPAddress
		}
	}
	return ""
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

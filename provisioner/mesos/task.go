package mesos

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"os"
	"os/user"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/envctl/envctl/provisioner"
)

// LabelHostPorts records on a task the host port chosen for each named port, "http=31002", so
// that Observe rebuilds an instance's endpoints from Mesos alone.
const LabelHostPorts = "io.envctl.hostports"

// frameworkPrefix starts the name of every framework envctl registers.
const frameworkPrefix = "envctl-"

// LabelReadiness records on a task who checks its readiness: "envctl" (envctl probes it from
// outside through its agent's host and host port; the task has no health check) or "mesos" (a
// Mesos health check in the task: envctl could not reach the agent's host ports, or --mesos-probe
// said so). An exec probe is a COMMAND health check either way.
const LabelReadiness = "io.envctl.readiness"

// Who checks readiness (LabelReadiness, Options.Probe).
const (
	ProbeEnvctl = "envctl"
	ProbeMesos  = "mesos"
)

// Health check timing (mesos.md §1.11: the Mesos defaults wait 15 s before the first check).
// A Mesos health check runs for the task's whole life — its interval cannot change after the
// launch — and on the Docker containerizer every check is a fork of a helper (mesos-tcp-connect,
// curl, docker exec) by the executor: at the old 250 ms, 30 tasks kept Mesos's processes and
// the engine at 1.9 cores while idle (issue 16). So envctl checks from outside wherever it can
// reach the agents' host ports, and a Mesos check, where one is kept (an exec probe, or an
// agent envctl cannot reach), runs every second unless the ready block says otherwise, and
// never faster: one second is the readiness delay a check adds at most, and the cost of one
// check a second per such task (measured: README, "What readiness costs on Mesos").
//
// Failures are reported from the first check (no grace period), so that envctl sees every
// observation; Mesos kills the task only after failing for longer than the ready timeout, so
// that envctl's own timeout, with its report, comes first.
//
// The attempt timeout is generous (up to 10 s) because on a real agent each check forks a
// helper through the Docker executor, and on a busy host that fork alone took over 2 s. Every
// timed-out check is an "unhealthy" status update, and an agent sends a task's updates one at
// a time, each after envctl's acknowledgement of the one before: with the old 2 s timeout, 30
// tasks on 3 agents at load 60 queued dozens of them per task, and the one "healthy" update
// waited behind them for minutes (issue 13, BenchmarkUp30Depth5). A refused connection or a
// wrong HTTP status still fails at once, whatever the timeout.
const (
	defaultHealthInterval = time.Second
	minHealthInterval     = time.Second
	minAttemptTimeout     = 2 * time.Second
	maxAttemptTimeout     = 10 * time.Second
)

// attemptTimeout is the timeout of one health check attempt: half the ready timeout, between
// 2 s and 10 s, so that a short ready timeout still sees an attempt's failure before it ends.
func attemptTimeout(ready time.Duration) time.Duration {
	return min(max(ready/2, minAttemptTimeout), maxAttemptTimeout)
}

func newTaskID(env, service string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on Linux
	// Dots are allowed in task IDs; "/" and control characters are not (mesos.md §2.1), and
	// env and service names are DNS-safe.
	return "envctl." + env + "." + service + "." + hex.EncodeToString(b[:])
}

// frameworkUser is the user tasks run as on the agents: the current user, as mesos-execute
// does.
func frameworkUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

// frameworkInfo is the FrameworkInfo of spec's environment.
func (b *Backend) frameworkInfo(spec provisioner.Spec) mesospb.FrameworkInfo {
	failover := b.opt.DefaultFailover
	if exp, ok := provisioner.Expiry(spec.Labels); ok {
		// The environment's TTL: once envctl has gone, Mesos reaps the framework when the
		// environment expires. At least a second, or Mesos would remove it on disconnect.
		failover = max(time.Until(exp), time.Second)
	}
	secs := math.Ceil(failover.Seconds())
	var labels []mesospb.Label
	for _, k := range []string{provisioner.LabelEnv, provisioner.LabelExpires, provisioner.LabelVersion, provisioner.LabelOwner} {
		if v, ok := spec.Labels[k]; ok {
			labels = append(labels, label(k, v))
		}
	}
	if _, ok := spec.Labels[provisioner.LabelEnv]; !ok {
		labels = append(labels, label(provisioner.LabelEnv, spec.Env))
	}
	host, _ := os.Hostname()
	info := mesospb.FrameworkInfo{
		User:            frameworkUser(),
		Name:            frameworkPrefix + spec.Env,
		FailoverTimeout: &secs,
		Checkpoint:      ptr(true),
		// One role, as MULTI_ROLE frameworks name it (mesos.md §1.4): the offers and the
		// resources then carry allocation_info, and the role is the team's. PARTITION_AWARE:
		// a task whose agent stopped answering is TASK_UNREACHABLE (it may come back) rather
		// than TASK_LOST, so that status can say so and up replace it.
		Roles: []string{b.role()},
		Capabilities: []mesospb.FrameworkInfo_Capability{
			{Type: mesospb.FrameworkInfo_Capability_MULTI_ROLE},
			{Type: mesospb.FrameworkInfo_Capability_PARTITION_AWARE},
		},
		Labels: &mesospb.Labels{Labels: labels},
	}
	if host != "" {
		info.Hostname = &host
	}
	if b.opt.Principal != "" {
		info.Principal = &b.opt.Principal
	}
	return info
}

// frameworkRoles are the roles a framework registered under: roles with MULTI_ROLE, else its
// one role (a framework an older envctl registered).
func frameworkRoles(info mesospb.FrameworkInfo) []string {
	if len(info.Roles) > 0 {
		return info.Roles
	}
	if info.Role != nil {
		return []string{*info.Role}
	}
	return []string{"*"}
}

// role is the role envctl's frameworks register under.
func (b *Backend) role() string {
	if b.opt.Role == "" {
		return "*"
	}
	return b.opt.Role
}

func ptr[T any](v T) *T { return &v }

func label(k, v string) mesospb.Label { return mesospb.Label{Key: k, Value: &v} }

// taskInfo builds the TaskInfo of one launch on one agent (mesos.md §2).
// role is the role the offer was allocated to ("" for a framework without MULTI_ROLE): the
// resources carry it as their allocation_info, as the master expects of a MULTI_ROLE
// framework's (it would inject it otherwise, mesos.md §1.6).
// byMesos says whether readiness is a Mesos health check (the agent cannot be reached from
// here, or --mesos-probe=mesos), rather than envctl's own probes.
func (b *Backend) taskInfo(id, agentID, role string, spec provisioner.Spec, need request, hostPorts []uint64, byMesos bool) mesospb.TaskInfo {
	resources := []mesospb.Resource{scalar("cpus", need.cpus), scalar("mem", need.mem)}
	if len(hostPorts) > 0 {
		resources = append(resources, portsResource(hostPorts))
	}
	if role != "" {
		for i := range resources {
			resources[i].AllocationInfo = &mesospb.Resource_AllocationInfo{Role: ptr(role)}
		}
	}
	var hp []string
	for i, p := range spec.Ports {
		hp = append(hp, fmt.Sprintf("%s=%d", p.Name, hostPorts[i]))
	}
	var container *mesospb.ContainerInfo
	var cmd *mesospb.CommandInfo
	if b.opt.Containerizer == ContainerizerMesos {
		container, cmd = mesosContainer(spec)
	} else {
		container, cmd = dockerContainer(spec, hostPorts)
	}
	if len(spec.Environment) > 0 {
		names := make([]string, 0, len(spec.Environment))
		for k := range spec.Environment {
			names = append(names, k)
		}
		sort.Strings(names)
		env := &mesospb.Environment{}
		for _, k := range names {
			env.Variables = append(env.Variables, mesospb.Environment_Variable{Name: k, Value: ptr(spec.Environment[k])})
		}
		cmd.Environment = env
	}
	lbl := map[string]string{}
	for k, v := range spec.Labels {
		lbl[k] = v
	}
	lbl[LabelHostPorts] = strings.Join(hp, ",")
	lbl[LabelReadiness] = ProbeEnvctl
	if byMesos {
		lbl[LabelReadiness] = ProbeMesos
	}
	keys := make([]string, 0, len(lbl))
	for k := range lbl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	labels := &mesospb.Labels{}
	for _, k := range keys {
		labels.Labels = append(labels.Labels, label(k, lbl[k]))
	}
	var kill *mesospb.KillPolicy
	if spec.StopGrace > 0 {
		// The Docker executor's `docker stop` waits this long before it kills.
		kill = &mesospb.KillPolicy{GracePeriod: &mesospb.DurationInfo{Nanoseconds: spec.StopGrace.Nanoseconds()}}
	}
	return mesospb.TaskInfo{
		Name:        spec.Service,
		TaskID:      mesospb.TaskID{Value: id},
		AgentID:     mesospb.AgentID{Value: agentID},
		Resources:   resources,
		Command:     cmd,
		Container:   container,
		KillPolicy:  kill,
		HealthCheck: b.healthCheck(spec, byMesos),
		Labels:      labels,
	}
}

// dockerContainer is the task's container for the Docker containerizer: a BRIDGE network,
// each declared port published on the host port chosen from the offer.
func dockerContainer(spec provisioner.Spec, hostPorts []uint64) (*mesospb.ContainerInfo, *mesospb.CommandInfo) {
	docker := &mesospb.ContainerInfo_DockerInfo{
		Image:   spec.Image,
		Network: mesospb.ContainerInfo_DockerInfo_BRIDGE.Enum(),
	}
	for i, p := range spec.Ports {
		docker.PortMappings = append(docker.PortMappings, mesospb.ContainerInfo_DockerInfo_PortMapping{
			HostPort: uint32(hostPorts[i]), ContainerPort: uint32(p.Port), Protocol: ptr("tcp")})
	}
	// argv, never a shell (shell defaults to true in Mesos). With shell=false the Docker
	// executor appends the arguments to the image's entrypoint, replacing its CMD; an
	// entrypoint of our own goes in as `docker run --entrypoint`, which takes one word, so
	// the rest of it leads the arguments.
	args := append([]string(nil), spec.Command...)
	if len(spec.Entrypoint) > 0 {
		docker.Parameters = append(docker.Parameters, mesospb.Parameter{Key: "entrypoint", Value: spec.Entrypoint[0]})
		args = append(append([]string(nil), spec.Entrypoint[1:]...), spec.Command...)
	}
	docker.Parameters = append(docker.Parameters, settingParameters(spec)...)
	container := &mesospb.ContainerInfo{Type: mesospb.ContainerInfo_DOCKER.Enum(), Docker: docker}
	if spec.Hostname != "" {
		container.Hostname = &spec.Hostname
	}
	return container, &mesospb.CommandInfo{Shell: ptr(false), Arguments: args}
}

// mesosContainer is the task's container for the Mesos containerizer: the Docker image as the
// container's root filesystem (the agent's docker image provider pulls it), in the agent's own
// network (no NetworkInfo), so the task listens on its container ports at the agent's address
// and the ports resource it takes is those ports.
//
// The command: with shell=false and no value, the docker/runtime isolator runs the image's
// entrypoint with the arguments in place of the image's CMD (or the CMD when there are none),
// as `docker run IMAGE ARGS...` does. An entrypoint of our own is the value, and its whole
// argv leads the arguments.
func mesosContainer(spec provisioner.Spec) (*mesospb.ContainerInfo, *mesospb.CommandInfo) {
	container := &mesospb.ContainerInfo{
		Type: mesospb.ContainerInfo_MESOS.Enum(),
		Mesos: &mesospb.ContainerInfo_MesosInfo{Image: &mesospb.Image{
			Type:   mesospb.Image_DOCKER.Enum(),
			Docker: &mesospb.Image_Docker{Name: spec.Image},
			Cached: ptr(true),
		}},
	}
	cmd := &mesospb.CommandInfo{Shell: ptr(false), Arguments: append([]string(nil), spec.Command...)}
	if len(spec.Entrypoint) > 0 {
		cmd.Value = ptr(spec.Entrypoint[0])
		cmd.Arguments = append(append([]string(nil), spec.Entrypoint...), spec.Command...)
	}
	return container, cmd
}

// execCostPerService is what one exec readiness check a second costs an idle cluster, in
// cores: measured by bench/cmd/mesoslimit on the real test cluster (30 services with exec
// checks kept Mesos's processes and the engine at 1.64 cores, the same services probed by
// envctl at 0.06).
const execCostPerService = 0.05

// execCheckNotice is what a user is told of a service whose exec readiness check stays with
// Mesos (a COMMAND health check, for the task's whole life: Mesos has no way to stop a health
// check, and the Docker containerizer gives a framework no other way to run a command in a
// task) at the default interval; "" for every other service, and for one whose ready block
// chose its interval.
func execCheckNotice(spec provisioner.Spec, defaultInterval time.Duration) string {
	r := spec.Ready
	if spec.Once || r.Kind != provisioner.ProbeExec || len(r.Exec) == 0 || r.Interval > 0 {
		return ""
	}
	every := max(defaultInterval, minHealthInterval)
	return fmt.Sprintf("service %q: its exec readiness check runs on Mesos as a health check every %s for as long as the task runs "+
		"(a docker exec each time: about %.2f cores per service, measured); a tcp, http or protocol probe costs nothing once ready, "+
		"or set ready { interval } to check less often", spec.Service, every, execCostPerService*float64(time.Second)/float64(every))
}

// healthCheck turns the ready block into a Mesos health check; nil when readiness is not a
// check Mesos runs: a job (ready when finished), a log probe (read by envctl), no ports, or,
// unless byMesos, every probe envctl makes from outside (all but exec: the Docker
// containerizer offers envctl no way to run a command in a task but a COMMAND check).
func (b *Backend) healthCheck(spec provisioner.Spec, byMesos bool) *mesospb.HealthCheck {
	if spec.Once {
		return nil
	}
	r := spec.Ready
	if !byMesos && r.Kind != provisioner.ProbeExec {
		return nil
	}
	interval := r.Interval
	if interval <= 0 {
		interval = b.opt.HealthInterval
	}
	interval = max(interval, minHealthInterval)
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = provisioner.DefaultReadyTimeout
	}
	containerPort := func(name string) (uint32, bool) {
		for _, p := range spec.Ports {
			if p.Name == name {
				return uint32(p.Port), true
			}
		}
		return 0, false
	}
	perAttempt := attemptTimeout(timeout)
	if r.Kind == provisioner.ProbeExec {
		perAttempt = r.PerAttempt() // Compose's 30 s for the tools run in exec checks
	}
	if r.AttemptTimeout > 0 {
		perAttempt = r.AttemptTimeout
	}
	hc := &mesospb.HealthCheck{
		DelaySeconds:    ptr(0.0),
		IntervalSeconds: ptr(interval.Seconds()),
		// timeout_seconds is Mesos' limit on one check (mesos.md: default 20 s, a check that
		// runs longer counts as failed): the ready block's attempt_timeout when set.
		TimeoutSeconds:      ptr(perAttempt.Seconds()),
		GracePeriodSeconds:  ptr(0.0),
		ConsecutiveFailures: ptr(uint32(timeout/interval) + 3),
	}
	switch r.Kind {
	case provisioner.ProbeHTTP:
		port, ok := containerPort(r.Port)
		if !ok {
			return nil
		}
		path := r.Path
		if path == "" {
			path = "/"
		}
		if r.Status != 0 && (r.Status < 200 || r.Status > 399) {
			// Mesos takes only 200-399 as healthy: an answer of another status would
			// fail the check for ever; that the port accepts is what Mesos can see.
			hc.Type = mesospb.HealthCheck_TCP
			hc.TCP = &mesospb.HealthCheck_TCPCheckInfo{Port: port}
			break
		}
		// Mesos takes 200-399 as healthy and ignores `statuses` (mesos.md §2.3).
		hc.Type = mesospb.HealthCheck_HTTP
		hc.HTTP = &mesospb.HealthCheck_HTTPCheckInfo{Port: port, Path: &path, Scheme: ptr("http")}
	case provisioner.ProbeTCP, provisioner.ProbePostgres, provisioner.ProbeMySQL, provisioner.ProbeRedis,
		provisioner.ProbeAMQP, provisioner.ProbeMemcached, provisioner.ProbeGRPC, provisioner.ProbeKafka, provisioner.ProbeMongoDB:
		// Mesos health checks know no server protocols: where Mesos checks readiness (an agent
		// envctl cannot reach), a protocol probe is checked as TCP of its port.
		port, ok := containerPort(r.Port)
		if !ok {
			return nil
		}
		hc.Type = mesospb.HealthCheck_TCP
		hc.TCP = &mesospb.HealthCheck_TCPCheckInfo{Port: port}
	case provisioner.ProbeExec:
		if len(r.Exec) == 0 {
			return nil
		}
		// Run inside the container by the Docker executor, which turns the check into one
		// shell line, `docker exec <container> <value> <arguments...>` joined by spaces
		// (src/docker/executor.cpp, launchHealthCheck): so the arguments are argv[1:], not
		// argv with argv[0] first as for the command executor (seen on Mesos 1.12: testsvc
		// got its own path as an argument), and every word is shell-quoted.
		hc.Type = mesospb.HealthCheck_COMMAND
		hc.Command = &mesospb.CommandInfo{Shell: ptr(false), Value: ptr(shellQuote(r.Exec[0]))}
		for _, a := range r.Exec[1:] {
			hc.Command.Arguments = append(hc.Command.Arguments, shellQuote(a))
		}
	case provisioner.ProbePorts:
		if len(spec.Ports) == 0 {
			return nil
		}
		// Mesos runs one check per task: the first port (by name) stands for the service.
		hc.Type = mesospb.HealthCheck_TCP
		hc.TCP = &mesospb.HealthCheck_TCPCheckInfo{Port: uint32(spec.Ports[0].Port)}
	default:
		// A probe kind newer than this list, on a port: the port accepting is what Mesos
		// can see.
		port, ok := containerPort(r.Port)
		if !ok {
			return nil
		}
		hc.Type = mesospb.HealthCheck_TCP
		hc.TCP = &mesospb.HealthCheck_TCPCheckInfo{Port: port}
	}
	return hc
}

func labelMap(l *mesospb.Labels) map[string]string {
	out := map[string]string{}
	if l == nil {
		return out
	}
	for _, x := range l.Labels {
		out[x.Key] = x.GetValue()
	}
	return out
}

func terminal(s mesospb.TaskState) bool {
	switch s {
	case mesospb.TASK_FINISHED, mesospb.TASK_FAILED, mesospb.TASK_KILLED, mesospb.TASK_ERROR,
		mesospb.TASK_LOST, mesospb.TASK_DROPPED, mesospb.TASK_GONE, mesospb.TASK_GONE_BY_OPERATOR,
		mesospb.TASK_UNKNOWN:
		return true
	}
	return false
}

func stateOf(s mesospb.TaskState) provisioner.State {
	switch {
	case terminal(s):
		return provisioner.StateExited
	case s == mesospb.TASK_RUNNING || s == mesospb.TASK_KILLING:
		return provisioner.StateRunning
	case s == mesospb.TASK_STAGING || s == mesospb.TASK_STARTING:
		return provisioner.StateStarting
	case s == mesospb.TASK_UNREACHABLE:
		return provisioner.StateUnreachable
	}
	return provisioner.StateUnknown
}

var exitStatusRE = regexp.MustCompile(`exited with status (-?\d+)`)

// exitCode reads a finished task's exit code from its status ("Container exited with status
// 3", as the Docker executor says); -1 when the task did not exit by itself.
func exitCode(st mesospb.TaskStatus) int {
	if st.GetState() == mesospb.TASK_FINISHED {
		return 0
	}
	if m := exitStatusRE.FindStringSubmatch(st.GetMessage()); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n
		}
	}
	return -1
}

// describe renders a status for an error message: state, message and reason.
func describe(st mesospb.TaskStatus) string {
	s := st.GetState().String()
	if m := st.GetMessage(); m != "" {
		s += ": " + m
	}
	if st.Reason != nil {
		s += " (" + st.GetReason().String() + ")"
	}
	return s
}

// parseHostPorts reads LabelHostPorts.
func parseHostPorts(s string) map[string]int {
	out := map[string]int{}
	for _, p := range provisioner.ParsePorts(s) {
		out[p.Name] = p.Port
	}
	return out
}

// endpoints fills an instance's addresses from its agent's hostname and host ports.
func endpoints(inst *provisioner.Instance, host string, ports map[string]int) {
	inst.Host = host
	inst.Ports = map[string]int{}
	inst.Published = map[string]string{}
	inst.ProbeAddrs = map[string]string{}
	if host == "" {
		return // an agent the master no longer lists (unreachable): no address to give
	}
	for name, p := range ports {
		addr := net.JoinHostPort(host, strconv.Itoa(p))
		inst.Ports[name] = p
		inst.Published[name] = addr
		inst.ProbeAddrs[name] = addr
	}
}

// shellQuote makes s one word of a POSIX shell line.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

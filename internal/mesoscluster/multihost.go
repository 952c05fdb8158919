package mesoscluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// EnvMultiHost names the cluster.json of a running multi-host cluster (with-mesos -multihost
// sets it) for tests to use instead of starting one.
const EnvMultiHost = "ENVCTL_TEST_MESOS_MULTIHOST"

// MultiHostSkipHint is the one line a test skipped for want of a multi-host cluster says.
const MultiHostSkipHint = "no multi-host Mesos: run as root with shared/mesos beside the checkout (make mesos-cluster), or set " + EnvMultiHost

// RegistryVersion is the version of github.com/distribution/distribution/v3's cmd/registry the
// harness builds from the Go module proxy. It is installed into a folder of its own (go
// install), never required by envctl's go.mod: the registry and its ~100 modules are a test
// tool, and envctl's binary and module graph stay as they are.
const RegistryVersion = "v3.0.0"

// multiHostSlots is how many multi-host clusters may run on one machine at once: slot k has
// the bridge 10.213.(100+k).0/24 and gives its agents Docker host ports from 20000+1000k, so
// all stay below Linux's ephemeral ports (32768) and away from the single-host clusters'
// 31000-33999.
const multiHostSlots = 11

// MultiHost is a Mesos cluster whose agents are hosts of their own: the master listens on the
// address of a bridge in this (the root) network namespace, and each agent runs in a network
// namespace of its own, joined to the bridge by a veth pair, with its own address, which it
// advertises. A task of the Mesos containerizer runs in its agent's namespace, so it is
// reachable at its agent's address only. A task of the Docker containerizer is published by
// the one Docker Engine on this host's addresses, on a host port from its agent's range
// (DockerPorts); each agent's namespace forwards exactly its own range to the bridge address,
// so such a task too answers at its own agent's address and at no other agent's.
//
// A registry (distribution's `registry`) runs beside it. Registry is 127.0.0.1:PORT, and it
// works as one name everywhere: the Docker Engine pushes to it (127.0.0.0/8 registries are
// insecure by default, no daemon change), and in each agent's namespace 127.0.0.1:PORT is
// forwarded to the registry on the bridge, where the Mesos containerizer fetches (Mesos speaks
// plain http to a 127.0.0.1 registry).
type MultiHost struct {
	Slot     int         `json:"slot"`
	Dir      string      `json:"dir"`
	Master   string      `json:"master"`   // http://GATEWAY:5050
	Registry string      `json:"registry"` // 127.0.0.1:PORT
	Bridge   string      `json:"bridge"`
	Gateway  string      `json:"gateway"` // the bridge's address: the master's, and the registry's for the agents
	Agents   []HostAgent `json:"agents"`
}

// HostAgent is one agent of a MultiHost cluster.
type HostAgent struct {
	Namespace   string `json:"namespace"` // the network namespace (ip netns)
	Addr        string `json:"addr"`      // its own address: its host name in offers
	Port        int    `json:"port"`      // its HTTP port at Addr
	DockerPorts [2]int `json:"docker_ports"`
}

// MultiHostOptions configure StartMultiHost.
type MultiHostOptions struct {
	Agents int // default 3
	// DieWithParent ends the cluster's processes when the process that started them dies
	// (tests: a killed `go test` leaves no agent running; the next start sweeps the rest).
	DieWithParent bool
	// Logf receives progress lines; nil discards them.
	Logf func(format string, args ...any)
	// MasterEnv are MESOS_* settings for the master alone (QuickAgentLoss).
	MasterEnv []string
}

// AgentLink is the host side of agent i's (1-based) veth pair, on the cluster's bridge: set it
// down and the agent is cut off from the master and from every other host, as when its link
// fails; set it up again and the agent is back.
func (c *MultiHost) AgentLink(i int) string { return fmt.Sprintf("emh%da%d", c.Slot, i) }

func slotName(k int) string   { return "envctl-mh" + strconv.Itoa(k) }
func slotDir(k int) string    { return filepath.Join(os.TempDir(), "envctl-mesos-mh-"+strconv.Itoa(k)) }
func slotSubnet(k int) string { return "10.213." + strconv.Itoa(100+k) + "." }
func slotRegistryPort(k int) int {
	return 14050 + k
}
func agentDockerPorts(k, i int) [2]int {
	lo := 20000 + k*1000 + (i-1)*100
	return [2]int{lo, lo + 99}
}

var (
	slotMu    sync.Mutex
	slotLocks = map[int]*os.File{}
)

// claimSlot takes slot k's lock for this process; false when another process holds it.
func claimSlot(k int) bool {
	f, ok := tryLock(slotDir(k) + ".lock")
	if !ok {
		return false
	}
	slotMu.Lock()
	slotLocks[k] = f
	slotMu.Unlock()
	return true
}

func releaseSlot(k int) {
	slotMu.Lock()
	defer slotMu.Unlock()
	if f := slotLocks[k]; f != nil {
		f.Close()
		delete(slotLocks, k)
	}
}

// SlotLock is the open lock file of the cluster's slot, for a process that hands it on to a
// child that keeps the cluster claimed after the starter exits (make mesos-cluster).
func (c *MultiHost) SlotLock() *os.File {
	slotMu.Lock()
	defer slotMu.Unlock()
	return slotLocks[c.Slot]
}

// StartMultiHost starts a multi-host cluster from the shared/mesos folder scripts (its
// archive; the start script is the single-host one and is not used). It needs root. What is
// left of an earlier cluster in the slot it takes (a killed run) is swept first; a start that
// fails undoes everything it did.
func StartMultiHost(scripts string, opt MultiHostOptions) (*MultiHost, error) {
	if opt.Agents <= 0 {
		opt.Agents = 3
	}
	if opt.Agents > 9 {
		return nil, fmt.Errorf("multi-host cluster: at most 9 agents, not %d", opt.Agents)
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("multi-host cluster: network namespaces, bridges and iptables need root")
	}
	logf := opt.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	k := -1
	for i := 0; i < multiHostSlots; i++ {
		if claimSlot(i) {
			k = i
			break
		}
	}
	if k < 0 {
		return nil, fmt.Errorf("multi-host cluster: all %d slots are taken by running clusters", multiHostSlots)
	}
	if err := sweepSlot(k); err != nil {
		releaseSlot(k)
		return nil, fmt.Errorf("multi-host cluster: sweep what an earlier run left in slot %d: %w", k, err)
	}
	c := &MultiHost{Slot: k, Dir: slotDir(k), Bridge: slotName(k), Gateway: slotSubnet(k) + "1",
		Registry: "127.0.0.1:" + strconv.Itoa(slotRegistryPort(k))}
	c.Master = "http://" + c.Gateway + ":5050"
	if err := c.start(scripts, opt, logf); err != nil {
		serr := sweepSlot(k)
		releaseSlot(k)
		if serr != nil {
			err = fmt.Errorf("%w (and undoing it: %v)", err, serr)
		}
		return nil, err
	}
	return c, nil
}

func (c *MultiHost) start(scripts string, opt MultiHostOptions, logf func(string, ...any)) error {
	if err := os.MkdirAll(filepath.Join(c.Dir, "logs"), 0o755); err != nil {
		return err
	}
	prefix, err := unpackMesos(scripts)
	if err != nil {
		return err
	}
	registry, err := registryBinary()
	if err != nil {
		return err
	}
	if ln, err := net.Listen("tcp", c.Registry); err != nil {
		return fmt.Errorf("the registry's port %s is taken: %v", c.Registry, err)
	} else {
		ln.Close()
	}

	// The bridge, and the Docker Engine's firewall opened for it: the engine sets FORWARD's
	// policy to DROP, which would drop the traffic between the agents (bridged traffic passes
	// iptables here: net.bridge.bridge-nf-call-iptables=1) and between the engine's containers
	// and the agents.
	logf("bridge %s %s/24", c.Bridge, c.Gateway)
	if err := run("ip", "link", "add", c.Bridge, "type", "bridge"); err != nil {
		return err
	}
	if err := runAll([][]string{
		{"ip", "addr", "add", c.Gateway + "/24", "dev", c.Bridge},
		{"ip", "link", "set", c.Bridge, "up"},
	}); err != nil {
		return err
	}
	chain := forwardChain()
	for _, dir := range []string{"-i", "-o"} {
		if err := run("iptables", "-w", "-I", chain, dir, c.Bridge, "-m", "comment", "--comment", c.Bridge, "-j", "ACCEPT"); err != nil {
			return err
		}
	}

	// The registry, on every address of this namespace (127.0.0.1 for the engine, the
	// bridge's for the agents).
	regPort := strings.TrimPrefix(c.Registry, "127.0.0.1:")
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 0.0.0.0:%s\n",
		filepath.Join(c.Dir, "registry"), regPort)
	cfgPath := filepath.Join(c.Dir, "registry.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	if err := c.spawn(filepath.Join(c.Dir, "logs", "registry.log"), opt, []string{"OTEL_TRACES_EXPORTER=none"}, registry, "serve", cfgPath); err != nil {
		return err
	}

	env := []string{"LD_LIBRARY_PATH=" + filepath.Join(prefix, "lib")}
	launchers, err := c.launcherDir(prefix)
	if err != nil {
		return err
	}
	logf("master %s", c.Master)
	if err := c.spawn(filepath.Join(c.Dir, "logs", "master.log"), opt, append(append([]string(nil), env...), opt.MasterEnv...),
		filepath.Join(prefix, "sbin", "mesos-master"), "--ip="+c.Gateway, "--port=5050",
		"--work_dir="+filepath.Join(c.Dir, "master"), "--registry=in_memory",
		"--webui_dir="+filepath.Join(prefix, "share", "mesos", "webui")); err != nil {
		return err
	}

	var starts []agentStart
	for i := 1; i <= opt.Agents; i++ {
		a := HostAgent{Namespace: fmt.Sprintf("%s-a%d", c.Bridge, i), Addr: slotSubnet(c.Slot) + strconv.Itoa(10+i),
			Port: 5051, DockerPorts: agentDockerPorts(c.Slot, i)}
		logf("agent %d: namespace %s, address %s, Docker host ports %d-%d", i, a.Namespace, a.Addr, a.DockerPorts[0], a.DockerPorts[1])
		if err := c.addHost(a, i, regPort); err != nil {
			return fmt.Errorf("agent %d: %w", i, err)
		}
		work := filepath.Join(c.Dir, "agent"+strconv.Itoa(i))
		// ports: the Docker containerizer's range of this agent (the highest range, where
		// envctl takes a Docker task's host ports), and below 10000 the ports a task of the Mesos
		// containerizer listens on in the agent's own namespace (its container ports) — all
		// but the agent's own 5051.
		resources := fmt.Sprintf("ports:[1-5050,5052-9999,%d-%d]", a.DockerPorts[0], a.DockerPorts[1])
		agentArgs := []string{
			filepath.Join(prefix, "sbin", "mesos-agent"),
			"--master=" + c.Gateway + ":5050", "--ip=" + a.Addr, "--port=5051", "--hostname=" + a.Addr,
			"--work_dir=" + work, "--launcher=linux", "--cgroups_root=" + a.Namespace,
			// The Mesos containerizer needs a cgroups isolator with the linux launcher (Mesos
			// 1.12 creates the cgroups isolator and aborts when none is named): cgroups/cpu
			// weighs CPU shares only; memory is counted, not limited (posix/mem), since a
			// task's cgroup would also hold the command executor.
			"--isolation=filesystem/linux,docker/runtime,namespaces/pid,cgroups/cpu,posix/mem",
			"--image_providers=docker", "--docker_store_dir=" + filepath.Join(work, "store"),
			"--containerizers=docker,mesos", "--docker=docker",
			// An agent must not remove the mesos-* containers of another agent on the engine.
			"--docker_kill_orphans=false", "--systemd_enable_support=false",
			"--launcher_dir=" + launchers,
			"--resources=" + resources,
		}
		// In the agent's network namespace, and in a mount namespace of its own: its
		// containers' mounts go when it ends, and in there the cgroup hierarchies Mesos cannot
		// use (name=systemd, the cgroup2 one at unified, which make its cgroups code abort)
		// are unmounted without touching this host's.
		script := "umount /sys/fs/cgroup/systemd 2>/dev/null; umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\""
		args := append([]string{"--net=/run/netns/" + a.Namespace, "unshare", "--mount", "--propagation", "slave", "--", "sh", "-c", script, "agent"}, agentArgs...)
		logPath := filepath.Join(c.Dir, "logs", fmt.Sprintf("agent%d.log", i))
		exited, err := c.spawnWatched(logPath, opt, env, "nsenter", args...)
		if err != nil {
			return err
		}
		c.Agents = append(c.Agents, a)
		starts = append(starts, agentStart{exited: exited, restart: func() (<-chan struct{}, error) {
			_ = os.RemoveAll(work) // a fresh agent: nothing of the failed one to recover
			return c.spawnWatched(logPath, opt, env, "nsenter", args...)
		}})
	}
	if err := c.waitAgents(starts, 5*time.Minute); err != nil {
		return fmt.Errorf("%v%s", err, logTails(c.Dir))
	}
	if err := c.waitRegistry(time.Minute); err != nil {
		return fmt.Errorf("%v%s", err, logTails(c.Dir))
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	return os.WriteFile(c.StateFile(), b, 0o644)
}

// StateFile is the cluster.json that EnvMultiHost names.
func (c *MultiHost) StateFile() string { return filepath.Join(c.Dir, "cluster.json") }

// LoadMultiHost reads a running cluster's cluster.json.
func LoadMultiHost(path string) (*MultiHost, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c MultiHost
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &c, nil
}

// launchFilter is the mesos-containerizer in the agents' launcher folder: it drops, from the
// mounts of a container's launch, each mount of a /proc file this kernel does not have,
// then runs the real helper. Mesos's filesystem/linux isolator bind-mounts /proc/sysrq-trigger
// read-only into every container with an image, and fails the launch ("Failed to create mount
// target .../proc/sysrq-trigger") on a kernel without it (CONFIG_MAGIC_SYSRQ off, as on these
// machines' VM kernels). On a kernel that has the file, nothing changes.
const launchFilter = `#!/usr/bin/env python3
import json, os, sys
real = os.path.join(os.path.dirname(os.path.abspath(__file__)), "real", "mesos-containerizer")

def drop(v):
    if v.startswith("file://"):
        with open(v[len("file://"):]) as f:
            v = f.read()
    info = json.loads(v)
    ms = info.get("mounts", [])
    info["mounts"] = [m for m in ms if not missing(m.get("source", ""))]
    return json.dumps(info)

# missing: a mount of a /proc file this kernel lacks: the source is the file itself, or the
# container's copy of it (ROOTFS/proc/NAME, bound onto itself read-only).
def missing(src):
    i = src.rfind("/proc/")
    return i >= 0 and not os.path.exists(src[i:])

# The agent and the executor pass the launch's flags in the environment
# (MESOS_CONTAINERIZER_LAUNCH_INFO); a command line may carry them too.
for k in [k for k in os.environ if k.endswith("LAUNCH_INFO")]:
    os.environ[k] = drop(os.environ[k])
args = [("--launch_info=" + drop(a[len("--launch_info="):])) if a.startswith("--launch_info=") else a for a in sys.argv[1:]]
os.execv(real, [real] + args)
`

// launcherDir makes the agents' --launcher_dir: the Mesos helpers as they are, but for
// mesos-containerizer, which goes through launchFilter.
func (c *MultiHost) launcherDir(prefix string) (string, error) {
	dir := filepath.Join(c.Dir, "libexec")
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "real"), 0o755); err != nil {
		return "", err
	}
	src := filepath.Join(prefix, "libexec", "mesos")
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		link := filepath.Join(dir, e.Name())
		if e.Name() == "mesos-containerizer" {
			link = filepath.Join(dir, "real", e.Name())
		}
		if err := os.Symlink(filepath.Join(src, e.Name()), link); err != nil {
			return "", err
		}
	}
	return dir, os.WriteFile(filepath.Join(dir, "mesos-containerizer"), []byte(launchFilter), 0o755)
}

// addHost makes agent i's namespace: a veth pair to the bridge, its address, a default route
// through the bridge, and its forwards (its Docker host ports and the registry's 127.0.0.1
// port, both to the bridge's address, masqueraded so that replies come back through here).
func (c *MultiHost) addHost(a HostAgent, i int, regPort string) error {
	host := c.AgentLink(i)
	peer := host + "p"
	ns := a.Namespace
	in := func(args ...string) []string { return append([]string{"ip", "netns", "exec", ns}, args...) }
	dports := fmt.Sprintf("%d:%d", a.DockerPorts[0], a.DockerPorts[1])
	return runAll([][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", host, "type", "veth", "peer", "name", peer},
		{"ip", "link", "set", host, "master", c.Bridge, "up"},
		{"ip", "link", "set", peer, "netns", ns},
		{"ip", "-n", ns, "link", "set", peer, "name", "eth0"},
		{"ip", "-n", ns, "addr", "add", a.Addr + "/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "route", "add", "default", "via", c.Gateway},
		in("sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.route_localnet=1"),
		in("iptables", "-w", "-t", "nat", "-A", "PREROUTING", "-d", a.Addr, "-p", "tcp", "--dport", dports, "-j", "DNAT", "--to-destination", c.Gateway),
		in("iptables", "-w", "-t", "nat", "-A", "OUTPUT", "-d", a.Addr, "-p", "tcp", "--dport", dports, "-j", "DNAT", "--to-destination", c.Gateway),
		in("iptables", "-w", "-t", "nat", "-A", "OUTPUT", "-d", "127.0.0.1", "-p", "tcp", "--dport", regPort, "-j", "DNAT", "--to-destination", c.Gateway),
		in("iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-d", c.Gateway, "-p", "tcp", "-m", "multiport", "--dports", dports+","+regPort, "-j", "MASQUERADE"),
	})
}

// spawn starts a process of the cluster with its output in logPath, recording its PID.
func (c *MultiHost) spawn(logPath string, opt MultiHostOptions, env []string, name string, args ...string) error {
	_, err := c.spawnWatched(logPath, opt, env, name, args...)
	return err
}

// spawnWatched is spawn, and its channel is closed when the process exits.
func (c *MultiHost) spawnWatched(logPath string, opt MultiHostOptions, env []string, name string, args ...string) (<-chan struct{}, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if opt.DieWithParent {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // reaped here; a stop finds it by its folder or namespace
	base := strings.TrimSuffix(filepath.Base(logPath), ".log")
	return exited, os.WriteFile(filepath.Join(c.Dir, base+".pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
}

// agentStart is an agent process being started, and how to start it again.
type agentStart struct {
	exited  <-chan struct{}
	restart func() (<-chan struct{}, error)
	tries   int
}

// waitAgents waits until every agent has registered. An agent that exits first is started
// again, a few times: the Docker containerizer's recovery at start lists every mesos-*
// container of the engine and then inspects each, and fails the agent when another cluster
// on the same engine removed one in between ("Docker ps batch failed ... No such container").
// The wait is long because on this shared, loaded machine (load 20-40 on 2 cores) an agent
// has taken 30 s from start to registration.
func (c *MultiHost) waitAgents(starts []agentStart, d time.Duration) error {
	deadline := time.Now().Add(d)
	cl := &http.Client{Timeout: 2 * time.Second}
	for {
		for i := range starts {
			select {
			case <-starts[i].exited:
				if starts[i].tries >= 3 {
					return fmt.Errorf("agent %d exited %d times while starting", i+1, starts[i].tries+1)
				}
				starts[i].tries++
				ch, err := starts[i].restart()
				if err != nil {
					return err
				}
				starts[i].exited = ch
			default:
			}
		}
		resp, err := cl.Get(c.Master + "/state")
		if err == nil {
			var st struct {
				Activated float64 `json:"activated_slaves"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if int(st.Activated) >= len(c.Agents) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %d agents did not all register with %s within %s", len(c.Agents), c.Master, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *MultiHost) waitRegistry(d time.Duration) error {
	deadline := time.Now().Add(d)
	cl := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := cl.Get("http://" + c.Registry + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the registry at %s did not answer within %s: %v", c.Registry, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop ends the cluster and undoes everything it set up, checking nothing is left.
func (c *MultiHost) Stop() error {
	defer releaseSlot(c.Slot)
	return sweepSlot(c.Slot)
}

// SweepMultiHost removes what is left of multi-host clusters no running process claims (a
// killed test run or make mesos-cluster's holder gone); those that run are left alone.
func SweepMultiHost() error {
	var errs []error
	for k := 0; k < multiHostSlots; k++ {
		if !claimSlot(k) {
			continue
		}
		if err := sweepSlot(k); err != nil {
			errs = append(errs, fmt.Errorf("slot %d: %w", k, err))
		}
		releaseSlot(k)
	}
	return errors.Join(errs...)
}

// sweepSlot removes everything of slot k: processes (the master and registry by their folder,
// everything in the agents' namespaces), the agents' containers, cgroups and mounts, the
// namespaces, the bridge and the firewall rules. Each step runs whatever the ones before met.
func sweepSlot(k int) error {
	name, dir := slotName(k), slotDir(k)
	nss := slotNamespaces(name)
	var errs []error
	procs := clusterProcesses(dir)
	for _, ns := range nss {
		procs = append(procs, namespacePIDs(ns)...)
	}
	procs = append(procs, cgroupPIDs(name)...)
	if pids, _ := filepath.Glob(filepath.Join(dir, "*.pid")); len(pids) > 0 {
		for _, f := range pids {
			if b, err := os.ReadFile(f); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pidIn(pid, dir) {
					procs = append(procs, pid)
				}
			}
			_ = os.Remove(f)
		}
	}
	thawCgroups(name)
	for _, pid := range procs {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if ids := Containers(dir); len(ids) > 0 {
		if out, err := exec.Command("docker", append([]string{"rm", "-f", "-v"}, ids...)...).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("docker rm: %v: %s", err, out))
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var alive []int
		all := append(append(clusterProcesses(dir), cgroupPIDs(name)...), procs...)
		for _, ns := range nss {
			all = append(all, namespacePIDs(ns)...)
		}
		for _, pid := range all {
			if syscall.Kill(pid, 0) == nil && !Zombie(pid) {
				alive = append(alive, pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("processes %v still run", alive))
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := removeCgroups(name); err != nil {
		errs = append(errs, err)
	}
	if err := unmountUnder(dir); err != nil {
		errs = append(errs, err)
	}
	// The veths go first, by their root ends (a pair goes with either end): a namespace's
	// own removal frees its end only once the kernel gets to it, some time after `ip netns
	// del`, and the check below would still see them.
	for _, l := range vethLinks(k) {
		if out, err := exec.Command("ip", "link", "del", l).CombinedOutput(); err != nil && linkExists(l) {
			errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", l, err, out))
		}
	}
	for _, ns := range nss {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", ns, err, out))
		}
	}
	if linkExists(name) {
		if out, err := exec.Command("ip", "link", "del", name).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", name, err, out))
		}
	}
	if err := deleteRules(name); err != nil {
		errs = append(errs, err)
	}
	// The agents' folders (sandboxes, image stores) go; the logs stay for a look afterwards.
	for _, sub := range []string{"master", "registry", "libexec", "cluster.json"} {
		_ = os.RemoveAll(filepath.Join(dir, sub))
	}
	agents, _ := filepath.Glob(filepath.Join(dir, "agent*"))
	for _, a := range agents {
		if err := os.RemoveAll(a); err != nil {
			errs = append(errs, err)
		}
	}
	if left := MultiHostLeftovers(k); len(left) > 0 {
		errs = append(errs, fmt.Errorf("left after the sweep: %s", strings.Join(left, "; ")))
	}
	return errors.Join(errs...)
}

// MultiHostLeftovers lists what of slot k's cluster is still on the machine: namespaces, the
// bridge, firewall rules, processes, containers, cgroups, mounts. Empty after a Stop.
func MultiHostLeftovers(k int) []string {
	name, dir := slotName(k), slotDir(k)
	var out []string
	if nss := slotNamespaces(name); len(nss) > 0 {
		out = append(out, "namespaces "+strings.Join(nss, " "))
	}
	if linkExists(name) {
		out = append(out, "bridge "+name)
	}
	if links := vethLinks(k); len(links) > 0 {
		out = append(out, "links "+strings.Join(links, " "))
	}
	if rules := ruleLines(name); len(rules) > 0 {
		out = append(out, "iptables "+strings.Join(rules, " | "))
	}
	var live []string
	for _, pid := range append(clusterProcesses(dir), cgroupPIDs(name)...) {
		if !Zombie(pid) {
			live = append(live, strconv.Itoa(pid))
		}
	}
	if len(live) > 0 {
		out = append(out, "processes "+strings.Join(live, " "))
	}
	if ids := Containers(dir); len(ids) > 0 {
		out = append(out, "containers "+strings.Join(ids, " "))
	}
	if cg := cgroupDirs(name); len(cg) > 0 {
		out = append(out, "cgroups "+strings.Join(cg, " "))
	}
	if m := mountsUnder(dir); len(m) > 0 {
		out = append(out, "mounts "+strings.Join(m, " "))
	}
	return out
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func runAll(cmds [][]string) error {
	for _, c := range cmds {
		if err := run(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// forwardChain is where the bridge's ACCEPT rules go: DOCKER-USER, which the Docker Engine
// runs first in FORWARD and never rewrites, or FORWARD itself on a host without the engine.
func forwardChain() string {
	if exec.Command("iptables", "-w", "-S", "DOCKER-USER").Run() == nil {
		return "DOCKER-USER"
	}
	return "FORWARD"
}

// ruleLines are the filter table's rules that carry the comment name.
func ruleLines(name string) []string {
	out, err := exec.Command("iptables", "-w", "-S").Output()
	if err != nil {
		return nil
	}
	var rules []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "-A ") && strings.Contains(l, "--comment "+name+" ") {
			rules = append(rules, l)
		}
	}
	return rules
}

func deleteRules(name string) error {
	var errs []error
	for _, l := range ruleLines(name) {
		args := append([]string{"-w", "-D"}, strings.Fields(strings.TrimPrefix(l, "-A "))...)
		if err := run("iptables", args...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func slotNamespaces(name string) []string {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil
	}
	var nss []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && strings.HasPrefix(f[0], name+"-a") {
			nss = append(nss, f[0])
		}
	}
	sort.Strings(nss)
	return nss
}

func namespacePIDs(ns string) []int {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func linkExists(name string) bool {
	return exec.Command("ip", "link", "show", name).Run() == nil
}

// vethLinks are the root ends of slot k's veth pairs still present.
func vethLinks(k int) []string {
	out, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		return nil
	}
	prefix := fmt.Sprintf("emh%da", k)
	var links []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) > 1 {
			n := strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0]
			if strings.HasPrefix(n, prefix) {
				links = append(links, n)
			}
		}
	}
	return links
}

// pidIn tells whether pid still runs a command line naming dir (a recorded PID may have been
// reused by an unrelated process since).
func pidIn(pid int, dir string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && bytes.Contains(b, []byte(dir))
}

// cgroupDirs are the cgroups of the agents' linux launchers (--cgroups_root=NAME-aN) in every
// v1 hierarchy, deepest first.
func cgroupDirs(name string) []string {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/" + name + "-a*")
	var dirs []string
	for _, r := range roots {
		_ = filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	return dirs
}

func cgroupPIDs(name string) []int {
	var pids []int
	for _, d := range cgroupDirs(name) {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// thawCgroups thaws the freezer cgroups of the agents' containers: a frozen process does not
// die of SIGKILL until thawed (the linux launcher freezes a container while it destroys it).
func thawCgroups(name string) {
	for _, d := range cgroupDirs(name) {
		if strings.HasPrefix(d, "/sys/fs/cgroup/freezer/") {
			_ = os.WriteFile(filepath.Join(d, "freezer.state"), []byte("THAWED"), 0o644)
		}
	}
}

func removeCgroups(name string) error {
	var errs []error
	for _, d := range cgroupDirs(name) {
		if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("rmdir %s: %v", d, err))
		}
	}
	return errors.Join(errs...)
}

// mountsUnder lists the mount points under dir in this mount namespace, deepest first.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var ms []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			ms = append(ms, f[4])
		}
	}
	sort.Slice(ms, func(i, j int) bool { return len(ms[i]) > len(ms[j]) })
	return ms
}

func unmountUnder(dir string) error {
	var errs []error
	for _, m := range mountsUnder(dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("umount %s: %v", m, err))
		}
	}
	return errors.Join(errs...)
}

// unpackMesos unpacks shared/mesos's archive once into a folder of the multi-host clusters
// (by the archive's size, as the start script does) and makes sure the install prefix compiled
// into the binaries, /usr/lib/mesos-1.12, leads to a Mesos: it is left alone when it already
// does (a single-host cluster's unpacked copy of the same archive).
func unpackMesos(scripts string) (string, error) {
	const prefix = "/usr/lib/mesos-1.12"
	archive := filepath.Join(scripts, "mesos-1.12.tar.xz")
	fi, err := os.Stat(archive)
	if err != nil {
		return "", err
	}
	if err := installRuntimeLibs(); err != nil {
		return "", err
	}
	dist := filepath.Join(os.TempDir(), "envctl-mesos-mh-dist")
	stamp := filepath.Join(dist, "unpacked-"+strconv.FormatInt(fi.Size(), 10))
	if !isFile(stamp) {
		_ = os.RemoveAll(dist)
		if err := os.MkdirAll(dist, 0o755); err != nil {
			return "", err
		}
		if err := run("tar", "-xJf", archive, "-C", dist); err != nil {
			return "", err
		}
		if err := os.WriteFile(stamp, nil, 0o644); err != nil {
			return "", err
		}
	}
	if !isFile(filepath.Join(prefix, "sbin", "mesos-agent")) {
		_ = os.Remove(prefix)
		if err := os.Symlink(filepath.Join(dist, "mesos-1.12"), prefix); err != nil && !isFile(filepath.Join(prefix, "sbin", "mesos-agent")) {
			return "", err
		}
	}
	return prefix, nil
}

// installRuntimeLibs installs the Debian libraries the binaries need, as shared/mesos/start
// does, when any is missing.
func installRuntimeLibs() error {
	pkgs := []string{"libapr1", "libarchive13", "libcurl4", "libgrpc29", "libgrpc++1.51", "libprotobuf32", "libsasl2-2", "libsvn1", "zlib1g", "libzookeeper-mt2", "curl"}
	var missing []string
	for _, p := range pkgs {
		out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", p).Output()
		if err != nil || !strings.Contains(string(out), "ok installed") {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := run("apt-get", "update", "-qq"); err != nil {
		return err
	}
	cmd := exec.Command("apt-get", append([]string{"install", "-y", "-qq"}, missing...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install %s: %v: %s", strings.Join(missing, " "), err, out)
	}
	return nil
}

// registryBinary is distribution's registry at RegistryVersion, built once (go install from
// the module proxy, checked against the checksum database) into a folder of its own.
func registryBinary() (string, error) {
	dir := filepath.Join(os.TempDir(), "envctl-tools", "registry-"+RegistryVersion)
	bin := filepath.Join(dir, "registry")
	if isFile(bin) {
		return bin, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/distribution/distribution/v3/cmd/registry@"+RegistryVersion)
	// Outside any module: the tool's own go.mod decides its dependencies.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the registry (go install github.com/distribution/distribution/v3/cmd/registry@%s): %v: %s", RegistryVersion, err, out)
	}
	return bin, nil
}

var (
	mhMu       sync.Mutex
	mhCluster  *MultiHost
	mhStartErr error
	mhTried    bool
)

// MultiHostCluster returns the multi-host cluster the tests share: the one EnvMultiHost names,
// or one started on first use (3 agents) and stopped by Main. Without shared/mesos or root it
// skips t — unless CI=true, where a missing cluster fails.
func MultiHostCluster(t testing.TB) *MultiHost {
	t.Helper()
	if p := os.Getenv(EnvMultiHost); p != "" {
		c, err := LoadMultiHost(p)
		if err != nil {
			t.Fatalf("%s: %v", EnvMultiHost, err)
		}
		return c
	}
	mhMu.Lock()
	defer mhMu.Unlock()
	if !mhTried {
		mhTried = true
		scripts := Find()
		switch {
		case scripts == "":
			mhStartErr = errNoScripts
		case os.Geteuid() != 0:
			mhStartErr = errNotRoot
		default:
			mhCluster, mhStartErr = StartMultiHost(scripts, MultiHostOptions{Agents: 3, DieWithParent: true})
		}
	}
	if mhStartErr != nil {
		if errors.Is(mhStartErr, errNoScripts) || errors.Is(mhStartErr, errNotRoot) {
			testimage.SkipOrFail(t, "%s: %v", MultiHostSkipHint, mhStartErr)
		}
		t.Fatalf("start the multi-host Mesos: %v", mhStartErr)
	}
	return mhCluster
}

var (
	errNoScripts = errors.New("no shared/mesos beside the checkout")
	errNotRoot   = errors.New("not root")
)

// StopMultiHost stops the cluster MultiHostCluster started, if any (Main does; a package
// whose TestMain is not Main calls it from a cleanup).
func StopMultiHost() error {
	mhMu.Lock()
	defer mhMu.Unlock()
	c := mhCluster
	mhCluster, mhTried, mhStartErr = nil, false, nil
	if c == nil {
		return nil
	}
	return c.Stop()
}

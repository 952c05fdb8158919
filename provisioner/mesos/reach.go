package mesos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/envctl/envctl/provisioner"
)

// EnvProbe forces who checks readiness on Mesos, like the --mesos-probe flag: "envctl" (probes
// from outside through the agents' host ports) or "mesos" (Mesos health checks).
const EnvProbe = "ENVCTL_MESOS_PROBE"

// reachDialTimeout bounds the dial that tells whether envctl reaches an agent's host ports. A
// reachable host answers a dial to a port nobody listens on with a refusal at once (a round
// trip); only a filtered or unrouted one lets it run out.
const reachDialTimeout = 1500 * time.Millisecond

// agentReach is whether envctl's process reaches one agent's host ports.
type agentReach struct {
	ok  bool
	why string // the dial and its outcome
}

// reachState is what this process found about the agents (by hostname) and which ways the
// launches of each environment took.
type reachState struct {
	mu     sync.Mutex
	agents map[string]*agentReach
	// used is, per environment, the hostnames its launches went to.
	used map[string]map[string]bool
}

// probeMode is Options.Probe, else ENVCTL_MESOS_PROBE, else "" (decided per agent).
func probeMode(opt Options) (string, error) {
	m := opt.Probe
	if m == "" {
		m = os.Getenv(EnvProbe)
	}
	switch m {
	case "", "auto":
		return "", nil
	case ProbeEnvctl, ProbeMesos:
		return m, nil
	}
	return "", fmt.Errorf("--mesos-probe (or %s) = %q: want %q, %q or \"auto\"", EnvProbe, m, ProbeEnvctl, ProbeMesos)
}

// checkAgents finds out, once per agent, whether envctl reaches the host ports of the agents
// that these offers come from: one TCP dial from this process to the agent's hostname, at the
// highest port of the ports it offers (one no task of the framework holds). A connection
// accepted or refused proves a route to the host ports; a dial that is unreachable or times
// out means there is none (a firewall, another network), and that agent's tasks then carry a
// Mesos health check instead. The dials run together, and only for agents not yet seen: on a
// reachable cluster they cost one round trip each, once.
func (b *Backend) checkAgents(offers []mesospb.Offer) {
	if b.probe != "" {
		return
	}
	type target struct{ host, addr string }
	var todo []target
	b.reach.mu.Lock()
	seen := map[string]bool{}
	for _, o := range offers {
		if _, ok := b.reach.agents[o.Hostname]; ok || seen[o.Hostname] || o.Hostname == "" {
			continue
		}
		_, _, ports := offered(o.Resources)
		ports = normalizeRanges(ports)
		if len(ports) == 0 {
			continue // no port to dial: decided by an offer that has some (a task with ports needs them)
		}
		seen[o.Hostname] = true
		port := ports[len(ports)-1].end
		todo = append(todo, target{o.Hostname, net.JoinHostPort(o.Hostname, strconv.FormatUint(port, 10))})
	}
	b.reach.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	var wg sync.WaitGroup
	results := make([]*agentReach, len(todo))
	for i, t := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = dialAgent(t.addr)
		}()
	}
	wg.Wait()
	b.reach.mu.Lock()
	defer b.reach.mu.Unlock()
	if b.reach.agents == nil {
		b.reach.agents = map[string]*agentReach{}
	}
	for i, t := range todo {
		b.reach.agents[t.host] = results[i]
		if !results[i].ok {
			b.logf("mesos: agent %s: %s; its tasks' readiness is a Mesos health check", t.host, results[i].why)
		}
	}
}

// dialAgent is the reachability dial of one agent.
func dialAgent(addr string) *agentReach {
	ctx, cancel := context.WithTimeout(context.Background(), reachDialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
	}
	return reachOfDial(addr, err)
}

// reachOfDial is what a dial to addr that ended with err says about the host's reach.
func reachOfDial(addr string, err error) *agentReach {
	switch {
	case err == nil:
		return &agentReach{ok: true, why: "a dial to " + addr + " was accepted"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &agentReach{ok: true, why: "a dial to " + addr + " was refused at once (the host answers)"}
	case errors.Is(err, context.DeadlineExceeded):
		return &agentReach{why: fmt.Sprintf("a dial to %s got no answer within %s", addr, reachDialTimeout)}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return &agentReach{why: "a dial to " + addr + " failed: " + err.Error()}
}

// byMesos tells whether a task launched on the agent at hostname gets its readiness from a
// Mesos health check rather than from envctl's probes, and records the way for env.
func (b *Backend) byMesos(env, hostname string) bool {
	b.reach.mu.Lock()
	defer b.reach.mu.Unlock()
	if b.reach.used == nil {
		b.reach.used = map[string]map[string]bool{}
	}
	if b.reach.used[env] == nil {
		b.reach.used[env] = map[string]bool{}
	}
	b.reach.used[env][hostname] = true
	switch b.probe {
	case ProbeMesos:
		return true
	case ProbeEnvctl:
		return false
	}
	a := b.reach.agents[hostname]
	return a != nil && !a.ok
}

// Ways of Reach on Mesos.
const (
	// ReachHostPorts: envctl probes each task from its own process through the task's agent
	// host and host port, with the same prober as on Docker.
	ReachHostPorts = "host-ports"
	// ReachHealthChecks: readiness is Mesos health checks, run by the executors.
	ReachHealthChecks = "mesos-health-checks"
)

// ReachOf says how this process checked the readiness of env's tasks, once it launched any.
func (b *Backend) ReachOf(env string) (provisioner.Reach, bool) {
	b.reach.mu.Lock()
	defer b.reach.mu.Unlock()
	hosts := b.reach.used[env]
	if len(hosts) == 0 {
		return provisioner.Reach{}, false
	}
	switch b.probe {
	case ProbeMesos:
		return provisioner.Reach{Way: ReachHealthChecks, Why: "--mesos-probe=mesos (or " + EnvProbe + "): Mesos health checks, every " + b.opt.HealthInterval.String()}, true
	case ProbeEnvctl:
		return provisioner.Reach{Way: ReachHostPorts, Why: "--mesos-probe=envctl (or " + EnvProbe + "): envctl probes each task through its agent's host and host port"}, true
	}
	var names []string
	for h := range hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	var bad, good []string
	for _, h := range names {
		a := b.reach.agents[h]
		switch {
		case a == nil:
			good = append(good, h+": not checked (no ports offered)")
		case a.ok:
			good = append(good, h+": "+a.why)
		default:
			bad = append(bad, h+": "+a.why)
		}
	}
	if len(bad) > 0 {
		return provisioner.Reach{Way: ReachHealthChecks, Why: "envctl cannot reach these agents' host ports, so their tasks carry Mesos health checks (every " +
			b.opt.HealthInterval.String() + "): " + strings.Join(bad, "; ")}, true
	}
	return provisioner.Reach{Way: ReachHostPorts, Why: "envctl probes each task through its agent's host and host port (" + strings.Join(good, "; ") + ")"}, true
}

// ProbeNet is envctl's own process: where it probes at all, it reaches the host ports (a task
// on an agent it cannot reach carries a health check and is not probed by envctl).
func (b *Backend) ProbeNet(context.Context, provisioner.Instance) (provisioner.ProbeNet, error) {
	return provisioner.Direct, nil
}

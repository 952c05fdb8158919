package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/probeagent"
	"github.com/envctl/envctl/provisioner/protocol"
)

// ReachAuto lets the backend choose the way (the default of --reach).
const ReachAuto = "auto"

// reachDialTimeout bounds the one dial that decides whether envctl's process routes to the
// containers. A routable container answers a connect (accepted or refused) in well under a
// millisecond on one host; a route that goes nowhere either fails at once (unreachable) or
// is dropped, and 300 ms is all a dropped packet may cost the up.
const reachDialTimeout = 300 * time.Millisecond

// agentHelloTimeout bounds starting the agent: create, attach, start and its hello. The
// image is built before this bound applies; on a loaded machine a start can take seconds.
const agentHelloTimeout = 20 * time.Second

// SetReach forces a way to reach services: provisioner.ReachDirect, provisioner.ReachAgent or
// ReachAuto (""). Other values are an error naming the choices.
func (b *Backend) SetReach(way string) error {
	switch way {
	case "", ReachAuto, provisioner.ReachDirect, provisioner.ReachAgent:
		b.forceReach = way
		if way == ReachAuto {
			b.forceReach = ""
		}
		return nil
	}
	return fmt.Errorf("unknown way %q; choose one of %s, %s, %s", way, ReachAuto, provisioner.ReachDirect, provisioner.ReachAgent)
}

// envReach is this process's choice for one environment.
type envReach struct {
	mu      sync.Mutex
	decided bool
	reach   provisioner.Reach
	agent   *agent // the running agent, when reach.Way is agent (or one verified a refusal)

	// tentative is set when direct was chosen from a refused dial, which a firewall rule
	// that rejects envctl's traffic (iptables REJECT) produces as well as a service that does
	// not listen yet. It is cleared by the first connection envctl's process gets; until then,
	// refusals that last are checked against the agent (see tentativeNet).
	tentative bool
	since     time.Time // when the tentative choice was made
	lastCheck time.Time // the last check against the agent
	agentErr  error     // why the last check could not start an agent (nil once one ran)

	// spareDone is closed once the agent started ahead of the decision (prestartAgent) is up,
	// in spare, or failed, in spareErr; nil when none was started.
	spareDone chan struct{}
	spare     *agent
	spareErr  error
}

// prestartAgent starts an agent for env in the background while the environment is prepared
// (images, network), so that when the decision needs one it is already there: where envctl
// cannot route to the containers, the agent's start is then off the critical path, and a
// refusal on an unproven direct choice is checked at once. Where the direct way works, the
// spare is closed at the decision and removes itself.
func (b *Backend) prestartAgent(ctx context.Context, env string) {
	if b.forceReach == provisioner.ReachDirect || b.self(ctx) != "" {
		return
	}
	r := b.reachFor(env)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decided || r.spareDone != nil {
		return
	}
	done := make(chan struct{})
	r.spareDone = done
	go func() {
		a, err := b.startAgent(context.WithoutCancel(ctx), env)
		r.mu.Lock()
		r.spare, r.spareErr = a, err
		r.mu.Unlock()
		close(done)
	}()
}

// takeAgent returns the spare agent (waiting for it) or starts one. Called with r.mu held;
// it lets go of the lock while it waits, so that the spare's start can finish.
func (b *Backend) takeAgent(ctx context.Context, r *envReach, env string) (*agent, error) {
	if done := r.spareDone; done != nil {
		r.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
		}
		r.mu.Lock()
		if a := r.spare; a != nil && a.client.Err() == nil {
			r.spare, r.spareDone = nil, nil
			return a, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.spare, r.spareDone = nil, nil
	}
	return b.startAgent(ctx, env)
}

// dropSpare closes the spare agent once it is up: the direct way works.
func dropSpare(r *envReach) {
	done := r.spareDone
	if done == nil {
		return
	}
	r.spareDone = nil
	go func() {
		<-done
		r.mu.Lock()
		a := r.spare
		r.spare = nil
		r.mu.Unlock()
		if a != nil {
			a.close()
		}
	}()
}

// spareReady tells whether a spare agent is up now, without waiting.
func spareReady(r *envReach) bool {
	if r.spareDone == nil {
		return false
	}
	select {
	case <-r.spareDone:
		return r.spare != nil
	default:
		return false
	}
}

// agent is one running probe agent container and the stream to it.
type agent struct {
	id     string
	conn   types.HijackedResponse
	client *probeagent.Client
}

func (a *agent) close() { a.conn.Close() }

// reachFor returns env's entry, creating it.
func (b *Backend) reachFor(env string) *envReach {
	b.reachMu.Lock()
	defer b.reachMu.Unlock()
	if b.reaches == nil {
		b.reaches = map[string]*envReach{}
	}
	r, ok := b.reaches[env]
	if !ok {
		r = &envReach{}
		b.reaches[env] = r
	}
	return r
}

// ReachOf is the way this process chose for env, if it chose one.
func (b *Backend) ReachOf(env string) (provisioner.Reach, bool) {
	r := b.reachFor(env)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reach, r.decided
}

// ProbeNet is how probes reach inst (see provisioner.Reacher). The first call for an
// environment decides: forced by SetReach, or, automatically, one dial from envctl's process
// to a container address. A connect that is accepted or refused proves a route: envctl dials
// directly (the fast path, nothing else is started). A dial that is unreachable or times out
// within reachDialTimeout means no route (Docker Desktop, a remote engine, a CI job container,
// a network namespace): probes then go through an agent container on the environment's
// network, reached through the engine's API. When the agent cannot run either, the error says
// what was tried and how to fix it.
func (b *Backend) ProbeNet(ctx context.Context, inst provisioner.Instance) (provisioner.ProbeNet, error) {
	r := b.reachFor(inst.Env)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.decided {
		if r.reach.Way != provisioner.ReachAgent {
			if r.tentative {
				return &tentativeNet{b: b, r: r, env: inst.Env}, nil
			}
			return provisioner.Direct, nil
		}
		if r.agent != nil && r.agent.client.Err() == nil {
			return r.agent.client, nil
		}
		// The agent stopped (its environment's network was removed under it, someone removed
		// the container): start another.
		if r.agent != nil {
			r.agent.close()
			r.agent = nil
		}
		a, err := b.startAgent(ctx, inst.Env)
		if err != nil {
			return nil, fmt.Errorf("the probe agent stopped and could not be restarted: %w", err)
		}
		r.agent = a
		return a.client, nil
	}

	if b.forceReach == "" && b.joined(ctx, inst.Env) {
		r.decided = true
		r.reach = provisioner.Reach{Way: provisioner.ReachJobNetwork, Why: fmt.Sprintf("envctl runs in container %s of this engine, which joined the environment's network; endpoints are the services' addresses there", shortID(b.self(ctx)))}
		return provisioner.Direct, nil
	}
	switch b.forceReach {
	case provisioner.ReachDirect:
		r.decided, r.reach = true, provisioner.Reach{Way: provisioner.ReachDirect, Why: "forced by --reach or " + provisioner.EnvReach}
		return provisioner.Direct, nil
	case provisioner.ReachAgent:
		a, err := b.takeAgent(ctx, r, inst.Env)
		if err != nil {
			return nil, fmt.Errorf("--reach agent: %w", err)
		}
		if r.decided && r.agent != nil { // another probe decided while takeAgent waited
			a.close()
			return r.agent.client, nil
		}
		r.decided, r.reach, r.agent = true, provisioner.Reach{Way: provisioner.ReachAgent, Why: "forced by --reach or " + provisioner.EnvReach}, a
		return a.client, nil
	}

	addr := sampleAddr(inst)
	if addr == "" {
		return provisioner.Direct, nil // nothing to dial yet; decide on an instance with ports
	}
	dctx, cancel := context.WithTimeout(ctx, reachDialTimeout)
	err := provisioner.Direct.DialTCP(dctx, addr)
	cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err == nil || isRefused(err) {
		how := "accepted"
		if err != nil {
			how = "refused"
		}
		r.decided = true
		r.reach = provisioner.Reach{Way: provisioner.ReachDirect, Why: fmt.Sprintf("envctl's process routes to the containers (a dial to %s was %s)", addr, how)}
		if err != nil {
			r.tentative, r.since = true, time.Now()
			tn := &tentativeNet{b: b, r: r, env: inst.Env}
			// A single probe (status) has no later attempt to settle the doubt in, and its
			// attempt's own short timeout must not be spent starting an agent: settle it here.
			if provisioner.OneShot(ctx) {
				if pn := tn.check(ctx, addr, err); pn != nil {
					return pn, nil
				}
			}
			return tn, nil
		}
		dropSpare(r)
		return provisioner.Direct, nil
	}
	direct := fmt.Sprintf("a dial from envctl's process to the container address %s: %v", addr, err)
	a, aerr := b.takeAgent(ctx, r, inst.Env)
	if aerr != nil {
		return nil, fmt.Errorf("no way reaches the services of %s: tried %s; tried a probe agent on the environment's network: %w. "+
			"Run envctl where it can route to the engine's container networks, or give it a linux envctl binary for the agent (%s)",
			inst.Env, direct, aerr, EnvAgentBinary)
	}
	if r.decided { // another probe decided while takeAgent waited
		a.close()
		if r.agent != nil {
			return r.agent.client, nil
		}
		return provisioner.Direct, nil
	}
	r.decided, r.agent = true, a
	r.reach = provisioner.Reach{Way: provisioner.ReachAgent, Why: "envctl's process cannot route to the containers (" + direct + "); probes run from an agent container on the environment's network, through the engine's API"}
	return a.client, nil
}

// refusalCheckAfter is how long refusals may last on a tentative direct choice before they are
// checked against the agent, and then how often: most services listen within a second, and a
// first accepted connection ends the checks for good.
const refusalCheckAfter = time.Second

// spareCheckEvery spaces the checks of refusals when an agent is at hand.
const spareCheckEvery = 50 * time.Millisecond

// reachVerifyTimeout bounds the agent's dial that checks a refusal.
const reachVerifyTimeout = 2 * time.Second

// tentativeNet is Direct while the direct choice is unproven (envReach.tentative).
type tentativeNet struct {
	b   *Backend
	r   *envReach
	env string
}

func (t *tentativeNet) DialTCP(ctx context.Context, addr string) error {
	err := provisioner.Direct.DialTCP(ctx, addr)
	if pn := t.after(ctx, addr, err); pn != nil {
		return pn.DialTCP(ctx, addr)
	}
	return t.explain(err)
}

// explain adds to a refusal why it could not be checked from the environment's network:
// without it, a firewall that rejects envctl's traffic while the agent cannot start reads as
// a service that never listens (the probe history and the failure then say both).
func (t *tentativeNet) explain(err error) error {
	if err == nil {
		return nil
	}
	t.r.mu.Lock()
	aerr := t.r.agentErr
	t.r.mu.Unlock()
	if aerr == nil || !isRefused(err) {
		return err
	}
	return fmt.Errorf("%w (not checked from the environment's network: the probe agent did not start: %v)", err, aerr)
}

func (t *tentativeNet) GetHTTP(ctx context.Context, url string) (int, error) {
	status, err := provisioner.Direct.GetHTTP(ctx, url)
	addr := strings.TrimPrefix(url, "http://")
	if i := strings.IndexByte(addr, '/'); i >= 0 {
		addr = addr[:i]
	}
	if pn := t.after(ctx, addr, err); pn != nil {
		return pn.GetHTTP(ctx, url)
	}
	return status, t.explain(err)
}

func (t *tentativeNet) Protocol(ctx context.Context, addr string, p protocol.Params) (bool, string, error) {
	ok, detail, err := provisioner.Direct.Protocol(ctx, addr, p)
	if pn := t.after(ctx, addr, err); pn != nil {
		return pn.Protocol(ctx, addr, p)
	}
	return ok, detail, t.explain(err)
}

// after learns from one direct attempt. A connection proves the route; a refusal that has
// lasted refusalCheckAfter is checked by having the agent dial addr: when the agent connects
// where envctl was refused, something rejects envctl's own traffic, and the choice becomes the
// agent, which after returns so that the attempt is made again through it.
func (t *tentativeNet) after(ctx context.Context, addr string, err error) provisioner.ProbeNet {
	r := t.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.tentative {
		if r.reach.Way == provisioner.ReachAgent && r.agent != nil {
			return r.agent.client
		}
		return nil
	}
	if err == nil || !isRefused(err) {
		if err == nil {
			r.tentative = false
			dropSpare(r)
		}
		return nil
	}
	// With an agent at hand a check costs one dial through it: made at once (at most every
	// spareCheckEvery), so a firewall's refusals cost no more than that.
	if (r.agent != nil || spareReady(r)) && time.Since(r.lastCheck) >= spareCheckEvery {
		if r.agent == nil {
			r.agent, r.spare, r.spareDone = r.spare, nil, nil
		}
		return t.check(ctx, addr, err)
	}
	// A wait tries again: most refusals are a service still starting, and a check costs an
	// agent. A single probe (status) has no next attempt, so it settles the doubt now.
	if !provisioner.OneShot(ctx) && (time.Since(r.since) < refusalCheckAfter || time.Since(r.lastCheck) < refusalCheckAfter) {
		return nil
	}
	return t.check(ctx, addr, err)
}

// check has the agent dial addr, where envctl's own dial was refused with err (r.mu held).
func (t *tentativeNet) check(ctx context.Context, addr string, err error) provisioner.ProbeNet {
	r := t.r
	r.lastCheck = time.Now()
	if r.agent == nil || r.agent.client.Err() != nil {
		// Not under the attempt's short context: starting an agent can take longer than one
		// attempt on a loaded machine (startAgent bounds itself).
		a, aerr := t.b.startAgent(context.WithoutCancel(ctx), t.env)
		if aerr != nil {
			r.agentErr = aerr
			return nil // keep dialing directly; the refusals (explain) say what happens
		}
		r.agent, r.agentErr = a, nil
	}
	vctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reachVerifyTimeout)
	defer cancel()
	if aerr := r.agent.client.DialTCP(vctx, addr); aerr != nil {
		return nil // refused from inside the network too: the service does not listen yet
	}
	// The agent got in; the service may simply have started listening since envctl's own
	// dial. Only a direct dial refused after the agent's success shows a firewall.
	if derr := provisioner.Direct.DialTCP(vctx, addr); derr == nil || !isRefused(derr) {
		if derr == nil {
			r.tentative = false
			dropSpare(r)
			if r.agent != nil {
				r.agent.close()
				r.agent = nil
			}
		}
		return nil
	}
	r.tentative = false
	r.reach = provisioner.Reach{Way: provisioner.ReachAgent, Why: fmt.Sprintf("envctl's process is refused by container addresses that accept connections from the environment's network (%s: %v; a firewall rejects envctl's traffic); probes run from an agent container on the environment's network, through the engine's API", addr, err)}
	return r.agent.client
}

// sampleAddr is the address the decision dials: inst's first probe address by port name.
func sampleAddr(inst provisioner.Instance) string {
	names := make([]string, 0, len(inst.ProbeAddrs))
	for n := range inst.ProbeAddrs {
		names = append(names, n)
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return inst.ProbeAddrs[names[0]]
}

func isRefused(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection refused")
}

// startAgent runs a probe agent container on env's network and connects to it through the
// attach API. The container removes itself when its stdin ends (AutoRemove with StdinOnce):
// when this process closes the stream, and also when it dies, even by SIGKILL. Teardown removes
// any that are left, before it removes the network.
func (b *Backend) startAgent(ctx context.Context, env string) (*agent, error) {
	ref, err := b.AgentImage(ctx)
	if err != nil {
		return nil, err
	}
	nets, err := b.envNetworks(ctx, env)
	if err != nil {
		return nil, err
	}
	if len(nets) == 0 {
		return nil, fmt.Errorf("environment %s has no network", env)
	}
	netID := nets[0].ID
	ctx, cancel := context.WithTimeout(ctx, agentHelloTimeout)
	defer cancel()
	host, _ := os.Hostname()
	cfg := &container.Config{
		Image:        ref,
		Cmd:          []string{AgentCommand},
		OpenStdin:    true,
		StdinOnce:    true,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
		Labels: map[string]string{
			LabelAgent:               env,
			provisioner.LabelOwner:   fmt.Sprintf("%s:%d", host, os.Getpid()),
			provisioner.LabelVersion: provisioner.Version,
		},
	}
	hostCfg := &container.HostConfig{NetworkMode: container.NetworkMode(netID), AutoRemove: true}
	netCfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netID: {NetworkID: netID}}}
	var created container.CreateResponse
	err = call(ctx, func(ctx context.Context) (err error) {
		created, err = b.api.ContainerCreate(ctx, cfg, hostCfg, netCfg, nil, "envctl-agent-"+env+"-"+agentSuffix())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create the probe agent: %w", err)
	}
	fail := func(err error) (*agent, error) {
		cctx, ccancel := cleanupContext(ctx)
		defer ccancel()
		_ = b.api.ContainerRemove(cctx, created.ID, container.RemoveOptions{Force: true})
		return nil, err
	}
	// The hijacked stream outlives this call: it must not end with ctx.
	conn, err := b.api.ContainerAttach(context.WithoutCancel(ctx), created.ID, container.AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		return fail(fmt.Errorf("attach to the probe agent: %w", err))
	}
	if err := call(ctx, func(ctx context.Context) error {
		return b.api.ContainerStart(ctx, created.ID, container.StartOptions{})
	}); err != nil {
		conn.Close()
		return fail(fmt.Errorf("start the probe agent: %w", err))
	}
	pr, pw := io.Pipe()
	var stderr strings.Builder
	go func() {
		_, err := stdcopy.StdCopy(pw, &limitWriter{w: &stderr, n: 4096}, conn.Reader)
		pw.CloseWithError(err)
	}()
	a := &agent{id: created.ID, conn: conn, client: probeagent.NewClient(conn.Conn, pr)}
	if _, err := a.client.Hello(ctx); err != nil {
		a.close()
		if s := strings.TrimSpace(stderr.String()); s != "" {
			err = fmt.Errorf("%w: %s", err, s)
		}
		return fail(fmt.Errorf("the probe agent did not answer: %w", err))
	}
	return a, nil
}

// AgentCommand is the hidden envctl command the agent container runs.
const AgentCommand = "__probe-agent"

// closeAgents ends this process's agents: each removes itself once its stdin ends. A spare
// still starting is waited for (it is bounded by agentHelloTimeout): a container created but
// never started would not remove itself.
func (b *Backend) closeAgents() {
	b.reachMu.Lock()
	defer b.reachMu.Unlock()
	for _, r := range b.reaches {
		r.mu.Lock()
		done := r.spareDone
		r.mu.Unlock()
		if done != nil {
			<-done
		}
		r.mu.Lock()
		if r.spare != nil {
			r.spare.close()
			r.spare = nil
		}
		if r.agent != nil {
			r.agent.close()
			r.agent = nil
		}
		dropSpare(r)
		r.mu.Unlock()
	}
}

// removeAgents removes every agent container of env, whoever started it, so that the network
// can go. Removing one that is already going away is not an error.
func (b *Backend) removeAgents(ctx context.Context, env string) error {
	r := b.reachFor(env)
	r.mu.Lock()
	if r.agent != nil {
		r.agent.close()
		r.agent = nil
	}
	dropSpare(r)
	r.mu.Unlock()
	var list []container.Summary
	err := call(ctx, func(ctx context.Context) (err error) {
		list, err = b.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelAgent+"="+env))})
		return err
	})
	if err != nil {
		return fmt.Errorf("list probe agents: %w", err)
	}
	var errs []error
	for _, c := range list {
		err := call(ctx, func(ctx context.Context) error {
			return b.api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		})
		if err != nil && !cerrdefs.IsNotFound(err) && !strings.Contains(err.Error(), "already in progress") {
			errs = append(errs, fmt.Errorf("remove probe agent %s: %w", shortID(c.ID), err))
		}
	}
	return errors.Join(errs...)
}

// limitWriter keeps the first n bytes written to it.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// agentSuffix makes agent container names unique: several processes (an up and a status) may
// each run one for the same environment.
func agentSuffix() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprintf("%d", time.Now().UnixNano())
	}
	return hex.EncodeToString(b)
}

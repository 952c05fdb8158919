package docker

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/envctl/envctl/provisioner"
)

// EnvHost overrides the host part of every endpoint envctl hands out (env, run, status, up):
// for when the engine's host is reached under another name than DOCKER_HOST's, or through a
// tunnel.
const EnvHost = "ENVCTL_HOST"

// SetNotice sets fn to be told things the user must know that are not errors: publishing on
// more than loopback (a security matter). Each is said once per process.
func (b *Backend) SetNotice(fn func(string)) { b.notice = fn }

// remoteHost is the host of a remote engine (DOCKER_HOST=tcp://HOST:PORT), whose published
// ports live on that host; "" for an engine on this machine (a unix socket, or tcp to
// loopback).
func (b *Backend) remoteHost() string {
	u, err := url.Parse(b.api.DaemonHost())
	if err != nil || (u.Scheme != "tcp" && u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	host := u.Hostname()
	if host == "localhost" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	return host
}

// publishIP is the host address ports are published on. The file's default, loopback, is
// useless on a remote engine: nobody but that host's own processes could reach it. Only then
// ports are published on every address, which envctl says once, since it exposes the services
// to whoever can reach that host.
func (b *Backend) publishIP(asked string) string {
	if asked != "" && asked != "127.0.0.1" {
		return asked
	}
	host := b.remoteHost()
	if host == "" {
		return asked
	}
	b.noticeOnce.Do(func() {
		if b.notice != nil {
			b.notice(fmt.Sprintf("the engine is remote (%s): ports are published on all of its addresses, not only its loopback, so that envctl's endpoints (%s:PORT) work; anyone who can reach %s can reach them", b.api.DaemonHost(), host, host))
		}
	})
	return "0.0.0.0"
}

// endpoints sets inst's Published addresses to ones valid where envctl runs: ENVCTL_HOST with
// the published port when it is set; in a job container joined to the environment's network,
// the service's own address there; with a remote engine, its host with the published port;
// else the published address as the engine reports it (loopback).
func (b *Backend) endpoints(ctx context.Context, inst provisioner.Instance) provisioner.Instance {
	if len(inst.Published) == 0 {
		return inst
	}
	override := os.Getenv(EnvHost)
	joined := override == "" && b.joined(ctx, inst.Env)
	host := override
	if host == "" {
		host = b.remoteHost()
	}
	if host == "" && !joined {
		return inst
	}
	pub := make(map[string]string, len(inst.Published))
	for name, addr := range inst.Published {
		if joined {
			if own, ok := inst.ProbeAddrs[name]; ok {
				pub[name] = own
				continue
			}
		}
		if _, port, err := net.SplitHostPort(addr); err == nil && host != "" {
			addr = net.JoinHostPort(host, port)
		}
		pub[name] = addr
	}
	inst.Published = pub
	return inst
}

// selfState is what this process knows about the container it runs in.
type selfState struct {
	once sync.Once
	id   string // "" when envctl does not run in a container of this engine
	mu   sync.Mutex
	nets map[string]bool // environments whose network the container is attached to
}

// self returns the ID of the container of this engine that envctl runs in, or "". It reads
// candidates from /proc (the container's own files are bind mounts from the engine's
// containers directory; cgroup v1 paths name it) and the hostname (a container's is its short
// ID by default), then asks the engine: a candidate counts only when the engine has a running
// container by that ID, so envctl in a container of another engine (docker-in-docker) or on a
// host is never taken for a job container.
func (b *Backend) self(ctx context.Context) string {
	b.selfInfo.once.Do(func() {
		if os.Getenv(provisioner.EnvReach) == provisioner.ReachDirect || b.forceReach == provisioner.ReachDirect || b.forceReach == provisioner.ReachAgent {
			return
		}
		for _, cand := range selfCandidates() {
			var c container.InspectResponse
			err := call(ctx, func(ctx context.Context) (err error) {
				c, err = b.api.ContainerInspect(ctx, cand)
				return err
			})
			if err != nil || c.ContainerJSONBase == nil || c.State == nil || !c.State.Running {
				continue
			}
			if len(cand) < 64 && !strings.HasPrefix(c.ID, cand) {
				continue
			}
			b.selfInfo.id = c.ID
			b.selfInfo.nets = map[string]bool{}
			if c.NetworkSettings != nil {
				for name := range c.NetworkSettings.Networks {
					if env, ok := strings.CutPrefix(name, "envctl-"); ok {
						b.selfInfo.nets[env] = true
					}
				}
			}
			return
		}
	})
	return b.selfInfo.id
}

var containerIDRE = regexp.MustCompile(`[0-9a-f]{64}`)

// selfCandidates lists the container IDs /proc and the hostname suggest, most certain first.
func selfCandidates() []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			// /var/lib/docker/containers/<id>/hostname, /etc/hosts, /etc/resolv.conf
			if i := strings.Index(line, "/containers/"); i >= 0 {
				add(containerIDRE.FindString(line[i:]))
			}
		}
		f.Close()
	}
	if data, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "docker") {
				add(containerIDRE.FindString(line))
			}
		}
	}
	if h, err := os.Hostname(); err == nil && len(h) == 12 {
		if _, err := strconv.ParseUint(h, 16, 64); err == nil {
			add(h)
		}
	}
	return out
}

// joined tells whether envctl's own container is attached to env's network.
func (b *Backend) joined(ctx context.Context, env string) bool {
	if env == "" || b.self(ctx) == "" {
		return false
	}
	b.selfInfo.mu.Lock()
	defer b.selfInfo.mu.Unlock()
	return b.selfInfo.nets[env]
}

// joinNetwork attaches envctl's own container, when it runs in one of this engine's, to env's
// network netID: the services' own addresses are then routable from it (the fast path), and
// they are the endpoints it hands out. The engine isolates bridge networks from each other,
// so without this a job container on the default bridge could reach neither. Teardown
// disconnects it again.
func (b *Backend) joinNetwork(ctx context.Context, env, netID string) error {
	id := b.self(ctx)
	if id == "" {
		return nil
	}
	b.selfInfo.mu.Lock()
	defer b.selfInfo.mu.Unlock()
	if b.selfInfo.nets[env] {
		return nil
	}
	err := call(ctx, func(ctx context.Context) error {
		return b.api.NetworkConnect(ctx, netID, id, &network.EndpointSettings{})
	})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("connect envctl's own container %s to network %s: %w", shortID(id), networkName(env), err)
	}
	b.selfInfo.nets[env] = true
	return nil
}

// disconnectForeign detaches every container from netID that is not envctl's (no
// provisioner.LabelEnv and no LabelAgent): the job containers that joined it. The network is
// about to go, and the engine refuses to remove a network with endpoints.
func (b *Backend) disconnectForeign(ctx context.Context, env, netID string) error {
	var n network.Inspect
	err := call(ctx, func(ctx context.Context) (err error) {
		n, err = b.api.NetworkInspect(ctx, netID, network.InspectOptions{})
		return err
	})
	if cerrdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect network %s: %w", networkName(env), err)
	}
	for id := range n.Containers {
		var c container.InspectResponse
		err := call(ctx, func(ctx context.Context) (err error) {
			c, err = b.api.ContainerInspect(ctx, id)
			return err
		})
		if err != nil || c.Config == nil {
			continue
		}
		if c.Config.Labels[provisioner.LabelEnv] != "" || c.Config.Labels[LabelAgent] != "" {
			continue
		}
		err = call(ctx, func(ctx context.Context) error { return b.api.NetworkDisconnect(ctx, netID, id, true) })
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("disconnect container %s from network %s: %w", shortID(id), networkName(env), err)
		}
	}
	if b.selfInfo.id != "" {
		b.selfInfo.mu.Lock()
		delete(b.selfInfo.nets, env)
		b.selfInfo.mu.Unlock()
	}
	return nil
}

package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

// envFilter selects the resources of env, or of every environment when env is "".
func envFilter(env string) filters.Args {
	if env == "" {
		return filters.NewArgs(filters.Arg("label", provisioner.LabelEnv))
	}
	return filters.NewArgs(filters.Arg("label", provisioner.LabelEnv+"="+env))
}

// Observe lists every container of env (every envctl container when env is ""), running or
// not, sorted by environment and service. It makes one list call: the list already carries
// labels, state, port bindings and network addresses. It reads the exit code from the status
// text and leaves Started zero (the list does not report it; Inspect does). Labels are the
// container's as the engine reports them: the spec's labels merged over the image's own.
func (b *Backend) Observe(ctx context.Context, env string) ([]provisioner.Instance, error) {
	var list []container.Summary
	err := call(ctx, func(ctx context.Context) (err error) {
		list, err = b.api.ContainerList(ctx, container.ListOptions{All: true, Filters: envFilter(env)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]provisioner.Instance, 0, len(list))
	for _, c := range list {
		out = append(out, b.endpoints(ctx, summaryView(c).instance()))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Env != out[j].Env {
			return out[i].Env < out[j].Env
		}
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Inspect returns the current state of inst's container.
func (b *Backend) Inspect(ctx context.Context, inst provisioner.Instance) (provisioner.Instance, error) {
	ref := ref(inst)
	var c container.InspectResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		c, err = b.api.ContainerInspect(ctx, ref)
		return err
	})
	if err != nil {
		return provisioner.Instance{}, fmt.Errorf("inspect container %s: %w", ref, err)
	}
	if c.Config == nil || c.Config.Labels[provisioner.LabelEnv] == "" {
		return provisioner.Instance{}, fmt.Errorf("container %s is not envctl's (no %s label)", ref, provisioner.LabelEnv)
	}
	return b.endpoints(ctx, inspectView(c).instance()), nil
}

// Describe returns the engine's inspect document of inst's container, indented, for the
// diagnostics of a failed run.
func (b *Backend) Describe(ctx context.Context, inst provisioner.Instance) ([]byte, error) {
	ref := ref(inst)
	var c container.InspectResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		c, err = b.api.ContainerInspect(ctx, ref)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", ref, err)
	}
	if c.Config == nil || c.Config.Labels[provisioner.LabelEnv] == "" {
		return nil, fmt.Errorf("container %s is not envctl's (no %s label)", ref, provisioner.LabelEnv)
	}
	return json.MarshalIndent(c, "", "  ")
}

// Secrets returns the values of inst's environment variables that LabelSensitive names (see
// provisioner.SecretReader).
func (b *Backend) Secrets(ctx context.Context, inst provisioner.Instance) ([]string, error) {
	keys := provisioner.ParseDeps(inst.Labels[provisioner.LabelSensitive]) // the same comma list
	if len(keys) == 0 {
		return nil, nil
	}
	ref := ref(inst)
	var c container.InspectResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		c, err = b.api.ContainerInspect(ctx, ref)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", ref, err)
	}
	if c.Config == nil {
		return nil, nil
	}
	var out []string
	for _, kv := range c.Config.Env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && v != "" && slices.Contains(keys, k) {
			out = append(out, v)
		}
	}
	return out, nil
}

// EnvValue returns the value of inst's environment variable key (see provisioner.EnvReader).
func (b *Backend) EnvValue(ctx context.Context, inst provisioner.Instance, key string) (string, error) {
	ref := ref(inst)
	var c container.InspectResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		c, err = b.api.ContainerInspect(ctx, ref)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("inspect container %s: %w", ref, err)
	}
	if c.Config != nil {
		for _, kv := range c.Config.Env {
			if k, v, ok := strings.Cut(kv, "="); ok && k == key {
				return v, nil
			}
		}
	}
	return "", fmt.Errorf("container %s has no %s", ref, key)
}

// ref is how the engine is asked about inst: its ID, or else its name.
func ref(inst provisioner.Instance) string {
	if inst.ID != "" {
		return inst.ID
	}
	if inst.Name != "" {
		return inst.Name
	}
	return containerName(inst.Env, inst.Service)
}

// resolve returns the ID of inst's container for a call that changes it. An instance without an
// ID is looked up by name among the containers labelled with its environment, so that a
// hand-made Instance can never stop or remove a container that is not envctl's. found is false
// when there is no such container.
func (b *Backend) resolve(ctx context.Context, inst provisioner.Instance) (id string, found bool, err error) {
	if inst.ID != "" {
		return inst.ID, true, nil
	}
	if inst.Env == "" {
		return "", false, fmt.Errorf("instance %q: %w", inst.Name, errNoEnv)
	}
	name := ref(inst)
	f := envFilter(inst.Env)
	f.Add("name", name) // a substring match in the engine; the exact name is checked below
	var list []container.Summary
	err = call(ctx, func(ctx context.Context) (err error) {
		list, err = b.api.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("look up container %s: %w", name, err)
	}
	for _, c := range list {
		if summaryName(c.Names) == name {
			return c.ID, true, nil
		}
	}
	return "", false, nil
}

// Start creates env's network if needed, creates the container <env>-<service> and starts it,
// and returns it as the engine reports it once running: with its real published ports and its
// address on the network. Whatever fails after the container was created removes it again.
//
// Concurrent starts: docker/compose serialises ContainerStart (compose#12846, PR #12851)
// because concurrent starts got duplicate or failed host ports. The cause was a flaw of the
// port allocator that Engine 28.0's port-mapping rewrite introduced and 28.3.0 fixed
// (moby#50054, per compose PR #14106); compose's older serialisation (#10067) was about host
// port ranges ("6000-6010:80"), which envctl never asks for. On Engine 20.10 (API 1.41, the
// oldest envctl supports and the one in CI) it does not happen: 40 containers with two
// ephemeral published ports each, started 16 at a time for 10 rounds and 40 at a time for 5
// rounds (600 starts, 1200 ports), never failed a start and never got one host port twice.
// Serialising would cost a lot: the same 40 containers took 27-43 s one at a time against
// 6-10 s 16 at a time (2 cores). So starts run fully in parallel here;
// TestConcurrentStartsGetDistinctPorts repeats the check on every test run (DKT_ROUNDS and
// DKT_PARALLEL scale it), so an engine that regresses (28.0-28.2) fails it.
func (b *Backend) Start(ctx context.Context, spec provisioner.Spec) (provisioner.Instance, error) {
	created, err := b.Create(ctx, spec)
	if err != nil {
		return provisioner.Instance{}, err
	}
	return b.StartCreated(ctx, created)
}

// Create creates spec's container, <env>-<service>, on env's network (created if needed)
// without starting it (provisioner.AheadCreator). The instance it returns has the container's
// ID and name, its environment and service, and is in the Created state.
func (b *Backend) Create(ctx context.Context, spec provisioner.Spec) (provisioner.Instance, error) {
	return b.create(ctx, spec, nil)
}

// create is Create, with the gate (see gate.go) as the container's entrypoint when g is set.
func (b *Backend) create(ctx context.Context, spec provisioner.Spec, g *gated) (provisioner.Instance, error) {
	if spec.Env == "" {
		return provisioner.Instance{}, fmt.Errorf("start %q: %w", spec.Service, errNoEnv)
	}
	if spec.Service == "" {
		return provisioner.Instance{}, fmt.Errorf("start in environment %q: no service name", spec.Env)
	}
	if spec.Image == "" {
		return provisioner.Instance{}, fmt.Errorf("start %s: no image", spec.Service)
	}
	labels, err := containerLabels(spec)
	if err != nil {
		return provisioner.Instance{}, err
	}
	netID, err := b.ensureNetwork(ctx, spec.Env, spec.Labels)
	if err != nil {
		return provisioner.Instance{}, fmt.Errorf("start %s: %w", spec.Service, err)
	}
	if err := b.joinNetwork(ctx, spec.Env, netID); err != nil {
		return provisioner.Instance{}, fmt.Errorf("start %s: %w", spec.Service, err)
	}
	spec.PublishIP = b.publishIP(spec.PublishIP)
	if err := b.ensureVolumes(ctx, spec); err != nil {
		return provisioner.Instance{}, err
	}
	name := containerName(spec.Env, spec.Service)
	cfg, host, netCfg := containerConfig(spec, labels, netID)
	if g != nil {
		g.apply(cfg, host)
	}

	if err := ctx.Err(); err != nil {
		return provisioner.Instance{}, fmt.Errorf("start %s: %w", spec.Service, err)
	}
	// The create is not cancelled with ctx: the engine finishes a create whose client went
	// away, so a create cut short by Ctrl-C left a container this run never heard of and its
	// rollback never removed (found by the fault suite, faults/signals_test.go). Letting it
	// finish (a create takes milliseconds) and removing it below keeps rollback complete.
	var created container.CreateResponse
	cctx, cancelCreate := cleanupContext(ctx)
	err = call(cctx, func(ctx context.Context) (err error) {
		created, err = b.api.ContainerCreate(ctx, cfg, host, netCfg, nil, name)
		return err
	})
	cancelCreate()
	if err != nil {
		if cerrdefs.IsConflict(err) {
			return provisioner.Instance{}, fmt.Errorf("start %s: container %q already exists", spec.Service, name)
		}
		return provisioner.Instance{}, fmt.Errorf("start %s: create container %q: %w", spec.Service, name, err)
	}
	// Files copied in (bind mounts carried as copies) belong to the creation: a container
	// created ahead must be complete before its start, which is then all that remains.
	err = b.copyIn(ctx, created.ID, spec)
	if err == nil && g != nil {
		err = g.copyIn(ctx, b, created.ID)
	}
	if err != nil {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := b.api.ContainerRemove(cctx, created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			err = errors.Join(err, fmt.Errorf("remove the failed container %q: %w", name, rerr))
		}
		return provisioner.Instance{}, fmt.Errorf("start %s: container %q: %w", spec.Service, name, err)
	}
	return provisioner.Instance{
		ID: created.ID, Name: name, Env: spec.Env, Service: spec.Service, Labels: labels,
		State: provisioner.StateCreated, Host: spec.Service,
	}, nil
}

// StartCreated starts a container Create made and returns it as the engine reports it once
// running: with its real published ports and its address on the network. A container that
// fails to start is removed again.
func (b *Backend) StartCreated(ctx context.Context, inst provisioner.Instance) (provisioner.Instance, error) {
	var started provisioner.Instance
	var err error
	if inst.Labels[LabelGate] != "" && inst.State == provisioner.StateRunning {
		// StartHeld started it and read it back: only its process remains to start.
		started, err = inst, b.release(ctx, inst.ID)
	} else {
		started, err = b.startCreated(ctx, inst.ID)
	}
	if err != nil {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := b.api.ContainerRemove(cctx, inst.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			err = errors.Join(err, fmt.Errorf("remove the failed container %q: %w", inst.Name, rerr))
		}
		return provisioner.Instance{}, fmt.Errorf("start %s: container %q: %w", inst.Service, inst.Name, err)
	}
	return b.endpoints(ctx, started), nil
}

// StaticEndpoint is the endpoint of service's container once running: its alias on the
// environment's network and its container ports, both fixed by the file
// (provisioner.AheadCreator).
func (b *Backend) StaticEndpoint(env, service string, ports []provisioner.Port) envs.Endpoint {
	ep := envs.Endpoint{Host: service}
	if len(ports) > 0 {
		ep.Ports = make(map[string]int, len(ports))
		for _, p := range ports {
			ep.Ports[p.Name] = p.Port
		}
	}
	return ep
}

// startCreated starts the created container id and reads it back.
func (b *Backend) startCreated(ctx context.Context, id string) (provisioner.Instance, error) {
	err := call(ctx, func(ctx context.Context) error {
		return b.api.ContainerStart(ctx, id, container.StartOptions{})
	})
	if err != nil {
		return provisioner.Instance{}, err
	}
	var c container.InspectResponse
	err = call(ctx, func(ctx context.Context) (err error) {
		c, err = b.api.ContainerInspect(ctx, id)
		return err
	})
	if err != nil {
		return provisioner.Instance{}, fmt.Errorf("inspect after start: %w", err)
	}
	return inspectView(c).instance(), nil
}

// containerLabels is spec.Labels completed with the labels the backend itself reads back:
// environment, service and ports. A spec whose labels name another environment or service is a
// caller bug that would make the container invisible or misattributed, so it is refused.
func containerLabels(spec provisioner.Spec) (map[string]string, error) {
	labels := make(map[string]string, len(spec.Labels)+3)
	for k, v := range spec.Labels {
		labels[k] = v
	}
	for k, want := range map[string]string{provisioner.LabelEnv: spec.Env, provisioner.LabelService: spec.Service} {
		if got, ok := labels[k]; ok && got != want {
			return nil, fmt.Errorf("start %s: label %s is %q, want %q", spec.Service, k, got, want)
		}
		labels[k] = want
	}
	if _, ok := labels[provisioner.LabelPorts]; !ok && len(spec.Ports) > 0 {
		labels[provisioner.LabelPorts] = provisioner.FormatPorts(spec.Ports)
	}
	return labels, nil
}

// containerConfig turns spec into the engine's three create structures. The container joins
// the network netID with its service name as alias, publishes every port as TCP on
// spec.PublishIP (default 127.0.0.1) on an ephemeral host port, and has no restart policy:
// envctl, not the engine, decides what happens to a crashed service.
func containerConfig(spec provisioner.Spec, labels map[string]string, netID string) (*container.Config, *container.HostConfig, *network.NetworkingConfig) {
	envList := make([]string, 0, len(spec.Environment))
	for k, v := range spec.Environment {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList) // a stable order, so that two creates of one spec look the same in `docker inspect`

	publishIP := spec.PublishIP
	if publishIP == "" {
		publishIP = "127.0.0.1"
	}
	exposed := nat.PortSet{}
	bindings := nat.PortMap{}
	for _, p := range spec.Ports {
		port := nat.Port(strconv.Itoa(p.Port) + "/tcp")
		exposed[port] = struct{}{}
		bindings[port] = []nat.PortBinding{{HostIP: publishIP, HostPort: ""}}
	}

	cfg := &container.Config{
		Image:        spec.Image,
		Env:          envList,
		Labels:       labels,
		ExposedPorts: exposed,
	}
	// nil keeps the image's default; an empty but non-nil list would too, so only a non-empty
	// list overrides.
	if len(spec.Command) > 0 {
		cfg.Cmd = spec.Command
	}
	if len(spec.Entrypoint) > 0 {
		cfg.Entrypoint = spec.Entrypoint
	}
	host := &container.HostConfig{
		NetworkMode:  container.NetworkMode(netID),
		PortBindings: bindings,
		Resources: container.Resources{
			NanoCPUs: int64(math.Round(spec.CPUs * 1e9)),
			Memory:   spec.Memory,
		},
	}
	applySettings(spec, cfg, host)
	netCfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		// NetworkID as well as the key: the engine then finds the network by ID, never by
		// name, which two racing processes can briefly make ambiguous (see ensureNetwork).
		netID: {Aliases: append([]string{spec.Service}, spec.Aliases...), NetworkID: netID},
	}}
	return cfg, host, netCfg
}

// Stop asks inst's container to stop (SIGTERM, or the image's stop signal) and kills it after
// grace, rounded up to whole seconds (the engine's unit); a grace of 0 kills at once. A container
// that is already gone counts as stopped.
func (b *Backend) Stop(ctx context.Context, inst provisioner.Instance, grace time.Duration) error {
	secs := 0
	if grace > 0 {
		secs = int((grace + time.Second - 1) / time.Second)
	}
	id, found, err := b.resolve(ctx, inst)
	if err != nil || !found {
		return err
	}
	// The engine waits up to grace before it kills, so this call legitimately takes that long.
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+callTimeout)
	defer cancel()
	err = b.api.ContainerStop(ctx, id, container.StopOptions{Timeout: &secs})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("stop container %s: %w", ref(inst), err)
	}
	return nil
}

// Remove deletes inst's container, killing it if it runs, with its anonymous volumes. A
// container that is already gone, or that someone else is removing at this moment, is not an
// error.
func (b *Backend) Remove(ctx context.Context, inst provisioner.Instance) error {
	id, found, err := b.resolve(ctx, inst)
	if err != nil || !found {
		return err
	}
	// One removal at a time per environment: when several containers of one network are
	// removed at once, Engine 20.10 can lose count of the network's endpoints, and the network
	// then "has active endpoints" with none attached until the daemon restarts (moby#17217; the
	// daemon logs "Fixing inconsistent endpoint_cnt" on its next start). Seen here under 16
	// parallel removals of 40 containers. The engine removes containers one after another
	// anyway (removing 12 at once took as long as one by one), so this costs little.
	if inst.Env != "" {
		mu := b.envLock(inst.Env)
		mu.Lock()
		defer mu.Unlock()
	}
	err = call(ctx, func(ctx context.Context) error {
		return b.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	})
	// "Already in progress": another envctl (a concurrent down, gc) is removing it right now.
	if err != nil && !cerrdefs.IsNotFound(err) && !strings.Contains(err.Error(), "already in progress") {
		return fmt.Errorf("remove container %s: %w", ref(inst), err)
	}
	return nil
}

// applySettings carries the container settings of spec (user, mounts, limits...) into the
// create structures. Bind mounts and secrets are not here: copyIn puts them in after the
// create, so that their content shows in no inspect output.
func applySettings(spec provisioner.Spec, cfg *container.Config, host *container.HostConfig) {
	cfg.User, cfg.WorkingDir, cfg.Hostname = spec.User, spec.WorkingDir, spec.Hostname
	cfg.StopSignal = spec.StopSignal
	if spec.StopGrace > 0 {
		secs := int((spec.StopGrace + time.Second - 1) / time.Second)
		cfg.StopTimeout = &secs
	}
	if spec.Init {
		host.Init = &spec.Init
	}
	host.ReadonlyRootfs = spec.ReadOnly
	host.ShmSize = spec.ShmSize
	host.CapAdd, host.CapDrop = spec.CapAdd, spec.CapDrop
	for _, h := range sortedKeys(spec.ExtraHosts) {
		host.ExtraHosts = append(host.ExtraHosts, h+":"+spec.ExtraHosts[h])
	}
	for _, u := range spec.Ulimits {
		host.Ulimits = append(host.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	for _, m := range spec.Mounts {
		switch m.Type {
		case provisioner.MountVolume:
			host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeVolume, Source: volumeName(spec.Env, m.Source), Target: m.Target, ReadOnly: m.ReadOnly})
		case provisioner.MountTmpfs:
			mt := mount.Mount{Type: mount.TypeTmpfs, Target: m.Target, ReadOnly: m.ReadOnly}
			if m.Size > 0 {
				mt.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: m.Size}
			}
			host.Mounts = append(host.Mounts, mt)
		}
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

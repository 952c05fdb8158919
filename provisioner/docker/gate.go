package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/gate"
)

// The gate: a container created ahead of its dependencies' readiness is also started then,
// with envctl's own binary in gate mode (provisioner/gate) as PID 1 holding the service's
// process until Release; what is left on the critical path is a signal and an exec instead of
// the engine's container start (sandbox, network endpoint, shim: 300-650 ms on 2 cores, five
// times over in a 5-layer environment).
//
// Delivery, chosen by measurement (Engine 20.10, 2 cores, loaded): copying the 24 MB binary
// into each container (CopyToContainer, `docker cp`) took 1.46 s per container, more than the
// start it saves. A named volume filled once per engine and binary costs one create of a
// container from the agent image (the engine copies the image's /.envctl into an empty volume
// mounted there, at create, without a start: 0.4 s once), and then only a read-only mount per
// gated container. A separate small gate program would need a binary for the engine's
// platform that a plain `go install` of envctl cannot produce; envctl's own static binary is
// already what the probe agent runs (AgentBinary), so the gate is `envctl __gate`.

// LabelGate marks a container whose entrypoint is the gate (its value is "1"): StartCreated
// then releases it instead of starting it, and Release knows it has something to do.
const LabelGate = "io.envctl.gate"

// GateVolumePrefix starts the name of the volumes holding the gate binary, one per binary
// (the first 12 hex of its sha256); they carry LabelAgent=gate and no environment.
const GateVolumePrefix = "envctl-gate-"

// EnvGate turns the gate off when set to 0 or false (the up/run flag --gate reads it).
const EnvGate = "ENVCTL_GATE"

// minGatedMemory is the smallest memory limit a gated container may have: the gate's memory
// counts against the service's limit while it holds (measured: 6.8 MiB, 3 MiB of it its own,
// the rest the binary's page cache; its own is freed by the exec).
const minGatedMemory = 16 << 20

var (
	_ provisioner.Holder       = (*Backend)(nil)
	_ provisioner.AheadCreator = (*Backend)(nil)
)

// SetGate turns the gate on (the default) or off. Off, StartHeld declines every instance and
// up creates ahead without starting (the path before the gate).
func (b *Backend) SetGate(on bool) {
	b.gateMu.Lock()
	b.gateOff = !on
	b.gateMu.Unlock()
}

// gated is how one container is started held: the gate's entrypoint with the service's argv.
type gated struct {
	vol     string   // the volume holding the gate binary
	argv    []string // the service's argv as the engine would run it
	nonRoot bool     // the gate cannot make gate.Dir itself: put it there at create
}

// apply makes the gate the container's entrypoint and mounts its binary read-only.
func (g *gated) apply(cfg *container.Config, host *container.HostConfig) {
	cfg.Entrypoint = []string{gate.Binary, gate.Command, "--"}
	cfg.Cmd = append([]string(nil), g.argv...)
	cfg.Labels[LabelGate] = "1"
	host.Mounts = append(host.Mounts, mount.Mount{
		Type: mount.TypeVolume, Source: g.vol, Target: gate.Mount, ReadOnly: true,
		VolumeOptions: &mount.VolumeOptions{NoCopy: true},
	})
}

// copyIn puts gate.Dir, writable by anyone (sticky, as /tmp), into a container whose process
// is not root, so that the gate can leave its markers there.
func (g *gated) copyIn(ctx context.Context, b *Backend, id string) error {
	if !g.nonRoot {
		return nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(gate.Dir, "/") + "/", Mode: 0o1777, ModTime: time.Now()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return call(ctx, func(ctx context.Context) error {
		return b.api.CopyToContainer(ctx, id, "/", &buf, container.CopyToContainerOptions{})
	})
}

// cannotHold wraps why as an error that provisioner.ErrCannotHold matches.
func cannotHold(why string) error {
	return fmt.Errorf("%w: %s", provisioner.ErrCannotHold, why)
}

// StartHeld creates spec's container with the gate as its entrypoint and starts it: the
// gate holds the service's process until StartCreated (or Release) lets it go (see
// provisioner.Holder). Where the gate cannot be used it creates nothing and says why; a gated
// container that fails to start is removed and reported the same way, so that the caller
// falls back to a plain create.
func (b *Backend) StartHeld(ctx context.Context, spec provisioner.Spec) (provisioner.Instance, error) {
	g, err := b.gateFor(ctx, spec)
	if err != nil {
		return provisioner.Instance{}, err
	}
	inst, err := b.create(ctx, spec, g)
	if err != nil {
		return inst, err
	}
	err = call(ctx, func(ctx context.Context) error {
		return b.api.ContainerStart(ctx, inst.ID, container.StartOptions{})
	})
	if err != nil {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := b.api.ContainerRemove(cctx, inst.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			return inst, fmt.Errorf("start %s held: %w; remove it: %v", spec.Service, err, rerr)
		}
		if ctx.Err() != nil {
			return provisioner.Instance{}, ctx.Err()
		}
		// Perhaps the volume went away (a gc of another envctl build) and the engine made an
		// empty one in its place: the next held start looks again, and fills it.
		b.gateMu.Lock()
		if b.gateRdy != nil && b.gateVol == g.vol {
			select {
			case <-b.gateRdy:
				b.gateRdy, b.gateVol, b.gateErr = nil, "", nil
			default:
			}
		}
		b.gateMu.Unlock()
		return provisioner.Instance{}, cannotHold("the gated container did not start: " + firstLineOf(err.Error()))
	}
	// Read back now, off the critical path: the release that remains changes nothing the
	// engine reports (the exec keeps the container, its address and its ports).
	var c container.InspectResponse
	err = call(ctx, func(ctx context.Context) (err error) {
		c, err = b.api.ContainerInspect(ctx, inst.ID)
		return err
	})
	if err != nil {
		return inst, fmt.Errorf("start %s held: inspect: %w", spec.Service, err)
	}
	running := inspectView(c).instance()
	if running.State != provisioner.StateRunning {
		// The gate ended at once (it could not arm): the plain path will run the service.
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if rerr := b.api.ContainerRemove(cctx, inst.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); rerr != nil && !cerrdefs.IsNotFound(rerr) {
			return inst, fmt.Errorf("start %s held: the gate exited; remove it: %v", spec.Service, rerr)
		}
		return provisioner.Instance{}, cannotHold(fmt.Sprintf("the gate exited at once (status %d)", running.ExitCode))
	}
	return running, nil
}

// gateFor decides whether spec's container can be gated, and how.
func (b *Backend) gateFor(ctx context.Context, spec provisioner.Spec) (*gated, error) {
	b.gateMu.Lock()
	off := b.gateOff
	b.gateMu.Unlock()
	switch {
	case off:
		return nil, cannotHold("the gate is turned off (--gate=false or " + EnvGate + "=0)")
	case spec.ReadOnly:
		// The gate leaves its released marker in the container's filesystem, so that a
		// restart does not hold the service again; a read-only one has no place for it.
		return nil, cannotHold("read_only root filesystem (a restart could not find the gate released)")
	case spec.Memory > 0 && spec.Memory < minGatedMemory:
		return nil, cannotHold(fmt.Sprintf("memory limit below %d MiB (the gate's own memory counts against it)", minGatedMemory>>20))
	}
	for _, m := range spec.Mounts {
		if under(m.Target, gate.Mount) || under(m.Target, gate.Dir) {
			return nil, cannotHold("a mount at " + m.Target + ", where the gate lives")
		}
	}
	var img struct {
		entrypoint, cmd []string
		user            string
	}
	err := call(ctx, func(ctx context.Context) error {
		ii, err := b.api.ImageInspect(ctx, spec.Image)
		if err != nil {
			return err
		}
		if ii.Config != nil {
			img.entrypoint, img.cmd, img.user = ii.Config.Entrypoint, ii.Config.Cmd, ii.Config.User
		}
		return nil
	})
	if err != nil {
		// The plain create reports a missing image the way users know.
		return nil, cannotHold("image " + spec.Image + ": " + firstLineOf(err.Error()))
	}
	argv := resolveArgv(spec.Entrypoint, spec.Command, img.entrypoint, img.cmd)
	if len(argv) == 0 {
		return nil, cannotHold("no command (the engine says so at create)")
	}
	vol, err := b.gateVolume(ctx)
	if err != nil {
		return nil, cannotHold(err.Error())
	}
	user := spec.User
	if user == "" {
		user = img.user
	}
	return &gated{vol: vol, argv: argv, nonRoot: !isRoot(user)}, nil
}

// resolveArgv is the argv the engine runs for a container created with entrypoint and cmd
// over an image with imgEntrypoint and imgCmd (the daemon's merge of the two configs): a
// given entrypoint drops the image's cmd; otherwise the image's entrypoint runs with the
// given cmd, or the image's.
func resolveArgv(entrypoint, cmd, imgEntrypoint, imgCmd []string) []string {
	if len(entrypoint) > 0 {
		return append(append([]string(nil), entrypoint...), cmd...)
	}
	if len(cmd) == 0 {
		cmd = imgCmd
	}
	return append(append([]string(nil), imgEntrypoint...), cmd...)
}

// isRoot tells whether a container's user ("name", "uid", "uid:gid", "" for the default)
// is root, who can make gate.Dir in any root filesystem.
func isRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	return u == "" || u == "root" || u == "0"
}

// under tells whether p is dir or inside it.
func under(p, dir string) bool {
	p = strings.TrimRight(p, "/")
	return p == dir || strings.HasPrefix(p, dir+"/")
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// gateVolume returns the volume holding the gate binary for the engine, filling it the first
// time this engine sees this binary. The answer (or why there is none) is asked once per
// Backend; prepareGate asks it early, in the background.
func (b *Backend) gateVolume(ctx context.Context) (string, error) {
	b.gateMu.Lock()
	if b.gateRdy == nil {
		b.gateRdy = make(chan struct{})
		b.gateMu.Unlock()
		vol, err := b.fillGateVolume(context.WithoutCancel(ctx))
		b.gateMu.Lock()
		b.gateVol, b.gateErr = vol, err
		close(b.gateRdy)
	}
	rdy := b.gateRdy
	b.gateMu.Unlock()
	select {
	case <-rdy:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	b.gateMu.Lock()
	defer b.gateMu.Unlock()
	return b.gateVol, b.gateErr
}

// gateFillDeadline bounds one fill of the gate's volume; a volume older than this is whole.
const gateFillDeadline = 2 * time.Minute

// labelFillPID on a gate-fill container is the process that made it (for tests and for a
// person wondering whose it is).
const labelFillPID = "io.envctl.gate-fill.pid"

// waitGate waits, for a bounded time, for a gate preparation under way: it created a
// container to fill the volume and removes it when done, and a process that exits first (an
// up of one layer is over before the fill) would leave that container behind (seen: one per
// such run).
func (b *Backend) waitGate() {
	b.gateMu.Lock()
	rdy := b.gateRdy
	b.gateMu.Unlock()
	if rdy == nil {
		return
	}
	select {
	case <-rdy:
	case <-time.After(30 * time.Second):
	}
}

// prepareGate starts finding (or filling) the gate's volume in the background, so that the
// first held start does not wait for it.
func (b *Backend) prepareGate(ctx context.Context) {
	b.gateMu.Lock()
	skip := b.gateOff || b.gateRdy != nil
	b.gateMu.Unlock()
	if !skip {
		go b.gateVolume(context.WithoutCancel(ctx))
	}
}

// fillGateVolume finds or makes GateVolumePrefix+<binary hash>: the agent image's /.envctl
// copied in by the engine (a volume mounted where the image has content gets that content
// when it is empty, at the container's create). The container that does it is never started.
// Its stat of the binary confirms the volume holds all of it: a volume another envctl is
// filling at this moment is waited for.
func (b *Backend) fillGateVolume(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gateFillDeadline)
	defer cancel()
	bin, sum, noBinary, err := b.agentBinarySum(ctx)
	switch {
	case noBinary:
		return "", fmt.Errorf("no gate binary: %w", err)
	case err != nil:
		return "", err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return "", fmt.Errorf("gate binary: %w", err)
	}
	name := GateVolumePrefix + sum[:12]
	ref, err := b.AgentImage(ctx)
	if err != nil {
		return "", fmt.Errorf("gate image: %w", err)
	}
	// The volume is made by the fill container's create, which copies the image's content
	// into it in the same call: a volume that exists was filled, unless that create is still
	// under way (another envctl's, within a fill's deadline). So a volume older than that is
	// used as it is — no fill container, which a SIGKILLed envctl would otherwise leave behind
	// on every up (the fault suite left two in one run).
	var vol volume.Volume
	err = call(ctx, func(ctx context.Context) (err error) {
		vol, err = b.api.VolumeInspect(ctx, name)
		return err
	})
	if err == nil {
		if at, perr := time.Parse(time.RFC3339, vol.CreatedAt); perr == nil && time.Since(at) > gateFillDeadline {
			return name, nil
		}
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("gate volume %s: %w", name, err)
	}
	var created container.CreateResponse
	err = call(ctx, func(ctx context.Context) (err error) {
		created, err = b.api.ContainerCreate(ctx,
			&container.Config{Image: ref, Labels: map[string]string{LabelAgent: "gate-fill", labelFillPID: strconv.Itoa(os.Getpid())}},
			&container.HostConfig{NetworkMode: "none", Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: name, Target: gate.Mount,
				VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{LabelAgent: "gate", provisioner.LabelVersion: provisioner.Version}}}}},
			nil, nil, "")
		return err
	})
	if err != nil {
		return "", fmt.Errorf("fill the gate volume %s: %w", name, err)
	}
	defer func() {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		_ = b.api.ContainerRemove(cctx, created.ID, container.RemoveOptions{Force: true})
	}()
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		var ps container.PathStat
		err := call(ctx, func(ctx context.Context) (err error) {
			ps, err = b.api.ContainerStatPath(ctx, created.ID, gate.Binary)
			return err
		})
		if err == nil && ps.Size == st.Size() {
			return name, nil
		}
		if err != nil && !cerrdefs.IsNotFound(err) {
			return "", fmt.Errorf("gate volume %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("gate volume %s: the binary never appeared in full (%d of %d bytes)", name, ps.Size, st.Size())
		case <-time.After(delay):
		}
	}
}

// Release lets inst's held process run (provisioner.Holder): nothing to do unless inst is
// gated and not released yet.
func (b *Backend) Release(ctx context.Context, inst provisioner.Instance) error {
	if inst.Labels[LabelGate] == "" {
		return nil
	}
	id, found, err := b.resolve(ctx, inst)
	if err != nil || !found {
		return err
	}
	released, err := b.pathExists(ctx, id, gate.Released)
	if err != nil || released {
		return err
	}
	return b.release(ctx, id)
}

// release sends the gate of container id its SIGUSR1 once the gate catches it (gate.Armed
// exists; a signal sent earlier would be lost). The gate arms within milliseconds of its
// start, long before a dependency gets ready, so this is normally one stat and one kill.
func (b *Backend) release(ctx context.Context, id string) error {
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		armed, err := b.pathExists(ctx, id, gate.Armed)
		if err != nil {
			return err
		}
		if armed {
			err := call(ctx, func(ctx context.Context) error {
				return b.api.ContainerKill(ctx, id, "SIGUSR1")
			})
			if err != nil {
				return fmt.Errorf("release the gate: %w", err)
			}
			return nil
		}
		var c container.InspectResponse
		err = call(ctx, func(ctx context.Context) (err error) {
			c, err = b.api.ContainerInspect(ctx, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("release the gate: %w", err)
		}
		if c.State != nil && !c.State.Running {
			return fmt.Errorf("the gate exited (status %d) before it was released", c.State.ExitCode)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// pathExists tells whether p exists in container id's filesystem.
func (b *Backend) pathExists(ctx context.Context, id, p string) (bool, error) {
	err := call(ctx, func(ctx context.Context) error {
		_, err := b.api.ContainerStatPath(ctx, id, p)
		return err
	})
	if err == nil {
		return true, nil
	}
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("stat %s in the container: %w", p, err)
}

// SweepGateVolumes removes the gate's volumes (GateVolumePrefix) of other envctl binaries
// that no container mounts: each envctl build otherwise leaves a 24 MB volume behind (the
// agent images are RemoveStaleAgentImages' job). One in use is left: the engine refuses to
// remove it. It returns what it removed.
func (b *Backend) SweepGateVolumes(ctx context.Context) ([]string, error) {
	keep := ""
	if current, err := b.currentAgentTag(ctx); err == nil && current != "" {
		keep = GateVolumePrefix + strings.TrimPrefix(current, AgentRepo+":")
	}
	// First the fill containers of envctl processes that ended before removing theirs (a
	// fill's own deadline is 2 minutes: an older one is nobody's); they would also keep
	// their volume and image in use.
	var removed []string
	var fills []container.Summary
	err := call(ctx, func(ctx context.Context) (err error) {
		fills, err = b.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", LabelAgent+"=gate-fill"))})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the gate's fill containers: %w", err)
	}
	for _, c := range fills {
		if time.Since(time.Unix(c.Created, 0)) < 3*time.Minute {
			continue
		}
		if err := call(ctx, func(ctx context.Context) error {
			return b.api.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}); err == nil || cerrdefs.IsNotFound(err) {
			removed = append(removed, "container "+c.ID[:12]+" (gate fill)")
		}
	}
	var vols volume.ListResponse
	err = call(ctx, func(ctx context.Context) (err error) {
		vols, err = b.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelAgent+"=gate"))})
		return err
	})
	if err != nil {
		return removed, fmt.Errorf("list the gate's volumes: %w", err)
	}
	for _, v := range vols.Volumes {
		if v.Name == keep || !strings.HasPrefix(v.Name, GateVolumePrefix) {
			continue
		}
		if err := call(ctx, func(ctx context.Context) error { return b.api.VolumeRemove(ctx, v.Name, false) }); err == nil {
			removed = append(removed, "volume "+v.Name)
		}
	}
	return removed, nil
}

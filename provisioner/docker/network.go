package docker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/envctl/envctl/provisioner"
)

// envLabelKeys are the labels that describe an environment rather than one service; the
// network carries them, and Environments reports them.
var envLabelKeys = []string{provisioner.LabelEnv, provisioner.LabelExpires, provisioner.LabelVersion, provisioner.LabelOwner}

// envLabels picks the environment-level labels out of a container's or a spec's labels.
func envLabels(env string, from map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range envLabelKeys {
		if v, ok := from[k]; ok {
			out[k] = v
		}
	}
	out[provisioner.LabelEnv] = env
	if _, ok := out[provisioner.LabelVersion]; !ok {
		out[provisioner.LabelVersion] = provisioner.Version
	}
	return out
}

// envNetworks lists env's networks: named envctl-<env> and labelled for env. Normally there is
// one; two processes racing to create it can leave two (see ensureNetwork).
func (b *Backend) envNetworks(ctx context.Context, env string) ([]network.Summary, error) {
	f := envFilter(env)
	f.Add("name", networkName(env)) // a substring match in the engine; the exact name is checked below
	var list []network.Summary
	err := call(ctx, func(ctx context.Context) (err error) {
		list, err = b.api.NetworkList(ctx, network.ListOptions{Filters: f})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	out := list[:0]
	for _, n := range list {
		if n.Name == networkName(env) {
			out = append(out, n)
		}
	}
	// The oldest network is the environment's, so that every process picks the same one.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// PrepareEnvironment creates env's network ahead of the first Start (see
// provisioner.EnvironmentPreparer); it does nothing when the network exists.
func (b *Backend) PrepareEnvironment(ctx context.Context, env string, labels map[string]string) error {
	if env == "" {
		return fmt.Errorf("prepare: %w", errNoEnv)
	}
	netID, err := b.ensureNetwork(ctx, env, labels)
	if err != nil {
		return err
	}
	if err := b.joinNetwork(ctx, env, netID); err != nil {
		return err
	}
	b.prestartAgent(ctx, env)
	b.prepareGate(ctx)
	return nil
}

// ensureNetwork returns the ID of env's network, creating it with the environment-level labels
// taken from labels when there is none.
//
// Docker allows several networks with one name, and a container attached to one of them cannot
// reach a service on the other, so one environment must end up with exactly one network even
// when several Starts race:
//
//   - within one process, the per-environment mutex makes concurrent Starts create one network;
//   - across processes on this machine, hostLock serialises the look-up-and-create;
//   - across machines sharing a remote engine (DOCKER_HOST=tcp://...), the engine is the only
//     arbiter: on API 1.41 the client asks it to refuse a duplicate name (CheckDuplicate), which
//     it does only on a best-effort basis. A loser that gets the conflict reuses the winner's
//     network. In a tighter race both creates succeed; then every process re-lists and uses the
//     oldest, and the creator of the younger one removes it. A network becomes visible in lists
//     a moment after its creation time is set, so this last guard can still split an
//     environment; two `up`s of one environment from two machines at the same instant is the
//     case it leaves open.
//
// Younger duplicates left behind by a crash are removed whenever they have no containers.
func (b *Backend) ensureNetwork(ctx context.Context, env string, labels map[string]string) (string, error) {
	mu := b.envLock(env)
	mu.Lock()
	defer mu.Unlock()
	unlock, err := hostLock(ctx, env)
	if err != nil {
		return "", fmt.Errorf("wait for network %s: %w", networkName(env), err)
	}
	defer unlock()

	nets, err := b.envNetworks(ctx, env)
	if err != nil {
		return "", err
	}
	if len(nets) > 0 {
		b.removeDuplicates(ctx, nets[1:])
		return nets[0].ID, nil
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("create network %s: %w", networkName(env), err)
	}
	// Not cancelled with ctx: the engine finishes a create whose client went away, and a
	// network made after the caller's cleanup looked would be left behind (the fault suite
	// found one after a Ctrl-C 50 ms into up). A create takes milliseconds.
	var created network.CreateResponse
	cctx, cancelCreate := cleanupContext(ctx)
	defer cancelCreate()
	err = call(cctx, func(ctx context.Context) (err error) {
		created, err = b.api.NetworkCreate(ctx, networkName(env), network.CreateOptions{
			Driver: "bridge",
			Labels: envLabels(env, labels),
		})
		return err
	})
	if err != nil && poolsUsedUp(err) {
		// The engine's pools hold about 30 bridge networks, each a /16 or /20: far fewer
		// environments than a CI host runs. envctl then picks a small subnet itself.
		created, err = b.createInOwnSubnet(cctx, env, labels)
		if err != nil && !cerrdefs.IsConflict(err) {
			return "", fmt.Errorf("create network %s: the engine's address pools are used up (by default "+
				"they hold about 30 bridge networks) and %w; remove unused networks (`envctl gc`, `docker network prune`), "+
				"give %s a larger range, or configure default-address-pools in daemon.json", networkName(env), err, SubnetPoolVar)
		}
	}
	if err != nil && !cerrdefs.IsConflict(err) {
		return "", fmt.Errorf("create network %s: %w", networkName(env), err)
	}
	// Re-list after a conflict (someone else won) and after a success (someone else may have
	// won at the same time).
	nets, lerr := b.envNetworks(ctx, env)
	if lerr != nil {
		return "", lerr
	}
	if len(nets) == 0 {
		if err != nil {
			return "", fmt.Errorf("create network %s: %w", networkName(env), err)
		}
		return "", fmt.Errorf("create network %s: created as %s but the engine does not list it", networkName(env), shortID(created.ID))
	}
	b.removeDuplicates(ctx, nets[1:])
	return nets[0].ID, nil
}

// removeDuplicates removes the younger of several same-named networks of one environment. The
// engine refuses to remove a network with containers attached, so this never cuts a running
// service off; such a duplicate stays until its containers are gone.
func (b *Backend) removeDuplicates(ctx context.Context, nets []network.Summary) {
	if len(nets) == 0 {
		return
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	for _, n := range nets {
		_ = b.api.NetworkRemove(cctx, n.ID) // best effort, see above
	}
}

// Environments lists every environment that has a container or a network labelled with
// provisioner.LabelEnv, sorted by name. The environment-level labels come from the network when
// there is one, else from a container; Created is the network's creation time, else the oldest
// container's.
func (b *Backend) Environments(ctx context.Context) ([]provisioner.EnvInfo, error) {
	var nets []network.Summary
	err := call(ctx, func(ctx context.Context) (err error) {
		nets, err = b.api.NetworkList(ctx, network.ListOptions{Filters: envFilter("")})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var conts []container.Summary
	err = call(ctx, func(ctx context.Context) (err error) {
		conts, err = b.api.ContainerList(ctx, container.ListOptions{All: true, Filters: envFilter("")})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}

	envs := map[string]*provisioner.EnvInfo{}
	fromNet := map[string]bool{}
	for _, n := range nets {
		env := n.Labels[provisioner.LabelEnv]
		if env == "" || n.Name != networkName(env) {
			continue
		}
		e, ok := envs[env]
		if ok && !n.Created.Before(e.Created) {
			continue // of two racing networks, the oldest is the environment's
		}
		envs[env] = &provisioner.EnvInfo{Name: env, Labels: envLabels(env, n.Labels), Created: n.Created}
		fromNet[env] = true
	}
	for _, c := range conts {
		env := c.Labels[provisioner.LabelEnv]
		if env == "" {
			continue
		}
		created := time.Unix(c.Created, 0)
		e, ok := envs[env]
		switch {
		case !ok:
			envs[env] = &provisioner.EnvInfo{Name: env, Labels: envLabels(env, c.Labels), Created: created}
		case !fromNet[env] && created.Before(e.Created):
			e.Created = created
		}
	}
	vols, err := b.volumeEnvs(ctx)
	if err != nil {
		return nil, err
	}
	for env, labels := range vols {
		if _, ok := envs[env]; !ok {
			envs[env] = &provisioner.EnvInfo{Name: env, Labels: envLabels(env, labels)}
		}
	}
	out := make([]provisioner.EnvInfo, 0, len(envs))
	for _, e := range envs {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Teardown removes env's probe agents (whoever started them), then its network(s): those named envctl-<env> and labelled for env, never any
// other. It fails while containers are still attached; remove the instances first. An
// environment without a network is not an error.
func (b *Backend) Teardown(ctx context.Context, env string) error {
	if env == "" {
		return fmt.Errorf("teardown: %w", errNoEnv)
	}
	// Held so that a Start of env in this process does not attach to a network being removed.
	mu := b.envLock(env)
	mu.Lock()
	defer mu.Unlock()

	// Probe agents are attached to the network; the network cannot go before them.
	if err := b.removeAgents(ctx, env); err != nil {
		return fmt.Errorf("teardown %s: %w", env, err)
	}
	nets, err := b.envNetworks(ctx, env)
	if err != nil {
		return fmt.Errorf("teardown %s: %w", env, err)
	}
	var errs []error
	for _, n := range nets {
		// A job container that joined the network (joinNetwork) leaves it as it came.
		if err := b.disconnectForeign(ctx, env, n.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := b.removeNetwork(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("teardown %s: %w", env, err)
	}
	return nil
}

// removeNetwork removes one network, retrying while the engine says it "has active endpoints":
// right after its last container is removed the engine can take a moment to let go of the
// endpoint (and, under load, a while — moby/moby#17217). A network that stays stuck is reported
// with what to do about it, since the engine will not remove it until the daemon restarts.
func (b *Backend) removeNetwork(ctx context.Context, n network.Summary) error {
	wait := 50 * time.Millisecond
	deadline := time.Now().Add(networkRemoveRetry)
	for {
		err := call(ctx, func(ctx context.Context) error { return b.api.NetworkRemove(ctx, n.ID) })
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		if !strings.Contains(err.Error(), "active endpoints") || time.Now().After(deadline) {
			if strings.Contains(err.Error(), "active endpoints") {
				return fmt.Errorf("remove network %s (%s): the engine still holds an endpoint on it although no container of envctl's is attached (a known Docker Engine fault, moby/moby#17217); it is harmless but stays listed until the Docker daemon restarts: %w", n.Name, shortID(n.ID), err)
			}
			return fmt.Errorf("remove network %s (%s): %w", n.Name, shortID(n.ID), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 500*time.Millisecond)
	}
}

// networkRemoveRetry bounds how long removeNetwork waits for the engine to let go of a network.
const networkRemoveRetry = 5 * time.Second

// shortID is the 12-character form of an engine ID that `docker ps` shows.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/docker"
	"github.com/envctl/envctl/provisioner/mesos"
)

// checkRegistry accepts HOST:PORT, what an image reference starts with (no scheme, no path).
func checkRegistry(r string) error {
	if strings.Contains(r, "/") {
		return errors.New("want HOST:PORT, without a scheme or a path")
	}
	host, port, err := net.SplitHostPort(r)
	if err != nil || host == "" {
		return errors.New("want HOST:PORT")
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("port %q is not a port number", port)
	}
	return nil
}

// mesosImages makes the images of the services that have build blocks runnable by a Mesos
// cluster's agents, before anything launches. With --registry, each is built on this
// machine's Docker Engine, pushed to the registry under a tag named by its content (the
// image's ID) and launched by that name: REGISTRY/envctl/SERVICE:HASH. Without a registry the
// agents can run a built image only if they share this machine's engine (the Docker
// containerizer, agents on this host): anything else fails here, naming the services and the
// fix, instead of each task failing later with an agent's pull error.
func mesosImages(ctx context.Context, c *urfave.Context, b provisioner.Backend, t *provisioner.Target, stderr io.Writer) error {
	mb, ok := b.(*mesos.Backend)
	if !ok {
		return nil
	}
	var built []*envs.Service
	for _, s := range t.Env.Services {
		if s.Build != nil {
			built = append(built, s)
		}
	}
	if len(built) == 0 {
		return nil
	}
	if reg := global(c, "registry"); reg != "" {
		return pushBuilt(ctx, reg, t, built, stderr)
	}
	names := make([]string, len(built))
	for i, s := range built {
		names[i] = strconv.Quote(s.Name)
	}
	which := "service " + names[0] + " has a build block"
	if len(names) > 1 {
		which = "services " + strings.Join(names, ", ") + " have build blocks"
	}
	fix := "give --registry HOST:PORT (or " + envRegistry + "): up then builds the images here, pushes them there and launches those"
	if mb.Containerizer() == mesos.ContainerizerMesos {
		return fmt.Errorf("%s, and with --mesos-containerizer mesos the agents pull every image from a registry: %s", which, fix)
	}
	hosts, err := mb.AgentHostnames(ctx)
	if err != nil {
		return err
	}
	if len(hosts) == 0 || agentsShareEngine(hosts) {
		// No agent yet (the launch waits for one, as ever), or the agents are this machine and
		// use its engine, where the image is built or already is (the single-host test cluster).
		return nil
	}
	return fmt.Errorf("%s, but the Mesos agents (%s) are other hosts and cannot see the images of this machine's Docker Engine: %s", which, strings.Join(hosts, ", "), fix)
}

// agentsShareEngine tells whether every agent is this machine (its host name is one of this
// machine's addresses, or resolves to one) and the Docker Engine is this machine's own: then
// the agents' Docker containerizer runs the images envctl builds here.
func agentsShareEngine(hosts []string) bool {
	if h := os.Getenv("DOCKER_HOST"); h != "" && !strings.HasPrefix(h, "unix://") {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	local := map[string]bool{}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			local[ipn.IP.String()] = true
		}
	}
	for _, h := range hosts {
		ips := []string{h}
		if net.ParseIP(h) == nil {
			found, err := net.LookupHost(h)
			if err != nil {
				return false
			}
			ips = found
		}
		ok := false
		for _, ip := range ips {
			if local[net.ParseIP(ip).String()] {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// pushBuilt builds each built image once on the local engine, pushes it to reg under its
// content hash, and points the target's services at the pushed name.
func pushBuilt(ctx context.Context, reg string, t *provisioner.Target, built []*envs.Service, stderr io.Writer) error {
	eng, err := docker.New(ctx)
	if err != nil {
		return fmt.Errorf("--registry: build and push on this machine's Docker Engine: %w", err)
	}
	defer eng.Close()
	users := map[string][]string{}
	for _, s := range t.Env.Services {
		users[t.Images[s.Name]] = append(users[t.Images[s.Name]], s.Name)
	}
	sort.Slice(built, func(i, j int) bool { return built[i].Name < built[j].Name })
	done := map[string]string{}
	for _, s := range built {
		local := t.Images[s.Name]
		if _, ok := done[local]; ok {
			continue
		}
		spec := provisioner.Spec{Env: t.Env.Name, Service: s.Name, Image: local,
			Build: &provisioner.Build{Context: s.Build.Context, Dockerfile: s.Build.Dockerfile, Args: s.Build.Args, Target: s.Build.Target, CacheFrom: s.Build.CacheFrom}}
		id, err := eng.PrepareImage(ctx, spec, io.Discard)
		if err != nil {
			return fmt.Errorf("service %q: %w", s.Name, err)
		}
		hash := strings.TrimPrefix(id, "sha256:")
		if len(hash) > 12 {
			hash = hash[:12]
		}
		remote := reg + "/envctl/" + s.Name + ":" + hash
		if err := push(ctx, eng, local, remote); err != nil {
			return fmt.Errorf("service %q: --registry %s: %w", s.Name, reg, err)
		}
		done[local] = remote
		for _, u := range users[local] {
			t.Images[u] = remote
			t.ImageIDs[u] = id
		}
		fmt.Fprintf(stderr, "Pushed %s as %s\n", s.Name, remote)
	}
	return nil
}

// push pushes, trying again twice: a push is idempotent, and a registry refuses one that
// meets another push of the same layers half-way ("digest invalid", "blob unknown to
// registry": two ups of one file at once, seen in the tests).
func push(ctx context.Context, eng *docker.Backend, local, remote string) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = eng.PushImage(ctx, local, remote, io.Discard); err == nil || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		}
	}
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
)

// engineLimit is what the engine itself can do with one environment's containers, measured
// by a bare API client: no planning, no dependencies, no labels beyond the bench's own.
type engineLimit struct {
	// Up: the N containers created and started all at once, each configured as envctl
	// configures it (the environment's network, port 80 published on 127.0.0.1), until every
	// one accepts on port 80. Nothing can bring the environment up faster: envctl must do the
	// same engine work, and its dependencies only add waiting.
	Up time.Duration
	// Removal: the N containers stopped at once (killed, no grace), then removed, then their
	// network. Removed one container at a time: the engine serializes removals anyway, and
	// parallel removals of one network's containers make Engine 20.10 lose count of the
	// network's endpoints (moby#17217), which would break the shared engine's network.
	Removal time.Duration
}

// measureLimit measures the engine's limit for n containers of image, on a network of its own
// named name (labelled as the bench's, so sweep finds what a failure leaves).
func measureLimit(ctx context.Context, api *client.Client, image string, delay time.Duration, name string, n int) (engineLimit, error) {
	var lim engineLimit
	labels := map[string]string{benchLabel: benchLabelValue}
	// Not cancelled with ctx: a create cut short on the client still completes on the engine,
	// after any clean-up has looked (seen left behind: a network tsb-…-limit-…). Letting it
	// finish returns the ID, so that whatever was made is removed.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	netw, err := api.NetworkCreate(cctx, name, network.CreateOptions{Driver: "bridge", Labels: labels})
	cancel()
	if err == nil && ctx.Err() != nil {
		err = errors.Join(ctx.Err(), removeLimitNetwork(context.WithoutCancel(ctx), api, name, netw.ID))
	}
	if err != nil {
		return lim, err
	}
	ids := make([]string, n)
	// removeAll removes whatever of the measurement is still on the engine, on every error
	// path: the containers by ID and, for one whose create was cut short before its ID came
	// back (a cancelled ctx), by its name and label; then the network. What it cannot remove
	// it reports, so that the failure says what is left.
	removeAll := func() error {
		// A fresh context: what was created goes even when ctx was cancelled.
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var errs []error
		if found, err := api.ContainerList(cctx, container.ListOptions{All: true, Filters: filters.NewArgs(
			filters.Arg("label", benchLabel+"="+benchLabelValue), filters.Arg("name", "^/?"+regexp.QuoteMeta(name)+"-[0-9]+$"))}); err != nil {
			errs = append(errs, err)
		} else {
			for _, c := range found {
				if !slices.Contains(ids, c.ID) {
					ids = append(ids, c.ID)
				}
			}
		}
		for _, id := range ids {
			if id == "" {
				continue
			}
			if err := api.ContainerRemove(cctx, id, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
				errs = append(errs, err)
			}
		}
		errs = append(errs, removeLimitNetwork(cctx, api, name, netw.ID))
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("cleaning up the engine limit's containers: %w", err)
		}
		return nil
	}
	failed := func(err error) (engineLimit, error) { return lim, errors.Join(err, removeAll()) }

	began := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], errs[i] = limitContainer(ctx, api, image, delay, fmt.Sprintf("%s-%d", name, i), netw.ID, name, labels)
		}()
	}
	wg.Wait()
	lim.Up = time.Since(began)
	if err := errors.Join(errs...); err != nil {
		return failed(err)
	}

	began = time.Now()
	// All stopped at once (no grace: killed), then removed one at a time: removing a stopped
	// container is much cheaper for the engine than force-removing a running one, whose kill
	// and wait it then does under its removal lock.
	zero := 0
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = api.ContainerStop(ctx, id, container.StopOptions{Timeout: &zero})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return failed(err)
	}
	for i, id := range ids {
		if err := api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
			return failed(err)
		}
		ids[i] = ""
	}
	if err := removeLimitNetwork(ctx, api, name, netw.ID); err != nil {
		return failed(err)
	}
	lim.Removal = time.Since(began)
	return lim, nil
}

// limitContainer creates and starts one container and waits until its port 80 accepts; it
// returns the container's ID as soon as there is one, so that a failure can remove it.
func limitContainer(ctx context.Context, api *client.Client, image string, delay time.Duration, name, netID, netName string, labels map[string]string) (string, error) {
	cfg := &container.Config{
		Image: image, Cmd: serviceArgs(delay), Labels: labels,
		ExposedPorts: nat.PortSet{"80/tcp": {}},
	}
	host := &container.HostConfig{PortBindings: nat.PortMap{"80/tcp": {{HostIP: "127.0.0.1"}}}}
	netCfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netName: {NetworkID: netID}}}
	// Not cancelled with ctx, for the network's reason above: the ID must come back.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	created, err := api.ContainerCreate(cctx, cfg, host, netCfg, nil, name)
	cancel()
	if err != nil {
		return "", err
	}
	if ctx.Err() != nil {
		return created.ID, ctx.Err()
	}
	if err := api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return created.ID, err
	}
	info, err := api.ContainerInspect(ctx, created.ID)
	if err != nil {
		return created.ID, err
	}
	ep := info.NetworkSettings.Networks[netName]
	if ep == nil || ep.IPAddress == "" {
		return created.ID, fmt.Errorf("engine limit: %s has no address on %s", name, netName)
	}
	return created.ID, waitAccepts(ctx, net.JoinHostPort(ep.IPAddress, "80"))
}

// waitAccepts polls addr every boundPollInterval until it accepts a TCP connection.
func waitAccepts(ctx context.Context, addr string) error {
	deadline := time.Now().Add(readyTimeout)
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("engine limit: %s did not accept within %s: %v", addr, readyTimeout, err)
		}
		time.Sleep(boundPollInterval)
	}
}

// removeLimitNetwork removes the engine limit's network with the bare client, retrying and
// finally force-disconnecting stale endpoints (see netBackoff).
func removeLimitNetwork(ctx context.Context, api *client.Client, name, id string) error {
	return networkBackoff.removeNetwork(ctx, name,
		func(ctx context.Context) error { return api.NetworkRemove(ctx, id) },
		func(ctx context.Context) error {
			info, err := api.NetworkInspect(ctx, id, network.InspectOptions{})
			if err != nil {
				return err
			}
			var errs []error
			for ep := range info.Containers {
				errs = append(errs, api.NetworkDisconnect(ctx, id, ep, true))
			}
			return errors.Join(errs...)
		})
}

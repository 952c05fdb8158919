package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
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
	netw, err := api.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		return lim, err
	}
	ids := make([]string, n)
	removeAll := func() {
		// A fresh context: what was created goes even when ctx was cancelled.
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, id := range ids {
			if id != "" {
				_ = api.ContainerRemove(cctx, id, container.RemoveOptions{Force: true})
			}
		}
		_ = removeNetworkRetrying(cctx, api, netw.ID)
	}

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
		removeAll()
		return lim, err
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
		removeAll()
		return lim, err
	}
	for i, id := range ids {
		if err := api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil {
			removeAll()
			return lim, err
		}
		ids[i] = ""
	}
	if err := removeNetworkRetrying(ctx, api, netw.ID); err != nil {
		removeAll()
		return lim, err
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
	created, err := api.ContainerCreate(ctx, cfg, host, netCfg, nil, name)
	if err != nil {
		return "", err
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

// removeNetworkRetrying removes a network, retrying every 10 ms for up to 5 s while the engine
// still counts a removed container's endpoint (see networkRetries): a short pause, so that the
// limit stays strict.
func removeNetworkRetrying(ctx context.Context, api *client.Client, id string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := api.NetworkRemove(ctx, id)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

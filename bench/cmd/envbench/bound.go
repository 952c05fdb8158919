package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// The label on every object envbench creates outside envctl (the raw bound's containers, the
// Compose projects' containers), so that cleanup finds them and a reader of `docker ps` knows
// whose they are.
const benchLabel = "io.envctl.bench"

// benchLabelValue is this process's value of benchLabel (see envPrefix).
var benchLabelValue = strings.TrimSuffix(envPrefix, "-")

// boundPollInterval is how often the raw bound polls the container's port. Refused connects
// return at once, so 5 ms costs little CPU and adds at most 5 ms to the bound, which keeps the
// bound strict (a smaller bound only makes envctl look worse).
const boundPollInterval = 5 * time.Millisecond

// readyTimeout bounds the wait for one container to accept; the service listens after the
// delay, so anything near this is a broken engine, not a slow one.
const readyTimeout = 60 * time.Second

// rawBound measures one container from create to ready with the docker CLI alone: `docker run
// -d` (create and start) with the extra run options, then polling the container's address
// until port 80 accepts a TCP connection. The container is removed before it returns.
func rawBound(ctx context.Context, image string, delay time.Duration, name string, extra ...string) (time.Duration, error) {
	began := time.Now()
	args := append([]string{"docker", "run", "-d", "--name", name, "--label", benchLabel + "=" + benchLabelValue}, extra...)
	args = append(append(args, image), serviceArgs(delay)...)
	id, err := output(ctx, args...)
	defer func() {
		// A fresh context: the container must go even when ctx was cancelled.
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = output(cctx, "docker", "rm", "-f", name)
	}()
	if err != nil {
		return 0, err
	}
	ip, err := output(ctx, "docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", id)
	if err != nil {
		return 0, err
	}
	ip, _, _ = strings.Cut(ip, " ")
	if ip == "" {
		return 0, errors.New("raw bound: the container has no IP address")
	}
	addr := net.JoinHostPort(ip, "80")
	deadline := time.Now().Add(readyTimeout)
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", addr)
		cancel()
		if err == nil {
			elapsed := time.Since(began)
			c.Close()
			return elapsed, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("raw bound: %s did not accept within %s: %v", addr, readyTimeout, err)
		}
		time.Sleep(boundPollInterval)
	}
}

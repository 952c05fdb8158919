package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
)

// testEnvPrefix starts every environment name these tests create, so that nobody mistakes
// them for someone else's.
const testEnvPrefix = "dkt-"

// runPrefix starts every environment name this test process creates: TestMain checks for (and
// removes) leftovers of this run only, so that two runs of these tests on one engine at once
// (a `go test ./...` next to a `go test ./provisioner/docker`) do not sweep each other's.
var runPrefix = testEnvPrefix + randomHex(3) + "-"

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux; a test binary may panic
	}
	return hex.EncodeToString(b)
}

func TestMain(m *testing.M) {
	// The gate (and the probe agent) run envctl's own static linux binary in containers; a
	// test binary with cgo cannot stand in for it. Every test then runs with the gate on, as
	// envctl does by default.
	if os.Getenv(EnvAgentBinary) == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		if p, err := testimage.StaticEnvctl(ctx); err == nil {
			os.Setenv(EnvAgentBinary, p)
		} else {
			fmt.Fprintf(os.Stderr, "warning: no static envctl for the gate: %v\n", err)
		}
		cancel()
	}
	code := m.Run()
	if leaks := leftovers(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the tests left docker objects behind (now removed):\n  %s\n", strings.Join(leaks, "\n  "))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// leftovers lists, and removes, every container and network labelled with an environment whose
// name starts with runPrefix. Without an engine there is nothing to check.
func leftovers() []string {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		return nil
	}
	f := filters.NewArgs(filters.Arg("label", provisioner.LabelEnv))
	var leaks []string
	conts, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return []string{"listing containers: " + err.Error()}
	}
	for _, c := range conts {
		if strings.HasPrefix(c.Labels[provisioner.LabelEnv], runPrefix) {
			leaks = append(leaks, "container "+summaryName(c.Names))
			cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	}
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return append(leaks, "listing networks: "+err.Error())
	}
	for _, n := range nets {
		if strings.HasPrefix(n.Labels[provisioner.LabelEnv], runPrefix) {
			leaks = append(leaks, "network "+n.Name)
			cli.NetworkRemove(ctx, n.ID)
		}
	}
	vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return append(leaks, "listing volumes: "+err.Error())
	}
	for _, v := range vols.Volumes {
		if strings.HasPrefix(v.Labels[provisioner.LabelEnv], runPrefix) {
			leaks = append(leaks, "volume "+v.Name)
			cli.VolumeRemove(ctx, v.Name, true)
		}
	}
	return leaks
}

// testBackend connects to the engine, or skips (fails under CI=true) when there is none.
func testBackend(t *testing.T) *Backend {
	t.Helper()
	testimage.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := New(ctx)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// testsvcImage builds (or reuses) the testsvc image.
func testsvcImage(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := testimage.Testsvc(ctx)
	if err != nil {
		t.Fatalf("testimage.Testsvc: %v", err)
	}
	return ref
}

// randomSuffix is 8 random hex digits.
func randomSuffix(t *testing.T) string {
	t.Helper()
	return randomHex(4)
}

// newEnv returns a fresh environment name and removes everything of it when the test ends,
// pass or fail.
func newEnv(t *testing.T, b *Backend) string {
	t.Helper()
	env := runPrefix + randomSuffix(t)
	t.Cleanup(func() { removeEnv(t, b, env) })
	return env
}

// removeEnv removes env's containers, then its network, as `envctl down` would.
func removeEnv(t *testing.T, b *Backend, env string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	insts, err := b.Observe(ctx, env)
	if err != nil {
		t.Errorf("removing %s: %v", env, err)
	}
	for _, inst := range insts {
		if err := b.Remove(ctx, inst); err != nil {
			t.Errorf("removing %s: %v", env, err)
		}
	}
	if err := b.Teardown(ctx, env); err != nil {
		t.Errorf("removing %s: %v", env, err)
	}
	if err := b.RemoveVolumes(ctx, env, false); err != nil {
		t.Errorf("removing %s: %v", env, err)
	}
}

// testSpec is a spec for one testsvc service in env with envctl's labels, as the executor
// would make it.
func testSpec(env, service, image string, ports []provisioner.Port, args ...string) provisioner.Spec {
	labels := provisioner.EnvLabels(env, time.Now().Add(time.Hour), "test:1")
	labels[provisioner.LabelService] = service
	labels[provisioner.LabelPorts] = provisioner.FormatPorts(ports)
	labels["team"] = "dkt"
	return provisioner.Spec{
		Env:         env,
		Service:     service,
		Image:       image,
		Command:     args,
		Environment: map[string]string{"NAME": service},
		Ports:       ports,
		Labels:      labels,
	}
}

// housekeeping is a plain SDK client for test fixtures the backend must not make itself
// (foreign containers and networks, image removal).
func housekeeping(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// waitState polls Inspect until inst reaches want, for at most d.
func waitState(t *testing.T, b *Backend, inst provisioner.Instance, want provisioner.State, d time.Duration) provisioner.Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		got, err := b.Inspect(ctx, inst)
		if err != nil {
			t.Fatalf("Inspect(%s): %v", inst.Name, err)
		}
		if got.State == want {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: state %v after %v, want %v", inst.Name, got.State, d, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// httpGet GETs url and returns the status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	var lastErr error
	// The service listens a moment after the container starts; readiness is not Start's job.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			lastErr = err
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		return resp.StatusCode, string(body)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return 0, ""
}

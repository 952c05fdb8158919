package docker

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/google/go-cmp/cmp"

	"github.com/envctl/envctl/provisioner"
)

func TestEnvironmentsAndTeardown(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	spec := testSpec(env, "svc", img, nil)
	before := time.Now().Add(-time.Second)
	inst, err := b.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := b.Environments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := findEnv(envs, env)
	if got == nil {
		t.Fatalf("Environments: %s missing from %v", env, envs)
	}
	want := map[string]string{
		provisioner.LabelEnv:     env,
		provisioner.LabelVersion: spec.Labels[provisioner.LabelVersion],
		provisioner.LabelExpires: spec.Labels[provisioner.LabelExpires],
		provisioner.LabelOwner:   "test:1",
	}
	if diff := cmp.Diff(want, got.Labels); diff != "" {
		t.Errorf("Environments labels (-want +got):\n%s", diff)
	}
	if got.Created.Before(before) || got.Created.After(time.Now()) {
		t.Errorf("Environments Created %v, want about now", got.Created)
	}

	if err := b.Teardown(ctx, env); err == nil {
		t.Error("Teardown with a container attached: nil error, want one")
	}
	if err := b.Remove(ctx, inst); err != nil {
		t.Fatal(err)
	}
	// The network alone keeps the environment visible (ls after a crash between the two).
	envs, err = b.Environments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if findEnv(envs, env) == nil {
		t.Errorf("Environments after removing the last container: %s missing; its network remains", env)
	}
	if err := b.Teardown(ctx, env); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	envs, err = b.Environments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if findEnv(envs, env) != nil {
		t.Errorf("Environments after Teardown still lists %s", env)
	}
	if err := b.Teardown(ctx, env); err != nil {
		t.Errorf("second Teardown: %v, want nil", err)
	}
}

func findEnv(envs []provisioner.EnvInfo, name string) *provisioner.EnvInfo {
	for i := range envs {
		if envs[i].Name == name {
			return &envs[i]
		}
	}
	return nil
}

func TestForeignObjectsAreInvisible(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	hk := housekeeping(t)
	ctx := context.Background()
	env := newEnv(t, b)

	// A container and a network that look like env's by name but lack envctl's labels.
	foreignNet := networkName(env)
	n, err := hk.NetworkCreate(ctx, foreignNet, network.CreateOptions{Driver: "bridge", Labels: map[string]string{"owner": "someone-else"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hk.NetworkRemove(context.Background(), n.ID) })
	foreignName := containerName(env, "web")
	c, err := hk.ContainerCreate(ctx, &container.Config{Image: img, Labels: map[string]string{"io.envctl.envx": env}}, nil, nil, nil, foreignName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hk.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	})

	for _, e := range []string{env, ""} {
		insts, err := b.Observe(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if containsID(insts, c.ID) {
			t.Errorf("Observe(%q) lists the foreign container", e)
		}
	}
	envs, err := b.Environments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if findEnv(envs, env) != nil {
		t.Errorf("Environments lists %s, which has only foreign objects", env)
	}
	if err := b.Teardown(ctx, env); err != nil {
		t.Errorf("Teardown: %v", err)
	}
	if _, err := hk.NetworkInspect(ctx, n.ID, network.InspectOptions{}); err != nil {
		t.Errorf("Teardown removed the foreign network: %v", err)
	}
	// An Instance without an ID is resolved among envctl's containers only.
	byName := provisioner.Instance{Env: env, Service: "web", Name: foreignName}
	if err := b.Stop(ctx, byName, 0); err != nil {
		t.Errorf("Stop by name: %v", err)
	}
	if err := b.Remove(ctx, byName); err != nil {
		t.Errorf("Remove by name: %v", err)
	}
	if _, err := hk.ContainerInspect(ctx, c.ID); err != nil {
		t.Errorf("Remove by name removed the foreign container: %v", err)
	}
	if _, err := b.Inspect(ctx, provisioner.Instance{ID: c.ID}); err == nil {
		t.Error("Inspect of the foreign container: nil error, want one")
	}
	// A foreign network holding env's network name blocks env's creation instead of being
	// adopted.
	if _, err := b.Start(ctx, testSpec(env, "api", img, nil)); err == nil || !strings.Contains(err.Error(), foreignNet) {
		t.Errorf("Start next to a foreign %s: %v, want an error naming the network", foreignNet, err)
	}
}

func TestNewUnreachable(t *testing.T) {
	// A socket that accepts connections but never answers: the ping timeout must fire.
	silent := filepath.Join(t.TempDir(), "silent.sock")
	l, err := net.Listen("unix", silent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()

	tests := []struct {
		name string
		host string
	}{
		{"no-socket", "unix:///nonexistent.sock"},
		{"silent-socket", "unix://" + silent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", tt.host)
			t0 := time.Now()
			b, err := New(context.Background())
			took := time.Since(t0)
			if err == nil {
				b.Close()
				t.Fatal("New: nil error, want unreachable")
			}
			if !errors.Is(err, provisioner.ErrUnreachable) {
				t.Errorf("New: %v, want it to wrap provisioner.ErrUnreachable", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "docker is not answering") || !strings.Contains(msg, tt.host) || !strings.Contains(msg, "DOCKER_HOST") {
				t.Errorf("New: %q, want it to say docker is not answering at %s (DOCKER_HOST)", msg, tt.host)
			}
			// The bound is the ping timeout with room for a loaded machine: what it catches is
			// a New that waits for the engine without one (tens of seconds, or for ever).
			if limit := pingTimeout + 3*time.Second; took > limit {
				t.Errorf("New took %v, want under %v (pingTimeout %v)", took, limit, pingTimeout)
			}
		})
	}
}

package docker

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/envctl/envctl/provisioner"
)

// TestConcurrentStartsGetDistinctPorts is the investigation behind Start's full parallelism:
// docker/compose serialised ContainerStart (compose#12846) after concurrent starts failed port
// allocation. It starts 40 containers with two ephemeral published ports each, 16 at a time,
// and fails if any start fails, two containers share a host port, or the environment ends up
// with more than one network. DKT_ROUNDS=N repeats it N times (default 1); DKT_PARALLEL=N
// changes how many start at once (default 16).
func TestConcurrentStartsGetDistinctPorts(t *testing.T) {
	const containers = 40
	rounds := envInt(t, "DKT_ROUNDS", 1)
	parallelism := envInt(t, "DKT_PARALLEL", 16)
	b := testBackend(t)
	img := testsvcImage(t)
	ports := []provisioner.Port{{Name: "a", Port: 8080}, {Name: "b", Port: 9090}}

	for round := 0; round < rounds; round++ {
		env := newEnv(t, b)
		ctx := context.Background()
		var (
			mu     sync.Mutex // guards owners and failed, written by the start goroutines
			owners = map[string]string{}
			failed []string
		)
		g := new(errgroup.Group)
		g.SetLimit(parallelism)
		t0 := time.Now()
		for i := 0; i < containers; i++ {
			svc := fmt.Sprintf("s%02d", i)
			g.Go(func() error {
				inst, err := b.Start(ctx, testSpec(env, svc, img, ports))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, fmt.Sprintf("%s: %v", svc, err))
					return nil
				}
				for _, p := range ports {
					addr := inst.Published[p.Name]
					if addr == "" {
						failed = append(failed, fmt.Sprintf("%s: port %s not published", svc, p.Name))
						continue
					}
					if other, dup := owners[addr]; dup {
						failed = append(failed, fmt.Sprintf("%s and %s both got %s", other, svc+"/"+p.Name, addr))
					}
					owners[addr] = svc + "/" + p.Name
				}
				return nil
			})
		}
		g.Wait()
		took := time.Since(t0)
		for _, f := range failed {
			t.Errorf("round %d: %s", round, f)
		}
		nets, err := b.envNetworks(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		if len(nets) != 1 {
			t.Errorf("round %d: %d networks named %s, want 1", round, len(nets), networkName(env))
		}
		insts, err := b.Observe(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, in := range insts {
			if in.State == provisioner.StateRunning {
				running++
			}
		}
		if running != containers {
			t.Errorf("round %d: %d containers running, want %d", round, running, containers)
		}
		t.Logf("round %d: %d starts (%d at a time) in %v, %d distinct host ports, %d failures",
			round, containers, parallelism, took.Round(time.Millisecond), len(owners), len(failed))

		// Remove this round's containers now, in parallel, so that rounds do not pile up.
		rg := new(errgroup.Group)
		rg.SetLimit(parallelism)
		for _, in := range insts {
			rg.Go(func() error { return b.Remove(ctx, in) })
		}
		if err := rg.Wait(); err != nil {
			t.Errorf("round %d: remove: %v", round, err)
		}
		removeEnv(t, b, env)
	}
}

// envInt reads a positive number from the environment variable name, or returns def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

// TestTwoBackendsShareOneNetwork stands in for two envctl processes starting services of one
// environment at once: each Backend has its own per-environment lock, so only the engine and
// ensureNetwork's re-list keep them on one network. DKT_NET_ROUNDS=N sets the rounds (default 5).
func TestTwoBackendsShareOneNetwork(t *testing.T) {
	const perBackend = 3
	rounds := envInt(t, "DKT_NET_ROUNDS", 5)
	b1, b2 := testBackend(t), testBackend(t)
	img := testsvcImage(t)
	hk := housekeeping(t)
	ctx := context.Background()

	for round := 0; round < rounds; round++ {
		env := newEnv(t, b1)
		g := new(errgroup.Group)
		for i := 0; i < 2*perBackend; i++ {
			b := b1
			if i%2 == 1 {
				b = b2
			}
			svc := fmt.Sprintf("s%d", i)
			g.Go(func() error {
				_, err := b.Start(ctx, testSpec(env, svc, img, nil))
				return err
			})
		}
		if err := g.Wait(); err != nil {
			t.Errorf("round %d: Start: %v", round, err)
		}
		nets, err := b1.envNetworks(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		if len(nets) != 1 {
			t.Errorf("round %d: %d networks named %s, want 1", round, len(nets), networkName(env))
			removeEnv(t, b1, env)
			continue
		}
		insts, err := b1.Observe(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range insts {
			raw, err := hk.ContainerInspect(ctx, in.ID)
			if err != nil {
				t.Fatal(err)
			}
			ep := raw.NetworkSettings.Networks[networkName(env)]
			if ep == nil || ep.NetworkID != nets[0].ID {
				t.Errorf("round %d: %s is not on network %s", round, in.Name, shortID(nets[0].ID))
			}
		}
		// Now, not at the end: Docker's default address pools hold only about 30 networks.
		removeEnv(t, b1, env)
	}
}

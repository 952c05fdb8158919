package mesos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

// double starts a Mesos double with two agents that run real containers. It skips (fails
// with CI=true) when Docker does not answer, like every test that needs the engine.
func double(t testing.TB, opt mesostest.Options) (*mesostest.Master, string) {
	t.Helper()
	testimage.Need(t)
	if opt.Agents == 0 {
		opt.Agents = 2
	}
	m := mesostest.New(opt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, err := m.Start(ctx)
	if err != nil {
		m.Close()
		t.Fatalf("start the Mesos double: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close the Mesos double: %v", err)
		}
		// Close removes everything the double started; check it did.
		if left := dockerLines(t, "ps", "-aq", "--filter", "label="+mesostest.LabelInstance+"="+m.Instance()); len(left) > 0 {
			t.Errorf("containers left after the double closed: %v", left)
		}
	})
	return m, url
}

func backend(t testing.TB, url string, opt Options) *Backend {
	t.Helper()
	opt.Master = url
	if opt.Logf == nil {
		opt.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := New(ctx, opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func dockerLines(t testing.TB, args ...string) []string {
	t.Helper()
	out, err := exec.Command("docker", args...).Output()
	if err != nil {
		t.Errorf("docker %s: %v", strings.Join(args, " "), err)
		return nil
	}
	return strings.Fields(string(out))
}

// containersOf lists the double's containers still running or existing.
func containersOf(t testing.TB, m *mesostest.Master) []string {
	t.Helper()
	return dockerLines(t, "ps", "-aq", "--filter", "label="+mesostest.LabelInstance+"="+m.Instance())
}

func uniqueEnv(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// target loads an environment file written into a temporary directory, with vars.
func target(t testing.TB, hcl string, ttl time.Duration, vars ...string) *provisioner.Target {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return loadTarget(t, dir, "", ttl, vars...)
}

func loadTarget(t testing.TB, dir, name string, ttl time.Duration, vars ...string) *provisioner.Target {
	t.Helper()
	env, _, diags := envs.Load(envs.Options{Dir: dir, Name: name, Vars: vars})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	return provisioner.NewTarget(env, ttl, time.Now())
}

// up plans and applies tg on b, as envctl up does.
func up(t testing.TB, ctx context.Context, b provisioner.Backend, tg *provisioner.Target) *provisioner.Result {
	t.Helper()
	observed, err := b.Observe(ctx, tg.Env.Name)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	desired, err := tg.Desired()
	if err != nil {
		t.Fatal(err)
	}
	plan := provisioner.MakePlan(tg.Env.Name, desired, observed)
	return provisioner.Apply(ctx, b, tg, plan, provisioner.Options{Parallel: 16, Rollback: true, Grace: time.Second})
}

// down removes env and registers nothing: tests call it explicitly and also from Cleanup.
func down(t testing.TB, b provisioner.Backend, env string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := provisioner.Down(ctx, b, env, provisioner.Options{Parallel: 16}); err != nil {
		t.Errorf("down %s: %v", env, err)
	}
}

func mesostestOptions() mesostest.Options { return mesostest.Options{Agents: 2} }

// waitNoContainers waits until the double has removed every container it ran (a killed
// task's container goes a moment after its TASK_KILLED).
func waitNoContainers(t testing.TB, m *mesostest.Master) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		left := containersOf(t, m)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("containers left: %v", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

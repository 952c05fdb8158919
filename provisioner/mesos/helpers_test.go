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
	"github.com/envctl/envctl/internal/mesoscluster"
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
	return mesostest.StartTest(t, opt)
}

// TestMain stops the real Mesos cluster that mesoscluster may have started for this package.
func TestMain(m *testing.M) { os.Exit(mesoscluster.Main(m)) }

// cluster is where a test runs: the double (m set) or a real Apache Mesos (m nil).
type cluster struct {
	url string
	m   *mesostest.Master
}

func (c *cluster) real() bool { return c.m == nil }

// onClusters runs f twice, as subtests "double" and "real": against the Mesos double with
// two agents, and against a real master (mesoscluster: skipped with one line when there is
// none, a failure with CI=true when ../shared/mesos is there but does not start).
func onClusters(t *testing.T, f func(t *testing.T, c *cluster)) {
	t.Run("double", func(t *testing.T) {
		m, url := double(t, mesostest.Options{Agents: 2})
		f(t, &cluster{url: url, m: m})
	})
	t.Run("real", func(t *testing.T) {
		testimage.Need(t)
		f(t, &cluster{url: mesoscluster.Master(t)})
	})
}

// offerRounds is the double's count of offer rounds, -1 on real Mesos (which does not say).
func (c *cluster) offerRounds() int {
	if c.m == nil {
		return -1
	}
	return c.m.OfferRounds()
}

// waitNoContainers waits until no container of env's tasks runs. On real Mesos an agent
// keeps a stopped task's container for --docker_remove_delay (6 h by default) before it
// removes it, so there only running ones count; the double removes them at once.
func (c *cluster) waitNoContainers(t testing.TB, env string) {
	t.Helper()
	if c.m != nil {
		waitNoContainers(t, c.m)
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := realContainers(t, env)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("containers of %s still running on real Mesos: %v", env, left)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// realContainers lists the running containers a real agent made for env's tasks: Mesos
// names them mesos-<container ID> and mounts the sandbox, whose path holds the executor ID,
// which for the Docker executor is the task ID envctl.<env>.<service>.<suffix>.
func realContainers(t testing.TB, env string) []string {
	var out []string
	for _, id := range dockerLines(t, "ps", "-q", "--filter", "name=^/mesos-") {
		mounts, err := exec.Command("docker", "inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", id).Output()
		if err == nil && strings.Contains(string(mounts), "/executors/envctl."+env+".") {
			out = append(out, id)
		}
	}
	return out
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

func mesostestOptions() mesostest.Options { return mesostest.Options{Agents: 2} }

package mesos

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/mesoscluster"
	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

// TestAgentLossReal is acceptance point 4 on real Mesos, with an agent stopped (SIGSTOP): on
// a cluster of its own (an agent of the shared one must not stop under other tests), whose
// master marks an agent unreachable after about 6 s (mesoscluster.QuickAgentLoss). See
// agentLoss for what it checks.
func TestAgentLossReal(t *testing.T) {
	testimage.NeedTestsvc(t)
	scripts := mesoscluster.Find()
	if scripts == "" {
		testimage.SkipOrFail(t, mesoscluster.SkipHint)
	}
	master, dir, err := mesoscluster.StartClusterEnv(scripts, 2, mesoscluster.QuickAgentLoss)
	if err != nil {
		t.Fatalf("start a real Mesos cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := mesoscluster.StopCluster(scripts, dir); err != nil {
			t.Error(err)
		} else if _, err := os.Stat(dir); err == nil {
			t.Errorf("a clean stop left the cluster's folder %s (75 MB a cluster)", dir)
		}
	})
	agentLoss(t, master, func(t *testing.T, agentAPI string) func() {
		// Agent i listens on the master's port + i.
		mu, _ := url.Parse(master)
		mport, _ := strconv.Atoi(mu.Port())
		_, aport, _ := net.SplitHostPort(agentAPI)
		ap, _ := strconv.Atoi(aport)
		pid, err := mesoscluster.AgentPID(dir, ap-mport)
		if err != nil {
			t.Fatalf("the agent at %s: %v", agentAPI, err)
		}
		t.Logf("SIGSTOP agent at %s (pid %d)", agentAPI, pid)
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		return func() {
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Errorf("SIGCONT agent %d: %v", pid, err)
			}
		}
	})
}

// TestAgentLinkDownReal is acceptance point 4 with an agent cut off (its link down), on a
// multi-host cluster of its own (agents in network namespaces of their own, see
// mesoscluster.StartMultiHost) whose master gives up on an agent after about 6 s. See
// agentLoss for what it checks.
func TestAgentLinkDownReal(t *testing.T) {
	testimage.NeedTestsvc(t)
	scripts := mesoscluster.Find()
	if scripts == "" || os.Geteuid() != 0 {
		testimage.SkipOrFail(t, mesoscluster.MultiHostSkipHint)
	}
	c, err := mesoscluster.StartMultiHost(scripts, mesoscluster.MultiHostOptions{Agents: 3, DieWithParent: true,
		MasterEnv: mesoscluster.QuickAgentLoss, Logf: t.Logf})
	if err != nil {
		t.Fatalf("start a multi-host Mesos cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	agentLoss(t, c.Master, func(t *testing.T, agentAPI string) func() {
		host, _, _ := net.SplitHostPort(agentAPI)
		link := ""
		for i, a := range c.Agents {
			if a.Addr == host {
				link = c.AgentLink(i + 1)
			}
		}
		if link == "" {
			t.Fatalf("no agent of the cluster at %s: %+v", agentAPI, c.Agents)
		}
		t.Logf("link %s of the agent at %s down", link, agentAPI)
		if out, err := exec.Command("ip", "link", "set", link, "down").CombinedOutput(); err != nil {
			t.Fatalf("ip link set %s down: %v: %s", link, err, out)
		}
		return func() {
			if out, err := exec.Command("ip", "link", "set", link, "up").CombinedOutput(); err != nil {
				t.Errorf("ip link set %s up: %v: %s", link, err, out)
			}
		}
	})
}

// agentLoss runs the shop on master, cuts off the agent that runs api (cut; the function it
// returns brings the agent back, and runs also when the test fails half-way), and checks:
// Observe (status) reports the services there unreachable, since when the master decided; a
// second up replaces them on the other agents and recreates their dependents, and the chain
// answers again; down removes the environment while the agent is still away; and once the
// agent is back, nothing of the environment runs on it: the master shuts down the removed
// framework's executors, and their containers stop.
func agentLoss(t *testing.T, master string, cut func(t *testing.T, agentAPI string) (restore func())) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	b := backend(t, master, Options{})
	name := uniqueEnv("loss")
	tg := shopTarget(t, ctx, name)
	t.Cleanup(func() { down(t, backend(t, master, Options{}), name) })
	res := up(t, ctx, b, tg)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	chain(t, res)

	api := res.Service("api").Instance
	agents, err := b.agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lostSvcs []string
	for _, s := range res.Services {
		if s.Instance.HostID == api.HostID && s.Service != "migrate" {
			lostSvcs = append(lostSvcs, s.Service)
		}
	}
	t.Logf("cutting off agent %s, which runs %v", api.HostID, lostSvcs)
	stopped := time.Now()
	restore := cut(t, agents[api.HostID].api)
	restored := false
	back := func() {
		if !restored {
			restored = true
			restore()
		}
	}
	t.Cleanup(back) // also when the test fails half-way

	// Status: api unreachable, since when the master decided (within its timeouts).
	var seen provisioner.Instance
	deadline := time.Now().Add(2 * time.Minute)
	for seen.State != provisioner.StateUnreachable {
		if time.Now().After(deadline) {
			t.Fatalf("api is %s two minutes after its agent was cut off; want unreachable", seen.State)
		}
		time.Sleep(time.Second)
		insts, err := backend(t, master, Options{}).Observe(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range insts {
			if in.Service == "api" {
				seen = in
			}
		}
	}
	t.Logf("api unreachable since %s, seen %s after the agent was cut off", seen.Unreachable.Format(time.RFC3339Nano), time.Since(stopped).Round(time.Second))
	if seen.Unreachable.Before(stopped.Add(-time.Second)) || seen.Unreachable.After(time.Now()) {
		t.Errorf("api unreachable since %s: want between the cut (%s) and now", seen.Unreachable, stopped)
	}
	if seen.HostID != api.HostID {
		t.Errorf("api's host %q, want the lost agent %q", seen.HostID, api.HostID)
	}

	// A second up replaces what was on the lost agent, on the others, and recreates the
	// dependents (their injected addresses change); the chain answers again.
	res2 := up(t, ctx, backend(t, master, Options{}), shopTarget(t, ctx, name))
	if res2.Err != nil {
		t.Fatalf("up after the agent was lost: %v", res2.Err)
	}
	for _, s := range res2.Services {
		t.Logf("second up: %-8s %-9s on %s", s.Service, s.Phase, s.Instance.HostID)
		if s.Instance.HostID == api.HostID && s.Service != "migrate" {
			t.Errorf("second up: %s is still on the lost agent", s.Service)
		}
	}
	for _, svc := range append([]string{"api", "web"}, lostSvcs...) {
		if p := res2.Service(svc).Phase; p != provisioner.PhaseReady {
			t.Errorf("second up: %s %s, want recreated (ready)", svc, p)
		}
	}
	chain(t, res2)

	// Down while the agent is still away: everything it reaches goes, and the framework.
	down(t, backend(t, master, Options{}), name)
	back()
	// Once the agent is back, the master shuts the removed framework's executors down there.
	deadline = time.Now().Add(3 * time.Minute)
	for {
		left := realContainers(t, name)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("containers of %s still running three minutes after its agent came back: %v", name, left)
		}
		time.Sleep(time.Second)
	}
	assertGone(t, ctx, &cluster{url: master}, backend(t, master, Options{}), name)
}

// chain checks that one GET to web travels the whole shop.
func chain(t *testing.T, res *provisioner.Result) {
	t.Helper()
	web := res.Service("web").Instance.Published["http"]
	want := regexp.MustCompile(`^web -> api -> store \(schema 1, migrated by migrate, 3 products\) ; order [0-9a-f]{12} processed by worker`)
	status, body, err := get("http://" + web + "/")
	if err != nil || status != 200 || !want.MatchString(body) {
		t.Fatalf("GET web / = %d %q, %v; want 200 matching %s", status, body, err, want)
	}
}

// TestAgentLossDouble is the same on the double, fast: LoseAgent takes the agent that runs
// api (the double kills its tasks, where a real partition leaves them running); Observe shows
// what ran there unreachable since the loss; a second up replaces it on the other agent and
// recreates the dependents, the chain answers; down leaves nothing.
func TestAgentLossDouble(t *testing.T) {
	testimage.NeedTestsvc(t)
	m, master := double(t, mesostest.Options{Agents: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := backend(t, master, Options{})
	name := uniqueEnv("loss")
	t.Cleanup(func() { down(t, backend(t, master, Options{}), name) })
	res := up(t, ctx, b, shopTarget(t, ctx, name))
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	chain(t, res)
	api := res.Service("api").Instance
	idx := -1
	for i := 0; i < 2; i++ {
		if m.AgentID(i) == api.HostID {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("api's agent %q is none of the double's", api.HostID)
	}
	lostAt := time.Now()
	if _, err := m.LoseAgent(idx); err != nil {
		t.Fatal(err)
	}
	insts, err := backend(t, master, Options{}).Observe(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, in := range insts {
		if in.Service == "api" {
			found = true
			if in.State != provisioner.StateUnreachable || in.HostID != api.HostID ||
				in.Unreachable.Before(lostAt.Add(-time.Second)) || in.Unreachable.After(time.Now()) {
				t.Errorf("api after its agent was lost: %s on %s since %s; want unreachable on %s since the loss (%s)",
					in.State, in.HostID, in.Unreachable, api.HostID, lostAt)
			}
		}
	}
	if !found {
		t.Fatalf("api is not observed after its agent was lost: %+v", insts)
	}
	res2 := up(t, ctx, backend(t, master, Options{}), shopTarget(t, ctx, name))
	if res2.Err != nil {
		t.Fatalf("up after the agent was lost: %v", res2.Err)
	}
	for _, s := range res2.Services {
		if s.Instance.HostID == api.HostID && s.Service != "migrate" {
			t.Errorf("second up: %s is still on the lost agent", s.Service)
		}
	}
	if p := res2.Service("web").Phase; p != provisioner.PhaseReady {
		t.Errorf("second up: web %s, want recreated (its dependency api moved)", p)
	}
	chain(t, res2)
	// The replaced task is no instance any more: one api, running.
	insts, err = backend(t, master, Options{}).Observe(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	apis := 0
	for _, in := range insts {
		if in.Service == "api" {
			apis++
			if in.State != provisioner.StateRunning {
				t.Errorf("api after the second up: %s", in.State)
			}
		}
	}
	if apis != 1 {
		t.Errorf("%d api instances after the second up, want 1", apis)
	}
	b3 := backend(t, master, Options{})
	down(t, b3, name)
	assertGone(t, ctx, &cluster{url: master, m: m}, b3, name)
}

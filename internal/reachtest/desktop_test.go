package reachtest

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/envctl/envctl/internal/testimage"
)

// desktopLike is setting 1 of issue 10, the way Docker Desktop looks from envctl: an
// unprivileged user in the socket's group (the docker group) whose traffic to anything but
// loopback is rejected by the firewall (iptables -m owner), so the containers' addresses are
// out of reach while ports published on 127.0.0.1 work.
func desktopLike(t *testing.T) *runner {
	t.Helper()
	needRoot(t, "iptables")
	bin, dir := envctlBin(t), root(t)
	buildExamples(t, dir)
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		sock = strings.TrimPrefix(h, "unix://")
	}
	var st syscall.Stat_t
	if err := syscall.Stat(sock, &st); err != nil {
		testimage.SkipOrFail(t, "needs the engine's unix socket: %v", err)
	}
	// A user id nobody has: the rule below then matches this test's processes only.
	uid := uint32(50000 + rand.IntN(10000))
	// The user runs envctl from a copy of what it needs, in a directory of its own: the
	// checkout may be where no other user can enter (any clone under /root, a 0700 directory),
	// and running it there fails before envctl starts ("fork/exec ...: permission denied").
	work := userDir(t, int(uid), int(st.Gid))
	src := filepath.Join(work, "src")
	copyTree(t, filepath.Join(dir, "examples", "shop"), filepath.Join(src, "examples", "shop"))
	copyTree(t, "testdata", filepath.Join(src, "testdata"))
	copyTree(t, bin, filepath.Join(work, "envctl"))
	home := filepath.Join(work, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	chownTree(t, work, int(uid), int(st.Gid))
	rule := []string{"OUTPUT", "-m", "owner", "--uid-owner", strconv.Itoa(int(uid)), "!", "-o", "lo", "-j", "REJECT"}
	if out, err := exec.Command("iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		testimage.SkipOrFail(t, "iptables: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("iptables", append([]string{"-D"}, rule...)...).CombinedOutput(); err != nil {
			t.Errorf("removing the iptables rule: %v: %s", err, out)
		}
	})
	return &runner{
		t: t, bin: filepath.Join(work, "envctl"), dir: src, env: baseEnv(home),
		cred: &syscall.Credential{Uid: uid, Gid: st.Gid, Groups: []uint32{st.Gid}},
	}
}

// TestDesktopLike: the shop gets ready through the agent, its front answers the whole chain
// on the endpoint `env` gives, status/logs/down work, and nothing is left.
func TestDesktopLike(t *testing.T) {
	r := desktopLike(t)
	name := uniqueName("reach-desk")
	t.Cleanup(func() { sweep(t, r.bin, r.dir, name) })

	up := parseDoc(t, r.must("up", "-f", "examples/shop", "--name", name, "-o", "json").stdout)
	if !up.OK {
		t.Fatalf("up not ok: %+v", up)
	}
	if up.Reach == nil || up.Reach.Way != "agent" {
		t.Fatalf("up reached the services %+v, want through the agent", up.Reach)
	}
	t.Logf("reach: %s (%s)", up.Reach.Way, up.Reach.Why)

	vars := dotenv(r.must("env", name).stdout)
	web := vars["WEB_HTTP"]
	if !strings.HasPrefix(web, "127.0.0.1:") {
		t.Fatalf("WEB_HTTP = %q, want a loopback endpoint", web)
	}
	t.Logf("GET %s: %s", web, getChain(t, web))

	st := parseDoc(t, r.must("status", name, "-o", "json").stdout)
	for _, s := range st.Services {
		if !s.Ready {
			t.Errorf("status: %s not ready: %+v", s.Name, s.Probe)
		}
	}
	if st.Reach == nil || st.Reach.Way != "agent" {
		t.Errorf("status reached the services %+v, want through the agent", st.Reach)
	}
	if logs := r.must("logs", name).stdout; !strings.Contains(logs, "worker") {
		t.Errorf("logs lack the worker's output:\n%s", logs)
	}
	r.must("down", name)
	noneLeft(t, name)
}

// TestDesktopLikeProbes: every probe kind is right through the agent, a service that listens
// after 2 s is not ready before, an exact status is exact, and a failed up rolls back its agent.
func TestDesktopLikeProbes(t *testing.T) {
	r := desktopLike(t)
	img := testimage.NeedTestsvc(t)
	name := uniqueName("reach-probes")
	t.Cleanup(func() { sweep(t, r.bin, r.dir, name) })
	file := filepath.Join(r.dir, "testdata", "probes.hcl")
	up := parseDoc(t, r.must("up", "-f", file, "--name", name, "--var", "img="+img, "-o", "json").stdout)
	if up.Reach == nil || up.Reach.Way != "agent" {
		t.Fatalf("reached the services %+v, want through the agent", up.Reach)
	}
	want := map[string]string{
		"http": "GET /healthz: HTTP 204",
		"tcp":  "port db accepts connections",
		"exec": "exit 0",
		"log":  `line 2 matches "accepting conn.*"`,
		"job":  "exited 0",
		"late": "2 port(s) accept connections",
	}
	for _, s := range up.Services {
		if s.State != "ready" || s.Probe == nil || s.Probe.Last != want[s.Name] {
			t.Errorf("%s: state %s, probe %+v; want ready with %q", s.Name, s.State, s.Probe, want[s.Name])
		}
		if s.Name == "late" && s.TimeToReadyMS < 2000 {
			t.Errorf("late listens after 2 s but was ready in %d ms", s.TimeToReadyMS)
		}
	}
	r.must("down", name)
	noneLeft(t, name)

	// An exact status: HTTP 200 is not the 204 asked for. The failed up rolls back, agent too.
	bad := uniqueName("reach-status")
	t.Cleanup(func() { sweep(t, r.bin, r.dir, bad) })
	file = filepath.Join(r.dir, "testdata", "wrongstatus.hcl")
	res := r.run("up", "-f", file, "--name", bad, "--var", "img="+img)
	if res.code == 0 || !strings.Contains(res.stderr, "HTTP 200, want 204") {
		t.Errorf("up with a wrong status: exit %d, want a failure naming the status\n%s", res.code, res.stderr)
	}
	noneLeft(t, bad)
}

package envtest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/cli"
	"github.com/envctl/envctl/envtest"
	"github.com/envctl/envctl/internal/mesoscluster"
	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

// TestMain stops the real Mesos cluster that TestMesos started, if it started one.
func TestMain(m *testing.M) { os.Exit(mesoscluster.Main(m)) }

// The tests start this test binary again as the "other test processes" (TestChild, in the
// mode ENVTEST_CHILD names): processes that share, fail or are killed while they hold the
// environment, exactly as the packages of a go test ./... would.
const (
	childMode = "ENVTEST_CHILD" // hold, fail, attached, killed
	childFile = "ENVTEST_FILE"  // the environment file
	childImg  = "ENVTEST_IMG"   // var.img
	childOut  = "ENVTEST_OUT"   // where the child writes the environment's name once it has it
	childGo   = "ENVTEST_GO"    // hold: the child returns once this file exists
	childTTL  = "ENVTEST_TTL"   // Options.TTL
)

// fixture is an environment file of one small service with a name of its own.
type fixture struct {
	file, img, name string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	img := testimage.NeedTestsvc(t)
	t.Setenv("ENVCTL_ENV", "") // not run's, even when these tests run under envctl run
	// The processes meet in a cache directory of the test's own, removed afterwards.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	b := make([]byte, 3)
	rand.Read(b)
	// Short: envctl cuts a name with a suffix to 20 characters (envs.Options.NameSuffix).
	name := "et-" + hex.EncodeToString(b)
	dir := t.TempDir()
	file := filepath.Join(dir, "envctl.hcl")
	hcl := fmt.Sprintf(`environment {
  name = %q
}
variable "img" {}
service "api" {
  image   = var.img
  command = ["--name", "api", "--http", "80", "--log", "api says hello"]
  ports   = { http = 80 }
}
`, name)
	if err := os.WriteFile(file, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	f := fixture{file: file, img: img, name: name}
	t.Cleanup(func() { f.sweep(t) })
	return f
}

func (f fixture) opts(ttl time.Duration) *envtest.Options {
	return &envtest.Options{Vars: []string{"img=" + f.img}, TTL: ttl}
}

// containers lists the containers of every environment this fixture's name starts.
func (f fixture) containers(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=io.envctl.env", "--format", `{{.Label "io.envctl.env"}}`).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	var mine []string
	for _, env := range strings.Fields(string(out)) {
		if strings.HasPrefix(env, f.name) {
			mine = append(mine, env)
		}
	}
	return mine
}

// sweep removes what a failed test left, and says so.
func (f fixture) sweep(t *testing.T) {
	left := f.containers(t)
	seen := map[string]bool{}
	for _, env := range left {
		if !seen[env] {
			seen[env] = true
			t.Errorf("environment %s was left behind", env)
			cli.Main([]string{"envctl", "down", env}, strings.NewReader(""), io.Discard, io.Discard)
		}
	}
}

// proc is a child test process.
type proc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer // its output; read it after done
	done chan struct{}
	err  error
}

func (p *proc) wait() error { <-p.done; return p.err }

// child starts this test binary as another test process in mode, writing the environment's
// name to out once it has it.
func (f fixture) child(t *testing.T, mode, out string, extra ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v", "-test.count=1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENVCTL_ENV=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childMode+"="+mode, childFile+"="+f.file, childImg+"="+f.img, childOut+"="+out)
	cmd.Env = append(cmd.Env, extra...)
	p := &proc{cmd: cmd, out: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitName waits for the child to write its environment's name to path, failing the test if
// the child ends first.
func (p *proc) waitName(t *testing.T, path string) string {
	t.Helper()
	for {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			return strings.TrimSpace(string(data))
		}
		select {
		case <-p.done:
			t.Fatalf("the child ended (%v) before it had the environment:\n%s", p.err, p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestChild is the other test process; it does nothing unless started by a test here.
func TestChild(t *testing.T) {
	mode := os.Getenv(childMode)
	if mode == "" {
		t.Skip("a helper process of the other tests")
	}
	opts := &envtest.Options{Vars: []string{"img=" + os.Getenv(childImg)}}
	if d, err := time.ParseDuration(os.Getenv(childTTL)); err == nil {
		opts.TTL = d
	}
	env := envtest.Start(t, os.Getenv(childFile), opts)
	if _, err := http.Get(env.URL("api", "http", "/")); err != nil {
		t.Errorf("GET api: %v", err)
	}
	if mode == "attached" && !env.Attached() {
		t.Errorf("not attached to envctl run's environment %s", os.Getenv("ENVCTL_ENV"))
	}
	if err := os.WriteFile(os.Getenv(childOut), []byte(env.Name()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "hold":
		for {
			if _, err := os.Stat(os.Getenv(childGo)); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	case "fail":
		t.Error("a deliberate failure, for its diagnostics")
	case "killed":
		select {} // until SIGKILL
	}
}

// TestUp: Start brings the environment up for one test, its endpoint answers, and it is
// removed when the test ends.
func TestUp(t *testing.T) {
	f := newFixture(t)
	var name string
	t.Run("user", func(t *testing.T) {
		env := envtest.Start(t, f.file, f.opts(0))
		name = env.Name()
		if !strings.HasPrefix(name, f.name+"-t") {
			t.Errorf("Name() = %q, want %s-t plus the file set's hash", name, f.name)
		}
		addr := env.Endpoint("api", "http")
		if !regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`).MatchString(addr) {
			t.Errorf(`Endpoint("api", "http") = %q, want 127.0.0.1:PORT`, addr)
		}
		resp, err := http.Get(env.URL("api", "http", "/"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "api" {
			t.Errorf("GET %s: %q, want the service's name", env.URL("api", "http", "/"), body)
		}
		if _, err := env.Lookup("api", "grpc"); err == nil || !strings.Contains(err.Error(), `publishes no port "grpc" (it has http)`) {
			t.Errorf("Lookup of a missing port: %v", err)
		}
		if len(f.containers(t)) != 1 {
			t.Errorf("containers while the test runs: %v, want the one of %s", f.containers(t), name)
		}
	})
	if left := f.containers(t); len(left) > 0 {
		t.Errorf("after the test: %v left, want nothing", left)
	}
}

// TestShared: two test processes at once — as two packages of one go test ./..., or two go
// test runs — get ONE environment; it outlives the first to leave and is removed by the last.
func TestShared(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	release := filepath.Join(dir, "go")
	var procs []*proc
	var names []string
	for i := range 2 {
		procs = append(procs, f.child(t, "hold", filepath.Join(dir, fmt.Sprint(i)), childGo+"="+release))
	}
	for i, p := range procs {
		names = append(names, p.waitName(t, filepath.Join(dir, fmt.Sprint(i))))
	}
	if names[0] != names[1] {
		t.Fatalf("the two processes got environments %s and %s, want one", names[0], names[1])
	}
	if c := f.containers(t); len(c) != 1 {
		t.Errorf("containers while both use it: %v, want one environment's one", c)
	}
	// Both return; whichever leaves last removes it.
	os.WriteFile(release, nil, 0o644)
	for i, p := range procs {
		if err := p.wait(); err != nil {
			t.Errorf("process %d: %v\n%s", i, err, p.out)
		}
	}
	both := procs[0].out.String() + procs[1].out.String()
	if !strings.Contains(both, "joined environment") {
		t.Errorf("neither process says it joined the other's environment:\n%s", both)
	}
	if !strings.Contains(both, "left environment") {
		t.Errorf("neither process left the environment to the other:\n%s", both)
	}
	if left := f.containers(t); len(left) > 0 {
		t.Errorf("after both: %v left, want nothing", left)
	}
}

// TestDiagnosticsOnFailure: a test that fails writes the environment's diagnostics — its
// services' logs, inspect output, readiness — and names the directory in its log.
func TestDiagnosticsOnFailure(t *testing.T) {
	f := newFixture(t)
	diag := t.TempDir()
	p := f.child(t, "fail", filepath.Join(t.TempDir(), "name"), "ENVCTL_DIAGNOSTICS="+diag)
	if err := p.wait(); err == nil {
		t.Fatalf("the failing test passed:\n%s", p.out)
	}
	out := p.out
	m := regexp.MustCompile(`diagnostics of environment "([^"]+)" written to (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the failing test's log names no diagnostics:\n%s", out)
	}
	where := m[2]
	if !strings.HasPrefix(where, diag) {
		t.Errorf("diagnostics in %s, want under $ENVCTL_DIAGNOSTICS %s", where, diag)
	}
	for file, want := range map[string]string{
		"services/api/logs.txt":     "api says hello",
		"services/api/probes.txt":   "ok",
		"services/api/inspect.json": `"` + m[1] + `"`,
		"up.json":                   `"ok": true`,
		"up-probes.txt":             "api ",
	} {
		data, err := os.ReadFile(filepath.Join(where, file))
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s: %v; want it to hold %q:\n%s", file, err, want, data)
		}
	}
	if left := f.containers(t); len(left) > 0 {
		t.Errorf("after the failed test: %v left, want nothing", left)
	}
}

// TestAttach: under envctl run, the tests use run's environment and bring up nothing.
func TestAttach(t *testing.T) {
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "name")
	var stdout, stderr bytes.Buffer
	// envctl run passes its own environment on to the command.
	t.Setenv(childMode, "attached")
	t.Setenv(childFile, f.file)
	t.Setenv(childImg, f.img)
	t.Setenv(childOut, out)
	code := cli.Main([]string{"envctl", "run", "-f", f.file, "--var", "img=" + f.img, "--",
		os.Args[0], "-test.run=^TestChild$", "-test.v", "-test.count=1"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("envctl run exited %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	data, _ := os.ReadFile(out)
	name := strings.TrimSpace(string(data))
	if !regexp.MustCompile(`^` + f.name + `-[0-9a-f]{6}$`).MatchString(name) {
		t.Errorf("the test used environment %q, want run's (%s-xxxxxx)\n%s", name, f.name, stdout.String())
	}
	if !strings.Contains(stdout.String(), "which envctl run brought up") {
		t.Errorf("the test does not say it used run's environment:\n%s", stdout.String())
	}
	if left := f.containers(t); len(left) > 0 {
		t.Errorf("after run: %v left, want nothing", left)
	}
}

// TestKilled: a test process killed with SIGKILL removes nothing; its environment carries the
// TTL, and once that has passed envctl gc removes it. Before then, the next user of the same
// file set takes it over and removes it when done.
func TestKilled(t *testing.T) {
	f := newFixture(t)
	kill := func(ttl time.Duration) string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "name")
		p := f.child(t, "killed", out, childTTL+"="+ttl.String())
		name := p.waitName(t, out)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait()
		if len(f.containers(t)) != 1 {
			t.Fatalf("after the SIGKILL: containers %v, want %s's still there", f.containers(t), name)
		}
		return name
	}

	// The next user, before the TTL: it finds the dead user's lease, brings the environment
	// up (finding it up to date) and, as its last user, removes it.
	// (A TTL that cannot pass meanwhile, even on a loaded machine: this part waits for none.)
	const long = 10 * time.Minute
	name := kill(long)
	t.Run("next user", func(t *testing.T) {
		env := envtest.Start(t, f.file, f.opts(long))
		if env.Name() != name {
			t.Errorf("the next user got %s, want the killed one's %s", env.Name(), name)
		}
	})
	if left := f.containers(t); len(left) > 0 {
		t.Fatalf("after the next user: %v left, want nothing", left)
	}

	// No next user: after the TTL, envctl gc sweeps it. The TTL is short, since the test waits
	// for it, yet long enough that the environment cannot expire before the kill is checked.
	const ttl = 30 * time.Second
	name = kill(ttl)
	labels, err := exec.Command("docker", "ps", "-a", "--filter", "label=io.envctl.env="+name, "--format", `{{.Label "io.envctl.expires"}}`).Output()
	if err != nil {
		t.Fatal(err)
	}
	expires, err := time.Parse(time.RFC3339, strings.Fields(string(labels))[0])
	if err != nil {
		t.Fatalf("expiry label %q: %v", labels, err)
	}
	if d := time.Until(expires); d > ttl+5*time.Second {
		t.Fatalf("the environment expires in %s, want the TTL %s", d, ttl)
	}
	ctx, cancel := context.WithDeadline(context.Background(), expires.Add(2*time.Second))
	<-ctx.Done() // waiting past a deadline only: no race with anything
	cancel()
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"envctl", "gc"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Errorf("envctl gc exited %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	// gc names it, unless another envctl's up swept it first (any envctl may, once expired).
	t.Logf("envctl gc: %s%s", stdout.String(), stderr.String())
	if left := f.containers(t); len(left) > 0 {
		t.Errorf("after gc: %v left, want nothing", left)
	}
}

// TestMesos: the same on Mesos, chosen as envctl chooses it — by $ENVCTL_BACKEND and
// $ENVCTL_MESOS_MASTER on the Mesos double, by Options.Backend and Options.MesosMaster on a
// real master (mesoscluster: $ENVCTL_TEST_MESOS_MASTER, or one from ../shared/mesos).
func TestMesos(t *testing.T) {
	check := func(t *testing.T, f fixture, opts *envtest.Options) {
		var name string
		var master string
		t.Run("user", func(t *testing.T) {
			env := envtest.Start(t, f.file, opts)
			name = env.Name()
			resp, err := http.Get(env.URL("api", "http", "/"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "api" {
				t.Errorf("GET api on Mesos: %q", body)
			}
		})
		master = opts.MesosMaster
		if master == "" {
			master = os.Getenv("ENVCTL_MESOS_MASTER")
		}
		var stdout, stderr bytes.Buffer
		code := cli.Main([]string{"envctl", "status", name, "--backend", "mesos", "--mesos-master", master}, strings.NewReader(""), &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "no environment") {
			t.Errorf("after the test, envctl status %s on Mesos: exit %d, want no environment\n%s%s", name, code, stdout.String(), stderr.String())
		}
	}
	t.Run("double", func(t *testing.T) {
		f := newFixture(t)
		_, url := mesostest.StartTest(t, mesostest.Options{Agents: 1})
		t.Setenv("ENVCTL_BACKEND", "mesos")
		t.Setenv("ENVCTL_MESOS_MASTER", url)
		check(t, f, f.opts(0))
	})
	t.Run("real", func(t *testing.T) {
		url := mesoscluster.Master(t)
		f := newFixture(t)
		opts := f.opts(0)
		opts.Backend, opts.MesosMaster = "mesos", url
		check(t, f, opts)
	})
}

//go:build unix

package envtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envctl/envctl/cli"
	"github.com/envctl/envctl/provisioner/docker"
)

// Options change how the environment is brought up. The zero value (or nil) is the file as it
// is, on the backend envctl's environment variables choose, removed after the last user.
type Options struct {
	// Vars set the file's variables, as --var NAME=VALUE.
	Vars []string
	// VarFiles are files of variable values, as --var-file.
	VarFiles []string
	// Profiles activate the services of these profiles, as --profile.
	Profiles []string
	// Backend and MesosMaster choose the backend, as --backend and --mesos-master; empty,
	// $ENVCTL_BACKEND and $ENVCTL_MESOS_MASTER choose, else the local Docker Engine.
	Backend, MesosMaster string
	// TTL is how long the environment may outlive a killed test process before envctl gc
	// (or any later envctl up) removes it: longer than the longest test run. Default 1h.
	TTL time.Duration
	// Keep leaves the environment up after the last user, like envctl run --keep: the next
	// run of the tests finds it and starts only what changed. It still expires with its TTL.
	Keep bool
	// DiagnosticsDir is where the diagnostics of a failed test are written, each failure in a
	// directory of its own. Default: $ENVCTL_DIAGNOSTICS, else envctl-diagnostics in the
	// system's temporary directory.
	DiagnosticsDir string
	// Args are more flags for envctl up (--timeout 2m, --parallel 4, ...).
	Args []string
}

// DefaultTTL is the TTL of an environment that Options.TTL does not set.
const DefaultTTL = time.Hour

// Env is one test process's use of an environment.
type Env struct {
	file string
	opts Options

	name     string
	attached bool                         // given by envctl run: neither brought up nor removed here
	eps      map[string]map[string]string // service -> port -> host:port (not when attached)
	upDoc    []byte                       // the up's JSON document (not when attached)
	meet     meeting
	lease    *lease
	tb       testing.TB // Start's test, for Endpoint's failures
	released bool
	mu       sync.Mutex
}

// New describes the environment of file (an environment file or a directory of *.hcl,
// relative to the test's package directory) for Run in TestMain. opts may be nil.
//
//	var shop *envtest.Env
//
//	func TestMain(m *testing.M) {
//		shop = envtest.New("../envctl.hcl", nil)
//		os.Exit(shop.Run(m))
//	}
func New(file string, opts *Options) *Env {
	e := &Env{file: file}
	if opts != nil {
		e.opts = *opts
	}
	return e
}

// Start gives the test tb the environment of file, up and ready, for as long as the test and its
// subtests run: attached to envctl run's, joined to another process's, or brought up here. When
// the test has failed, its cleanup writes the diagnostics and names them in the test's log;
// then the environment is released (removed if this was its last user). A package whose tests
// all use the environment shares it best through New and Run in TestMain.
func Start(tb testing.TB, file string, opts *Options) *Env {
	tb.Helper()
	e := New(file, opts)
	e.tb = tb
	if err := e.acquire(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			if where, err := e.Diagnose(safeName(tb.Name())); err != nil {
				tb.Logf("envtest: diagnostics of environment %q: %v", e.name, err)
			} else {
				tb.Logf("envtest: diagnostics of environment %q written to %s", e.name, where)
			}
		}
		if err := e.release(); err != nil {
			tb.Error(err)
		}
	})
	return e
}

// Run is TestMain's: it gets the environment (as Start does), runs the tests, writes the
// diagnostics when they failed (naming them on stderr, in the test output), releases the
// environment, and returns the exit code for os.Exit.
func (e *Env) Run(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse() // testing.Verbose and -run need the flags before m.Run parses them
	}
	if err := e.acquire(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		if where, err := e.Diagnose("TestMain"); err != nil {
			fmt.Fprintf(os.Stderr, "envtest: diagnostics of environment %q: %v\n", e.name, err)
		} else {
			fmt.Fprintf(os.Stderr, "envtest: the tests failed; diagnostics of environment %q written to %s\n", e.name, where)
		}
	}
	if err := e.release(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Name is the environment's name (for envctl status NAME, envctl logs NAME).
func (e *Env) Name() string { return e.name }

// Attached tells whether the environment is envctl run's, which the tests neither brought up
// nor remove.
func (e *Env) Attached() bool { return e.attached }

// Lookup is the endpoint of a service's port as HOST:PORT, reached from the test's machine.
func (e *Env) Lookup(service, port string) (string, error) {
	if e.name == "" {
		return "", errors.New("envtest: the environment is not up (Start it, or call Run from TestMain)")
	}
	if e.attached {
		if v := os.Getenv(cli.EndpointVar(service, port)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("envtest: environment %q (from envctl run) has no endpoint for port %q of service %q: $%s is not set", e.name, port, service, cli.EndpointVar(service, port))
	}
	ports, ok := e.eps[service]
	if !ok {
		return "", fmt.Errorf("envtest: environment %q has no service %q (it has %s)", e.name, service, strings.Join(sortedKeys(e.eps), ", "))
	}
	addr, ok := ports[port]
	if !ok {
		return "", fmt.Errorf("envtest: service %q of environment %q publishes no port %q (it has %s)", service, e.name, port, strings.Join(sortedKeys(ports), ", "))
	}
	return addr, nil
}

// Endpoint is Lookup for a port that must be there: HOST:PORT, like "127.0.0.1:49161". A
// missing one fails the test given to Start (or panics under TestMain's Env), naming what
// the environment has.
func (e *Env) Endpoint(service, port string) string {
	addr, err := e.Lookup(service, port)
	if err != nil {
		if e.tb != nil {
			e.tb.Helper()
			e.tb.Fatal(err)
		}
		panic(err)
	}
	return addr
}

// URL is "http://" + Endpoint(service, port) + path.
func (e *Env) URL(service, port, path string) string {
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return "http://" + e.Endpoint(service, port) + path
}

// Diagnose writes the environment's diagnostics now — each service's logs, the engine's
// inspect output, its readiness checked now, and the up's report and probe history — into a new directory
// under Options.DiagnosticsDir named after label, and returns its path. Start and Run call it
// when tests failed; call it yourself for a failure the testing package does not see.
func (e *Env) Diagnose(label string) (string, error) {
	if e.name == "" {
		return "", errors.New("envtest: no environment to diagnose")
	}
	base := e.opts.DiagnosticsDir
	if base == "" {
		base = os.Getenv("ENVCTL_DIAGNOSTICS")
	}
	if base == "" {
		base = filepath.Join(os.TempDir(), "envctl-diagnostics")
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(base, safeName(label)+"-")
	if err != nil {
		return "", err
	}
	out, code := e.envctl(append([]string{"status", e.name, "--diagnostics", dir}, e.backendArgs()...)...)
	where := filepath.Join(dir, e.name)
	if len(e.upDoc) > 0 {
		_ = os.WriteFile(filepath.Join(where, "up.json"), e.upDoc, 0o644)
	}
	if probes, err := os.ReadFile(e.meet.probesPath()); err == nil && !e.attached {
		// The probes of the up that brought it up, in whichever process that was.
		_ = os.WriteFile(filepath.Join(where, "up-probes.txt"), probes, 0o644)
	}
	if code != 0 {
		return where, fmt.Errorf("envctl status --diagnostics exited %d:\n%s", code, out)
	}
	return where, nil
}

// backendArgs are the backend's flags, when Options set them (else envctl reads its
// environment variables itself).
func (e *Env) backendArgs() []string {
	var args []string
	if e.opts.Backend != "" {
		args = append(args, "--backend", e.opts.Backend)
	}
	if e.opts.MesosMaster != "" {
		args = append(args, "--mesos-master", e.opts.MesosMaster)
	}
	return args
}

// acquire attaches to envctl run's environment, or joins the one other processes of the same
// file set use, or brings it up.
func (e *Env) acquire() error {
	if name := os.Getenv("ENVCTL_ENV"); name != "" {
		e.name, e.attached = name, true
		e.logf("envtest: using environment %q, which envctl run brought up", name)
		return nil
	}
	key, files, err := e.key()
	if err != nil {
		return err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	e.meet = meeting{dir: filepath.Join(cache, "envctl", "envtest", key)}
	unlock, err := e.meet.lock()
	if err != nil {
		return err
	}
	defer unlock()
	l, err := e.meet.take()
	if err != nil {
		return fmt.Errorf("envtest: taking a lease in %s: %w", e.meet.dir, err)
	}
	if e.meet.others(l) > 0 {
		if doc, err := e.meet.readState(); err == nil && e.use(doc) == nil {
			e.lease = l
			e.logf("envtest: joined environment %q (%s)", e.name, e.meet.dir)
			return nil
		}
	}
	// The first live user: bring it up. up is idempotent, so this also takes over what a
	// killed user left (it starts only what is missing or changed).
	ttl := e.opts.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	args := []string{"up", "--name-suffix", "t" + key[:6], "--ttl", ttl.String(), "-o", "json", "--probe-history", e.meet.probesPath()}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	for _, v := range e.opts.Vars {
		args = append(args, "--var", v)
	}
	for _, v := range e.opts.VarFiles {
		args = append(args, "--var-file", v)
	}
	for _, p := range e.opts.Profiles {
		args = append(args, "--profile", p)
	}
	diag, _ := os.MkdirTemp("", "envctl-envtest-up-")
	if diag != "" {
		args = append(args, "--diagnostics", diag)
	}
	args = append(append(args, e.backendArgs()...), e.opts.Args...)
	begin := time.Now()
	var stdout bytes.Buffer
	out, code := e.envctlTo(&stdout, args...)
	if code != 0 || e.use(stdout.Bytes()) != nil {
		l.drop()
		e.meet.clearState()
		msg := fmt.Sprintf("envtest: envctl up -f %s failed (exit %d):\n%s", strings.Join(files, " -f "), code, out)
		if diag != "" {
			msg += "\n(up's diagnostics, when it got as far as starting services: " + diag + ")"
		}
		return errors.New(msg)
	}
	if diag != "" {
		os.RemoveAll(diag) // nothing failed: nothing was written
	}
	if err := e.meet.writeState(stdout.Bytes()); err != nil {
		e.logf("envtest: recording environment %q for other processes: %v", e.name, err)
	}
	e.lease = l
	e.logf("envtest: environment %q is up in %s (%s)", e.name, time.Since(begin).Round(100*time.Millisecond), e.meet.dir)
	return nil
}

// use reads the up's JSON document: the environment's name and endpoints.
func (e *Env) use(doc []byte) error {
	var d struct {
		Name     string `json:"name"`
		OK       bool   `json:"ok"`
		Services []struct {
			Name      string            `json:"name"`
			Endpoints map[string]string `json:"endpoints"`
		} `json:"services"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	if !d.OK || d.Name == "" {
		return errors.New("envtest: the environment is not ready")
	}
	e.name, e.upDoc = d.Name, doc
	e.eps = map[string]map[string]string{}
	for _, s := range d.Services {
		e.eps[s.Name] = s.Endpoints
	}
	return nil
}

// release ends this process's use; the last live user removes the environment (unless Keep).
func (e *Env) release() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.released || e.attached || e.lease == nil {
		return nil
	}
	e.released = true
	unlock, err := e.meet.lock()
	if err != nil {
		return err
	}
	defer unlock()
	e.lease.drop()
	if n := e.meet.others(nil); n > 0 {
		e.logf("envtest: left environment %q to its %d other user(s)", e.name, n)
		return nil
	}
	if e.opts.Keep {
		e.logf("envtest: environment %q kept (Options.Keep); remove it with: envctl down %s", e.name, e.name)
		return nil
	}
	out, code := e.envctl(append([]string{"down", e.name}, e.backendArgs()...)...)
	e.meet.clearState()
	if code != 0 {
		return fmt.Errorf("envtest: envctl down %s exited %d:\n%s", e.name, code, out)
	}
	e.logf("envtest: removed environment %q", e.name)
	return nil
}

// key identifies the file set: the files' absolute paths and content, the variables, profiles,
// backend and extra arguments. It returns the files as absolute paths.
func (e *Env) key() (string, []string, error) {
	h := sha256.New()
	var files []string
	paths := []string{e.file}
	if e.file == "" {
		paths = []string{"envctl.hcl"}
	}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", nil, err
		}
		files = append(files, abs)
		members := []string{abs}
		if fi, err := os.Stat(abs); err != nil {
			return "", nil, fmt.Errorf("envtest: environment file: %w", err)
		} else if fi.IsDir() {
			members, _ = filepath.Glob(filepath.Join(abs, "*.hcl"))
		}
		for _, m := range append(members, e.opts.VarFiles...) {
			data, err := os.ReadFile(m)
			if err != nil {
				return "", nil, fmt.Errorf("envtest: %w", err)
			}
			fmt.Fprintf(h, "file %s %d\n", m, len(data))
			h.Write(data)
		}
	}
	backend, master := e.opts.Backend, e.opts.MesosMaster
	if backend == "" {
		backend = os.Getenv("ENVCTL_BACKEND")
	}
	if master == "" {
		master = os.Getenv("ENVCTL_MESOS_MASTER")
	}
	if backend == "" {
		backend = "docker"
	}
	if backend != "mesos" {
		master = ""
	}
	fmt.Fprintf(h, "backend %s %s\nvars %q\nprofiles %q\nargs %q\nttl %s\n", backend, master, e.opts.Vars, e.opts.Profiles, e.opts.Args, e.opts.TTL)
	return hex.EncodeToString(h.Sum(nil))[:16], files, nil
}

// notEnvctlOnce tells the Docker backend, once, that this test binary is not envctl (see
// docker.ExecutableIsNotEnvctl): it must never be run as the gate or the probe agent.
var notEnvctlOnce sync.Once

// envctl runs envctl in this process and returns its stdout and stderr together.
func (e *Env) envctl(args ...string) (string, int) {
	var stdout bytes.Buffer
	out, code := e.envctlTo(&stdout, args...)
	return stdout.String() + out, code
}

// envctlTo runs envctl in this process with stdout to w and returns its stderr: envctl's
// progress, shown live with go test -v and otherwise only in a failure's message.
func (e *Env) envctlTo(w io.Writer, args ...string) (string, int) {
	notEnvctlOnce.Do(docker.ExecutableIsNotEnvctl)
	var stderr bytes.Buffer
	var errw io.Writer = &stderr
	if testing.Verbose() {
		errw = io.MultiWriter(&stderr, os.Stderr)
	}
	code := cli.Main(append([]string{"envctl"}, args...), strings.NewReader(""), w, errw)
	return stderr.String(), code
}

// logf says what envtest did, in -v output only.
func (e *Env) logf(format string, args ...any) {
	if !testing.Verbose() {
		return
	}
	if e.tb != nil {
		e.tb.Logf(format, args...)
		return
	}
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/envctl/envctl/internal/mesoscluster"
	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

// TestMain lets the test binary act as envctl inside scripts: `exec envctl ...` runs Main in
// a separate process, as a user would.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"envctl": func() { os.Exit(Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// scriptPrefix starts the name of every environment a script creates, so the leak check
// below looks at this package's environments only (other packages' tests run at the same time).
const scriptPrefix = "ts-"

var (
	dockerOnce sync.Once
	dockerErr  error
	imageRef   string
)

var (
	staticOnce sync.Once
	staticPath string
)

// staticEnvctl is envctl built static for linux, once ("" if the build failed: the gate then
// falls back, visibly).
func staticEnvctl() string {
	staticOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		p, err := testimage.StaticEnvctl(ctx)
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: no static envctl for the gate: %v\n", err)
		}
		staticPath = p
	})
	return staticPath
}

// dockerReady builds the test image once; scripts that need Docker say [docker].
func dockerReady() error {
	dockerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := exec.CommandContext(ctx, "docker", "version").Run(); err != nil {
			dockerErr = fmt.Errorf("the Docker Engine does not answer: %v", err)
			return
		}
		imageRef, dockerErr = testimage.Build(ctx, "testsvc", testimage.TestsvcPackage)
	})
	return dockerErr
}

func TestScripts(t *testing.T) {
	// Cleanups run last-registered first: the double goes before the leak check looks.
	t.Cleanup(func() { checkNoLeaks(t) })
	t.Cleanup(stopMesosDouble)
	testscript.Run(t, scriptParams(t, startMesosDouble))
}

// TestScriptsRealMesos runs the mesos_* scripts again, against a real Apache Mesos master and
// agents (mesoscluster: ENVCTL_TEST_MESOS_MASTER, or a cluster started from ../shared/mesos;
// skipped with one line saying how when there is neither).
func TestScriptsRealMesos(t *testing.T) {
	url := mesoscluster.Master(t)
	t.Cleanup(func() {
		if err := mesoscluster.Stop(); err != nil { // only a cluster started here
			t.Error(err)
		}
	})
	t.Cleanup(func() { checkNoLeaks(t) })
	files, err := filepath.Glob(filepath.Join("testdata", "script", "mesos_*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no mesos_* scripts: %v", err)
	}
	p := scriptParams(t, func() (string, error) { return url, nil })
	p.Dir, p.Files = "", files
	testscript.Run(t, p)
}

// scriptParams are the scripts' settings; mesos gives the master the mesos_* scripts use.
func scriptParams(t *testing.T, mesos func() (string, error)) testscript.Params {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		// UPDATE_SCRIPTS=1 go test ./cli rewrites the expected outputs; review the diff.
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			// NAME is unique per script run, so scripts never meet each other's environments.
			name := newEnvName()
			env.Setenv("NAME", name)
			// Whatever a script leaves — it failed half-way, or forgot its down — is removed
			// here so the next run starts clean, and reported as a leak at the end.
			env.Defer(func() { sweepScriptEnv(name) })
			env.Setenv("ROOT", root)
			// go itself may run inside a script (run's stdout with `go test -json`): it gets
			// this process's build and module caches, so nothing is compiled twice.
			for k, v := range goCaches() {
				env.Setenv(k, v)
			}
			for _, k := range []string{"DOCKER_HOST", "DOCKER_CONFIG", "CI"} {
				if v := os.Getenv(k); v != "" {
					env.Setenv(k, v)
				}
			}
			if imageRef != "" {
				env.Setenv("TESTSVC", imageRef)
			}
			// The gate (and the probe agent) need envctl's static linux binary; the test
			// binary that plays envctl here links cgo. With it, scripts run with the gate on.
			if p := staticEnvctl(); p != "" && os.Getenv("ENVCTL_AGENT_BINARY") == "" {
				env.Setenv("ENVCTL_AGENT_BINARY", p)
			}
			// Scripts named mesos_* run against one in-process Mesos double with two agents
			// (their envctl processes reach it over HTTP, as they would a real master).
			if strings.HasPrefix(filepath.Base(env.WorkDir), "script-mesos_") {
				url, err := mesos()
				if err != nil {
					if os.Getenv("CI") == "true" {
						return fmt.Errorf("CI=true but the Mesos double did not start: %v", err)
					}
					env.Setenv("MESOS_UNAVAILABLE", err.Error())
					return nil
				}
				env.Setenv("ENVCTL_BACKEND", "mesos")
				env.Setenv("ENVCTL_MESOS_MASTER", url)
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "mesos":
				if err := dockerReady(); err != nil {
					if os.Getenv("CI") == "true" {
						return false, fmt.Errorf("CI=true but %v", err)
					}
					return false, nil
				}
				url, err := mesos()
				if err != nil && os.Getenv("CI") == "true" {
					return false, fmt.Errorf("CI=true but the Mesos master is not there: %v", err)
				}
				return url != "", nil
			case "docker":
				if err := dockerReady(); err != nil {
					if os.Getenv("CI") == "true" {
						// In CI a script that needs Docker must fail, never skip.
						return false, fmt.Errorf("CI=true but %v", err)
					}
					return false, nil
				}
				return true, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"httpget":        cmdHTTPGet,
			"expect-exit":    cmdExpectExit,
			"build-examples": cmdBuildExamples,
			"schema":         cmdSchema,
			"testsvc":        cmdTestsvc,
			"sleep-ms":       cmdSleep,
			"wait-stdout":    cmdWaitStdout,
			"jsonlines":      cmdJSONLines,
			"mesos-quota":    cmdMesosQuota,
			"mesos-role":     cmdMesosRole,
		},
	}
}

// cmdHTTPGet: httpget URL FILE — GET URL (retrying for up to 5 s while it does not answer)
// and write the body to FILE; fails unless the status is 200 (or, negated, unless it is not).
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: httpget URL FILE")
	}
	url := os.Expand(args[0], ts.Getenv)
	var body []byte
	var status int
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		var resp *http.Response
		resp, err = http.Get(url)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ok := err == nil && status == 200
	if ok == neg {
		ts.Fatalf("GET %s: status %d, error %v, body %q", url, status, err, body)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), body, 0o644))
}

// cmdWaitStdout: wait-stdout SECONDS REGEXP PROGRAM ARGS... — run PROGRAM (like exec) again
// and again until its stdout matches REGEXP; fails after SECONDS. For states a real cluster
// reaches in its own time (a real agent takes seconds to start a container on a loaded host).
func cmdWaitStdout(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 || neg {
		ts.Fatalf("usage: wait-stdout SECONDS REGEXP PROGRAM [ARGS...]")
	}
	secs, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("wait-stdout: bad SECONDS %q", args[0])
	}
	re, err := regexp.Compile("(?m)" + args[1])
	if err != nil {
		ts.Fatalf("wait-stdout: %v", err)
	}
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	for {
		_ = ts.Exec(args[2], args[3:]...)
		if re.MatchString(ts.ReadFile("stdout")) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("wait-stdout: %s did not print a match for %q within %ds", args[2], args[1], secs)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// cmdExpectExit: expect-exit CODE PROGRAM ARGS... — run PROGRAM like exec does (stdout and
// stderr are then checked as usual) and fail unless it exits with exactly CODE.
func cmdExpectExit(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: expect-exit CODE PROGRAM [ARGS...]")
	}
	var want int
	if _, err := fmt.Sscan(args[0], &want); err != nil {
		ts.Fatalf("expect-exit: bad code %q", args[0])
	}
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("expect-exit: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdBuildExamples: build-examples — compiles the example services' binaries, which their
// FROM scratch Dockerfiles copy (make test does this too; go test alone must as well).
func cmdBuildExamples(ts *testscript.TestScript, neg bool, args []string) {
	examplesOnce.Do(func() {
		out, err := exec.Command("make", "-C", ts.Getenv("ROOT"), "examples").CombinedOutput()
		if err != nil {
			examplesErr = fmt.Errorf("make examples: %v\n%s", err, out)
		}
	})
	if examplesErr != nil {
		ts.Fatalf("%v", examplesErr)
	}
}

var (
	examplesOnce sync.Once
	examplesErr  error
)

// cmdTestsvc: testsvc — puts the test image in $TESTSVC and var.img; fails unless it was built
// (scripts say [!docker] skip first).
func cmdTestsvc(ts *testscript.TestScript, neg bool, args []string) {
	if imageRef == "" {
		ts.Fatalf("the test image was not built")
	}
	ts.Setenv("TESTSVC", imageRef)
	// Environment files in scripts name the image as var.img.
	ts.Setenv("ENVCTL_VAR_img", imageRef)
}

// cmdJSONLines: jsonlines FILE — fails unless FILE (stdout, stderr or a file of the script's
// directory) is one or more lines each of which is a JSON value, and nothing else.
func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: jsonlines FILE")
	}
	data := strings.TrimSuffix(ts.ReadFile(args[0]), "\n")
	bad := ""
	for i, line := range strings.Split(data, "\n") {
		if !json.Valid([]byte(line)) {
			bad = fmt.Sprintf("line %d of %s is not JSON: %q", i+1, args[0], line)
			break
		}
	}
	if data == "" {
		bad = args[0] + " is empty"
	}
	if (bad == "") == neg {
		if neg {
			ts.Fatalf("%s is all JSON lines", args[0])
		}
		ts.Fatalf("%s", bad)
	}
}

var (
	goCachesOnce sync.Once
	goCacheVars  map[string]string
)

// goCaches are GOCACHE, GOMODCACHE and GOPATH as go reports them here (scripts run with HOME
// elsewhere, where go would start empty caches).
func goCaches() map[string]string {
	goCachesOnce.Do(func() {
		goCacheVars = map[string]string{}
		out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
		if err != nil {
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
			if i < len(lines) && lines[i] != "" {
				goCacheVars[k] = lines[i]
			}
		}
	})
	return goCacheVars
}

func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sleep-ms N")
	}
	var ms int
	fmt.Sscan(args[0], &ms)
	time.Sleep(time.Duration(ms) * time.Millisecond)
}

var (
	mesosMu     sync.Mutex // guards the one double the mesos_ scripts share
	mesosMaster *mesostest.Master
	mesosURL    string
	mesosErr    error
)

// startMesosDouble starts the scripts' Mesos double on first use.
func startMesosDouble() (string, error) {
	mesosMu.Lock()
	defer mesosMu.Unlock()
	if mesosURL != "" || mesosErr != nil {
		return mesosURL, mesosErr
	}
	// Ports away from 31000-33999, the ranges of a real cluster's agents (../shared/mesos),
	// which publish host ports on every address: a double's task on 31000 beside a real one
	// would take the port from it (mesostest.DoubleTestPorts).
	m := mesostest.New(mesostest.Options{Agents: 2, Ports: mesostest.DoubleTestPorts})
	url, err := m.Start(context.Background())
	if err != nil {
		mesosErr = err
		return "", err
	}
	mesosMaster, mesosURL = m, url
	return url, nil
}

func stopMesosDouble() {
	mesosMu.Lock()
	defer mesosMu.Unlock()
	if mesosMaster != nil {
		mesosMaster.Close()
		mesosMaster, mesosURL = nil, ""
	}
}

var (
	leakMu sync.Mutex // guards leaked and names: scripts run in parallel
	leaked []string
	names  []string // every environment name this test process handed out
)

// newEnvName hands out a unique environment name and remembers it for the leak check, which
// looks at this process's environments only: other test processes (the benchmark, another
// package) may be running their own at the same time.
func newEnvName() string {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := scriptPrefix + hex.EncodeToString(suffix)
	leakMu.Lock()
	names = append(names, name)
	leakMu.Unlock()
	return name
}

// sweepScriptEnv removes the containers and networks of one script's environment, if any,
// and records it as leaked.
func sweepScriptEnv(name string) {
	if imageRef == "" {
		return
	}
	filter := "label=io.envctl.env=" + name
	ids, _ := exec.Command("docker", "ps", "-aq", "--filter", filter).Output()
	nets, _ := exec.Command("docker", "network", "ls", "-q", "--filter", filter).Output()
	vols, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", filter).Output()
	if len(strings.TrimSpace(string(ids))) == 0 && len(strings.TrimSpace(string(nets))) == 0 && len(strings.TrimSpace(string(vols))) == 0 {
		return
	}
	leakMu.Lock()
	leaked = append(leaked, name)
	leakMu.Unlock()
	if c := strings.Fields(string(ids)); len(c) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f"}, c...)...).Run()
	}
	if n := strings.Fields(string(nets)); len(n) > 0 {
		_ = exec.Command("docker", append([]string{"network", "rm"}, n...)...).Run()
	}
	if v := strings.Fields(string(vols)); len(v) > 0 {
		_ = exec.Command("docker", append([]string{"volume", "rm", "-f"}, v...)...).Run()
	}
}

// checkNoLeaks fails the test when a container or network of a script's environment was left
// behind by a script, or still is.
func checkNoLeaks(t *testing.T) {
	if imageRef == "" {
		return // no script touched Docker
	}
	for _, name := range leaked {
		t.Errorf("leak: script environment %q still had containers, networks or volumes when its script ended", name)
	}
	for kind, args := range map[string][]string{
		"container": {"ps", "-a", "--filter", "label=io.envctl.env", "--format", `{{.Label "io.envctl.env"}}`},
		"network":   {"network", "ls", "--filter", "label=io.envctl.env", "--format", `{{.Label "io.envctl.env"}}`},
		"volume":    {"volume", "ls", "--filter", "label=io.envctl.env", "--format", `{{.Label "io.envctl.env"}}`},
	} {
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Errorf("leak check: docker %s: %v", strings.Join(args, " "), err)
			continue
		}
		for _, env := range strings.Fields(string(out)) {
			if slices.Contains(names, env) {
				t.Errorf("leak: a %s of environment %q is left after the scripts", kind, env)
			}
		}
	}
}

package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// envctlBin is the envctl binary under test, built by TestMain.
var envctlBin string

// TestMain builds envctl once, as `make build` does, so that every test execs the real binary
// in its own process: signals, exit codes and a killed process behave as they do for users.
//
// The suite runs only with ENVCTL_FAULTS=1 (`make test-faults`, which .ci/run calls after
// `make test`): under `go test ./...` it would share two cores and the engine's ~30 bridge
// networks with every other package, which skews the signal moments and can exhaust the
// address pools during the 20 concurrent ups.
func TestMain(m *testing.M) {
	if os.Getenv("ENVCTL_FAULTS") != "1" {
		fmt.Println("faults: skipped; the fault suite runs with ENVCTL_FAULTS=1 (make test-faults)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "envctl-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	envctlBin = filepath.Join(dir, "envctl")
	build := exec.Command("go", "build", "-o", envctlBin, "github.com/envctl/envctl")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building envctl: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// labelEnv is the label every container and network of an environment carries.
const labelEnv = "io.envctl.env"

// newEnvName returns a fresh environment name "ts-f<tag>-<hex>"; tag says which test made it.
func newEnvName(t testing.TB, tag string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "ts-f" + tag + "-" + hex.EncodeToString(b)
}

// result is one finished envctl process.
type result struct {
	args     []string
	code     int // exit status; -1 when a signal ended it
	stdout   string
	stderr   string
	duration time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("envctl %s: exit %d in %s\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.duration.Round(time.Millisecond), r.stdout, r.stderr)
}

// envctl runs the binary in dir with extra environment variables (K=V) and returns how it
// ended. The bound only stops a wedged run from hanging the suite.
func envctl(t testing.TB, dir string, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, envctlBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	began := time.Now()
	err := cmd.Run()
	r := result{args: args, stdout: out.String(), stderr: errb.String(), duration: time.Since(began), code: exitCode(err)}
	if err != nil && r.code == -1 && !isExit(err) {
		t.Fatalf("envctl %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func isExit(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// exitCode is the process's exit status, -1 if a signal ended it.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1
		}
		return ee.ExitCode()
	}
	return -1
}

// wantExit fails the test unless r ended with code.
func wantExit(t testing.TB, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("got exit %d, want %d\n%s", r.code, code, r)
	}
}

// wantIn fails the test unless every substring in subs occurs in s (named what).
func wantIn(t testing.TB, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s: got %q, want it to contain %q", what, s, sub)
		}
	}
}

// docker runs the docker CLI and returns its trimmed stdout.
func docker(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// lines splits docker's output into non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// leftovers lists the names of the containers and networks labelled with env.
func leftovers(t testing.TB, env string) (containers, networks []string) {
	t.Helper()
	f := "label=" + labelEnv + "=" + env
	containers = lines(docker(t, "ps", "-a", "--filter", f, "--format", "{{.Names}}"))
	networks = lines(docker(t, "network", "ls", "--filter", f, "--format", "{{.Name}}"))
	return containers, networks
}

// wantNothingLeft fails the test if any container or network of env remains.
func wantNothingLeft(t testing.TB, env string) {
	t.Helper()
	c, n := leftovers(t, env)
	if len(c) > 0 || len(n) > 0 {
		t.Errorf("environment %s: got containers %q and networks %q left, want none", env, c, n)
	}
}

// removeEnv deletes everything labelled with env straight through the docker CLI, not through
// envctl, so that a test whose envctl misbehaves still leaves nothing behind.
func removeEnv(env string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := "label=" + labelEnv + "=" + env
	out, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--filter", f).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.CommandContext(ctx, "docker", append([]string{"rm", "-f", "-v"}, ids...)...).Run()
	}
	out, _ = exec.CommandContext(ctx, "docker", "network", "ls", "-q", "--filter", f).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		_ = exec.CommandContext(ctx, "docker", append([]string{"network", "rm"}, ids...)...).Run()
	}
}

// cleanupEnv registers removeEnv(env) with t.Cleanup.
func cleanupEnv(t testing.TB, env string) {
	t.Helper()
	t.Cleanup(func() { removeEnv(env) })
}

// writeFile writes content to dir/name.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// needDocker makes the test depend on the engine and the test service image (CI=true: fail,
// not skip) and returns the image reference.
func needDocker(t testing.TB) string {
	t.Helper()
	return testimage.NeedTestsvc(t)
}

// imgVar is the --var that hands the test image to a file's `variable "img" {}`.
func imgVar(img string) []string { return []string{"--var", "img=" + img} }

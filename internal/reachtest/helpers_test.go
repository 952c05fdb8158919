package reachtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// root is the module's root directory (examples/ lives there).
func root(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// needRoot makes a test depend on root and the given tools (it creates namespaces, firewall
// rules, users' processes).
func needRoot(t *testing.T, tools ...string) {
	t.Helper()
	testimage.Need(t)
	if os.Geteuid() != 0 {
		testimage.SkipOrFail(t, "needs root (network namespaces, iptables)")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testimage.SkipOrFail(t, "needs %s: %v", tool, err)
		}
	}
}

// envctlBin builds the static envctl once.
func envctlBin(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := testimage.StaticEnvctl(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// buildExamples compiles the shop's binaries when they are missing (make examples does it too).
func buildExamples(t *testing.T, dir string) {
	t.Helper()
	for _, s := range []string{"api", "migrate", "store", "web", "worker"} {
		app := filepath.Join(dir, "examples", "shop", s, "app")
		if _, err := os.Stat(app); err == nil {
			continue
		}
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", app, "./examples/shop/"+s)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building examples/shop/%s: %v\n%s", s, err, out)
		}
	}
}

// userDir makes a directory that the user uid can enter and read, wherever this checkout and
// $TMPDIR are: under os.TempDir() when every directory above it lets others through, else
// under /tmp. It is removed when the test ends, failed or not.
func userDir(t *testing.T, uid, gid int) string {
	t.Helper()
	base := os.TempDir()
	for d := base; d != "/"; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm()&0o001 == 0 {
			base = "/tmp"
			break
		}
	}
	d, err := os.MkdirTemp(base, "envctl-reachtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, uid, gid); err != nil {
		t.Fatal(err)
	}
	return d
}

// copyTree copies the file or directory from to to (which must not exist), keeping the
// files' permission bits.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, fi.Mode().Perm()|0o444)
	})
	if err != nil {
		t.Fatalf("copying %s for the test's user: %v", from, err)
	}
}

// chownTree gives everything under dir to uid:gid.
func chownTree(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatalf("giving %s to the test's user: %v", dir, err)
	}
}

// uniqueName is an environment name no one else uses.
func uniqueName(prefix string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// runner runs envctl in one setting.
type runner struct {
	t    *testing.T
	bin  string
	dir  string
	env  []string
	wrap []string // a command that envctl runs under (unshare -n), or none
	cred *syscall.Credential
}

// result is one envctl run.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func (r *runner) run(args ...string) result {
	r.t.Helper()
	argv := append(append([]string{}, r.wrap...), r.bin)
	argv = append(argv, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = r.dir
	cmd.Env = r.env
	if r.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(begin)}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		r.t.Fatalf("envctl %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// must runs envctl and fails the test unless it exits 0.
func (r *runner) must(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != 0 {
		r.t.Fatalf("envctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

// baseEnv is the environment of an envctl run: nothing of the test's own beyond what the
// engine's address needs.
func baseEnv(home string) []string {
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "TMPDIR=" + home}
	for _, k := range []string{"DOCKER_HOST", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// upDoc is the part of `up -o json` and `status -o json` the tests read.
type upDoc struct {
	OK       bool `json:"ok"`
	Services []struct {
		Name          string            `json:"name"`
		State         string            `json:"state"`
		Ready         bool              `json:"ready"`
		Endpoints     map[string]string `json:"endpoints"`
		TimeToReadyMS int64             `json:"time_to_ready_ms"`
		Probe         *struct {
			Last string `json:"last"`
		} `json:"probe"`
	} `json:"services"`
	Reach *struct {
		Way string `json:"way"`
		Why string `json:"why"`
	} `json:"reach"`
}

func parseDoc(t *testing.T, out string) upDoc {
	t.Helper()
	var d upDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return d
}

// getChain GETs the shop's front and returns the body.
func getChain(t *testing.T, addr string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("GET the shop's front at %s: %v", addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "web -> api -> store") {
		t.Fatalf("GET the shop's front at %s: HTTP %d %q", addr, resp.StatusCode, body)
	}
	return string(body)
}

// dotenv reads `envctl env NAME` output.
func dotenv(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = strings.Trim(v, `"'`)
		}
	}
	return m
}

// dockerLeft lists what of env (and its agents) the engine still has.
func dockerLeft(t *testing.T, env string) []string {
	t.Helper()
	var left []string
	for _, q := range [][]string{
		{"ps", "-a", "--filter", "label=io.envctl.env=" + env, "--format", "container {{.Names}}"},
		{"ps", "-a", "--filter", "label=io.envctl.agent=" + env, "--format", "agent {{.Names}}"},
		{"network", "ls", "--filter", "label=io.envctl.env=" + env, "--format", "network {{.Name}}"},
	} {
		out, err := exec.Command("docker", q...).Output()
		if err != nil {
			t.Fatalf("docker %s: %v", strings.Join(q, " "), err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" {
				left = append(left, l)
			}
		}
	}
	return left
}

// sweep removes env as root from the host, whatever a failed test left.
func sweep(t *testing.T, bin, dir, env string) {
	cmd := exec.Command(bin, "down", env, "--grace", "0")
	cmd.Dir = dir
	cmd.Env = baseEnv(os.TempDir())
	cmd.Run()
	// Agents remove themselves once their stream ends; a leftover one would be a bug, which
	// dockerLeft reports. This only keeps the engine clean for the next run.
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=io.envctl.agent="+env).Output()
	for _, id := range strings.Fields(string(out)) {
		exec.Command("docker", "rm", "-f", id).Run()
	}
}

// eventually waits up to d for fn to return nil.
func eventually(d time.Duration, fn func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// noneLeft fails the test if anything of env remains (agents remove themselves a moment after
// their stream ends, so it waits a little for those).
func noneLeft(t *testing.T, env string) {
	t.Helper()
	err := eventually(10*time.Second, func() error {
		if left := dockerLeft(t, env); len(left) > 0 {
			return fmt.Errorf("left behind: %v", left)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

package shop_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// testLabel marks every Docker object this test creates.
const testLabel = "io.envctl.test=shop-e2e"

// token is the store's secret; the test checks it never reaches a log.
const token = "e2e-secret-7f3a9c"

func docker(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := dockerErr(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dockerErr(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// cleanupCtx is used in t.Cleanup, where the test's own context may be done.
func cleanupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

// buildImage compiles ./svc and builds it with the service's own Dockerfile.
func buildImage(t *testing.T, ctx context.Context, svc, tag string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), svc)
	gobuild := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, "app"), "./"+svc)
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
	if out, err := gobuild.CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", svc, err, out)
	}
	df, err := os.ReadFile(filepath.Join(svc, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		dockerErr(ctx, "image", "rm", "-f", tag)
	})
	docker(t, ctx, "build", "-q", "--label", testLabel, "-t", tag, dir)
}

// waitLog waits until the container's output contains want.
func waitLog(t *testing.T, ctx context.Context, container, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := exec.CommandContext(ctx, "docker", "logs", container).CombinedOutput()
		if err == nil && strings.Contains(string(out), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s: no %q in its log after 30s; log:\n%s", container, want, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func get(url string) (int, string, error) {
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestShopChainOnDocker(t *testing.T) {
	testimage.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	run := fmt.Sprintf("envctl-test-shop-%d", time.Now().UnixNano()%1_000_000_000)
	images := map[string]string{}
	for _, svc := range []string{"store", "migrate", "api", "worker", "web"} {
		images[svc] = "envctl-test/shop-" + svc + ":" + strings.TrimPrefix(run, "envctl-test-shop-")
		buildImage(t, ctx, svc, images[svc])
	}

	network := run
	docker(t, ctx, "network", "create", "--label", testLabel, network)
	// Registered before any container, so it runs after they are removed (LIFO).
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		dockerErr(ctx, "network", "rm", network)
	})

	var containers []string
	start := func(svc string, detach bool, runArgs []string, cmdArgs ...string) string {
		t.Helper()
		name := run + "-" + svc
		containers = append(containers, name)
		t.Cleanup(func() {
			ctx, cancel := cleanupCtx()
			defer cancel()
			dockerErr(ctx, "rm", "-f", "-v", name)
		})
		args := []string{"run", "--name", name, "--label", testLabel, "--network", network, "--network-alias", svc}
		if detach {
			args = append(args, "-d")
		}
		args = append(args, runArgs...)
		args = append(args, images[svc])
		return docker(t, ctx, append(args, cmdArgs...)...)
	}

	start("store", true, []string{"-e", "STORE_TOKEN=" + token})
	waitLog(t, ctx, run+"-store", "store: listening on")

	// The job runs attached: docker run returns its output and fails on a non-zero exit.
	out := start("migrate", false, []string{"-e", "STORE_TOKEN=" + token}, "--store", "store:7000", "--schema", "1")
	if !strings.Contains(out, "migrated to schema 1, 3 products seeded") {
		t.Fatalf("migrate output = %q, want it to report schema 1 and 3 products", out)
	}

	storeEnv := []string{"-e", "STORE_ADDR=store:7000", "-e", "STORE_TOKEN=" + token, "-e", "QUEUE=orders"}
	start("api", true, append(storeEnv, "-e", "REQUIRED_SCHEMA=1"))
	waitLog(t, ctx, run+"-api", "api: listening on")
	start("worker", true, storeEnv)
	waitLog(t, ctx, run+"-worker", "consuming orders from queue orders")
	start("web", true, []string{"-e", "API_ADDR=api:8080", "-e", "WORKER_ADDR=worker:8081", "-p", "127.0.0.1::8000"})
	waitLog(t, ctx, run+"-web", "web: listening on")

	hostAddr := strings.TrimSpace(strings.Split(docker(t, ctx, "port", run+"-web", "8000/tcp"), "\n")[0])
	for n := 1; n <= 2; n++ {
		want := regexp.MustCompile(fmt.Sprintf(`^web -> api -> store \(schema 1, migrated by migrate, 3 products\) ; order [0-9a-f]{12} processed by worker ; worker ok \(processed %d\)\n$`, n))
		var status int
		var body string
		var err error
		// The published port can accept before web listens (userland proxy): retry.
		deadline := time.Now().Add(20 * time.Second)
		for {
			status, body, err = get("http://" + hostAddr + "/")
			if (err == nil && status == http.StatusOK) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || status != http.StatusOK || !want.MatchString(body) {
			t.Fatalf("GET web / #%d = %d %q, %v; want 200 matching %s", n, status, body, err, want)
		}
		t.Logf("web answered: %s", strings.TrimSpace(body))
	}

	for _, c := range containers {
		logs, _ := exec.CommandContext(ctx, "docker", "logs", c).CombinedOutput()
		if strings.Contains(string(logs), token) {
			t.Errorf("container %s logged the store token", c)
		}
	}
}

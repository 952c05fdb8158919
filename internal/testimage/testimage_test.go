package testimage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCtx bounds each test's docker calls; a first build on a cold cache takes seconds.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// containerName returns a name recognisable as this package's test container.
func containerName(t *testing.T) string {
	safe := regexp.MustCompile(`[^a-z0-9_.-]+`).ReplaceAllString(strings.ToLower(t.Name()), "-")
	return fmt.Sprintf("envctl-test-testimage-%s-%d", safe, time.Now().UnixNano())
}

// dockerRun runs `docker run` with a test-owned name and removes the container in
// t.Cleanup, also when the test fails. It returns stdout and the CLI's exit status.
func dockerRun(t *testing.T, args ...string) (string, int) {
	t.Helper()
	name := containerName(t)
	t.Cleanup(func() { removeContainer(name) })
	cmd := exec.Command("docker", append([]string{"run", "--name", name, "--label", Label + "=testimage"}, args...)...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	return string(out), 0
}

func removeContainer(name string) {
	// rm -f is idempotent enough: "No such container" after --rm is fine.
	exec.Command("docker", "rm", "-f", "-v", name).Run()
}

func TestTestsvcImage(t *testing.T) {
	img := NeedTestsvc(t)
	if !regexp.MustCompile(`^envctl-test/testsvc:[0-9a-f]{12}$`).MatchString(img) {
		t.Fatalf("Testsvc() = %q, want envctl-test/testsvc:<12 hex>", img)
	}

	t.Run("exit status", func(t *testing.T) {
		for _, code := range []int{0, 3} {
			out, got := dockerRun(t, "--rm", img, "--log", "hello", "--exit", fmt.Sprint(code))
			if got != code || out != "hello\n" {
				t.Errorf("docker run %s --log hello --exit %d = %d %q, want %d %q", img, code, got, out, code, "hello\n")
			}
		}
	})

	t.Run("http and probe", func(t *testing.T) {
		name := containerName(t)
		t.Cleanup(func() { removeContainer(name) })
		ctx := testCtx(t)
		if _, err := docker(ctx, "run", "-d", "--name", name, "--label", Label+"=testimage",
			"-e", "NAME=svc-a", "-p", "127.0.0.1::8080", img, "--http", "8080", "--tcp", "9000"); err != nil {
			t.Fatal(err)
		}
		out, err := docker(ctx, "port", name, "8080/tcp")
		if err != nil {
			t.Fatal(err)
		}
		hostAddr := strings.TrimSpace(strings.Split(out, "\n")[0])

		// The published port accepts before the service listens (userland proxy), so
		// retry until the body, not the connection, proves it is up.
		var body string
		deadline := time.Now().Add(10 * time.Second)
		for {
			body, err = get("http://" + hostAddr + "/")
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil || body != "svc-a" {
			t.Fatalf("GET http://%s/ = %q, %v; want %q", hostAddr, body, err, "svc-a")
		}

		probes := []struct {
			args []string
			want int
		}{
			{[]string{"http", "http://127.0.0.1:8080/healthz"}, 0},
			{[]string{"tcp", "127.0.0.1:9000"}, 0},
			{[]string{"http", "http://127.0.0.1:8080/missing"}, 1},
			{[]string{"tcp", "127.0.0.1:9001"}, 1},
		}
		for _, p := range probes {
			args := append([]string{"exec", name, "/testsvc", "probe"}, p.args...)
			err := exec.CommandContext(ctx, "docker", args...).Run()
			got := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				got = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
			}
			if got != p.want {
				t.Errorf("docker exec /testsvc probe %s = %d, want %d", strings.Join(p.args, " "), got, p.want)
			}
		}

		// docker stop must be prompt: testsvc ends on SIGTERM even as PID 1.
		begin := time.Now()
		if _, err := docker(ctx, "stop", "-t", "10", name); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(begin); took > 5*time.Second {
			t.Errorf("docker stop took %v, want well under the 10s grace (SIGTERM ignored?)", took)
		}
		code, err := docker(ctx, "inspect", "--format", "{{.State.ExitCode}}", name)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(code); got != "0" {
			t.Errorf("exit code after docker stop = %s, want 0", got)
		}
	})
}

func get(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), nil
}

// forget drops this process's cache so that Build goes to go and docker again.
func forget() {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	results = map[string]string{}
}

func TestBuildIdempotentAndConcurrent(t *testing.T) {
	first := NeedTestsvc(t)
	ctx := testCtx(t)
	before, err := docker(ctx, "image", "inspect", "--format", "{{.Id}}", first)
	if err != nil {
		t.Fatal(err)
	}

	// A fresh process (simulated by dropping the cache) finds the tag and does not
	// rebuild: the image ID stays the same.
	forget()
	const n = 4
	refs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs[i], errs[i] = Testsvc(ctx)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || refs[i] != first {
			t.Errorf("concurrent Testsvc #%d = %q, %v; want %q, nil", i, refs[i], errs[i], first)
		}
	}
	after, err := docker(ctx, "image", "inspect", "--format", "{{.Id}}", first)
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Errorf("image ID changed from %s to %s: the existing tag was rebuilt", strings.TrimSpace(before), strings.TrimSpace(after))
	}
}

func TestBuildByDirectory(t *testing.T) {
	want := NeedTestsvc(t)
	// The same package named by directory gives the same binary, hence the same tag.
	got, err := Build(testCtx(t), "testsvc", "./internal/testsvc")
	if err != nil || got != want {
		t.Errorf(`Build("testsvc", "./internal/testsvc") = %q, %v; want %q, nil`, got, err, want)
	}
}

func TestBuildErrors(t *testing.T) {
	Need(t)
	tests := []struct {
		name, pkg string
		wantErr   string
	}{
		{"Bad/Name", TestsvcPackage, "image name"},
		{"", TestsvcPackage, "image name"},
		{"nopkg", "github.com/envctl/envctl/internal/does-not-exist", "go list"},
		{"notmain", "github.com/envctl/envctl/internal/testimage", "want a main package"},
	}
	for _, tt := range tests {
		ref, err := Build(testCtx(t), tt.name, tt.pkg)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Build(%q, %q) = %q, %v; want an error containing %q", tt.name, tt.pkg, ref, err, tt.wantErr)
		}
	}
}

func TestRequireDockerFailsWithoutEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/envctl-test.sock")
	if err := RequireDocker(context.Background()); err == nil {
		t.Error("RequireDocker with DOCKER_HOST at a missing socket = nil, want an error")
	}
}

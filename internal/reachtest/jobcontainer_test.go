package reachtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// jobImage builds the image of a CI job that runs envctl: FROM scratch, holding the static
// envctl and jobclient, tagged by content like internal/testimage's images.
func jobImage(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	data, err := os.ReadFile(envctlBin(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "envctl"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(tmp, "jobclient"), "./internal/reachtest/jobclient")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build jobclient: %v\n%s", err, out)
	}
	client, err := os.ReadFile(filepath.Join(tmp, "jobclient"))
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(data)
	h.Write(client)
	ref := "envctl-test/reachjob:" + hex.EncodeToString(h.Sum(nil))[:12]
	dockerfile := "FROM scratch\nCOPY envctl /envctl\nCOPY jobclient /jobclient\nENTRYPOINT [\"/envctl\"]\n"
	if err := os.WriteFile(filepath.Join(tmp, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "docker", "build", "-q", "--label", "io.envctl.test=testimage", "-t", ref, tmp).CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", ref, err, out)
	}
	return ref
}

// TestJobContainer is setting 2 of issue 10: envctl inside a container on the default bridge
// with the engine's socket mounted (GitLab's docker executor, Jenkins agents, GitHub Actions
// `container:` jobs) runs `envctl run -f examples/shop -- CLIENT`. CLIENT reaches the front
// through the endpoint it was given, run passes its exit status through, and afterwards
// nothing of envctl's remains and the job container is on the networks it started on.
func TestJobContainer(t *testing.T) {
	needRoot(t)
	dir := root(t)
	buildExamples(t, dir)
	img := jobImage(t, dir)
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			testimage.SkipOrFail(t, "DOCKER_HOST=%s is not a unix socket to mount into a job container", h)
		}
		sock = strings.TrimPrefix(h, "unix://")
	}
	name := uniqueName("reach-job")
	job := "envctl-test-" + name
	t.Cleanup(func() {
		exec.Command("docker", "rm", "-f", job).Run()
		sweep(t, envctlBin(t), dir, name)
	})
	create := exec.Command("docker", "create", "--name", job, "--network", "bridge",
		"-v", sock+":/var/run/docker.sock", "-v", filepath.Join(dir, "examples")+":/src/examples:ro",
		"--tmpfs", "/tmp", "-e", "HOME=/tmp", "-w", "/src",
		img, "run", "-f", "examples/shop", "--name", name, "--", "/jobclient", "7")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("docker create: %v\n%s", err, out)
	}
	before := jobNetworks(t, job)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "start", "-a", job).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("docker start: %v\n%s", err, out)
	}
	t.Logf("the job's output:\n%s", out)
	if code != 7 {
		t.Errorf("the job exited %d, want CLIENT's 7 passed through", code)
	}
	if !strings.Contains(string(out), "HTTP 200: web -> api -> store") {
		t.Errorf("CLIENT did not get the whole chain from the front")
	}
	if after := jobNetworks(t, job); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("the job container's networks: %v before, %v after", before, after)
	}
	noneLeft(t, name)
}

// jobNetworks lists the networks a container is attached to.
func jobNetworks(t *testing.T, id string) []string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", id).Output()
	if err != nil {
		t.Fatalf("docker inspect %s: %v", id, err)
	}
	var nets map[string]any
	if err := json.Unmarshal(out, &nets); err != nil {
		t.Fatalf("docker inspect %s: %v: %s", id, err, out)
	}
	names := make([]string, 0, len(nets))
	for n := range nets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

package testimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Repo is the repository prefix of every image this package builds.
const Repo = "envctl-test"

// Label is set (to "testimage") on every image this package builds, so that they are
// recognisably test images and can be removed in bulk.
const Label = "io.envctl.test"

// TestsvcPackage is the import path of the test service that Testsvc builds.
const TestsvcPackage = "github.com/envctl/envctl/internal/testsvc"

// Testsvc builds (once per content) the image "envctl-test/testsvc:<hash>" from
// internal/testsvc, with the binary at /testsvc and as the entrypoint, and returns its
// reference. See Build.
func Testsvc(ctx context.Context) (string, error) {
	return Build(ctx, "testsvc", TestsvcPackage)
}

// validName keeps the name usable both as an image repository component and as the
// binary's file name in the image.
var validName = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*$`)

// results caches, per name and package, the reference built by this process: the
// sources do not change while tests run, and a cached answer spares a `go build` and a
// `docker image inspect` per call.
var (
	resultsMu sync.Mutex // guards results and inflight
	results   = map[string]string{}
	inflight  = map[string]chan struct{}{} // closed when the build under way ends
)

// Build compiles the main package pkg (an import path, or a directory relative to the
// module root) with `CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false
// -ldflags="-s -w"`, and builds the image "envctl-test/<name>:<first 12 hex of the
// binary's sha256>" from a context holding only the binary and this Dockerfile:
//
//	FROM scratch
//	COPY <name> /<name>
//	ENTRYPOINT ["/<name>"]
//
// The docker build is skipped when `docker image inspect` already finds the tag. Build
// is safe for concurrent use: calls for the same name and package wait for one build.
// Across processes it is idempotent (a race builds the same content twice). It returns
// the image reference.
func Build(ctx context.Context, name, pkg string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("testimage: image name %q: want lower-case letters, digits and . _ - inside", name)
	}
	key := name + "\x00" + pkg
	for {
		resultsMu.Lock()
		if ref, ok := results[key]; ok {
			resultsMu.Unlock()
			return ref, nil
		}
		wait, busy := inflight[key]
		if !busy {
			done := make(chan struct{})
			inflight[key] = done
			resultsMu.Unlock()
			ref, err := build(ctx, name, pkg)
			resultsMu.Lock()
			if err == nil {
				results[key] = ref
			}
			delete(inflight, key)
			close(done)
			resultsMu.Unlock()
			return ref, err
		}
		resultsMu.Unlock()
		// Another goroutine is building; wait for it, then look again (its build may
		// have failed, e.g. on its own cancelled context, and this call retries).
		select {
		case <-wait:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func build(ctx context.Context, name, pkg string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "envctl-testimage-")
	if err != nil {
		return "", fmt.Errorf("testimage: %w", err)
	}
	defer os.RemoveAll(dir)

	// go build -o quietly writes an archive for a non-main package; an image of that
	// would fail only when run, so refuse it here.
	list := exec.CommandContext(ctx, "go", "list", "-f", "{{.Name}}", pkg)
	list.Dir = root
	if out, err := list.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testimage: go list %s: %v\n%s", pkg, err, out)
	} else if got := strings.TrimSpace(string(out)); got != "main" {
		return "", fmt.Errorf("testimage: %s is package %s, want a main package", pkg, got)
	}

	bin := filepath.Join(dir, name)
	gobuild := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", bin, pkg)
	gobuild.Dir = root
	// GOOS=linux because the engine runs Linux containers whatever the host; GOFLAGS
	// is cleared so that a developer's -race or -cover does not leak into the image.
	gobuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
	if out, err := gobuild.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testimage: go build %s: %v\n%s", pkg, err, out)
	}

	content, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("testimage: %w", err)
	}
	sum := sha256.Sum256(content)
	ref := Repo + "/" + name + ":" + hex.EncodeToString(sum[:])[:12]

	if _, err := docker(ctx, "image", "inspect", "--format", "{{.Id}}", ref); err == nil {
		return ref, nil
	}

	dockerfile := fmt.Sprintf("FROM scratch\nCOPY %s /%s\nENTRYPOINT [\"/%s\"]\n", name, name, name)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", fmt.Errorf("testimage: %w", err)
	}
	if _, err := docker(ctx, "build", "-q", "--label", Label+"=testimage", "-t", ref, dir); err != nil {
		return "", fmt.Errorf("testimage: building %s: %w", ref, err)
	}
	return ref, nil
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// moduleRoot finds the directory of envctl's go.mod through `go env GOMOD`, which works
// from any package directory a test runs in.
func moduleRoot(ctx context.Context) (string, error) {
	rootOnce.Do(func() {
		out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
		if err != nil {
			rootErr = fmt.Errorf("testimage: go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			rootErr = errors.New("testimage: not inside a Go module (go env GOMOD is empty)")
			return
		}
		rootDir = filepath.Dir(gomod)
	})
	return rootDir, rootErr
}

// docker runs the docker CLI and returns its stdout; the error carries its stderr.
func docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return "", fmt.Errorf("docker %s: %w", args[0], err)
		}
		return "", fmt.Errorf("docker %s: %w: %s", args[0], err, msg)
	}
	return stdout.String(), nil
}

// pingTimeout bounds RequireDocker: a dead socket fails fast, but an engine wedged on
// a stale DOCKER_HOST can otherwise hang a whole test binary.
const pingTimeout = 10 * time.Second

// RequireDocker asks the engine for its version through the docker CLI and returns nil
// if it answers.
func RequireDocker(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	out, err := docker(ctx, "version", "--format", "{{.Server.Version}}")
	if err != nil {
		return fmt.Errorf("testimage: no Docker engine answers: %w", err)
	}
	if strings.TrimSpace(out) == "" {
		return errors.New("testimage: no Docker engine answers: docker version reports no server")
	}
	return nil
}

var (
	needOnce sync.Once
	needErr  error
)

// Need makes a test depend on a Docker engine. If none answers, it fails the test when
// the environment variable CI is "true" (CI must run every test) and skips it otherwise.
// The engine is asked once per process.
func Need(t testing.TB) {
	t.Helper()
	needOnce.Do(func() { needErr = RequireDocker(context.Background()) })
	if needErr == nil {
		return
	}
	SkipOrFail(t, "needs a Docker engine (%v)", needErr)
}

// SkipOrFail skips the test for the reason given, or fails it when the environment variable
// CI is "true": CI must run every test, and a skip there would pass without testing anything.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and this test cannot run: %s", why)
	}
	t.Skipf("skipping: %s; with CI=true this fails instead", why)
}

// NeedTestsvc is Need followed by Testsvc; it fails the test if the image cannot be
// built and returns its reference.
func NeedTestsvc(t testing.TB) string {
	t.Helper()
	return NeedBuild(t, "testsvc", TestsvcPackage)
}

// NeedBuild is Need followed by Build; it fails the test if the image cannot be built
// and returns its reference.
func NeedBuild(t testing.TB, name, pkg string) string {
	t.Helper()
	Need(t)
	// Building takes a few seconds warm; the bound only stops a wedged engine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := Build(ctx, name, pkg)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

var (
	envctlOnce sync.Once
	envctlPath string
	envctlErr  error
)

// StaticEnvctl builds envctl itself as a static linux binary (CGO_ENABLED=0), once per
// process, and returns its path: what a released envctl is, and what the engine's FROM scratch
// containers can run. A test binary cannot stand in for it: with cgo available it is
// dynamically linked. The binary lives in a directory of its own under the temporary
// directory, named by content and renamed into place, so concurrent test processes share it.
func StaticEnvctl(ctx context.Context) (string, error) {
	envctlOnce.Do(func() {
		root, err := moduleRoot(ctx)
		if err != nil {
			envctlErr = err
			return
		}
		dir := filepath.Join(os.TempDir(), "envctl-testimage-bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			envctlErr = fmt.Errorf("testimage: %w", err)
			return
		}
		tmp, err := os.CreateTemp(dir, "envctl-*.tmp")
		if err != nil {
			envctlErr = fmt.Errorf("testimage: %w", err)
			return
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		gobuild := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
			"-ldflags=-s -w", "-o", tmp.Name(), ".")
		gobuild.Dir = root
		gobuild.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
		if out, err := gobuild.CombinedOutput(); err != nil {
			envctlErr = fmt.Errorf("testimage: go build envctl: %v\n%s", err, out)
			return
		}
		content, err := os.ReadFile(tmp.Name())
		if err != nil {
			envctlErr = fmt.Errorf("testimage: %w", err)
			return
		}
		sum := sha256.Sum256(content)
		// Named by content: a rebuild of the same code replaces the file with itself.
		envctlPath = filepath.Join(dir, "envctl-"+hex.EncodeToString(sum[:])[:12])
		if err := os.Rename(tmp.Name(), envctlPath); err != nil {
			envctlErr = fmt.Errorf("testimage: %w", err)
		}
	})
	return envctlPath, envctlErr
}

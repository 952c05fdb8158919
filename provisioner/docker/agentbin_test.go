package docker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// staticEnvctl builds envctl as a static linux binary for the tests (a test binary is
// dynamically linked when cgo is available, so it cannot be the agent).
func staticEnvctl(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := testimage.StaticEnvctl(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAgentBinary(t *testing.T) {
	static := staticEnvctl(t)
	arch := runtime.GOARCH
	dir := t.TempDir()
	notELF := filepath.Join(dir, "envctl")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("the executable itself when it is static linux", func(t *testing.T) {
		got, err := agentBinaryFor(static, nil, arch)
		if err != nil || got != static {
			t.Fatalf("got %q, %v; want %q", got, err, static)
		}
	})
	t.Run("beside the executable as envctl-linux-arch", func(t *testing.T) {
		beside := filepath.Join(dir, "envctl-linux-"+arch)
		data, err := os.ReadFile(static)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(beside, data, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(beside)
		got, err := agentBinaryFor(notELF, nil, arch)
		if err != nil || got != beside {
			t.Fatalf("got %q, %v; want %q", got, err, beside)
		}
	})
	t.Run("none: the error says what was tried and how to fix it", func(t *testing.T) {
		_, err := agentBinaryFor(notELF, nil, arch)
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{notELF, "not a linux binary", "envctl-linux-" + arch, EnvAgentBinary, "CGO_ENABLED=0 GOOS=linux"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
	})
	t.Run("another architecture", func(t *testing.T) {
		other := "arm64"
		if arch == "arm64" {
			other = "amd64"
		}
		_, err := agentBinaryFor(static, nil, other)
		if err == nil || !strings.Contains(err.Error(), "the engine runs "+other) {
			t.Fatalf("got %v, want a wrong-architecture error", err)
		}
	})
	t.Run("ENVCTL_AGENT_BINARY wins and must be right", func(t *testing.T) {
		t.Setenv(EnvAgentBinary, static)
		if got, err := AgentBinary(arch); err != nil || got != static {
			t.Fatalf("got %q, %v; want %q", got, err, static)
		}
		t.Setenv(EnvAgentBinary, notELF)
		if _, err := AgentBinary(arch); err == nil || !strings.Contains(err.Error(), EnvAgentBinary+"="+notELF) {
			t.Fatalf("got %v, want an error naming %s", err, EnvAgentBinary)
		}
	})
	t.Run("a cgo test binary is refused", func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		if err := checkAgentBinary(exe, arch); err != nil && !strings.Contains(err.Error(), "dynamically linked") {
			t.Fatalf("unexpected error: %v", err)
		}
	})
}

// TestAgentImage builds the agent image through the build API and runs envctl from it.
func TestAgentImage(t *testing.T) {
	b := testBackend(t)
	t.Setenv(EnvAgentBinary, staticEnvctl(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := b.AgentImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ref, AgentRepo+":") {
		t.Fatalf("ref %q", ref)
	}
	again, err := b.AgentImage(ctx)
	if err != nil || again != ref {
		t.Fatalf("second AgentImage: %q, %v; want %q", again, err, ref)
	}
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{index .Config.Labels \""+LabelAgent+"\"}}", ref).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "image" {
		t.Fatalf("image label: %s %v", out, err)
	}
	out, err = exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", ref, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "envctl") {
		t.Fatalf("running envctl from the agent image: %s %v", out, err)
	}
}

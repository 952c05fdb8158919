package shoptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Services are the shop's programs, each built into its own directory.
var Services = []string{"store", "migrate", "api", "worker", "web"}

// Dir is examples/shop: the nearest directory above the test's own (go test runs a test in its
// package's directory) that holds the shop's envctl.hcl.
func Dir() string {
	d, _ := os.Getwd()
	for ; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "store", "Dockerfile")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "envctl.hcl")); err == nil {
				return d
			}
		}
	}
	return "."
}

// File is the shop's environment file.
func File() string { return filepath.Join(Dir(), "envctl.hcl") }

// Build compiles each service to SERVICE/app. Several test processes build at once (the
// packages of one go test ./...): each writes a file of its own and renames it over app, so
// no build context ever holds half a binary; the go build cache makes all but the first cheap,
// and the same binary keeps the engine's image cache valid.
func Build() error {
	for _, s := range Services {
		dir := filepath.Join(Dir(), s)
		tmp, err := os.CreateTemp(dir, ".app-*")
		if err != nil {
			return err
		}
		tmp.Close()
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp.Name(), ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("building the shop's %s: %v\n%s", s, err, out)
		}
		if err := os.Rename(tmp.Name(), filepath.Join(dir, "app")); err != nil {
			os.Remove(tmp.Name())
			return err
		}
	}
	return nil
}

// NoEngine says why the tests cannot run here ("" when they can): no Docker Engine answers.
// Under CI=true the tests must not skip, so it is "" there and the tests fail instead.
func NoEngine() string {
	if os.Getenv("CI") == "true" || os.Getenv("ENVCTL_ENV") != "" || os.Getenv("ENVCTL_BACKEND") == "mesos" {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "version").Run(); err != nil {
		return "the Docker Engine does not answer (docker version: " + err.Error() + "); start it, or run the tests under envctl run"
	}
	return ""
}

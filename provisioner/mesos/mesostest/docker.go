package mesostest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// The agents drive the engine through the docker CLI, as the Mesos Docker
// containerizer does; only provisioner/docker may import the Docker SDK.

func dockerOut(ctx context.Context, cli string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("docker %s: %s", args[0], msg)
	}
	return stdout.Bytes(), nil
}

// DockerAvailable reports whether the docker CLI reaches an engine.
func DockerAvailable(ctx context.Context, cli string) bool {
	if cli == "" {
		cli = "docker"
	}
	_, err := dockerOut(ctx, cli, "version", "--format", "{{.Server.Version}}")
	return err == nil
}

// createNetwork creates a labelled bridge network and returns its gateway.
func createNetwork(ctx context.Context, cli, name, instance string) (string, error) {
	if _, err := dockerOut(ctx, cli, "network", "create", "--driver", "bridge",
		"--label", LabelInstance+"="+instance, name); err != nil {
		return "", err
	}
	out, err := dockerOut(ctx, cli, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", name)
	if err != nil {
		return "", err
	}
	for _, gw := range strings.Fields(string(out)) {
		if !strings.Contains(gw, ":") { // the IPv4 gateway
			return gw, nil
		}
	}
	return "", fmt.Errorf("network %s has no IPv4 gateway", name)
}

// removeDockerObjects removes every container and network labelled with
// this instance.
func removeDockerObjects(ctx context.Context, cli, instance string) error {
	var errs []error
	out, err := dockerOut(ctx, cli, "ps", "-aq", "--filter", "label="+LabelInstance+"="+instance)
	if err != nil {
		errs = append(errs, err)
	} else if ids := strings.Fields(string(out)); len(ids) > 0 {
		if _, err := dockerOut(ctx, cli, append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			errs = append(errs, err)
		}
	}
	out, err = dockerOut(ctx, cli, "network", "ls", "-q", "--filter", "label="+LabelInstance+"="+instance)
	if err != nil {
		errs = append(errs, err)
	} else if ids := strings.Fields(string(out)); len(ids) > 0 {
		if _, err := dockerOut(ctx, cli, append([]string{"network", "rm"}, ids...)...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ensureImage pulls the image when it is missing or force is set, as the
// containerizer does before launching the executor.
func ensureImage(ctx context.Context, cli, image string, force bool) error {
	if !force {
		if _, err := dockerOut(ctx, cli, "image", "inspect", "--format", "{{.Id}}", image); err == nil {
			return nil
		}
	}
	if _, err := dockerOut(ctx, cli, "pull", image); err != nil {
		return fmt.Errorf("Failed to run 'docker pull %s': %v", image, err)
	}
	return nil
}

// inspectContainer returns the container's inspect object (not the array).
func inspectContainer(ctx context.Context, cli, name string) ([]byte, error) {
	out, err := dockerOut(ctx, cli, "inspect", "--type", "container", name)
	if err != nil {
		return nil, err
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(out, &arr); err != nil || len(arr) == 0 {
		return nil, fmt.Errorf("docker inspect %s: unexpected output", name)
	}
	return arr[0], nil
}

func containerExitCode(ctx context.Context, cli, name string) (int, bool) {
	out, err := dockerOut(ctx, cli, "inspect", "--type", "container", "-f", "{{.State.ExitCode}}", name)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	return n, err == nil
}

func removeContainer(ctx context.Context, cli, name string) {
	_, _ = dockerOut(ctx, cli, "rm", "-f", "-v", name) // best effort; Close sweeps by label
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// envPrefix starts the name of every environment and Compose project this envbench process
// creates. It carries the process ID: several people running make bench on one engine at once
// must not sweep each other's objects (seen: one run's clean-up removed another's network
// mid-measurement), so a run removes only what carries its own prefix.
var envPrefix = fmt.Sprintf("tsb-%d-", os.Getpid())

// sweep removes every container and network this envbench process may have created: envctl's
// environments named envPrefix* (containers labelled io.envctl.env=envPrefix* and their probe
// agents io.envctl.agent=envPrefix*, networks envctl-envPrefix*), the raw bound's, the engine limit's and Compose's containers and their
// networks (label io.envctl.bench=benchLabelValue) and the Compose projects' networks
// (envPrefix*_default). It works from the engine alone. It returns how many objects it removed.
func sweep(ctx context.Context) (int, error) {
	removed := 0
	var ids []string
	out, err := output(ctx, "docker", "ps", "-a", "--filter", "label=io.envctl.env",
		"--format", `{{.ID}} {{.Label "io.envctl.env"}}`)
	if err != nil {
		return 0, err
	}
	for _, line := range nonEmptyLines(out) {
		id, env, _ := strings.Cut(line, " ")
		if strings.HasPrefix(env, envPrefix) {
			ids = append(ids, id)
		}
	}
	// The probe agents of the reach measurement's environments carry the environment in
	// io.envctl.agent, not io.envctl.env; one left attached would keep the network.
	out, err = output(ctx, "docker", "ps", "-a", "--filter", "label=io.envctl.agent",
		"--format", `{{.ID}} {{.Label "io.envctl.agent"}}`)
	if err != nil {
		return 0, err
	}
	for _, line := range nonEmptyLines(out) {
		id, env, _ := strings.Cut(line, " ")
		if strings.HasPrefix(env, envPrefix) {
			ids = append(ids, id)
		}
	}
	out, err = output(ctx, "docker", "ps", "-aq", "--filter", "label="+benchLabel+"="+benchLabelValue)
	if err != nil {
		return 0, err
	}
	ids = append(ids, nonEmptyLines(out)...)
	if len(ids) > 0 {
		if _, err := output(ctx, append([]string{"docker", "rm", "-f"}, ids...)...); err != nil {
			return 0, err
		}
		removed += len(ids)
	}

	out, err = output(ctx, "docker", "network", "ls", "--format", `{{.Name}} {{.Label "`+benchLabel+`"}}`)
	if err != nil {
		return removed, err
	}
	var nets []string
	for _, line := range nonEmptyLines(out) {
		name, label, _ := strings.Cut(line, " ")
		if strings.HasPrefix(name, "envctl-"+envPrefix) || label == benchLabelValue ||
			(strings.HasPrefix(name, envPrefix) && strings.HasSuffix(name, "_default")) {
			nets = append(nets, name)
		}
	}
	if len(nets) > 0 {
		if err := removeNetworks(ctx, nets); err != nil {
			// An engine that keeps a stale endpoint refuses the removal for good (seen on
			// 20.10: "active endpoints" with no container attached); that is the engine's
			// leak, reported but not fatal, or every later run would fail on it.
			if !strings.Contains(err.Error(), "active endpoints") {
				return removed, err
			}
			fmt.Fprintf(os.Stderr, "envbench: warning: the engine refuses to remove a network with a stale endpoint: %v\n", err)
		}
		removed += len(nets)
	}
	return removed, nil
}

// removeNetworks removes the named networks with the docker CLI, retrying each while the
// engine still counts endpoints (see netBackoff). A network that is already gone is not an
// error.
func removeNetworks(ctx context.Context, names []string) error {
	var errs []error
	for _, name := range names {
		rm := func(ctx context.Context) error {
			_, err := output(ctx, "docker", "network", "rm", name)
			return err
		}
		disconnect := func(ctx context.Context) error {
			out, err := output(ctx, "docker", "network", "inspect", "-f", `{{range $id, $c := .Containers}}{{$id}} {{end}}`, name)
			if err != nil {
				return err
			}
			var errs []error
			for _, id := range strings.Fields(out) {
				_, err := output(ctx, "docker", "network", "disconnect", "-f", name, id)
				errs = append(errs, err)
			}
			return errors.Join(errs...)
		}
		errs = append(errs, networkBackoff.removeNetwork(ctx, name, rm, disconnect))
	}
	return errors.Join(errs...)
}

// leftovers reports what of environment env is still on the engine after a down: an envctl
// down that leaves anything behind is a failure, whatever its time.
func leftovers(ctx context.Context, env string) error {
	ctrs, err := output(ctx, "docker", "ps", "-aq", "--filter", "label=io.envctl.env="+env)
	if err != nil {
		return err
	}
	nets, err := output(ctx, "docker", "network", "ls", "-q", "--filter", "name=^envctl-"+env+"$")
	if err != nil {
		return err
	}
	if c, n := len(nonEmptyLines(ctrs)), len(nonEmptyLines(nets)); c+n > 0 {
		return fmt.Errorf("after down, %s left %d containers and %d networks", env, c, n)
	}
	return nil
}

// countRunning is how many containers of env are running.
func countRunning(ctx context.Context, env string) (int, error) {
	out, err := output(ctx, "docker", "ps", "-q", "--filter", "label=io.envctl.env="+env, "--filter", "status=running")
	if err != nil {
		return 0, err
	}
	return len(nonEmptyLines(out)), nil
}

func nonEmptyLines(s string) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// Command with-mesos runs a command (make test's go test) with a real Mesos cluster: it starts
// one from the shared/mesos folder beside the checkout, exports ENVCTL_TEST_MESOS_MASTER for
// the command, and stops the cluster afterwards, also when the command fails or is
// interrupted, so that test packages running in parallel share one cluster instead of each
// starting their own on the same agent port ranges. Without shared/mesos, or with
// ENVCTL_TEST_MESOS_MASTER already set, it just runs the command.
//
// With -multihost N it also starts one multi-host cluster (agents in network namespaces of
// their own, and a registry; mesoscluster.StartMultiHost, needs root) for the whole run and
// exports ENVCTL_TEST_MESOS_MULTIHOST, so that the packages testing on it share one instead
// of each starting its own.
//
//	go run ./internal/mesoscluster/cmd/with-mesos [-agents N] [-multihost N] -- go test ./...
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/envctl/envctl/internal/mesoscluster"
)

func main() { os.Exit(run()) }

func run() (code int) {
	agents := flag.Int("agents", 2, "agents in the single-host cluster (each offers all of the host's cores; 0: no such cluster)")
	multihost := flag.Int("multihost", 0, "agents of a multi-host cluster to start too (0: none)")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: with-mesos [-agents N] -- COMMAND [ARGS...]")
		return 2
	}
	scripts := mesoscluster.Find()
	if *multihost > 0 && scripts != "" && os.Getenv(mesoscluster.EnvMultiHost) == "" {
		if os.Geteuid() != 0 {
			fmt.Fprintln(os.Stderr, "with-mesos: not root: no multi-host cluster; its tests will be skipped")
		} else {
			c, err := mesoscluster.StartMultiHost(scripts, mesoscluster.MultiHostOptions{Agents: *multihost, DieWithParent: true})
			if err != nil {
				fmt.Fprintf(os.Stderr, "with-mesos: start the multi-host Mesos: %v\n", err)
				return 1
			}
			fmt.Fprintf(os.Stderr, "with-mesos: multi-host Mesos at %s (%d agents in namespaces, registry %s)\n", c.Master, len(c.Agents), c.Registry)
			os.Setenv(mesoscluster.EnvMultiHost, c.StateFile())
			defer func() {
				if err := c.Stop(); err != nil {
					fmt.Fprintf(os.Stderr, "with-mesos: %v\n", err)
					if code == 0 {
						code = 1
					}
				} else {
					fmt.Fprintln(os.Stderr, "with-mesos: stopped the multi-host Mesos; nothing of it is left")
				}
			}()
		}
	}
	if *agents == 0 {
		return command(args) // the multi-host cluster alone
	}
	if os.Getenv(mesoscluster.EnvMaster) != "" || scripts == "" {
		if scripts == "" {
			fmt.Fprintln(os.Stderr, "with-mesos: no shared/mesos beside the checkout; the real-Mesos tests will be skipped")
		}
		return command(args)
	}
	url, dir, err := mesoscluster.StartCluster(scripts, *agents)
	if err != nil {
		fmt.Fprintf(os.Stderr, "with-mesos: start the real Mesos from %s: %v\n", scripts, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "with-mesos: real Mesos at %s (%d agents, MESOS_DIR=%s)\n", url, *agents, dir)
	os.Setenv(mesoscluster.EnvMaster, url)
	code = command(args)
	if err := mesoscluster.StopCluster(scripts, dir); err != nil {
		fmt.Fprintf(os.Stderr, "with-mesos: %v\n", err)
		if code == 0 {
			code = 1
		}
	} else {
		fmt.Fprintln(os.Stderr, "with-mesos: stopped the real Mesos; none of its processes or containers is left")
	}
	return code
}

// command runs args, passing Ctrl-C on to it and waiting for it, so the cluster is stopped
// only after the tests have cleaned up.
func command(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "with-mesos: %v\n", err)
		return 1
	}
	go func() {
		for s := range sig {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() < 0 {
			return 1
		}
		return ee.ExitCode()
	}
	if err != nil {
		return 1
	}
	return 0
}

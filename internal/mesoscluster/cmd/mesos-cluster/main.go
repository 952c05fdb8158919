// Command mesos-cluster starts and stops a multi-host Mesos cluster for people to try envctl
// on (make mesos-cluster, make mesos-cluster-down): a master on a bridge's address, agents in
// network namespaces of their own, and a registry. It needs root and the shared/mesos folder
// beside the checkout.
//
//	mesos-cluster up [-agents N]   start one; print the variables envctl and the tests read
//	mesos-cluster down             stop the clusters `up` started, and sweep what any killed
//	                               run left (namespaces, bridge, iptables rules, processes...)
//
// `up` returns once the cluster runs; a small holder process it leaves behind keeps the
// cluster's slot claimed (its lock), so that tests starting clusters of their own, which sweep
// unclaimed slots, leave it alone.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/envctl/envctl/internal/mesoscluster"
)

func main() { os.Exit(run()) }

func run() int {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mesos-cluster up [-agents N] | down")
		return 2
	}
	switch os.Args[1] {
	case "up":
		return up(os.Args[2:])
	case "down":
		return down()
	case "hold":
		// The holder: fd 3 is the slot's lock, kept until this process is killed.
		select {}
	}
	fmt.Fprintf(os.Stderr, "mesos-cluster: unknown command %q (up or down)\n", os.Args[1])
	return 2
}

func up(args []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	agents := fs.Int("agents", 3, "agents, each in a network namespace of its own")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	scripts := mesoscluster.Find()
	if scripts == "" {
		fmt.Fprintln(os.Stderr, "mesos-cluster: no shared/mesos beside the checkout (its archive has the Mesos binaries)")
		return 1
	}
	c, err := mesoscluster.StartMultiHost(scripts, mesoscluster.MultiHostOptions{Agents: *agents,
		Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "mesos-cluster: "+f+"\n", a...) }})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mesos-cluster: %v\n", err)
		return 1
	}
	self, err := os.Executable()
	if err == nil {
		cmd := exec.Command(self, "hold", c.Dir)
		cmd.ExtraFiles = []*os.File{c.SlotLock()}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err = cmd.Start(); err == nil {
			err = os.WriteFile(filepath.Join(c.Dir, "holder.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mesos-cluster: keep the cluster claimed: %v; stopping it\n", err)
		_ = c.Stop()
		return 1
	}
	for _, a := range c.Agents {
		fmt.Fprintf(os.Stderr, "mesos-cluster: agent %s at %s (namespace %s; Docker tasks' host ports %d-%d)\n", a.Addr, a.Addr, a.Namespace, a.DockerPorts[0], a.DockerPorts[1])
	}
	fmt.Fprintf(os.Stderr, "mesos-cluster: web UI %s/ ; logs %s/logs ; stop with make mesos-cluster-down\n", c.Master, c.Dir)
	fmt.Printf("export ENVCTL_BACKEND=mesos ENVCTL_MESOS_MASTER=%s ENVCTL_REGISTRY=%s %s=%s\n", c.Master, c.Registry, mesoscluster.EnvMultiHost, c.StateFile())
	return 0
}

func down() int {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "envctl-mesos-mh-*", "holder.pid"))
	for _, f := range dirs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if strings.Contains(string(cmdline), "hold\x00"+filepath.Dir(f)) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			// Its lock goes with it (the fd closes as it exits, zombie or not).
			for i := 0; i < 100 && syscall.Kill(pid, 0) == nil && !mesoscluster.Zombie(pid); i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
		_ = os.Remove(f)
	}
	if err := mesoscluster.SweepMultiHost(); err != nil {
		fmt.Fprintf(os.Stderr, "mesos-cluster: %v\n", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "mesos-cluster: stopped; no namespace, bridge, rule, process, container, cgroup or mount of it is left")
	return 0
}

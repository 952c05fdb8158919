// Command mesos-double serves mesostest's Mesos master and agents until
// SIGINT or SIGTERM, then removes every container, network, process and
// sandbox it started. It is the way to try envctl's Mesos backend without a
// cluster:
//
//	go run ./provisioner/mesos/mesostest/cmd/mesos-double -listen 127.0.0.1:5050 -agents 2
//	envctl up --backend mesos --mesos-master http://127.0.0.1:5050
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mesos-double", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5050", "master listen address")
	agents := fs.Int("agents", 2, "number of agents")
	alloc := fs.Duration("allocation-interval", mesostest.DefaultAllocationInterval, "allocation interval")
	cpus := fs.Float64("cpus", 4, "cpus per agent")
	mem := fs.Float64("mem", 8192, "memory per agent, MB")
	noDocker := fs.Bool("no-docker", false, "run without the Docker engine (command tasks only)")
	denyRoot := fs.Bool("deny-root", false, "refuse frameworks with user root (--root_submissions=false)")
	quiet := fs.Bool("quiet", false, "do not log master events")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *agents < 1 {
		fmt.Fprintln(stderr, "mesos-double: -agents must be at least 1")
		return 2
	}
	logger := log.New(stderr, "mesos-double: ", log.LstdFlags)
	opt := mesostest.Options{Agents: *agents, AllocationInterval: *alloc, CPUs: *cpus, MemMB: *mem,
		NoDocker: *noDocker, DenyRootSubmissions: *denyRoot, Listen: *listen}
	if !*quiet {
		opt.Logf = logger.Printf
	}
	m := mesostest.New(opt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // creating agent networks on a slow engine
	url, err := m.Start(ctx)
	cancel()
	if err != nil {
		logger.Print(err)
		m.Close()
		return 1
	}
	fmt.Fprintf(stdout, "master %s\n", url)
	for i := 0; i < *agents; i++ {
		fmt.Fprintf(stdout, "agent %d %s hostname %s\n", i, m.AgentURL(i), m.AgentHostname(i))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	logger.Printf("%v: removing everything this double started", s)
	if err := m.Close(); err != nil {
		logger.Print(err)
		return 1
	}
	return 0
}

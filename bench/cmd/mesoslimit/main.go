// Command mesoslimit measures envctl on Mesos against Mesos's own limit (issue 16), for make
// bench. Per round and per target (the Mesos double, a real Apache Mesos from shared/mesos with
// 2 agents), it runs:
//
//   - the bare scheduler (bench/cmd/mesosfloor, none of envctl's code) with 1 task, for one
//     task's launch-to-ready, and with N tasks: ready, the idle cost over -idle after ready,
//     and the kill of all N;
//   - envctl up of the same N services without dependencies: up, the idle cost, down;
//   - envctl up of N services in -layers layers (each on two of the layer before): up, down;
//   - once per round, envctl up of the N services on the Docker backend: its idle cost;
//   - on a multi-host cluster (internal/mesoscluster: 3 agents in network namespaces of their
//     own, the image through its registry), per containerizer (issue 17: multihost-docker,
//     multihost-mesos), the bare scheduler with 1 and N tasks and envctl's flat up and down.
//
// Service i listens on 9000+i in its container (so that N of them fit on one agent's address
// under the Mesos containerizer, which runs a task in its agent's network), published on a
// host port from the offer under the Docker containerizer.
//
// Every service is internal/testsvc `--delay 300ms --http PORT` (it answers HTTP 300 ms after it
// starts), cpus 0.1 and 32 MiB, ready on an HTTP GET of / (the bare scheduler polls the same).
// The idle cost is CPU seconds per second (cores) of the cluster's processes (master, agents,
// executors and everything they fork: docker clients, health checks; the double's process
// and its docker clients) plus the containers' shims and processes, and, apart, the engine
// (dockerd, containerd), from /proc/<pid>/stat's utime+stime+cutime+cstime. Each result is one
// line of -out, which envbench turns into results.md's section.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/envctl/envctl/internal/mesoscluster"
	"github.com/envctl/envctl/internal/testimage"
)

type config struct {
	envctl, floor, double string
	targets               []string
	runs, n, layers       int
	idle                  time.Duration
	idleRuns              int
	execChecks            bool
	out                   io.Writer
	image                 string
	dir                   string
}

func main() {
	var c config
	var targets, out string
	flag.StringVar(&c.envctl, "envctl", "bin/envctl", "the envctl binary")
	flag.StringVar(&c.floor, "floor", "bin/mesosfloor", "the bare scheduler's binary (bench/cmd/mesosfloor)")
	flag.StringVar(&c.double, "double", "bin/mesos-double", "the Mesos double's binary (provisioner/mesos/mesostest/cmd/mesos-double)")
	flag.StringVar(&targets, "targets", "double,real", "where to measure: double, real (shared/mesos, 2 agents), docker (the Docker backend's idle cost), multihost (3 agents in network namespaces, each containerizer; root)")
	flag.IntVar(&c.runs, "runs", 3, "rounds")
	flag.IntVar(&c.n, "n", 30, "services")
	flag.IntVar(&c.layers, "layers", 5, "layers of the layered environment")
	flag.DurationVar(&c.idle, "idle", 30*time.Second, "how long the idle cost is measured")
	flag.BoolVar(&c.execChecks, "exec", true, "in the idle rounds, also the idle cost of the N services with exec readiness checks (Mesos COMMAND health checks)")
	flag.IntVar(&c.idleRuns, "idle-runs", 3, "in how many of the rounds (the first) the idle cost is measured: it takes 2 x -idle a round, and varies far less than up does")
	flag.StringVar(&out, "out", "bench/mesos-limit.txt", "where the result lines go (appended to a fresh file)")
	flag.Parse()
	c.targets = strings.Split(targets, ",")
	for _, p := range []*string{&c.envctl, &c.floor, &c.double} {
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs // the envctl commands run in their environment's folder
		}
	}
	f, err := os.Create(out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mesoslimit:", err)
		os.Exit(1)
	}
	defer f.Close()
	c.out = io.MultiWriter(f, os.Stdout)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &c); err != nil {
		fmt.Fprintln(os.Stderr, "mesoslimit:", err)
		fmt.Fprintf(c.out, "error %q\n", err.Error())
		os.Exit(1)
	}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func run(ctx context.Context, c *config) error {
	var err error
	if c.image, err = testimage.Testsvc(ctx); err != nil {
		return err
	}
	if c.dir, err = os.MkdirTemp("", "mesoslimit-"); err != nil {
		return err
	}
	defer os.RemoveAll(c.dir)
	fmt.Fprintf(c.out, "start load=%q time=%s\n", loadavg(), time.Now().UTC().Format(time.RFC3339))
	type target struct {
		name          string
		url           string
		mesos, engine group
		close         func()
		containerizer string // the multi-host targets': docker or mesos
		image         string // the multi-host targets': the image's name in the cluster's registry
	}
	var ts []*target
	defer func() {
		for _, t := range ts {
			if t.close != nil {
				t.close()
			}
		}
	}()
	engine := byName("dockerd", "containerd")
	for _, name := range c.targets {
		switch name {
		case "double":
			url, pid, agents, closer, err := startDouble(ctx, c.double)
			if err != nil {
				return fmt.Errorf("the double: %w", err)
			}
			var names []string
			for _, a := range agents {
				names = append(names, "name=^/mesos-"+a)
			}
			t := &target{name: name, url: url, close: closer, engine: engine}
			t.mesos = union(pids(pid), shimsAny(names))
			ts = append(ts, t)
		case "real":
			scripts := mesoscluster.Find()
			if scripts == "" {
				fmt.Fprintln(c.out, "skip target=real reason=\"no shared/mesos beside the checkout\"")
				continue
			}
			url, dir, err := mesoscluster.StartCluster(scripts, 2)
			if err != nil {
				return fmt.Errorf("the real Mesos: %w", err)
			}
			t := &target{name: name, url: url, engine: engine, close: func() { _ = mesoscluster.StopCluster(scripts, dir) }}
			t.mesos = union(byCmdline(dir+string(filepath.Separator)), containersMounting(dir))
			ts = append(ts, t)
		case "docker":
			ts = append(ts, &target{name: name, engine: engine})
		case "multihost":
			scripts := mesoscluster.Find()
			if scripts == "" || os.Geteuid() != 0 {
				fmt.Fprintln(c.out, "skip target=multihost reason=\"needs shared/mesos beside the checkout, and root\"")
				continue
			}
			mh, err := mesoscluster.StartMultiHost(scripts, mesoscluster.MultiHostOptions{Agents: 3, DieWithParent: true})
			if err != nil {
				return fmt.Errorf("the multi-host Mesos: %w", err)
			}
			closer := func() { _ = mh.Stop() }
			image := mh.Registry + "/envctl/mesoslimit-testsvc:bench"
			if err := pushImage(ctx, c.image, image); err != nil {
				closer()
				return fmt.Errorf("the multi-host Mesos's registry: %w", err)
			}
			group := union(byCmdline(mh.Dir+string(filepath.Separator)), containersMounting(mh.Dir))
			for _, k := range []string{"docker", "mesos"} {
				t := &target{name: "multihost-" + k, url: mh.Master, engine: engine, mesos: group, containerizer: k, image: image}
				if k == "docker" {
					t.close = closer
				}
				ts = append(ts, t)
			}
		default:
			return fmt.Errorf("-targets: unknown target %q", name)
		}
	}
	for r := 1; r <= c.runs; r++ {
		for _, t := range ts {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			tag := fmt.Sprintf("target=%s round=%d", t.name, r)
			if t.name == "docker" {
				if r > c.idleRuns {
					continue // this target is there for its idle cost
				}
				env := fmt.Sprintf("ml%d-%d-docker", os.Getpid(), r)
				groups := []group{shims("label=io.envctl.env=" + env), t.engine}
				if err := c.envctl1(ctx, tag, "flat", env, nil, c.image, 1, false, groups); err != nil {
					fmt.Fprintf(c.out, "fail %s kind=flat err=%q\n", tag, err.Error())
				}
				continue
			}
			groups := []group{t.mesos, t.engine}
			if r > c.idleRuns {
				groups = nil
			}
			run := runSpec{image: c.image, containerizer: "docker"}
			if t.containerizer != "" {
				run = runSpec{image: t.image, containerizer: t.containerizer}
			}
			if err := c.floor1(ctx, tag, t.url, run, 1, nil); err != nil {
				fmt.Fprintf(c.out, "fail %s kind=floor n=1 err=%q\n", tag, err.Error())
			}
			mesosArgs := []string{"--backend", "mesos", "--mesos-master", t.url, "--mesos-containerizer", run.containerizer}
			floorN := func() {
				if err := c.floor1(ctx, tag, t.url, run, c.n, groups); err != nil {
					fmt.Fprintf(c.out, "fail %s kind=floor n=%d err=%q\n", tag, c.n, err.Error())
				}
			}
			flat := func() {
				if err := c.envctl1(ctx, tag, "flat", fmt.Sprintf("ml%d-%d-%s-flat", os.Getpid(), r, t.name), mesosArgs, run.image, 1, false, groups); err != nil {
					fmt.Fprintf(c.out, "fail %s kind=flat err=%q\n", tag, err.Error())
				}
			}
			// Alternating which of the two goes first: the second runs on a cluster and an
			// engine the first has just used (measured: each order has its own bias).
			if r%2 == 1 {
				floorN()
				flat()
			} else {
				flat()
				floorN()
			}
			if t.containerizer != "" {
				continue // the containerizers' comparison is of the flat environment
			}
			if groups != nil && c.execChecks {
				// What the one readiness kind that stays with Mesos costs an idle
				// environment: an exec check is a COMMAND health check every second.
				if err := c.envctl1(ctx, tag, "exec", fmt.Sprintf("ml%d-%d-%s-exec", os.Getpid(), r, t.name), mesosArgs, run.image, 1, true, groups); err != nil {
					fmt.Fprintf(c.out, "fail %s kind=exec err=%q\n", tag, err.Error())
				}
			}
			if err := c.envctl1(ctx, tag, "layers", fmt.Sprintf("ml%d-%d-%s-layers", os.Getpid(), r, t.name), mesosArgs, run.image, c.layers, false, nil); err != nil {
				fmt.Fprintf(c.out, "fail %s kind=layers err=%q\n", tag, err.Error())
			}
		}
	}
	fmt.Fprintf(c.out, "end load=%q time=%s\n", loadavg(), time.Now().UTC().Format(time.RFC3339))
	return nil
}

// runSpec is how a target's tasks run: their image's name, and the containerizer.
type runSpec struct{ image, containerizer string }

// floor1 runs the bare scheduler once with n tasks; with groups, it measures the idle cost
// between ready and the kill.
func (c *config) floor1(ctx context.Context, tag, url string, run runSpec, n int, groups []group) error {
	cmd := exec.CommandContext(ctx, c.floor, "-master", url, "-image", run.image, "-n", fmt.Sprint(n), "-hold",
		"-containerizer", run.containerizer, "-port", "9000", "--", "--delay", "300ms", "--http", "{port}")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	var ready, l2r, killed float64
	if !sc.Scan() {
		stdin.Close()
		return fmt.Errorf("mesosfloor: no ready line: %s", strings.TrimSpace(stderr.String()))
	}
	if _, err := fmt.Sscanf(sc.Text(), "ready %f %f", &ready, &l2r); err != nil {
		stdin.Close()
		return fmt.Errorf("mesosfloor: %q: %v", sc.Text(), err)
	}
	var costs []float64
	if groups != nil {
		var err error
		if costs, err = idle(ctx, groups, c.idle); err != nil {
			stdin.Close()
			return err
		}
	}
	fmt.Fprintln(stdin)
	stdin.Close()
	if !sc.Scan() {
		return fmt.Errorf("mesosfloor: no killed line: %s", strings.TrimSpace(stderr.String()))
	}
	if _, err := fmt.Sscanf(sc.Text(), "killed %f", &killed); err != nil {
		return fmt.Errorf("mesosfloor: %q: %v", sc.Text(), err)
	}
	line := fmt.Sprintf("result %s kind=floor n=%d ready=%.3f l2r=%.3f down=%.3f", tag, n, ready, l2r, killed)
	if costs != nil {
		line += fmt.Sprintf(" idle_mesos=%.4f idle_engine=%.4f", costs[0], costs[1])
	}
	fmt.Fprintf(c.out, "%s load=%q\n", line, loadavg())
	return nil
}

// envctl1 brings an environment of c.n services in layers up with envctl (ready on exec checks
// with execCheck), measures its idle cost when groups are given, and brings it down.
func (c *config) envctl1(ctx context.Context, tag, kind, env string, global []string, image string, layers int, execCheck bool, groups []group) error {
	dir := filepath.Join(c.dir, env)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(hcl(env, image, c.n, layers, execCheck)), 0o644); err != nil {
		return err
	}
	do := func(args ...string) (float64, error) {
		cmd := exec.CommandContext(ctx, c.envctl, append(append([]string(nil), global...), args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Dir = dir
		start := time.Now()
		err := cmd.Run()
		if err != nil {
			return 0, fmt.Errorf("envctl %s: %v: %s", strings.Join(args, " "), err, tail(out.String()))
		}
		return time.Since(start).Seconds(), nil
	}
	up, err := do("up", "-f", dir)
	if err != nil {
		_, _ = do("down", env)
		return err
	}
	var costs []float64
	if groups != nil {
		if costs, err = idle(ctx, groups, c.idle); err != nil {
			_, _ = do("down", env)
			return err
		}
	}
	down, err := do("down", env)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("result %s kind=%s n=%d up=%.3f down=%.3f", tag, kind, c.n, up, down)
	if costs != nil {
		line += fmt.Sprintf(" idle_mesos=%.4f idle_engine=%.4f", costs[0], costs[1])
	}
	fmt.Fprintf(c.out, "%s load=%q\n", line, loadavg())
	return nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// hcl is n services in layers (1: flat); a service of layer k depends on two of layer k-1.
// Each is ready on an HTTP GET, or with execCheck on an exec check (a Mesos COMMAND health
// check, which runs for the task's life).
func hcl(env, image string, n, layers int, execCheck bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "environment { name = %q }\n", env)
	width := (n + layers - 1) / layers
	for i := 0; i < n; i++ {
		l, k := i/width, i%width
		fmt.Fprintf(&b, "service \"s%d-%d\" {\n  image = %q\n  command = [\"--delay\", \"300ms\", \"--http\", \"%d\"]\n  ports = { http = %d }\n", l, k, image, 9000+i, 9000+i)
		if l > 0 {
			prev := min(width, n-(l-1)*width)
			fmt.Fprintf(&b, "  depends_on = [service.s%d-%d, service.s%d-%d]\n", l-1, k%prev, l-1, (k+1)%prev)
		}
		if execCheck {
			fmt.Fprintf(&b, "  ready {\n    exec = [\"/testsvc\", \"probe\", \"tcp\", \"127.0.0.1:%d\"]\n    timeout = \"5m\"\n  }\n", 9000+i)
		} else {
			b.WriteString("  ready {\n    http {\n      port = \"http\"\n    }\n    timeout = \"5m\"\n  }\n")
		}
		b.WriteString("  resources {\n    cpus = 0.1\n    memory = \"32MiB\"\n  }\n}\n")
	}
	return b.String()
}

// pushImage puts local into a registry as remote (docker tag and push: the registry is the
// multi-host cluster's, on this host).
func pushImage(ctx context.Context, local, remote string) error {
	for _, args := range [][]string{{"tag", local, remote}, {"push", "-q", remote}} {
		if out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// startDouble starts the Mesos double as a process of its own (so its CPU time is its own) on
// a free port, and returns its URL, PID, agent IDs and how to stop it.
func startDouble(ctx context.Context, bin string) (string, int, []string, func(), error) {
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-agents", "2", "-quiet")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, nil, err
	}
	closer := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	sc := bufio.NewScanner(stdout)
	var url string
	if sc.Scan() {
		fmt.Sscanf(sc.Text(), "master %s", &url)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if url == "" {
		closer()
		return "", 0, nil, nil, fmt.Errorf("no master line: %s", stderr.String())
	}
	agents, err := agentIDs(ctx, url)
	if err != nil {
		closer()
		return "", 0, nil, nil, err
	}
	return url, cmd.Process.Pid, agents, closer, nil
}

// agentIDs asks the operator API for the agents' IDs.
func agentIDs(ctx context.Context, url string) ([]string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1", strings.NewReader(`{"type":"GET_AGENTS"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v struct {
		GetAgents struct {
			Agents []struct {
				AgentInfo struct {
					ID struct{ Value string } `json:"id"`
				} `json:"agent_info"`
			} `json:"agents"`
		} `json:"get_agents"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	var out []string
	for _, a := range v.GetAgents.Agents {
		out = append(out, a.AgentInfo.ID.Value)
	}
	return out, nil
}

// shimsAny is shims for containers matching any of the filters (docker ps ORs filters of one
// key).
func shimsAny(filters []string) group {
	if len(filters) == 0 {
		return func(map[int]proc) []int { return nil }
	}
	return shims(filters...)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/client"

	"github.com/envctl/envctl/internal/testimage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is the parsed command line.
type config struct {
	envctl      string
	sizes       []int
	layers      int
	runs        int
	delay       time.Duration
	seed        uint64
	out         string
	profileSize int
	compose     string
	keep        bool
	planSizes   []int
	mesos       string
	probes      string
	mesosLimit  string
	aheadOff    int
	gateOff     int
	reach       bool
	realstack   int
	only        string
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("envbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.envctl, "envctl", "bin/envctl", "the envctl binary to measure")
	sizes := fs.String("sizes", "10,30,60", "environment sizes, comma-separated")
	fs.IntVar(&cfg.layers, "layers", 5, "layers per environment (its depth)")
	fs.IntVar(&cfg.runs, "runs", 3, "measured runs of everything (the median is reported)")
	fs.DurationVar(&cfg.delay, "delay", 300*time.Millisecond, "how long each service takes to become ready after it starts")
	fs.Uint64Var(&cfg.seed, "seed", 7, "seed of the dependency graphs")
	fs.StringVar(&cfg.out, "out", "bench/results.md", "where to write the results")
	fs.IntVar(&cfg.profileSize, "profile", 30, "size of the profiled up and down (0: none)")
	fs.StringVar(&cfg.compose, "compose", os.Getenv("COMPOSE"), "a Docker Compose v2 binary (default $COMPOSE, else docker compose / docker-compose if v2)")
	fs.StringVar(&cfg.mesosLimit, "mesos-limit", "", "output of bench/cmd/mesoslimit (Mesos's own limit beside envctl, issue 16) to report (make bench gives it)")
	fs.StringVar(&cfg.mesos, "mesos", "", "output of `go test -bench Up30Depth5` (provisioner/mesos) to report beside (make bench gives it)")
	fs.StringVar(&cfg.probes, "probes", "", "output of `go test -bench ProbeCPU` (internal/realservers) to report beside (make bench gives it)")
	fs.BoolVar(&cfg.reach, "reach", true, "measure the shop's up where envctl cannot dial the containers (issue 10; needs root)")
	fs.IntVar(&cfg.realstack, "realstack", 3, "rounds of the real-server stack imported from Compose against TCP checks, quiet and busy (issue 18; 0: none)")
	fs.StringVar(&cfg.only, "only", "", "measure only this section and replace it in -out, keeping the rest: realstack, mesoslimit (from -mesos-limit) or probes (from -probes)")
	fs.BoolVar(&cfg.keep, "keep-files", false, "keep the generated environment and compose files (their directory is printed)")
	fs.IntVar(&cfg.aheadOff, "ahead-off", 30, "also measure this size with create-ahead off (envctl up --create-ahead=false; 0: none)")
	fs.IntVar(&cfg.gateOff, "gate-off", 30, "also measure this size with the gate off (envctl up --gate=false: created ahead, started when ready; 0: none)")
	planSizes := fs.String("plan-sizes", "1000,2000,5000,10000", "sizes of the plan scaling check, comma-separated (\"\": none)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "envbench: unexpected argument %q\n", fs.Arg(0))
		return nil, errors.New("usage")
	}
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < cfg.layers {
			fmt.Fprintf(stderr, "envbench: -sizes: %q is not a number of services ≥ -layers (%d)\n", f, cfg.layers)
			return nil, errors.New("usage")
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if strings.TrimSpace(*planSizes) != "" {
		for _, f := range strings.Split(*planSizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				fmt.Fprintf(stderr, "envbench: -plan-sizes: %q is not a number of services\n", f)
				return nil, errors.New("usage")
			}
			cfg.planSizes = append(cfg.planSizes, n)
		}
	}
	if cfg.runs < 1 || cfg.layers < 1 || cfg.delay < 0 {
		fmt.Fprintln(stderr, "envbench: -runs and -layers must be at least 1, -delay not negative")
		return nil, errors.New("usage")
	}
	return cfg, nil
}

// Exit statuses: 0 all measured, 1 something failed (results.md still lists what was measured
// and the failures), 2 usage.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{cfg: cfg, log: stderr}
	if cfg.only == "realstack" {
		b.loadBefore = loadavg()
		if err := b.runOnlyRealstack(ctx, cfg.out); err != nil {
			fmt.Fprintf(stderr, "envbench: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "envbench: wrote the realstack section of %s\n", cfg.out)
		return exitOK
	} else if only, ok := splicedSections[cfg.only]; ok {
		// Nothing measured here: another program did (make bench runs it); its section of -out
		// is made from its output and replaced.
		if err := only(cfg); err != nil {
			fmt.Fprintf(stderr, "envbench: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "envbench: wrote the %s section of %s\n", cfg.only, cfg.out)
		return exitOK
	} else if cfg.only != "" {
		fmt.Fprintf(stderr, "envbench: -only: %q is not a section (realstack, mesoslimit, probes)\n", cfg.only)
		return exitUsage
	}
	err = b.run(ctx)

	// Whatever happened, nothing of ours stays: a fresh context, because ctx may be cancelled.
	cctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if n, serr := sweep(cctx); serr != nil {
		fmt.Fprintf(stderr, "envbench: cleaning up: %v\n", serr)
		err = errors.Join(err, serr)
	} else if n > 0 {
		fmt.Fprintf(stderr, "envbench: cleaning up removed %d leftover containers and networks\n", n)
	}
	// An interrupted run keeps the previous results.md: a partial table would replace a
	// whole one.
	if b.res != nil && b.res.Machine.CPUs > 0 && ctx.Err() == nil {
		b.res.Took = time.Since(b.res.Date)
		b.res.Machine.LoadAfter = loadavg()
		if len(b.res.Failures) > 0 && err == nil {
			err = fmt.Errorf("%d failures", len(b.res.Failures))
		}
		if werr := os.WriteFile(cfg.out, b.res.markdown(), 0o644); werr != nil {
			fmt.Fprintf(stderr, "envbench: %v\n", werr)
			return exitFailed
		}
		fmt.Fprintf(stdout, "envbench: wrote %s\n", cfg.out)
		stdout.Write(b.res.markdown())
	}
	if err != nil {
		fmt.Fprintf(stderr, "envbench: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// splicedSections are the -only sections made from another program's output: mesoslimit's
// (-mesos-limit) and the ProbeCPU benchmark's (-probes).
var splicedSections = map[string]func(*config) error{
	"mesoslimit": func(c *config) error { return onlyMesosLimit(c.mesosLimit, c.out) },
	"probes":     func(c *config) error { return onlyProbes(c.probes, c.out) },
}

// bench is one benchmark run.
type bench struct {
	cfg     *config
	log     io.Writer
	envctl  string // absolute path
	dir     string // generated files
	image   string
	net     string // the raw bound's network
	compose *composeTool
	res     *results
	api     *client.Client // the engine limit's bare client
	// loadBefore is the load average when -only started.
	loadBefore string
}

// commandTimeout bounds every measured command: a 60-service up takes seconds; a hang must
// end the run rather than stall make bench forever.
const commandTimeout = 5 * time.Minute

func (b *bench) logf(format string, a ...any) { fmt.Fprintf(b.log, "envbench: "+format+"\n", a...) }

func (b *bench) run(ctx context.Context) error {
	if err := testimage.RequireDocker(ctx); err != nil {
		return err
	}
	var err error
	if b.envctl, err = filepath.Abs(b.cfg.envctl); err != nil {
		return err
	}
	if _, err := os.Stat(b.envctl); err != nil {
		return fmt.Errorf("%w (build it with make build)", err)
	}
	if n, err := sweep(ctx); err != nil {
		return err
	} else if n > 0 {
		b.logf("removed %d leftovers of an earlier run", n)
	}
	b.res = &results{Date: time.Now(), Runs: b.cfg.runs, Layers: b.cfg.layers, Delay: b.cfg.delay, Seed: b.cfg.seed}
	// The sections made from other programs' output (make bench runs them first).
	for _, sec := range []struct {
		path string
		into *string
		read func(string) (string, error)
	}{
		{b.cfg.mesos, &b.res.Mesos, func(p string) (string, error) { return section(p, parseMesosBench, mesosMarkdown) }},
		{b.cfg.probes, &b.res.Probes, func(p string) (string, error) { return section(p, parseProbeBench, probesMarkdown) }},
		{b.cfg.mesosLimit, &b.res.MesosLimit, func(p string) (string, error) { return section(p, parseLimit, limitMarkdown) }},
	} {
		if sec.path == "" {
			continue
		}
		if *sec.into, err = sec.read(sec.path); err != nil {
			return err
		}
	}
	b.res.Machine = describeMachine(ctx, b.envctl)
	if b.api, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation()); err != nil {
		return err
	}
	defer b.api.Close()

	b.logf("building the test service image")
	if b.image, err = testimage.Testsvc(ctx); err != nil {
		return err
	}
	b.res.Image = b.image
	if b.dir, err = os.MkdirTemp("", "envbench-"); err != nil {
		return err
	}
	if b.cfg.keep {
		b.logf("generated files in %s", b.dir)
	} else {
		defer os.RemoveAll(b.dir)
	}

	// The network of the raw bound's second form, which configures the container as envctl
	// does: on a network of its own, with its port published on 127.0.0.1.
	b.net = fmt.Sprintf("%snet-%d", envPrefix, os.Getpid())
	if _, err := output(ctx, "docker", "network", "create", "--label", benchLabel+"="+benchLabelValue, b.net); err != nil {
		return err
	}
	defer func() {
		// A fresh context: the network must go even when ctx was cancelled (sweep would
		// catch it too, but then reports it as a leftover).
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := removeNetworks(cctx, []string{b.net}); err != nil {
			b.logf("warning: %v", err)
		}
	}()

	boundEnv, err := Generate(envPrefix+"bound", 1, 1, b.cfg.seed)
	if err != nil {
		return err
	}
	if err := b.write(boundEnv); err != nil {
		return err
	}
	for _, n := range b.cfg.sizes {
		l, err := Generate(fmt.Sprintf("%s%d", envPrefix, n), n, b.cfg.layers, b.cfg.seed)
		if err != nil {
			return err
		}
		if err := b.write(l); err != nil {
			return err
		}
		b.res.Sizes = append(b.res.Sizes, &sizeResult{Layout: l})
	}

	v2, v1, notes := findCompose(ctx, b.cfg.compose)
	b.compose, b.res.Compose, b.res.ComposeNotes = v2, v2, notes
	if v2 == nil {
		b.logf("Compose v2 not available (%s)", strings.Join(notes, "; "))
		if v1 != nil && len(b.res.Sizes) > 0 {
			b.res.ComposeCheck = b.checkComposeFiles(ctx, v1)
		}
	}

	// A warm-up, not counted: the first run after a build pays for cold caches (the binary,
	// the image's layers, the engine's first network of a kind).
	b.logf("warm-up")
	if _, err := b.upDown(ctx, boundEnv, nil, nil); err != nil {
		return err
	}

	for r := 1; r <= b.cfg.runs; r++ {
		if err := b.round(ctx, r, boundEnv); err != nil {
			return err
		}
		// What the completed rounds measured, written as they complete: on a machine so
		// loaded that the whole run cannot finish, the rounds done still count.
		if r < b.cfg.runs {
			b.res.Runs, b.res.Took, b.res.Machine.LoadAfter = r, time.Since(b.res.Date), loadavg()
			_ = os.WriteFile(b.cfg.out+".partial", b.res.markdown(), 0o644)
			b.res.Runs = b.cfg.runs
		}
	}
	_ = os.Remove(b.cfg.out + ".partial")
	if len(b.cfg.planSizes) > 0 {
		b.logf("plan scaling on %v services", b.cfg.planSizes)
		ps, err := b.measurePlanScale(ctx, b.cfg.planSizes)
		b.res.PlanScale = ps
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.fail("plan scaling: %v", err)
		}
	}
	if b.cfg.reach {
		b.logf("reach: the shop's up, direct and in setting 1")
		b.res.Reach = b.measureReach(ctx)
	}
	if b.cfg.realstack > 0 {
		b.logf("realstack: Postgres, Redis and RabbitMQ imported from Compose, against TCP checks")
		b.res.Realstack = b.measureRealstack(ctx, b.cfg.realstack)
	}
	if b.cfg.profileSize > 0 {
		if s := b.res.size(b.cfg.profileSize); s != nil {
			if err := b.profile(ctx, s.Layout); err != nil {
				b.fail("profile: %v", err)
			}
		}
	}
	return nil
}

// round is one measured run of everything.
func (b *bench) round(ctx context.Context, r int, boundEnv *Layout) error {
	raw, err := rawBound(ctx, b.image, b.cfg.delay, fmt.Sprintf("%sraw-%d-%d", envPrefix, os.Getpid(), r))
	if err != nil {
		return err
	}
	b.res.RawBound = append(b.res.RawBound, raw)
	rawLike, err := rawBound(ctx, b.image, b.cfg.delay, fmt.Sprintf("%sraw-net-%d-%d", envPrefix, os.Getpid(), r),
		"--network", b.net, "-p", "127.0.0.1::80")
	if err != nil {
		return err
	}
	b.res.RawPublished = append(b.res.RawPublished, rawLike)
	one, err := b.upDown(ctx, boundEnv, &b.res.EnvctlBound, nil)
	if err != nil {
		return err
	}
	b.logf("round %d/%d: bound: raw %s, raw with network and published port %s, envctl 1 service %s",
		r, b.cfg.runs, ms(raw), ms(rawLike), ms(one))
	for _, s := range b.res.Sizes {
		// Alternate who goes first, so that neither tool always runs on the engine the other
		// has just churned.
		composeFirst := b.compose != nil && r%2 == 0
		if composeFirst {
			b.composeUpDown(ctx, s)
		}
		// The engine's limit alternates with envctl too: first in odd rounds, last in even.
		if r%2 == 1 {
			if err := b.limit(ctx, r, s); err != nil {
				return err
			}
		}
		// The gate off (-gate-off) alternates with the default too: after it in even rounds.
		if len(s.Layout.Services) == b.cfg.gateOff && r%2 == 1 {
			if err := b.gateOffUp(ctx, r, s); err != nil {
				return err
			}
		}
		if _, err := b.upDown(ctx, s.Layout, &s.Up, &s.Down); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.fail("%d services, run %d: %v", len(s.Layout.Services), r, err)
			continue
		}
		if b.compose != nil && !composeFirst {
			b.composeUpDown(ctx, s)
		}
		if len(s.Layout.Services) == b.cfg.aheadOff {
			// The same environment with every container created only once its dependencies
			// are ready (the path before issue 12), to show what creating ahead gains.
			if _, err := b.upDown(ctx, s.Layout, &s.UpAheadOff, nil, "--create-ahead=false"); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				b.fail("%d services, create-ahead off, run %d: %v", len(s.Layout.Services), r, err)
			} else {
				b.logf("round %d/%d: %d services, create-ahead off: up %s", r, b.cfg.runs, len(s.Layout.Services),
					ms(s.UpAheadOff[len(s.UpAheadOff)-1].Wall))
			}
		}
		if len(s.Layout.Services) == b.cfg.gateOff && r%2 == 0 {
			if err := b.gateOffUp(ctx, r, s); err != nil {
				return err
			}
		}
		if r%2 == 0 {
			if err := b.limit(ctx, r, s); err != nil {
				return err
			}
		}
		b.logf("round %d/%d: %d services: up %s (CPU %s, RSS %s), down %s", r, b.cfg.runs, len(s.Layout.Services),
			ms(s.Up[len(s.Up)-1].Wall), ms(s.Up[len(s.Up)-1].CPU), mib(s.Up[len(s.Up)-1].MaxRSS), ms(s.Down[len(s.Down)-1].Wall))
	}
	return ctx.Err()
}

// gateOffUp measures s's up with the gate off (created ahead but started only once the
// dependencies are ready): what the gate itself gains, next to the default.
func (b *bench) gateOffUp(ctx context.Context, r int, s *sizeResult) error {
	if _, err := b.upDown(ctx, s.Layout, &s.UpGateOff, nil, "--gate=false"); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.fail("%d services, gate off, run %d: %v", len(s.Layout.Services), r, err)
		return nil
	}
	b.logf("round %d/%d: %d services, gate off: up %s", r, b.cfg.runs, len(s.Layout.Services),
		ms(s.UpGateOff[len(s.UpGateOff)-1].Wall))
	return nil
}

// limit measures the engine's limit for s's number of containers (see engineLimit); a
// failure is recorded, not fatal, unless the run was interrupted.
func (b *bench) limit(ctx context.Context, r int, s *sizeResult) error {
	n := len(s.Layout.Services)
	lim, err := measureLimit(ctx, b.api, b.image, b.cfg.delay, fmt.Sprintf("%slimit-%d-%d-%d", envPrefix, os.Getpid(), n, r), n)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.fail("engine limit, %d containers, run %d: %v", n, r, err)
		return nil
	}
	s.Limit = append(s.Limit, lim)
	b.logf("round %d/%d: %d services: engine limit: up %s, removal %s", r, b.cfg.runs, n, ms(lim.Up), ms(lim.Removal))
	return nil
}

func (b *bench) fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	b.logf("FAILED: %s", msg)
	b.res.Failures = append(b.res.Failures, msg)
}

// envDir is where a layout's files are.
func (b *bench) envDir(l *Layout) string { return filepath.Join(b.dir, l.Name) }

func (b *bench) write(l *Layout) error {
	dir := b.envDir(l)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), l.HCL(b.image, b.cfg.delay), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "compose.yaml"), l.Compose(b.image, b.cfg.delay), 0o644)
}

// upDown brings l up and down with envctl, appending the measurements to ups and downs when
// given. An up that fails, leaves fewer containers running than services, or a down that
// leaves anything behind is an error; the environment is removed in any case.
func (b *bench) upDown(ctx context.Context, l *Layout, ups, downs *[]Measurement, upArgs ...string) (time.Duration, error) {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	up, err := measure(cctx, b.envDir(l), append([]string{b.envctl, "up", "-f", b.envDir(l)}, upArgs...)...)
	if err == nil {
		if n, cerr := countRunning(ctx, l.Name); cerr != nil {
			err = cerr
		} else if n != len(l.Services) {
			err = fmt.Errorf("envctl up reported ready, but %d of %d containers run", n, len(l.Services))
		}
	}
	if err != nil {
		b.removeQuietly(l)
		return 0, err
	}
	down, err := measure(cctx, b.envDir(l), b.envctl, "down", l.Name)
	if err == nil {
		err = leftovers(ctx, l.Name)
	}
	if err != nil {
		b.removeQuietly(l)
		return 0, err
	}
	if ups != nil {
		*ups = append(*ups, up)
	}
	if downs != nil {
		*downs = append(*downs, down)
	}
	return up.Wall, nil
}

// removeQuietly removes whatever of l a failed step left, with envctl first and then directly;
// only l's objects, since the run's own (the raw bound's network) are still in use.
func (b *bench) removeQuietly(l *Layout) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _ = output(ctx, b.envctl, "down", l.Name)
	if out, err := output(ctx, "docker", "ps", "-aq", "--filter", "label=io.envctl.env="+l.Name); err == nil {
		if ids := nonEmptyLines(out); len(ids) > 0 {
			_, _ = output(ctx, append([]string{"docker", "rm", "-f"}, ids...)...)
		}
	}
	_ = removeNetworks(ctx, []string{"envctl-" + l.Name})
}

// composeProject is the Compose project name of a layout; it starts with envPrefix, so that
// sweep finds its network.
func composeProject(l *Layout) string { return l.Name + "-compose" }

// composeUpDown measures Compose's up --wait and down on the layout's compose file; a failure is
// recorded, and the project removed.
func (b *bench) composeUpDown(ctx context.Context, s *sizeResult) {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	file := filepath.Join(b.envDir(s.Layout), "compose.yaml")
	base := []string{"-p", composeProject(s.Layout), "-f", file}
	up, err := measure(cctx, b.envDir(s.Layout), b.compose.command(append(base, "up", "-d", "--wait")...)...)
	if err != nil {
		b.fail("compose, %d services: %v", len(s.Layout.Services), err)
		_, _ = measure(context.Background(), b.envDir(s.Layout), b.compose.command(append(base, "down", "-t", "1")...)...)
		return
	}
	down, err := measure(cctx, b.envDir(s.Layout), b.compose.command(append(base, "down", "-t", "1")...)...)
	if err != nil {
		b.fail("compose down, %d services: %v", len(s.Layout.Services), err)
		return
	}
	s.ComposeUp = append(s.ComposeUp, up)
	s.ComposeDown = append(s.ComposeDown, down)
	b.logf("%d services: compose up %s, down %s", len(s.Layout.Services), ms(up.Wall), ms(down.Wall))
}

// checkComposeFiles has a Compose v1 parse the generated compose files, so that a reader
// with a v2 knows they at least load; it returns a sentence for results.md.
func (b *bench) checkComposeFiles(ctx context.Context, v1 *composeTool) string {
	for _, s := range b.res.Sizes {
		file := filepath.Join(b.envDir(s.Layout), "compose.yaml")
		if _, err := output(ctx, v1.command("-f", file, "config", "-q")...); err != nil {
			b.fail("the generated compose file does not load: %v", err)
			return fmt.Sprintf("The generated compose files do NOT load in %s: see Failures.", v1)
		}
	}
	return fmt.Sprintf("The generated compose files were checked to load with `%s config -q` (%s).",
		strings.Join(v1.argv, " "), v1.version)
}

// profile runs one more up and down of l with the engine's events streaming, and explains both.
func (b *bench) profile(ctx context.Context, l *Layout) error {
	b.logf("profiling up and down of %d services", len(l.Services))
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	w, err := watchEvents(cctx)
	if err != nil {
		return err
	}
	up, err := measure(cctx, b.envDir(l), b.envctl, "up", "-o", "json", "-f", b.envDir(l))
	upEvents := w.stop()
	if err != nil {
		b.removeQuietly(l)
		return err
	}
	if w, err = watchEvents(cctx); err != nil {
		b.removeQuietly(l)
		return err
	}
	down, err := measure(cctx, b.envDir(l), b.envctl, "down", l.Name)
	downEvents := w.stop()
	if err != nil {
		b.removeQuietly(l)
		return err
	}
	b.res.Profile = "### up\n\n" + profileUp(l, b.cfg.delay, up, upEvents) +
		"### down\n\n" + profileDown(l, down, downEvents)
	return leftovers(ctx, l.Name)
}

// describeMachine collects what results.md says about the machine; what cannot be read is
// reported as such rather than failing the run.
func describeMachine(ctx context.Context, envctl string) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadBefore: loadavg()}
	m.Memory = "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	m.Kernel = readTrim("/proc/sys/kernel/osrelease")
	m.Docker = orUnknown(output(ctx, "docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"))
	m.DockerCLI = orUnknown(output(ctx, "docker", "version", "--format", "{{.Client.Version}}"))
	if goVer, err := exec.Command("go", "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(goVer))
	}
	m.Envctl = orUnknown(output(ctx, envctl, "--version"))
	return m
}

func loadavg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

func readTrim(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

func orUnknown(s string, err error) string {
	if err != nil || s == "" {
		return "unknown"
	}
	return s
}

// section reads a benchmark's output from path and renders its section of results.md, naming
// the file as its source.
func section[T any](path string, parse func(io.Reader) (T, error), render func(T, string) string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return render(v, "`"+filepath.Base(path)+"`"), nil
}

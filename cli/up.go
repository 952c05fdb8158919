package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	urfave "github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

// Defaults of up's flags.
const (
	defaultParallel = 16
	defaultTTL      = 24 * time.Hour
	defaultGrace    = 2 * time.Second
)

// upFlags are up's flags; run takes them too.
func upFlags(defaultTTL time.Duration) []urfave.Flag {
	return append(fileFlags(),
		&urfave.IntFlag{Name: "parallel", Value: defaultParallel, Usage: "at most this many services are created at once"},
		&urfave.DurationFlag{Name: "timeout", Usage: "give up if the environment is not ready within this time (default: each service's own ready timeout)"},
		&urfave.StringFlag{Name: "on-failure", Value: "rollback", Usage: "rollback (remove what this run started) or keep (leave it for debugging)"},
		&urfave.DurationFlag{Name: "ttl", Value: defaultTTL, Usage: "after this the environment counts as expired and any envctl may remove it (0: never; default: the file's environment.ttl, else this)"},
		&urfave.DurationFlag{Name: "grace", Value: defaultGrace, Usage: "how long a service being removed gets to stop before it is killed"},
		&urfave.StringFlag{Name: "diagnostics", Usage: "on failure, write each service's logs, inspect output and probe history, and the plan, under this directory"},
		// Hidden: a switch for measuring and for a way out, not a setting users need. Off,
		// every container is created only once its dependencies are ready (the old path).
		&urfave.BoolFlag{Name: "create-ahead", Value: true, Hidden: true, EnvVars: []string{"ENVCTL_CREATE_AHEAD"},
			Usage: "create containers while their dependencies get ready (Docker)"},
		// Hidden for the same reason. Off, containers created ahead are started only once their
		// dependencies are ready; --diagnostics and -o json say per service which path it took.
		&urfave.BoolFlag{Name: "gate", Value: true, Hidden: true, EnvVars: []string{"ENVCTL_GATE"},
			Usage: "start containers ahead too, their process held by a gate until their dependencies are ready (Docker)"},
		outputFlag(),
	)
}

func upCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "up",
		Usage:     "create or update the environment and wait until every service is ready",
		ArgsUsage: "[SERVICE...]",
		Flags: append(upFlags(defaultTTL),
			// Hidden: envtest's, for an environment of its own beside the file's (NAME-SUFFIX),
			// as run makes one; a user names an environment with --name.
			&urfave.StringFlag{Name: "name-suffix", Hidden: true, Usage: "append -SUFFIX to the environment's name"},
			// Hidden, envtest's too: the probe history of a successful up, which the JSON
			// document does not carry, for the diagnostics of a test that fails later.
			&urfave.StringFlag{Name: "probe-history", Hidden: true, Usage: "write every service's probe history to this file"}),
		Action: func(c *urfave.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			// up's report is its output: stdout, as text or as the JSON document.
			to := reportTo{text: c.App.Writer}
			if format == "json" {
				to = reportTo{json: c.App.Writer}
			}
			_, b, err := bringUp(c, nil, c.String("name-suffix"), c.Args().Slice(), to)
			if b != nil {
				b.Close()
			}
			return err
		},
	}
}

// upSettings are up's flags, checked.
type upSettings struct {
	format   string
	parallel int
	timeout  time.Duration
	rollback bool
	ttl      time.Duration
	grace    time.Duration
}

func readUpSettings(c *urfave.Context, env *envs.Environment) (upSettings, error) {
	s := upSettings{parallel: c.Int("parallel"), timeout: c.Duration("timeout"), ttl: c.Duration("ttl"), grace: c.Duration("grace")}
	var err error
	if s.format, err = outputFormat(c); err != nil {
		return s, err
	}
	switch c.String("on-failure") {
	case "rollback":
		s.rollback = true
	case "keep":
	default:
		return s, usageErr("--on-failure %q: want rollback or keep", c.String("on-failure"))
	}
	if s.parallel < 1 {
		return s, usageErr("--parallel %d: want 1 or more", s.parallel)
	}
	if s.timeout < 0 || s.ttl < 0 || s.grace < 0 {
		return s, usageErr("--timeout, --ttl and --grace cannot be negative")
	}
	if !c.IsSet("ttl") && env != nil && env.TTL > 0 {
		s.ttl = env.TTL
	}
	return s, nil
}

// reportTo says where bringUp writes its report of the environment: the text summary ("Environment
// ... is ready") and the JSON document, each to its writer when that is not nil. up writes one
// of them to stdout; run writes to stderr or a file, since its stdout is the command's.
type reportTo struct {
	text, json io.Writer
}

// bringUp is up: load, connect, sweep expired environments, prepare images, plan, apply, and
// report. It returns the backend (to be closed by the caller) so run can go on using it.
// in, if not nil, is the caller's interrupt watcher (run keeps one across up, CMD and down).
//
// only, when not empty, names the services to bring up (up SERVICE...): those and what they
// depend on are planned; every other service of the environment is left as it is.
func bringUp(c *urfave.Context, in *interrupts, nameSuffix string, only []string, to reportTo) (*provisioner.Result, provisioner.Backend, error) {
	env, err := loadEnvNamed(c, nameSuffix)
	if err != nil {
		return nil, nil, err
	}
	if len(only) > 0 {
		if err := env.Select(only); err != nil {
			return nil, nil, usageErr("%v", err)
		}
	}
	set, err := readUpSettings(c, env)
	if err != nil {
		return nil, nil, err
	}
	if in == nil {
		var self *interrupts
		in = watchInterrupts(c.Context, func() {
			self.announce(c.App.ErrWriter, "Interrupted: stopping and rolling back (Ctrl-C again to leave things as they are)...")
		})
		self = in
		defer in.Stop()
	}
	b, err := openBackend(in.Work, c)
	if err != nil {
		return nil, nil, err
	}
	if g, ok := b.(interface{ SetGate(on bool) }); ok {
		g.SetGate(c.Bool("gate") && c.Bool("create-ahead"))
	}
	stderr := c.App.ErrWriter

	unlock, err := lockEnv(in.Work, b.Name(), env.Name, stderr)
	if err != nil {
		return nil, b, &exitError{code: ExitInterrupted, err: errors.New("interrupted while waiting for the environment's lock")}
	}
	defer unlock()
	defer markUp(b.Name(), env.Name)() // cleared unless this process is killed; see markUp

	work := in.Work
	var timedOut func() bool = func() bool { return false }
	if set.timeout > 0 {
		var cancel context.CancelFunc
		work, cancel = context.WithTimeout(in.Work, set.timeout)
		defer cancel()
		timedOut = func() bool { return in.Work.Err() == nil && work.Err() != nil }
	}

	now := clockNow() // ENVCTL_NOW: see clock.go
	sweepExpired(work, b, now, stderr)

	target := provisioner.NewTarget(env, set.ttl, now)
	// The environment's own resources (the Docker network) are made while the images are
	// prepared: both take the engine a few hundred milliseconds, and neither needs the other.
	var prepErr error
	envDone := make(chan struct{})
	go func() {
		defer close(envDone)
		if ep, ok := b.(provisioner.EnvironmentPreparer); ok {
			prepErr = ep.PrepareEnvironment(work, env.Name, provisioner.EnvLabels(env.Name, target.Expires, target.Owner))
		}
	}()
	imgErr := prepareImages(work, b, target, stderr)
	if imgErr == nil {
		imgErr = mesosImages(work, c, b, target, stderr)
	}
	<-envDone
	if err := errors.Join(imgErr, prepErr); err != nil {
		// Nothing was started: remove what the preparation made, unless the environment
		// already had instances.
		cleanup, cancel := in.cleanupContext(30 * time.Second)
		_ = provisioner.TeardownIfEmpty(cleanup, b, env.Name)
		cancel()
		if in.Work.Err() != nil {
			return nil, b, &exitError{code: ExitInterrupted, err: errors.New("interrupted")}
		}
		if timedOut() {
			// The same message as a timeout while services start, not the call that the
			// deadline happened to cut ("list networks: context deadline exceeded").
			// The cause is only the deadline, which the message already says.
			err = fmt.Errorf("the environment was not ready within --timeout %s; nothing had started: preparing it (images, network) did not finish", set.timeout)
		}
		if to.json != nil {
			// -o json promises one document also when up fails before anything starts (a
			// missing image, a failed build): the fault suite found stdout empty here.
			_ = writeJSON(to.json, resultDoc(&provisioner.Result{Env: env.Name, Backend: b.Name(), Err: err}, env))
		}
		code := exitCodeOf(err)
		if timedOut() {
			code = ExitFailed
		}
		return nil, b, &exitError{code: code, err: err}
	}
	observed, err := b.Observe(work, env.Name)
	if err != nil {
		if timedOut() {
			return nil, b, &exitError{code: ExitFailed, err: fmt.Errorf("the environment was not ready within --timeout %s; nothing had started: reading its state from the backend did not finish", set.timeout)}
		}
		return nil, b, &exitError{code: exitCodeOf(err), err: err}
	}
	// The services outside the selection (up SERVICE...) and those of inactive profiles are
	// not orphans: leave them alone, as Compose does.
	leftOut := leftOutSet(env)
	observed = slices.DeleteFunc(observed, func(i provisioner.Instance) bool {
		return (len(only) > 0 && env.Service(i.Service) == nil) || leftOut[i.Service]
	})
	desired, err := target.Desired()
	if err != nil {
		return nil, b, err
	}
	plan := provisioner.MakePlan(env.Name, desired, observed)

	cleanup, cancelCleanup := in.cleanupContext(2 * time.Minute)
	defer cancelCleanup()
	// The display starts after the sweep and the image preparation, which print plain lines.
	names, deps := serviceDeps(env)
	progress := newProgressFor(stderr, names, deps)
	in.sayThrough(progress.note)
	opts := provisioner.Options{
		Parallel: set.parallel, Grace: set.grace, Rollback: set.rollback,
		CleanupCtx: cleanup, Events: progress.event, NoCreateAhead: !c.Bool("create-ahead"),
	}
	if dir := c.String("diagnostics"); dir != "" {
		opts.BeforeRollback = func(ctx context.Context, res *provisioner.Result) {
			where, err := writeDiagnostics(ctx, dir, b, env, plan, res, redactorOf(c))
			if err != nil {
				fmt.Fprintf(stderr, "warning: diagnostics incomplete: %v\n", err)
			}
			fmt.Fprintf(stderr, "Diagnostics written to %s\n", where)
		}
	}
	res := provisioner.Apply(work, b, target, plan, opts)
	in.sayThrough(nil)
	if p := c.String("probe-history"); p != "" {
		if err := writeProbeHistory(p, res); err != nil {
			fmt.Fprintf(stderr, "warning: --probe-history: %v\n", err)
		}
	}
	// No summary line: the report (stdout) or the failure (below) says it in full.
	progress.close("")
	if res.Err != nil && errors.Is(res.Err, provisioner.ErrInterrupted) && timedOut() {
		res.Err = fmt.Errorf("the environment was not ready within --timeout %s; %s", set.timeout, blockedSummary(res, env))
	}
	if to.json != nil {
		doc := resultDoc(res, env)
		doc.Reach = reachOf(b, env.Name)
		_ = writeJSON(to.json, doc)
	}
	if to.text != nil && res.Err == nil {
		renderReady(to.text, res, env)
		if r := reachOf(b, env.Name); r != nil && r.Way != provisioner.ReachDirect {
			fmt.Fprintf(stderr, "Reached the services by way of %s: %s.\n", r.Way, r.Why)
		}
	}
	if res.Err != nil {
		return res, b, failureExit(res, stderr, set.rollback)
	}
	return res, b, nil
}

// failureExit prints why up failed and maps it to an exit code.
func failureExit(res *provisioner.Result, stderr io.Writer, rollback bool) error {
	code := ExitFailed
	if errors.Is(res.Err, provisioner.ErrInterrupted) {
		code = ExitInterrupted
	}
	fmt.Fprintf(stderr, "\nenvctl: environment %q failed: %v\n", res.Env, res.Err)
	switch {
	case res.RolledBack:
		fmt.Fprintf(stderr, "Rolled back: removed the %s this run started.\n", plural(res.Created, "instance"))
	case !rollback:
		fmt.Fprintf(stderr, "Kept for debugging (--on-failure keep); remove it with: envctl down %s\n", res.Env)
	default:
		fmt.Fprintf(stderr, "The rollback did not finish; remove what is left with: envctl down %s\n", res.Env)
	}
	return silentExit(code)
}

// blockedSummary names the chains that kept the environment from being ready: for each
// service that was still waiting, and that nothing else waiting depended on, the dependencies
// it waited for down to the one that was starting or probing, with what its probe last saw:
// "web waits for api, which waits for migrate, which was probing (attempt 40: exit 1)".
func blockedSummary(res *provisioner.Result, env *envs.Environment) string {
	notReady := func(name string) bool {
		s := res.Service(name)
		return s != nil && s.Phase != provisioner.PhaseReady && s.Phase != provisioner.PhaseKept
	}
	waiting := func(s *provisioner.ServiceResult) bool { return s.Begin.IsZero() && notReady(s.Service) }
	doing := func(s *provisioner.ServiceResult) string {
		if s.LastProbe != nil {
			return fmt.Sprintf("was probing (attempt %d: %s)", s.Attempts, s.LastProbe.Detail)
		}
		return "was starting"
	}
	// A waiting service that another waiting service depends on is part of that one's chain.
	inner := map[string]bool{}
	for _, s := range res.Services {
		if waiting(s) {
			for _, d := range env.Service(s.Service).Deps {
				inner[d.Name] = true
			}
		}
	}
	var chains []string
	covered := map[string]bool{}
	for _, s := range res.Services {
		if !notReady(s.Service) || inner[s.Service] {
			continue
		}
		if !waiting(s) {
			if !covered[s.Service] {
				chains = append(chains, s.Service+" "+doing(s))
				covered[s.Service] = true
			}
			continue
		}
		chain := s.Service
		cur := s
		for steps := 0; waiting(cur) && steps < len(res.Services); steps++ {
			var next *provisioner.ServiceResult
			for _, d := range env.Service(cur.Service).Deps {
				if notReady(d.Name) {
					next = res.Service(d.Name)
					break
				}
			}
			if next == nil {
				break
			}
			chain += " waits for " + next.Service + ", which"
			cur = next
		}
		if waiting(cur) {
			chain += " was waiting to start"
		} else {
			chain += " " + doing(cur)
			covered[cur.Service] = true
		}
		chains = append(chains, strings.Replace(chain, s.Service+" waits", s.Service+" waits", 1))
	}
	for i, c := range chains {
		// "X waits for Y, which was probing" reads as it should; a chain of one is "X was ...".
		chains[i] = strings.TrimSuffix(c, ", which")
	}
	if len(chains) == 0 {
		return "nothing was still waiting"
	}
	return "blocked: " + strings.Join(chains, "; ")
}

// leftOutSet is env.LeftOut as a set: observed instances are checked against it one by one.
func leftOutSet(env *envs.Environment) map[string]bool {
	set := make(map[string]bool, len(env.LeftOut))
	for _, n := range env.LeftOut {
		set[n] = true
	}
	return set
}

// prepareImages builds or pulls every image the environment needs, all before the first start
// so that no service waits for another's image in the middle of the run.
func prepareImages(ctx context.Context, b provisioner.Backend, t *provisioner.Target, stderr io.Writer) error {
	prep, ok := b.(provisioner.ImagePreparer)
	if !ok {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	// Builds and pulls are heavy for the engine; a few at a time keep it responsive.
	g.SetLimit(4)
	var mu sync.Mutex // guards t.ImageIDs
	// The services of each image, found once: looking through every service per image made
	// an environment of built services quadratic.
	users := map[string][]string{}
	for _, s := range t.Env.Services {
		users[t.Images[s.Name]] = append(users[t.Images[s.Name]], s.Name)
	}
	seen := map[string]bool{}
	for _, s := range t.Env.Services {
		ref := t.Images[s.Name]
		if s.Build == nil && seen[ref] {
			continue
		}
		seen[ref] = true
		g.Go(func() error {
			spec := provisioner.Spec{Env: t.Env.Name, Service: s.Name, Image: ref}
			if s.Build != nil {
				spec.Build = &provisioner.Build{Context: s.Build.Context, Dockerfile: s.Build.Dockerfile, Args: s.Build.Args, Target: s.Build.Target, CacheFrom: s.Build.CacheFrom}
			}
			id, err := prep.PrepareImage(ctx, spec, io.Discard)
			if err != nil {
				return fmt.Errorf("service %q: %w", s.Name, err)
			}
			mu.Lock()
			for _, other := range users[ref] {
				t.ImageIDs[other] = id
			}
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// sweepExpired removes environments whose TTL has passed (design.md: any envctl run may).
// Failures are warnings: a sweep must never stop the user's own up.
func sweepExpired(ctx context.Context, b provisioner.Backend, now time.Time, stderr io.Writer) {
	expired, err := expiredEnvironments(ctx, b, now)
	if err != nil {
		if ctx.Err() == nil { // cut by --timeout or Ctrl-C: up's own error says so
			fmt.Fprintf(stderr, "warning: could not look for expired environments: %v\n", err)
		}
		return
	}
	for _, name := range expired {
		unlock, ok := tryLockEnv(b.Name(), name)
		if !ok {
			continue // another envctl is working on it right now
		}
		n, err := provisioner.Down(ctx, b, name, provisioner.Options{Parallel: defaultParallel})
		unlock()
		if err != nil {
			fmt.Fprintf(stderr, "warning: removing expired environment %q: %v\n", name, err)
			continue
		}
		fmt.Fprintf(stderr, "Removed expired environment %q (%s).\n", name, plural(n, "instance"))
	}
}

// expiredEnvironments lists the environments whose expiry passed, from the backend's labels.
func expiredEnvironments(ctx context.Context, b provisioner.Backend, now time.Time) ([]string, error) {
	envsFound, err := listEnvironments(ctx, b)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range envsFound {
		if !e.Expires.IsZero() && !now.Before(e.Expires) {
			out = append(out, e.Name)
		}
	}
	return out, nil
}

// envSummary is one environment as ls shows it.
type envSummary struct {
	Name      string
	Services  int
	Ready     int
	Created   time.Time
	Expires   time.Time
	Instances []provisioner.Instance
	// CPUs and Memory (bytes) are what its instances that have not ended hold, as far as
	// the backend says (Mesos: the tasks' resources, what counts against a role's quota).
	CPUs   float64
	Memory int64
}

// listEnvironments gathers every environment the backend holds anything of.
func listEnvironments(ctx context.Context, b provisioner.Backend) ([]*envSummary, error) {
	insts, err := b.Observe(ctx, "")
	if err != nil {
		return nil, err
	}
	byName := map[string]*envSummary{}
	get := func(name string) *envSummary {
		e, ok := byName[name]
		if !ok {
			e = &envSummary{Name: name}
			byName[name] = e
		}
		return e
	}
	note := func(e *envSummary, labels map[string]string, created time.Time) {
		if t, ok := provisioner.Expiry(labels); ok && (e.Expires.IsZero() || t.After(e.Expires)) {
			e.Expires = t
		}
		if !created.IsZero() && (e.Created.IsZero() || created.Before(e.Created)) {
			e.Created = created
		}
	}
	if em, ok := b.(provisioner.EnvironmentManager); ok {
		infos, err := em.Environments(ctx)
		if err != nil {
			return nil, err
		}
		for _, info := range infos {
			note(get(info.Name), info.Labels, info.Created)
		}
	}
	for _, inst := range insts {
		e := get(inst.Env)
		e.Instances = append(e.Instances, inst)
		note(e, inst.Labels, inst.Created)
	}
	out := make([]*envSummary, 0, len(byName))
	for _, e := range byName {
		seen := map[string]bool{}
		for _, inst := range e.Instances {
			if !seen[inst.Service] {
				seen[inst.Service] = true
				e.Services++
			}
			if instanceUp(inst) {
				e.Ready++
			}
			if inst.State != provisioner.StateExited {
				e.CPUs += inst.CPUs
				e.Memory += inst.Memory
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// instanceUp tells whether an instance is doing what it should: a service running, a job
// finished with 0.
func instanceUp(inst provisioner.Instance) bool {
	if inst.Labels[provisioner.LabelRun] == "once" {
		return inst.State == provisioner.StateExited && inst.ExitCode == 0
	}
	return inst.State == provisioner.StateRunning
}

// renderReady prints the endpoints of a ready environment.
func renderReady(w io.Writer, res *provisioner.Result, env *envs.Environment) {
	fmt.Fprintf(w, "Environment %q is ready in %s (%s).\n", res.Env, roundDuration(res.Duration), plural(len(res.Services), "service"))
	for _, s := range res.Services {
		eps := endpointList(s.Instance)
		state := string(s.Phase)
		if s.Phase == provisioner.PhaseReady {
			state = "ready in " + roundDuration(s.TimeToReady)
		}
		if len(eps) == 0 {
			fmt.Fprintf(w, "  %-14s %s\n", s.Service, state)
			continue
		}
		fmt.Fprintf(w, "  %-14s %-22s %s\n", s.Service, state, strings.Join(eps, "  "))
	}
	if len(res.CriticalPath) > 1 {
		fmt.Fprintf(w, "Critical path: %s\n", strings.Join(res.CriticalPath, " -> "))
	}
}

// endpointList is "http=127.0.0.1:49153" per published port, sorted.
func endpointList(inst provisioner.Instance) []string {
	var out []string
	for name, addr := range inst.Published {
		out = append(out, name+"="+addr)
	}
	sort.Strings(out)
	return out
}

package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"

	urfave "github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/envctl/envctl/provisioner"
)

// runTTL is run's default TTL: the environment of a CI step that was killed outright should
// not outlive the job by much; any later envctl sweeps it.
const runTTL = time.Hour

// How long CMD gets after the interrupt is passed on before it is sent SIGTERM, and killed.
const (
	cmdTermDelay = 2 * time.Second
	cmdStopDelay = 10 * time.Second
)

func runCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "run",
		Usage:     "up, run CMD with the endpoints in its environment, down; exit with CMD's status",
		ArgsUsage: "-- CMD [ARGS...]",
		Description: "Each run brings up an environment of its own, named after the file's with a random\n" +
			"suffix (shop-3fa2c1), so runs of one file side by side never share or remove each other's;\n" +
			"$ENVCTL_ENV tells CMD the name. --name NAME uses NAME as it is. --keep leaves the environment\n" +
			"up under the file's own name, where the next run --keep finds it and starts only what changed.\n\n" +
			"CMD's stdout, stderr and exit status are its own: envctl's progress and its report (\"Environment\n" +
			"... is ready\", the endpoints) go to stderr, so `envctl run -- go test -json ./... > report.json`\n" +
			"holds only go test's output. -o json writes envctl's JSON document to stderr, whole, before CMD\n" +
			"starts; --json-out FILE writes it to FILE instead.",
		Flags: append(upFlags(runTTL),
			&urfave.BoolFlag{Name: "keep", Usage: "leave the environment up after CMD, under the file's own name, for the next run --keep to use again (it still expires with its TTL)"},
			&urfave.StringFlag{Name: "json-out", Usage: "write envctl's JSON document of the environment (as up -o json prints it) to this file; stdout stays CMD's"},
		),
		Action: func(c *urfave.Context) error {
			argv := c.Args().Slice()
			if len(argv) > 0 && argv[0] == "--" {
				argv = argv[1:]
			}
			if len(argv) == 0 {
				return usageErr("run needs a command: envctl run [flags] -- CMD [ARGS...]")
			}
			if _, err := exec.LookPath(argv[0]); err != nil {
				return usageErr("run: command %q not found: %v", argv[0], err)
			}
			// stdout is CMD's alone (`run -- go test -json > report.json`): envctl's report
			// goes to stderr, the JSON document to stderr or to --json-out's file. Both are
			// written whole before CMD starts, so they never interleave with CMD's own output.
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			to := reportTo{text: c.App.ErrWriter}
			if format == "json" {
				to = reportTo{json: c.App.ErrWriter}
			}
			if path := c.String("json-out"); path != "" {
				f, err := os.Create(path)
				if err != nil {
					return usageErr("--json-out: %v", err)
				}
				defer f.Close()
				to.json = redactingWriter{f, redactorOf(c)}
			}
			var self *interrupts
			in := watchInterrupts(c.Context, func() {
				self.announce(c.App.ErrWriter, "Interrupted: stopping and removing the environment (Ctrl-C again to leave it)...")
			})
			self = in
			defer in.Stop()
			// Without --name, each run gets an environment of its own (NAME-xxxxxx): two jobs
			// of one file on one host — CI shards, two checkouts — must never share one, and a
			// run must never remove an environment that someone brought up with `up`. --keep
			// asks for the environment to outlive the run, to be used again: it keeps the
			// file's name, so the next run with --keep finds it.
			suffix := ""
			if !c.IsSet("name") && !c.Bool("keep") {
				suffix = runSuffix()
			}
			res, b, err := bringUp(c, in, suffix, nil, to)
			if b != nil {
				defer b.Close()
			}
			if err != nil {
				return err
			}
			var insts []provisioner.Instance
			for _, s := range res.Services {
				insts = append(insts, s.Instance)
			}
			vars := endpointVars(res.Env, insts)
			// The backend too, so that an envctl inside CMD (envctl logs $ENVCTL_ENV, a Go
			// test attaching through envtest) talks to the one that holds the environment,
			// also when it was chosen by a flag rather than the environment.
			vars[envBackend] = b.Name()
			if m := global(c, "mesos-master"); m != "" && b.Name() == "mesos" {
				vars[envMesosMaster] = m
			}
			keys := make([]string, 0, len(vars))
			for k := range vars {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			environ := os.Environ()
			for _, k := range keys {
				environ = append(environ, k+"="+vars[k])
			}

			cmd := exec.CommandContext(in.Work, argv[0], argv[1:]...)
			cmd.Env = environ
			cmd.Stdin, cmd.Stdout, cmd.Stderr = c.App.Reader, c.App.Writer, c.App.ErrWriter
			stopCmd(cmd)
			cmdErr := cmd.Run()
			status := exitStatus(cmdErr)

			if c.Bool("keep") && in.Work.Err() == nil {
				fmt.Fprintf(c.App.ErrWriter, "Environment %q kept (--keep); remove it with: envctl down %s\n", res.Env, res.Env)
			} else {
				ctx, cancel := in.cleanupContext(2 * time.Minute)
				var derr error
				if unlock, err := lockEnv(ctx, b.Name(), res.Env, c.App.ErrWriter); err != nil {
					derr = err
				} else {
					_, derr = provisioner.Down(ctx, b, res.Env, provisioner.Options{Parallel: c.Int("parallel"), Grace: c.Duration("grace")})
					unlock()
				}
				cancel()
				if derr != nil {
					fmt.Fprintf(c.App.ErrWriter, "envctl: removing environment %q: %v\n", res.Env, derr)
					if status == 0 {
						status = ExitFailed
					}
				}
			}
			if in.Work.Err() != nil {
				return silentExit(ExitInterrupted)
			}
			if status == -1 {
				return &exitError{code: ExitFailed, err: fmt.Errorf("run: %v", cmdErr)}
			}
			if status != 0 {
				return silentExit(status)
			}
			return nil
		},
	}
}

// exitStatus is CMD's exit status as a shell reports it: its code, or 128+signal when a signal
// ended it; -1 when it could not be run at all.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// stopCmd arranges how CMD is stopped on the first Ctrl-C: asked with SIGINT, the way a
// terminal asks, then with SIGTERM after cmdTermDelay, then killed if it has not ended within
// cmdStopDelay. Without a terminal (CI),
// CMD runs in a process group of its own and the whole group is signalled, so that
// `sh -c "go test ./..."` does not leave its children running when envctl alone is
// signalled. On a terminal CMD stays in the foreground group, where Ctrl-C reaches it
// directly and it can read the terminal.
func stopCmd(cmd *exec.Cmd) {
	group := !isTerminal(os.Stdin)
	if group {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	signal := func(sig syscall.Signal) error {
		if group {
			return syscall.Kill(-cmd.Process.Pid, sig)
		}
		return cmd.Process.Signal(sig)
	}
	cmd.Cancel = func() error {
		// SIGTERM follows for programs that ignore SIGINT: a shell starts background jobs
		// with SIGINT ignored, and their children inherit that.
		time.AfterFunc(cmdTermDelay, func() { _ = signal(syscall.SIGTERM) })
		time.AfterFunc(cmdStopDelay, func() { _ = signal(syscall.SIGKILL) })
		return signal(syscall.SIGINT)
	}
	// A backstop for CMD's own output pipes held open by a grandchild.
	cmd.WaitDelay = cmdStopDelay + time.Second
}

// isTerminal tells whether f is a terminal (not merely a character device: /dev/null is one).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// runSuffix is 6 random hex digits: 16.7 million names, so two runs at once on one host meet
// only by a chance that does not matter.
func runSuffix() string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on Linux; should it, the clock still tells runs apart.
		return fmt.Sprintf("%06x", time.Now().UnixNano()&0xffffff)
	}
	return hex.EncodeToString(b[:])
}

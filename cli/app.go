package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/gate"
	"github.com/envctl/envctl/provisioner/mesos"
)

// Exit codes (design.md §3).
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitUnreachable = 3
	ExitInterrupted = 130
)

// exitError carries an exit code through urfave's Run. Its message has already been printed
// when silent is set (diagnostics are rendered where they are found).
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// silentExit is an exit code whose message was already printed.
func silentExit(code int) error { return &exitError{code: code, silent: true} }

// Main runs envctl with args (args[0] is the program name) and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The gate runs as PID 1 of a held container: before anything else, and with none of the
	// app's parsing (its arguments are the service's argv, verbatim).
	if len(args) > 1 && args[1] == gate.Command {
		return gate.Main(args[2:])
	}
	app := New(stdin, stdout, stderr)
	err := app.RunContext(context.Background(), interspersed(app, args))
	return exitCode(err, app.ErrWriter)
}

// exitCode prints err (unless already printed) and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent && ee.err != nil {
			fmt.Fprintln(stderr, "envctl: "+ee.err.Error())
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "envctl: "+err.Error())
	if errors.Is(err, provisioner.ErrUnreachable) {
		return ExitUnreachable
	}
	if errors.Is(err, provisioner.ErrInterrupted) || errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	// urfave's own complaints (unknown flag, missing argument) are usage errors.
	if strings.Contains(err.Error(), "flag provided but not defined") || strings.Contains(err.Error(), "Required flag") {
		return ExitUsage
	}
	return ExitFailed
}

// New builds the urfave application. Nothing in it writes to os.Stdout or calls os.Exit.
func New(stdin io.Reader, stdout, stderr io.Writer) *urfave.App {
	red := &redactor{}
	stdout, stderr = redactingWriter{stdout, red}, redactingWriter{stderr, red}
	app := &urfave.App{
		Metadata:  map[string]any{"redactor": red},
		Name:      "envctl",
		Usage:     "throw-away microservice environments for tests, on Docker or Mesos",
		Version:   provisioner.Version,
		Reader:    stdin,
		Writer:    stdout,
		ErrWriter: stderr,
		// urfave would call os.Exit from inside Run for exit-coder errors; Main maps errors to
		// codes itself, after deferred cleanups have run.
		ExitErrHandler:       func(*urfave.Context, error) {},
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		Flags:                globalFlags(),
		OnUsageError: func(c *urfave.Context, err error, _ bool) error {
			return usageErr("%v (see envctl --help)", err)
		},
		Commands: []*urfave.Command{
			upCommand(),
			downCommand(),
			runCommand(),
			lsCommand(),
			statusCommand(),
			logsCommand(),
			execCommand(),
			restartCommand(),
			envCommand(),
			planCommand(),
			validateCommand(),
			graphCommand(),
			gcCommand(),
			importCommand(),
			completionCommand(),
			probeAgentCommand(),
		},
	}
	for _, cmd := range app.Commands {
		// Global flags are accepted after the command name too (envctl ls --backend mesos),
		// as design.md §3 promises "on every command".
		// These copies carry no default and no environment variable: a command-level value is
		// one written after the command, and global() falls back to the application's flags
		// (flag, then environment, then default) otherwise, so none written before is ignored.
		cmd.Flags = append(cmd.Flags, commandGlobalFlags()...)
		cmd.Before = checkGlobalFlags
		cmd.OnUsageError = func(c *urfave.Context, err error, _ bool) error {
			return usageErr("%s: %v (see envctl %s --help)", c.Command.Name, err, c.Command.Name)
		}
	}
	return app
}

// Environment variables that stand in for global flags.
const (
	envBackend     = "ENVCTL_BACKEND"
	envMesosMaster = "ENVCTL_MESOS_MASTER"

	envMesosContainerizer = "ENVCTL_MESOS_CONTAINERIZER"
	envRegistry           = "ENVCTL_REGISTRY"
)

func globalFlags() []urfave.Flag {
	return []urfave.Flag{
		&urfave.StringFlag{Name: "backend", Value: "docker", EnvVars: []string{envBackend}, Usage: "where environments run: docker or mesos"},
		&urfave.StringFlag{Name: "mesos-master", EnvVars: []string{envMesosMaster}, Usage: "the Mesos master, http://HOST:PORT (with --backend mesos)"},
		&urfave.StringFlag{Name: "mesos-role", EnvVars: []string{"ENVCTL_MESOS_ROLE"}, Usage: "the Mesos role environments register under, so the team's quota applies (default: *, with --backend mesos)"},
		&urfave.StringFlag{Name: "mesos-principal", EnvVars: []string{"ENVCTL_MESOS_PRINCIPAL"}, Usage: "principal for the Mesos master's HTTP basic authentication"},
		&urfave.StringFlag{Name: "mesos-secret", EnvVars: []string{"ENVCTL_MESOS_SECRET"}, Usage: "secret for the Mesos master's HTTP basic authentication"},
		&urfave.StringFlag{Name: "mesos-probe", Value: "auto", EnvVars: []string{mesos.EnvProbe}, Usage: "who checks readiness on Mesos: auto (envctl through the agents' host ports where it reaches them, else Mesos), envctl, or mesos (Mesos health checks)"},
		&urfave.StringFlag{Name: "mesos-containerizer", Value: mesos.ContainerizerDocker, EnvVars: []string{envMesosContainerizer}, Usage: "how the Mesos agents run the images: docker (their Docker Engine, ports published on host ports) or mesos (the Mesos containerizer, in the agent's own network: a service listens on its own ports at its agent's address)"},
		&urfave.StringFlag{Name: "registry", EnvVars: []string{envRegistry}, Usage: "HOST:PORT of a registry the Mesos agents pull from: up builds the services that have build blocks, pushes them there under content-hash tags and launches those"},
		&urfave.StringFlag{Name: "reach", Value: "auto", EnvVars: []string{provisioner.EnvReach}, Usage: "how envctl reaches the services (docker): auto, direct (dial the containers) or agent (probe from inside the environment's network)"},
	}
}

// commandGlobalFlags are globalFlags as a command accepts them after its name: without
// default or environment variable, so that IsSet at the command level means "written there".
func commandGlobalFlags() []urfave.Flag {
	fs := globalFlags()
	for _, f := range fs {
		sf := f.(*urfave.StringFlag)
		if sf.Value != "" {
			sf.Usage += " (default: " + sf.Value + ")"
		}
		if len(sf.EnvVars) > 0 {
			sf.Usage += " [$" + strings.Join(sf.EnvVars, ", $") + "]"
		}
		sf.Value, sf.EnvVars = "", nil
	}
	return fs
}

// global is the value of a global flag: written after the command (or a subcommand), else
// written before it, else its environment variable, else its default. c.String alone would
// read the command's own copy of the flag and ignore `envctl --backend mesos up`.
func global(c *urfave.Context, name string) string {
	// Innermost first: a command's copy is set only when written after it; the application's
	// flag is set when written before the command or given by its environment variable.
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	for _, f := range globalFlags() {
		if sf := f.(*urfave.StringFlag); sf.Name == name {
			return sf.Value
		}
	}
	return ""
}

// outputFlag is -o on every command that reports.
func outputFlag() urfave.Flag {
	return &urfave.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "text or json"}
}

// outputFormat validates -o.
func outputFormat(c *urfave.Context) (string, error) {
	o := c.String("output")
	switch o {
	case "text", "json":
		return o, nil
	}
	return "", usageErr("-o %q: want text or json", o)
}

// getenv is os.Getenv, kept in one place so tests of the CLI see the process environment.
var getenv = os.Getenv

// checkGlobalFlags rejects a bad --backend on every command, also those that do not open one,
// so a typo in a CI script shows up at once.
func checkGlobalFlags(c *urfave.Context) error {
	if err := checkClock(); err != nil { // ENVCTL_NOW, see clock.go
		return err
	}
	backend := global(c, "backend")
	if _, ok := backends[backend]; !ok {
		return usageErr("--backend %q: unknown backend; choose one of %s", backend, backendNames())
	}
	if backend == "mesos" && global(c, "mesos-master") == "" {
		return usageErr("--backend mesos needs --mesos-master http://HOST:PORT (or ENVCTL_MESOS_MASTER)")
	}
	switch ct := global(c, "mesos-containerizer"); ct {
	case mesos.ContainerizerDocker, mesos.ContainerizerMesos:
	default:
		return usageErr("--mesos-containerizer %q (or %s): choose %s or %s", ct, envMesosContainerizer, mesos.ContainerizerDocker, mesos.ContainerizerMesos)
	}
	if r := global(c, "registry"); r != "" {
		if err := checkRegistry(r); err != nil {
			return usageErr("--registry %q (or %s): %v", r, envRegistry, err)
		}
	}
	return nil
}

// interspersed moves a command's flags in front of its arguments, so that
// `envctl down shop --grace 0` works like `envctl down --grace 0 shop`: urfave/cli v2 stops
// reading flags at the first argument. Everything after "--" stays as it is (run's CMD).
func interspersed(app *urfave.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// The command is the first word that is not a global flag or its value.
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" || (cmd.Name == "exec" && len(positional) >= 2) {
			// exec NAME SERVICE CMD...: CMD's own flags are CMD's, with or without "--".
			positional = append(positional, rest[j:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) && j+1 < len(rest) {
				j++
				flags = append(flags, rest[j])
			}
			continue
		}
		if cmd.Name == "run" {
			// run's CMD may be given without "--": all from its first word on is CMD's.
			positional = append(positional, rest[j:]...)
			break
		}
		positional = append(positional, a)
	}
	out := append([]string{}, args[:i+1]...)
	out = append(out, flags...)
	return append(out, positional...)
}

// takesValue tells whether arg ("--name", "-f", not "--name=x") is a flag that reads the next
// argument as its value.
func takesValue(flags []urfave.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*urfave.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

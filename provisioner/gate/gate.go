package gate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// Command is the hidden first argument that makes envctl act as the gate.
const Command = "__gate"

const (
	// Mount is where the read-only volume holding the gate binary is mounted in a gated
	// container, and Binary the gate's path there.
	Mount  = "/.envctl"
	Binary = Mount + "/envctl"
	// Dir holds the gate's markers, in the container's own writable layer. The gate makes it
	// when it runs as root; for any other user envctl puts it there (mode 1777) at create.
	Dir = "/.envctl-run"
	// Armed exists once the gate catches SIGUSR1; Released once it was released.
	Armed    = Dir + "/armed"
	Released = Dir + "/released"
)

// Main runs the gate with args, the arguments after Command: "--" then the service's argv. It
// returns only on failure or when stopped before release; on release it execs.
func Main(args []string) int {
	return run(args, os.Stderr)
}

func run(args []string, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "--" {
		fmt.Fprintln(stderr, "envctl gate: usage: envctl "+Command+" -- COMMAND [ARG...]")
		return 2
	}
	argv := args[1:]
	if _, err := os.Stat(Released); err == nil {
		return execute(argv, stderr)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	if err := os.Mkdir(Dir, 0o1777); err == nil {
		_ = os.Chmod(Dir, 0o1777) // Mkdir's mode went through the umask
	}
	if err := touch(Armed); err != nil {
		// envctl waits for Armed; without it the container exits and envctl says why.
		fmt.Fprintf(stderr, "envctl gate: %v\n", err)
		return 125
	}
	for sig := range sigs {
		if sig != syscall.SIGUSR1 {
			return 128 + int(sig.(syscall.Signal))
		}
		// Before the exec: a restarted container must not wait again.
		if err := touch(Released); err != nil {
			fmt.Fprintf(stderr, "envctl gate: %v\n", err)
			return 125
		}
		return execute(argv, stderr)
	}
	return 125
}

func touch(p string) error {
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// execute replaces the gate by argv as runc would start it: argv[0] looked up in the PATH of
// the container's environment unless it holds a slash, the environment exactly as the
// process got it. It returns only on failure, with the shell's statuses (127 not found, 126
// not executable) and a line on stderr, the one thing the gate ever prints.
func execute(argv []string, stderr io.Writer) int {
	path := argv[0]
	if !strings.Contains(path, "/") {
		p, err := exec.LookPath(path)
		if err != nil && !errors.Is(err, exec.ErrDot) {
			fmt.Fprintf(stderr, "envctl gate: exec %q: executable file not found in $PATH\n", path)
			return 127
		}
		path = p
	}
	err := syscall.Exec(path, argv, environ())
	fmt.Fprintf(stderr, "envctl gate: exec %q: %v\n", argv[0], err)
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}

// environ is the environment the process was started with, byte for byte from
// /proc/self/environ (os.Environ drops duplicate names once the environment was read),
// falling back to os.Environ.
func environ() []string {
	b, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		return os.Environ()
	}
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return []string{}
	}
	return strings.Split(string(b), "\x00")
}

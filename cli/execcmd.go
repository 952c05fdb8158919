package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	urfave "github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/envctl/envctl/provisioner"
)

func execCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "exec",
		Usage:     "run a command inside a running service: exec NAME SERVICE -- CMD [ARG...] (exit status passed through)",
		ArgsUsage: "NAME SERVICE -- CMD [ARG...]",
		Action: func(c *urfave.Context) error {
			args := c.Args().Slice()
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
			if len(args) < 3 {
				return usageErr("exec takes NAME SERVICE -- CMD [ARG...]")
			}
			name, service, argv := args[0], args[1], args[2:]
			if argv[0] == "--" {
				argv = argv[1:]
			}
			if len(argv) == 0 {
				return usageErr("exec: no command after %s %s --", name, service)
			}
			if !validName(name) {
				return usageErr("%q is not an environment name", name)
			}
			s, err := openServices[provisioner.InteractiveExecer](c, name, []string{service}, "the %s backend cannot run commands in a service")
			if err != nil {
				return err
			}
			defer s.close()
			in, ex, inst := s.in, s.can, s.selected[0]
			if inst.State != provisioner.StateRunning {
				return &exitError{code: ExitFailed, err: fmt.Errorf("service %q of %q is %s, not running", service, name, inst.State)}
			}
			learnSecrets(in.Work, c, s.b, name, s.selected)

			streams := provisioner.ExecIO{Stdin: c.App.Reader, Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
			// A terminal on stdin gets a terminal in the container (like docker exec -it):
			// raw mode here, the size followed through SIGWINCH.
			if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				fd := int(f.Fd())
				state, err := term.MakeRaw(fd)
				if err == nil {
					defer term.Restore(fd, state)
				}
				streams.TTY = true
				resize := make(chan [2]uint, 1)
				send := func() {
					if w, h, err := term.GetSize(fd); err == nil {
						select {
						case resize <- [2]uint{uint(h), uint(w)}:
						default:
						}
					}
				}
				send()
				winch := make(chan os.Signal, 1)
				signal.Notify(winch, syscall.SIGWINCH)
				defer signal.Stop(winch)
				go func() {
					for range winch {
						send()
					}
				}()
				streams.Resize = resize
			} else if isDevNull(c.App.Reader) {
				streams.Stdin = nil
			}
			code, err := ex.ExecStream(in.Work, inst, argv, streams)
			if err != nil {
				if in.Work.Err() != nil {
					return silentExit(ExitInterrupted)
				}
				return &exitError{code: ExitFailed, err: err}
			}
			if code != 0 {
				return silentExit(code)
			}
			return nil
		},
	}
}

// isDevNull tells whether r is /dev/null, which exec need not attach.
func isDevNull(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(st, null)
}

package cli

import (
	"context"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/docker"
)

// backends is the explicit table of backends (no registration from init): the name --backend
// takes, and how to open it.
var backends = map[string]func(ctx context.Context, c *urfave.Context) (provisioner.Backend, error){
	"docker": func(ctx context.Context, _ *urfave.Context) (provisioner.Backend, error) {
		return docker.New(ctx)
	},
}

func backendNames() string {
	names := make([]string, 0, len(backends))
	for n := range backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// openBackend connects to the backend that --backend names. An unknown name is a usage error;
// a backend that does not answer is exit code 3.
func openBackend(ctx context.Context, c *urfave.Context) (provisioner.Backend, error) {
	name := c.String("backend")
	open, ok := backends[name]
	if !ok {
		return nil, usageErr("--backend %q: unknown backend; choose one of %s", name, backendNames())
	}
	b, err := open(ctx, c)
	if err != nil {
		return nil, &exitError{code: exitCodeOf(err), err: err}
	}
	return b, nil
}

func exitCodeOf(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errorsIs(err, provisioner.ErrUnreachable):
		return ExitUnreachable
	case errorsIs(err, provisioner.ErrInterrupted), errorsIs(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitFailed
}

// interrupts turns the first Ctrl-C (SIGINT or SIGTERM) into the cancellation of the work
// context, and the second into the cancellation of the cleanup context: design.md §3 — the
// first stops launching and rolls back, the second leaves things as they are.
type interrupts struct {
	Work, Cleanup         context.Context
	stopWork, stopCleanup context.CancelFunc
	ch                    chan os.Signal
	done                  chan struct{}
	count                 int
}

func watchInterrupts(parent context.Context, onFirst func()) *interrupts {
	in := &interrupts{ch: make(chan os.Signal, 2), done: make(chan struct{})}
	in.Work, in.stopWork = context.WithCancel(parent)
	in.Cleanup, in.stopCleanup = context.WithCancel(context.WithoutCancel(parent))
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for {
			select {
			case <-in.done:
				return
			case <-in.ch:
				in.count++
				if in.count == 1 {
					if onFirst != nil {
						onFirst()
					}
					in.stopWork()
				} else {
					in.stopCleanup()
				}
			}
		}
	}()
	return in
}

func (in *interrupts) Stop() {
	signal.Stop(in.ch)
	close(in.done)
	in.stopWork()
	in.stopCleanup()
}

// cleanupContext bounds a rollback or down that follows an interruption.
func (in *interrupts) cleanupContext(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(in.Cleanup, d)
}

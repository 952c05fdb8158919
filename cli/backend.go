package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/docker"
	"github.com/envctl/envctl/provisioner/mesos"
)

// backends is the explicit table of backends (no registration from init): the name --backend
// takes, and how to open it.
var backends = map[string]func(ctx context.Context, c *urfave.Context) (provisioner.Backend, error){
	"docker": func(ctx context.Context, c *urfave.Context) (provisioner.Backend, error) {
		b, err := docker.New(ctx)
		if err != nil {
			return nil, err
		}
		b.SetNotice(func(msg string) { fmt.Fprintln(c.App.ErrWriter, "envctl: note: "+msg) })
		if err := b.SetReach(global(c, "reach")); err != nil {
			b.Close()
			return nil, usageErr("--reach (or %s): %v", provisioner.EnvReach, err)
		}
		return b, nil
	},
	"mesos": func(ctx context.Context, c *urfave.Context) (provisioner.Backend, error) {
		probe := global(c, "mesos-probe")
		switch probe {
		case "", "auto", mesos.ProbeEnvctl, mesos.ProbeMesos:
		default:
			return nil, usageErr("--mesos-probe (or %s) = %q: want auto, envctl or mesos", mesos.EnvProbe, probe)
		}
		return mesos.New(ctx, mesos.Options{Master: global(c, "mesos-master"), Principal: global(c, "mesos-principal"), Secret: global(c, "mesos-secret"),
			Role: global(c, "mesos-role"), Probe: probe, Containerizer: global(c, "mesos-containerizer"),
			Notice: func(msg string) { fmt.Fprintln(c.App.ErrWriter, "envctl: note: "+msg) }})
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
	name := global(c, "backend")
	open, ok := backends[name]
	if !ok {
		return nil, usageErr("--backend %q: unknown backend; choose one of %s", name, backendNames())
	}
	b, err := open(ctx, c)
	var ee *exitError
	if errors.As(err, &ee) {
		return nil, err
	}
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
	Work, Cleanup context.Context
	// mu guards say: the live display takes the interrupt message over while it draws, and the
	// signal arrives on another goroutine.
	mu                    sync.Mutex
	say                   func(string)
	stopWork, stopCleanup context.CancelFunc
	ch                    chan os.Signal
	done                  chan struct{}
	count                 int
}

func watchInterrupts(parent context.Context, onFirst func()) *interrupts {
	in := &interrupts{ch: make(chan os.Signal, 2), done: make(chan struct{})}
	if onFirst == nil {
		onFirst = func() {}
	}
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
					onFirst()
					in.stopWork()
				} else {
					in.stopCleanup()
				}
			}
		}
	}()
	return in
}

// announce prints a message about the interruption where the user sees it: through the live
// display while one draws (anything else written would be drawn over), else to w.
func (in *interrupts) announce(w io.Writer, msg string) {
	in.mu.Lock()
	say := in.say
	in.mu.Unlock()
	if say != nil {
		say(msg)
		return
	}
	fmt.Fprintln(w, msg)
}

// sayThrough routes announcements through say until it is called with nil.
func (in *interrupts) sayThrough(say func(string)) {
	in.mu.Lock()
	in.say = say
	in.mu.Unlock()
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

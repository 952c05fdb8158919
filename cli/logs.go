package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
)

func logsCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "logs",
		Usage:     "print services' output, each line prefixed by its service",
		ArgsUsage: "NAME [SERVICE...]",
		Flags: []urfave.Flag{
			// -f is follow here, as in docker logs and tail; the file is --file.
			&urfave.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new output until interrupted"},
			&urfave.DurationFlag{Name: "since", Usage: "only output of the last D (e.g. 5m)"},
			&urfave.IntFlag{Name: "tail", Usage: "only the last N lines of each service (0: all)"},
			&urfave.StringSliceFlag{Name: "file", Usage: "with no NAME: take the name from this environment file"},
		},
		Action: func(c *urfave.Context) error {
			name, services, err := envArg(c, true)
			if err != nil {
				return err
			}
			s, err := openServices[provisioner.LogReader](c, name, services, "the %s backend cannot read logs")
			if err != nil {
				return err
			}
			defer s.close()
			in, lr, insts := s.in, s.can, s.selected
			learnSecrets(in.Work, c, s.b, name, insts)
			opt := provisioner.LogOptions{Follow: c.Bool("follow"), Tail: c.Int("tail")}
			if d := c.Duration("since"); d > 0 {
				opt.Since = time.Now().Add(-d)
			}
			width := 0
			for _, inst := range insts {
				width = max(width, len(inst.Service))
			}
			var mu sync.Mutex // one line at a time on the shared writer, whatever the streams do
			var wg sync.WaitGroup
			errs := make([]error, len(insts))
			for i, inst := range insts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pw := &prefixWriter{w: c.App.Writer, mu: &mu, prefix: fmt.Sprintf("%-*s | ", width, inst.Service)}
					errs[i] = lr.Logs(in.Work, inst, opt, pw)
					pw.flush()
				}()
			}
			wg.Wait()
			if in.Work.Err() != nil {
				if opt.Follow {
					return nil // Ctrl-C is how -f ends
				}
				return silentExit(ExitInterrupted)
			}
			for i, err := range errs {
				if err != nil && err != context.Canceled {
					return &exitError{code: ExitFailed, err: fmt.Errorf("logs of %s: %w", insts[i].Service, err)}
				}
			}
			return nil
		},
	}
}

// selectServices keeps the named services; an unknown name is a usage error naming the ones
// there are.
func selectServices(insts []provisioner.Instance, names []string, env string) ([]provisioner.Instance, error) {
	if len(names) == 0 {
		return insts, nil
	}
	var out []provisioner.Instance
	for _, n := range names {
		found := false
		for _, inst := range insts {
			if inst.Service == n {
				out = append(out, inst)
				found = true
			}
		}
		if !found {
			have := make([]string, 0, len(insts))
			for _, inst := range insts {
				have = append(have, inst.Service)
			}
			return nil, usageErr("environment %q has no service %q; it has %v", env, n, have)
		}
	}
	return out, nil
}

// prefixWriter prefixes each complete line with its service's name, and writes it whole under
// the shared lock so lines of different services never interleave.
type prefixWriter struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.mu.Lock()
		_, err := io.WriteString(p.w, p.prefix+string(p.buf[:i+1]))
		p.mu.Unlock()
		if err != nil {
			return 0, err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.mu.Lock()
		_, _ = io.WriteString(p.w, p.prefix+string(p.buf)+"\n")
		p.mu.Unlock()
		p.buf = nil
	}
}

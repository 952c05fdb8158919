package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
)

func restartCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "restart",
		Usage:     "restart services and the services that depend on them, waiting until each is ready again (no file needed)",
		ArgsUsage: "NAME SERVICE...",
		Flags: []urfave.Flag{
			&urfave.DurationFlag{Name: "grace", Value: defaultGrace, Usage: "how long a service gets to stop before it is killed"},
		},
		Action: func(c *urfave.Context) error {
			args := c.Args().Slice()
			if len(args) < 2 {
				return usageErr("restart takes NAME SERVICE...")
			}
			name, services := args[0], args[1:]
			if !validName(name) {
				return usageErr("%q is not an environment name", name)
			}
			s, err := openServices[provisioner.Restarter](c, name, services, "the %s backend cannot restart a service in place; run envctl up again instead")
			if err != nil {
				return err
			}
			defer s.close()
			in, b, rs, all := s.in, s.b, s.can, s.all
			order := restartOrder(all, services)
			byService := map[string]provisioner.Instance{}
			for _, inst := range all {
				byService[inst.Service] = inst
			}
			learnSecrets(in.Work, c, b, name, all)
			for _, svc := range order {
				inst := byService[svc]
				began := time.Now()
				fmt.Fprintf(c.App.ErrWriter, "%s: restarting\n", svc)
				inst, err := rs.Restart(in.Work, inst, c.Duration("grace"))
				if err == nil {
					spec := provisioner.ParseReady(inst.Labels[provisioner.LabelReady])
					once := inst.Labels[provisioner.LabelRun] == "once"
					if nr, ok := b.(provisioner.NativeReadiness); ok && !once && nr.ChecksNatively(inst, spec, once) {
						err = nr.WaitReady(in.Work, inst, spec, nil)
					} else {
						// The container keeps its old output: a log probe must see only
						// what the restarted process printed.
						err = provisioner.WaitReady(in.Work, sinceLogs{b, began}, inst, spec, once, nil)
					}
				}
				if err != nil {
					if in.Work.Err() != nil {
						return silentExit(ExitInterrupted)
					}
					return &exitError{code: ExitFailed, err: fmt.Errorf("restart %s: %w", svc, err)}
				}
				fmt.Fprintf(c.App.ErrWriter, "%s: ready again in %s\n", svc, time.Since(began).Round(10*time.Millisecond))
			}
			return nil
		},
	}
}

// restartOrder is the named services and every running service that depends on them,
// directly or not, dependencies first. A job among the dependents is left alone (it did its
// work; running it again is not what restarting its dependency asks), unless named.
func restartOrder(insts []provisioner.Instance, named []string) []string {
	deps := map[string][]string{}
	once := map[string]bool{}
	var names []string
	for _, inst := range insts {
		if _, seen := deps[inst.Service]; !seen {
			names = append(names, inst.Service)
		}
		deps[inst.Service] = provisioner.ParseDeps(inst.Labels[provisioner.LabelDeps])
		once[inst.Service] = inst.Labels[provisioner.LabelRun] == "once"
	}
	sort.Strings(names)
	affected := map[string]bool{}
	for _, n := range named {
		affected[n] = true
	}
	for changed := true; changed; {
		changed = false
		for _, n := range names {
			if affected[n] || once[n] {
				continue
			}
			for _, d := range deps[n] {
				if affected[d] {
					affected[n], changed = true, true
					break
				}
			}
		}
	}
	var set []string
	for _, n := range names {
		if affected[n] {
			set = append(set, n)
		}
	}
	order := provisioner.DependentsFirst(set, func(n string) []string { return deps[n] })
	slices.Reverse(order)
	return order
}

// sinceLogs is a backend whose logs start at since: the log probe of a restarted service must
// not match the line its previous run printed.
type sinceLogs struct {
	provisioner.Backend
	since time.Time
}

func (s sinceLogs) Logs(ctx context.Context, inst provisioner.Instance, opt provisioner.LogOptions, w io.Writer) error {
	lr, ok := s.Backend.(provisioner.LogReader)
	if !ok {
		return fmt.Errorf("the %s backend cannot read logs", s.Name())
	}
	if opt.Since.IsZero() {
		opt.Since = s.since
	}
	return lr.Logs(ctx, inst, opt, w)
}

func (s sinceLogs) Inspect(ctx context.Context, inst provisioner.Instance) (provisioner.Instance, error) {
	if in, ok := s.Backend.(provisioner.Inspector); ok {
		return in.Inspect(ctx, inst)
	}
	return inst, nil
}

func (s sinceLogs) Exec(ctx context.Context, inst provisioner.Instance, argv []string) (int, []byte, error) {
	ex, ok := s.Backend.(provisioner.Execer)
	if !ok {
		return 0, nil, fmt.Errorf("the %s backend cannot run commands", s.Name())
	}
	return ex.Exec(ctx, inst, argv)
}

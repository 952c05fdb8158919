package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
)

func downCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "down",
		Usage:     "remove environments: NAME..., --all or --expired (no file needed)",
		ArgsUsage: "[NAME...]",
		Flags: []urfave.Flag{
			&urfave.BoolFlag{Name: "all", Usage: "remove every environment envctl created"},
			&urfave.BoolFlag{Name: "expired", Usage: "remove the environments whose TTL has passed"},
			&urfave.DurationFlag{Name: "grace", Value: defaultGrace, Usage: "how long a service gets to stop before it is killed"},
			&urfave.IntFlag{Name: "parallel", Value: defaultParallel, Usage: "at most this many removals at once"},
			&urfave.BoolFlag{Name: "keep-volumes", Usage: "keep the environment's named volumes (the next up finds their data again)"},
			&urfave.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "with no NAME: take the name from this environment file"},
			outputFlag(),
		},
		Action: func(c *urfave.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			all, expired, names := c.Bool("all"), c.Bool("expired"), c.Args().Slice()
			if (all && expired) || ((all || expired) && len(names) > 0) {
				return usageErr("down takes NAME..., --all or --expired: one of them")
			}
			if !all && !expired && len(names) == 0 {
				name, err := nameFromFile(c)
				if err != nil {
					return err
				}
				names = []string{name}
			}
			if c.Int("parallel") < 1 {
				return usageErr("--parallel %d: want 1 or more", c.Int("parallel"))
			}
			for _, n := range names {
				if !validName(n) {
					return usageErr("%q is not an environment name: names are lowercase letters, digits and '-', at most 63", n)
				}
			}
			in := watchInterrupts(c.Context, nil)
			defer in.Stop()
			b, err := openBackend(in.Work, c)
			if err != nil {
				return err
			}
			defer b.Close()
			if all || expired {
				found, err := listEnvironments(in.Work, b)
				if err != nil {
					return &exitError{code: exitCodeOf(err), err: err}
				}
				now := clockNow() // ENVCTL_NOW: see clock.go
				for _, e := range found {
					if all || (!e.Expires.IsZero() && !now.Before(e.Expires)) {
						names = append(names, e.Name)
					}
				}
			}
			return removeEnvironments(in.Work, c, b, names, format, nil)
		},
	}
}

// removeEnvironments downs each named environment and reports. An environment that does not
// exist is an error for an explicit NAME (a typo should not pass silently) but not for --all.
//
// more, when not nil, runs after the environments are removed: it adds its own findings to
// the JSON document and returns how many of them failed.
func removeEnvironments(ctx context.Context, c *urfave.Context, b provisioner.Backend, names []string, format string, more func(doc map[string]any) int) error {
	type removedDoc struct {
		Name      string `json:"name"`
		Instances int    `json:"instances"`
		Error     string `json:"error,omitempty"`
	}
	docs := []removedDoc{}
	failed := 0
	explicit := c.NArg() > 0
	for _, name := range names {
		if explicit {
			if ok, err := environmentExists(ctx, b, name); err != nil {
				return &exitError{code: exitCodeOf(err), err: err}
			} else if !ok && !upWasKilled(b.Name(), name) { // a killed up's creates may be landing
				docs = append(docs, removedDoc{Name: name, Error: "no such environment"})
				fmt.Fprintf(c.App.ErrWriter, "envctl: no environment %q (envctl ls lists them)\n", name)
				failed++
				continue
			}
		}
		unlock, err := lockEnv(ctx, b.Name(), name, c.App.ErrWriter)
		if err != nil {
			return silentExit(ExitInterrupted)
		}
		began := time.Now()
		progress := newProgressFor(c.App.ErrWriter, nil, nil)
		opts := provisioner.Options{Parallel: c.Int("parallel"), Grace: c.Duration("grace"), Events: progress.event, KeepVolumes: c.Bool("keep-volumes")}
		killed := upWasKilled(b.Name(), name)
		if killed {
			opts.Settle = killedUpSettle // the killed up's last creates may still land
		}
		n, err := provisioner.Down(ctx, b, name, opts)
		if err == nil && killed {
			_ = os.Remove(upMarkerPath(b.Name(), name)) // handled: the next down need not wait
		}
		d := removedDoc{Name: name, Instances: n}
		if err != nil {
			progress.close("")
			d.Error = err.Error()
			failed++
			fmt.Fprintf(c.App.ErrWriter, "envctl: environment %q: %v\n", name, err)
		} else {
			progress.close(fmt.Sprintf("Removed environment %q (%s) in %s.", name, plural(n, "instance"), roundDuration(time.Since(began))))
		}
		unlock()
		docs = append(docs, d)
	}
	doc := map[string]any{"removed": docs}
	if more != nil && ctx.Err() == nil {
		failed += more(doc)
	}
	if format == "json" {
		if err := writeJSON(c.App.Writer, doc); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return silentExit(ExitInterrupted)
	}
	if failed > 0 {
		return silentExit(ExitFailed)
	}
	return nil
}

// killedUpSettle is how long down waits between looks at an environment whose up was killed:
// the engine finishes an orphaned create within a second when idle, over 2 s when loaded, so
// provisioner.Down keeps looking (and removing) for at least 3 s.
const killedUpSettle = time.Second

// environmentExists tells whether the backend holds anything of the environment.
func environmentExists(ctx context.Context, b provisioner.Backend, name string) (bool, error) {
	found, err := listEnvironments(ctx, b)
	if err != nil {
		return false, err
	}
	for _, e := range found {
		if e.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// nameFromFile reads the environment name from the file in the current directory (or -f), for
// commands given no NAME.
func nameFromFile(c *urfave.Context) (string, error) {
	paths := c.StringSlice("file")
	if len(paths) == 0 {
		if _, err := os.Stat("envctl.hcl"); err != nil {
			return "", usageErr("%s needs an environment NAME (or run it where envctl.hcl is, or give -f)", c.Command.Name)
		}
	}
	env, err := loadEnv(c)
	if err != nil {
		return "", err
	}
	return env.Name, nil
}

func gcCommand() *urfave.Command {
	return &urfave.Command{
		Name:  "gc",
		Usage: "remove expired environments and the probe agent's stale images",
		Flags: []urfave.Flag{
			&urfave.BoolFlag{Name: "dry-run", Usage: "only list what would be removed"},
			&urfave.IntFlag{Name: "parallel", Value: defaultParallel, Usage: "at most this many removals at once"},
			&urfave.DurationFlag{Name: "grace", Value: defaultGrace, Usage: "how long a service gets to stop before it is killed"},
			outputFlag(),
		},
		Action: func(c *urfave.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			in := watchInterrupts(c.Context, nil)
			defer in.Stop()
			b, err := openBackend(in.Work, c)
			if err != nil {
				return err
			}
			defer b.Close()
			names, err := expiredEnvironments(in.Work, b, clockNow())
			if err != nil {
				return &exitError{code: exitCodeOf(err), err: err}
			}
			// Besides environments, gc removes the probe agent's stale images (one per envctl
			// build would pile up otherwise); what it removes is said on stderr, so that the
			// dry run's stdout stays the list of expired environments.
			if c.Bool("dry-run") {
				images, failed := sweepAgentImages(in.Work, b, true, c.App.ErrWriter)
				if format == "json" {
					if err := writeJSON(c.App.Writer, map[string]any{"expired": append([]string{}, names...), "agent_images": images}); err != nil {
						return err
					}
				} else {
					for _, n := range names {
						fmt.Fprintln(c.App.Writer, n)
					}
				}
				if failed > 0 {
					return silentExit(ExitFailed)
				}
				return nil
			}
			if len(names) == 0 && format == "text" {
				fmt.Fprintln(c.App.ErrWriter, "No expired environments.")
			}
			return removeEnvironments(in.Work, c, b, names, format, func(doc map[string]any) int {
				images, failed := sweepAgentImages(in.Work, b, false, c.App.ErrWriter)
				doc["agent_images"] = images
				// The gate's volumes of other envctl builds that nothing mounts: quietly,
				// like a cache (each is one binary, refilled when needed).
				if s, ok := b.(interface {
					SweepGateVolumes(ctx context.Context) ([]string, error)
				}); ok && in.Work.Err() == nil {
					_, _ = s.SweepGateVolumes(in.Work)
				}
				return failed
			})
		},
	}
}

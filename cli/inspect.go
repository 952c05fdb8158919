package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

func lsCommand() *urfave.Command {
	return &urfave.Command{
		Name:  "ls",
		Usage: "list environments: name, backend, services ready/total, cpus and memory held, age, expiry",
		Flags: []urfave.Flag{outputFlag()},
		Action: func(c *urfave.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			b, err := openBackend(c.Context, c)
			if err != nil {
				return err
			}
			defer b.Close()
			found, err := listEnvironments(c.Context, b)
			if err != nil {
				return &exitError{code: exitCodeOf(err), err: err}
			}
			now := clockNow() // ENVCTL_NOW: see clock.go
			if format == "json" {
				type envDoc struct {
					Name     string  `json:"name"`
					Backend  string  `json:"backend"`
					Services int     `json:"services"`
					Ready    int     `json:"ready"`
					CPUs     float64 `json:"cpus"`
					Memory   int64   `json:"memory_bytes"`
					Created  string  `json:"created,omitempty"`
					Expires  string  `json:"expires,omitempty"`
					Expired  bool    `json:"expired"`
				}
				docs := []envDoc{}
				for _, e := range found {
					d := envDoc{Name: e.Name, Backend: b.Name(), Services: e.Services, Ready: e.Ready, CPUs: roundCPUs(e.CPUs), Memory: e.Memory, Created: rfc3339(e.Created), Expires: rfc3339(e.Expires)}
					d.Expired = !e.Expires.IsZero() && !now.Before(e.Expires)
					docs = append(docs, d)
				}
				return writeJSON(c.App.Writer, map[string]any{"environments": docs})
			}
			if len(found) == 0 {
				fmt.Fprintln(c.App.ErrWriter, "No environments.")
				return nil
			}
			w := c.App.Writer
			fmt.Fprintf(w, "%-24s %-8s %-8s %-6s %-8s %-8s %s\n", "NAME", "BACKEND", "READY", "CPUS", "MEM", "AGE", "EXPIRES")
			for _, e := range found {
				exp := "never"
				if !e.Expires.IsZero() {
					if now.Before(e.Expires) {
						exp = "in " + roughDuration(e.Expires.Sub(now))
					} else {
						exp = "expired"
					}
				}
				age := "-"
				if !e.Created.IsZero() {
					age = roughDuration(now.Sub(e.Created))
				}
				cpus, mem := "-", "-"
				if e.CPUs > 0 {
					cpus = strconv.FormatFloat(roundCPUs(e.CPUs), 'f', -1, 64)
				}
				if e.Memory > 0 {
					mem = humanBytes(e.Memory)
				}
				fmt.Fprintf(w, "%-24s %-8s %-8s %-6s %-8s %-8s %s\n", e.Name, b.Name(), fmt.Sprintf("%d/%d", e.Ready, e.Services), cpus, mem, age, exp)
			}
			return nil
		},
	}
}

// roundCPUs drops the float noise of a sum of cpus (0.1+0.2): Mesos itself keeps three
// decimals.
func roundCPUs(c float64) float64 { return math.Round(c*1000) / 1000 }

// humanBytes renders a memory size as people read it: 192Mi, 1.5Gi (- is none).
func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(math.Round(float64(n)/(1<<30)*10)/10, 'f', -1, 64) + "Gi"
	case n >= 1<<20:
		return strconv.FormatFloat(math.Round(float64(n)/(1<<20)), 'f', -1, 64) + "Mi"
	}
	return strconv.FormatInt(n>>10, 10) + "Ki"
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// roughDuration is an age as people say it: 45s, 12m, 3h, 2d.
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// envArg reads the one NAME argument of status, env and logs (or the file's name).
func envArg(c *urfave.Context, extra bool) (string, []string, error) {
	args := c.Args().Slice()
	if len(args) == 0 {
		name, err := nameFromFile(c)
		return name, nil, err
	}
	if !extra && len(args) > 1 {
		return "", nil, usageErr("%s takes one environment NAME", c.Command.Name)
	}
	if !validName(args[0]) {
		return "", nil, usageErr("%q is not an environment name", args[0])
	}
	return args[0], args[1:], nil
}

// openEnv reads the one NAME argument of status and env, opens the backend and observes that
// environment. The caller closes the backend.
func openEnv(c *urfave.Context) (string, provisioner.Backend, []provisioner.Instance, error) {
	name, _, err := envArg(c, false)
	if err != nil {
		return "", nil, nil, err
	}
	b, err := openBackend(c.Context, c)
	if err != nil {
		return "", nil, nil, err
	}
	insts, err := observeEnv(c.Context, b, name)
	if err != nil {
		b.Close()
		return "", nil, nil, err
	}
	return name, b, insts, nil
}

// observeEnv reads one environment's instances; an environment with nothing is an error.
func observeEnv(ctx context.Context, b provisioner.Backend, name string) ([]provisioner.Instance, error) {
	insts, err := b.Observe(ctx, name)
	if err != nil {
		return nil, &exitError{code: exitCodeOf(err), err: err}
	}
	if len(insts) == 0 {
		return nil, &exitError{code: ExitFailed, err: fmt.Errorf("no environment %q (envctl ls lists them)", name)}
	}
	sort.Slice(insts, func(i, j int) bool { return insts[i].Service < insts[j].Service })
	return insts, nil
}

func fileFlagOnly() urfave.Flag {
	return &urfave.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "with no NAME: take the name from this environment file"}
}

func statusCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "status",
		Usage:     "show an environment's services: state, readiness, endpoints",
		ArgsUsage: "NAME",
		Flags: []urfave.Flag{outputFlag(), fileFlagOnly(),
			&urfave.StringFlag{Name: "diagnostics", Usage: "also write each service's logs, inspect output and readiness check under this directory, as up --diagnostics does for a failed up (for a test that failed against a running environment)"}},
		Action: func(c *urfave.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			name, b, insts, err := openEnv(c)
			if err != nil {
				return err
			}
			defer b.Close()
			learnSecrets(c.Context, c, b, name, insts)
			rows := statusRows(c.Context, b, insts)
			reach := reachOf(b, name)
			if dir := c.String("diagnostics"); dir != "" {
				where, err := writeDiagnostics(c.Context, dir, b, &envs.Environment{Name: name}, nil, liveResult(name, b.Name(), insts, rows), redactorOf(c))
				if err != nil {
					fmt.Fprintf(c.App.ErrWriter, "warning: diagnostics incomplete: %v\n", err)
				}
				fmt.Fprintf(c.App.ErrWriter, "Diagnostics written to %s\n", where)
			}
			if format == "json" {
				doc := map[string]any{"name": name, "backend": b.Name(), "services": rows}
				if reach != nil {
					doc["reach"] = reach
				}
				return writeJSON(c.App.Writer, doc)
			}
			renderStatus(c.App.Writer, name, b.Name(), rows)
			if reach != nil {
				fmt.Fprintf(c.App.Writer, "Reached: %s (%s).\n", reach.Way, reach.Why)
			}
			return nil
		},
	}
}

type statusRow struct {
	Name      string            `json:"name"`
	State     string            `json:"state"`
	Ready     bool              `json:"ready"`
	Probe     string            `json:"-"`
	ProbeDoc  *probeDoc         `json:"probe"`
	ExitCode  *int              `json:"exit_code,omitempty"`
	Endpoints map[string]string `json:"endpoints"`
	Started   string            `json:"started,omitempty"`
	DependsOn []string          `json:"depends_on"`
	BlockedBy string            `json:"blocked_by,omitempty"`
	// UnreachableSince is when the backend lost its host (state "unreachable").
	UnreachableSince string `json:"unreachable_since,omitempty"`
}

// statusRows checks every instance's readiness now, with one probe attempt each, from the
// readiness check recorded in its labels: status needs no file.
func statusRows(ctx context.Context, b provisioner.Backend, insts []provisioner.Instance) []statusRow {
	rows := make([]statusRow, len(insts))
	done := make(chan struct{})
	for i, inst := range insts {
		go func() {
			defer func() { done <- struct{}{} }()
			row := statusRow{Name: inst.Service, State: inst.State.String(), Endpoints: map[string]string{}, DependsOn: provisioner.ParseDeps(inst.Labels[provisioner.LabelDeps])}
			if row.DependsOn == nil {
				row.DependsOn = []string{}
			}
			for k, v := range inst.Published {
				row.Endpoints[k] = v
			}
			if !inst.Started.IsZero() {
				row.Started = rfc3339(inst.Started)
			}
			once := inst.Labels[provisioner.LabelRun] == "once"
			if inst.State == provisioner.StateExited {
				code := inst.ExitCode
				row.ExitCode = &code
			}
			switch {
			case once:
				row.Ready = inst.State == provisioner.StateExited && inst.ExitCode == 0
				row.Probe = "job: " + inst.State.String()
				if inst.State == provisioner.StateExited {
					row.Probe = fmt.Sprintf("job: exited %d", inst.ExitCode)
				}
			case inst.State == provisioner.StateUnreachable:
				row.Probe = "its host stopped answering"
				if inst.HostID != "" {
					row.Probe = "its host " + inst.HostID + " stopped answering"
				}
				if !inst.Unreachable.IsZero() {
					row.UnreachableSince = rfc3339(inst.Unreachable)
					row.Probe += " at " + row.UnreachableSince
				}
				row.Probe += "; envctl up replaces it"
			case inst.State != provisioner.StateRunning:
				row.Probe = "not running"
			default:
				ok, detail := provisioner.ProbeOnce(ctx, b, inst, provisioner.ParseReady(inst.Labels[provisioner.LabelReady]))
				row.Ready, row.Probe = ok, detail
			}
			row.ProbeDoc = &probeDoc{Kind: labelProbeKind(inst.Labels), Attempts: 1, OK: row.Ready, Last: row.Probe}
			rows[i] = row
		}()
	}
	for range insts {
		<-done
	}
	// Blocked-by: a service that is not ready because a dependency is not.
	byName := map[string]*statusRow{}
	for i := range rows {
		byName[rows[i].Name] = &rows[i]
	}
	for i := range rows {
		if rows[i].Ready {
			continue
		}
		for _, d := range rows[i].DependsOn {
			if dr, ok := byName[d]; ok && !dr.Ready {
				rows[i].BlockedBy = d + " (" + dr.Probe + ")"
				break
			} else if !ok {
				rows[i].BlockedBy = d + " (missing)"
				break
			}
		}
	}
	return rows
}

func renderStatus(w io.Writer, name, backend string, rows []statusRow) {
	ready := 0
	for _, r := range rows {
		if r.Ready {
			ready++
		}
	}
	fmt.Fprintf(w, "Environment %q on %s: %d/%d ready.\n", name, backend, ready, len(rows))
	fmt.Fprintf(w, "%-16s %-8s %-6s %-40s %s\n", "SERVICE", "STATE", "READY", "ENDPOINTS", "PROBE")
	for _, r := range rows {
		eps := make([]string, 0, len(r.Endpoints))
		for k, v := range r.Endpoints {
			eps = append(eps, k+"="+v)
		}
		sort.Strings(eps)
		epStr := strings.Join(eps, " ")
		if epStr == "" {
			epStr = "-"
		}
		yes := "no"
		if r.Ready {
			yes = "yes"
		}
		probe := r.Probe
		if r.BlockedBy != "" {
			probe += "; blocked by " + r.BlockedBy
		}
		fmt.Fprintf(w, "%-16s %-8s %-6s %-40s %s\n", r.Name, r.State, yes, epStr, probe)
	}
}

// learnSecrets teaches the redactor the sensitive values of an environment that a command
// reads without its file: from each instance (the values of the variables its LabelSensitive
// label names, which the backend reads back) and, when the environment file is at hand (-f, or
// envctl.hcl here) and names this environment, from the file's sensitive variables themselves —
// which also catches a secret a service prints on its own, not as a whole variable.
func learnSecrets(ctx context.Context, c *urfave.Context, b provisioner.Backend, name string, insts []provisioner.Instance) {
	red := redactorOf(c)
	if sr, ok := b.(provisioner.SecretReader); ok {
		for _, inst := range insts {
			if vals, err := sr.Secrets(ctx, inst); err == nil {
				red.add(vals...)
			}
		}
	}
	paths := c.StringSlice("file")
	if len(paths) == 0 {
		if _, err := os.Stat(envs.DefaultFile); err != nil {
			return
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return
	}
	env, _, diags := envs.Load(envs.Options{Paths: paths, Dir: wd, Environ: os.Environ()})
	if env != nil && !diags.HasErrors() && env.Name == name {
		red.add(env.Sensitive...)
	}
}

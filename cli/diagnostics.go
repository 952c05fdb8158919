package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

// writeProbes writes a probe history, one attempt a line, each line starting with prefix.
func writeProbes(w io.Writer, prefix string, probes []provisioner.ProbeResult) {
	for _, p := range probes {
		status := "fail"
		if p.OK {
			status = "ok"
		}
		fmt.Fprintf(w, "%s%s #%d %s: %s\n", prefix, p.At.UTC().Format("15:04:05.000"), p.Attempt, status, p.Detail)
	}
}

// writeProbeHistory writes every service's probe history of an up to path (up's hidden
// --probe-history: envtest keeps it for the diagnostics of a test that fails later).
func writeProbeHistory(path string, res *provisioner.Result) error {
	var b strings.Builder
	for _, s := range res.Services {
		writeProbes(&b, fmt.Sprintf("%-14s ", s.Service), s.Probes)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// liveResult describes a running environment as a Result for writeDiagnostics: each instance
// with its readiness checked now (status's rows) as its probe history.
func liveResult(name, backend string, insts []provisioner.Instance, rows []statusRow) *provisioner.Result {
	res := &provisioner.Result{Env: name, Backend: backend}
	now := time.Now()
	for i, inst := range insts {
		s := &provisioner.ServiceResult{Service: inst.Service, Instance: inst, Phase: provisioner.PhaseFailed}
		if rows[i].Ready {
			s.Phase = provisioner.PhaseReady
		}
		p := provisioner.ProbeResult{Attempt: 1, At: now, OK: rows[i].Ready, Detail: rows[i].Probe}
		s.LastProbe, s.Attempts, s.Probes = &p, 1, []provisioner.ProbeResult{p}
		res.Services = append(res.Services, s)
	}
	return res
}

// writeDiagnostics leaves, under dir/<env>/, what a person needs to understand a failed up
// once its containers are gone: the plan, the result document, and per service its whole
// output, the backend's description of it and its probe history. It is the artifact a CI job
// uploads. Everything passes through the redactor: no sensitive value reaches a file.
func writeDiagnostics(ctx context.Context, dir string, b provisioner.Backend, env *envs.Environment, plan *provisioner.Plan, res *provisioner.Result, red *redactor) (string, error) {
	root := filepath.Join(dir, res.Env)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	write := func(rel string, data []byte) error {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, red.apply(data), 0o644)
	}
	var errs []string
	note := func(err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if plan != nil { // none for a live environment (status --diagnostics)
		note(write("plan.txt", []byte(plan.String())))
	}
	rdoc := resultDoc(res, env)
	rdoc.Reach = reachOf(b, env.Name)
	doc, _ := json.MarshalIndent(rdoc, "", "  ")
	note(write("result.json", append(doc, '\n')))
	why := "the environment was up; the probes below were made when this was written"
	if res.Err != nil {
		why = res.Err.Error()
	}
	summary := fmt.Sprintf("environment %s on %s, written %s\n\n%s\n", res.Env, res.Backend, time.Now().UTC().Format(time.RFC3339), why)
	note(write("error.txt", []byte(summary)))

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, s := range res.Services {
		base := filepath.Join("services", s.Service)
		var probes strings.Builder
		writeProbes(&probes, "", s.Probes)
		state := fmt.Sprintf("phase: %s\naction: %s (%s)\n", s.Phase, s.Action, s.Cause)
		if s.StartPath != "" {
			state += "start: " + s.StartPath + "\n"
		}
		if s.SkippedBy != "" {
			state += "skipped because " + s.SkippedBy + " failed\n"
		}
		if s.Err != nil {
			state += "error: " + s.Err.Error() + "\n"
		}
		note(write(filepath.Join(base, "state.txt"), []byte(state)))
		if probes.Len() > 0 {
			note(write(filepath.Join(base, "probes.txt"), []byte(probes.String())))
		}
		if s.Instance.ID == "" {
			continue
		}
		if lr, ok := b.(provisioner.LogReader); ok {
			var buf bytes.Buffer
			if err := lr.Logs(ctx, s.Instance, provisioner.LogOptions{}, &buf); err != nil {
				fmt.Fprintf(&buf, "\n(envctl: could not read all the logs: %v)\n", err)
			}
			note(write(filepath.Join(base, "logs.txt"), buf.Bytes()))
		}
		if d, ok := b.(provisioner.Describer); ok {
			data, err := d.Describe(ctx, s.Instance)
			if err != nil {
				data = []byte(fmt.Sprintf("(envctl: could not describe %s: %v)\n", s.Instance.Name, err))
			}
			note(write(filepath.Join(base, "inspect.json"), data))
		}
	}
	if len(errs) > 0 {
		return root, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return root, nil
}

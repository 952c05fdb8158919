package cli

import (
	"errors"
	"strings"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

// upDoc is the one JSON document `up -o json` prints when up ends (and `run -o json` before
// the command runs). Field names are shared with status and ls.
type upDoc struct {
	Name         string        `json:"name"`
	Backend      string        `json:"backend"`
	OK           bool          `json:"ok"`
	DurationMS   int64         `json:"duration_ms"`
	Services     []serviceDoc  `json:"services"`
	CriticalPath []pathStepDoc `json:"critical_path"`
	Error        *errorDoc     `json:"error,omitempty"`
	RolledBack   bool          `json:"rolled_back"`
	// Reach is how this process reached the services, when it probed any over the network.
	Reach *provisioner.Reach `json:"reach,omitempty"`
}

// reachOf is the way b reached env's services in this process (see provisioner.Reacher), or
// nil when it chose none (no network probe was made, or the backend does not choose).
func reachOf(b provisioner.Backend, env string) *provisioner.Reach {
	r, ok := b.(provisioner.Reacher)
	if !ok {
		return nil
	}
	if way, ok := r.ReachOf(env); ok {
		return &way
	}
	return nil
}

type serviceDoc struct {
	Name          string            `json:"name"`
	Action        string            `json:"action,omitempty"`
	State         string            `json:"state"`
	Endpoints     map[string]string `json:"endpoints"`
	TimeToReadyMS int64             `json:"time_to_ready_ms,omitempty"`
	Probe         *probeDoc         `json:"probe,omitempty"`
	SkippedBy     string            `json:"skipped_by,omitempty"`
}

type probeDoc struct {
	// Kind is the probe of the ready block: ports (the default), http, tcp, exec, log, job, or
	// a protocol probe (postgres, mysql, redis, amqp, memcached, grpc, kafka, mongodb).
	Kind     string `json:"kind,omitempty"`
	Attempts int    `json:"attempts"`
	OK       bool   `json:"ok"`
	Last     string `json:"last"`
}

type pathStepDoc struct {
	Service       string `json:"service"`
	TimeToReadyMS int64  `json:"time_to_ready_ms"`
}

type errorDoc struct {
	Message  string   `json:"message"`
	Service  string   `json:"service,omitempty"`
	ExitCode *int     `json:"exit_code,omitempty"`
	Logs     []string `json:"logs,omitempty"`
}

func resultDoc(res *provisioner.Result, env *envs.Environment) upDoc {
	d := upDoc{
		Name: res.Env, Backend: res.Backend, OK: res.Err == nil, DurationMS: res.Duration.Milliseconds(),
		RolledBack: res.RolledBack, Services: []serviceDoc{}, CriticalPath: []pathStepDoc{},
	}
	for _, s := range res.Services {
		sd := serviceDoc{Name: s.Service, State: string(s.Phase), Endpoints: map[string]string{}, SkippedBy: s.SkippedBy}
		if sd.State == "" {
			sd.State = "not started"
		}
		if s.Action != 0 {
			sd.Action = strings.ToLower(s.Action.String())
		}
		for name, addr := range s.Instance.Published {
			sd.Endpoints[name] = addr
		}
		if !s.ReadyAt.IsZero() {
			sd.TimeToReadyMS = s.TimeToReady.Milliseconds()
		}
		if s.LastProbe != nil {
			sd.Probe = &probeDoc{Kind: envProbeKind(env, s.Service), Attempts: s.Attempts, OK: s.LastProbe.OK, Last: s.LastProbe.Detail}
		}
		d.Services = append(d.Services, sd)
	}
	for _, name := range res.CriticalPath {
		if s := res.Service(name); s != nil {
			d.CriticalPath = append(d.CriticalPath, pathStepDoc{Service: name, TimeToReadyMS: s.TimeToReady.Milliseconds()})
		}
	}
	if res.Err != nil {
		ed := &errorDoc{Message: res.Err.Error()}
		var se *provisioner.ServiceError
		if errors.As(res.Err, &se) {
			ed.Service, ed.Logs = se.Service, se.Logs
			if se.ExitCode >= 0 {
				code := se.ExitCode
				ed.ExitCode = &code
			}
		}
		d.Error = ed
	}
	return d
}

// envProbeKind names the probe a service of the file is waited for with ("" when unknown).
func envProbeKind(env *envs.Environment, service string) string {
	if env == nil {
		return ""
	}
	s := env.Service(service)
	if s == nil {
		return ""
	}
	if s.Run == envs.RunOnce {
		return "job"
	}
	return s.Ready.Kind.String()
}

// labelProbeKind names the probe recorded in an instance's labels, for status.
func labelProbeKind(labels map[string]string) string {
	if labels[provisioner.LabelRun] == "once" {
		return "job"
	}
	if k := provisioner.ParseReady(labels[provisioner.LabelReady]).Kind; k != "" {
		return k
	}
	return "ports"
}

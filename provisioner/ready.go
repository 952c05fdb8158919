package provisioner

import "time"

// Probe kinds of a ReadySpec. An empty Kind means the default: every declared port accepts a
// TCP connection, or, with no ports, the instance is running.
const (
	ProbePorts = ""
	ProbeHTTP  = "http"
	ProbeTCP   = "tcp"
	ProbeExec  = "exec"
	ProbeLog   = "log"
)

// ReadySpec says when an instance is ready. It is plain data so that it can travel in a label
// and to a backend that checks readiness natively. A job (Spec.Once) is ready when it exited 0,
// whatever the ReadySpec says.
type ReadySpec struct {
	Kind     string        `json:"kind,omitempty"`
	Port     string        `json:"port,omitempty"`   // http, tcp: the port name
	Path     string        `json:"path,omitempty"`   // http
	Status   int           `json:"status,omitempty"` // http; 0 means 200
	Exec     []string      `json:"exec,omitempty"`
	Log      string        `json:"log,omitempty"` // a regular expression matched against each output line
	Timeout  time.Duration `json:"timeout,omitempty"`
	Interval time.Duration `json:"interval,omitempty"` // 0: adaptive, fast first then backing off
	// AttemptTimeout bounds one attempt; 0: the default 2 s. omitempty keeps the label and the
	// config hash of a service without it what they were.
	AttemptTimeout time.Duration `json:"attempt_timeout,omitempty"`
}

// PerAttempt is how long one attempt may take.
func (r ReadySpec) PerAttempt() time.Duration {
	if r.AttemptTimeout > 0 {
		return r.AttemptTimeout
	}
	return attemptTimeout
}

// ProbeResult is the outcome of one readiness attempt.
type ProbeResult struct {
	Attempt int
	At      time.Time
	OK      bool
	Detail  string // "connection refused", "HTTP 503", "exit 1: ...", "matched line 3"
}

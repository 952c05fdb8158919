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
	// Protocol probes speak the server's own protocol (see provisioner/protocol).
	ProbePostgres  = "postgres"
	ProbeMySQL     = "mysql"
	ProbeRedis     = "redis"
	ProbeAMQP      = "amqp"
	ProbeMemcached = "memcached"
	ProbeGRPC      = "grpc"
	ProbeKafka     = "kafka"
	ProbeMongoDB   = "mongodb"
)

// IsProtocol tells whether kind is a protocol probe.
func IsProtocol(kind string) bool {
	switch kind {
	case ProbePostgres, ProbeMySQL, ProbeRedis, ProbeAMQP, ProbeMemcached, ProbeGRPC, ProbeKafka, ProbeMongoDB:
		return true
	}
	return false
}

// ReadyPasswordEnv is the environment variable that carries a redis probe's password into the
// instance. The label holds only its name (ReadySpec.PasswordEnv), so that status, which works
// from labels without the file, reads the password back from the instance (EnvReader) and the
// secret is never in a label, the plan or any JSON. The variable is listed as sensitive, so
// envctl redacts it from logs like any sensitive env.
const ReadyPasswordEnv = "ENVCTL_READY_PASSWORD"

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
	// AttemptTimeout bounds one attempt; 0: the default (PerAttempt). omitempty keeps the label and the
	// config hash of a service without it what they were.
	AttemptTimeout time.Duration `json:"attempt_timeout,omitempty"`

	// The protocol probes' parameters (issue 18); omitempty keeps older labels and hashes.
	User        string `json:"user,omitempty"`         // postgres; "" means "postgres"
	Database    string `json:"database,omitempty"`     // postgres; "" means "postgres"
	GRPCService string `json:"grpc_service,omitempty"` // grpc: the service asked about; "" is the server
	// PasswordEnv names the instance's environment variable holding the redis probe's
	// password (ReadyPasswordEnv), read back when Password is not at hand (status).
	PasswordEnv string `json:"password_env,omitempty"`
	// Password is the redis probe's password during up. Never marshalled: labels, hashes and
	// JSON output must not hold it.
	Password Secret `json:"-"`
}

// Secret is a string that does not print: %v, %s and %#v give "(sensitive)", so a ReadySpec
// logged or shown by mistake does not reveal its password.
type Secret string

func (Secret) String() string   { return "(sensitive)" }
func (Secret) GoString() string { return "(sensitive)" }

// PerAttempt is how long one attempt may take: attempt_timeout, else 2 s, or for an exec
// check 30 s (ExecAttemptTimeout) but no longer than the ready timeout. The default lives
// here, not in the spec, so labels and config hashes stay what they were.
func (r ReadySpec) PerAttempt() time.Duration {
	if r.AttemptTimeout > 0 {
		return r.AttemptTimeout
	}
	if r.Kind == ProbeExec {
		if r.Timeout > 0 && r.Timeout < ExecAttemptTimeout {
			return r.Timeout
		}
		return ExecAttemptTimeout
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

package envs

import (
	"time"

	"github.com/envctl/envctl/graph"
	"github.com/hashicorp/hcl/v2"
)

// Options selects the environment files and the values of their variables. It mirrors the
// command line: one field per flag.
type Options struct {
	// Paths are the -f values: files or directories (a directory means every *.hcl in it, in
	// lexical order). Empty means "envctl.hcl" in Dir.
	Paths []string
	// Dir is the base for relative Paths, relative VarFiles and the default file; "" means ".".
	Dir string
	// Name is --name: it overrides environment.name.
	Name string
	// NameSuffix, when set and Name is not, is appended to the environment's name as
	// "-SUFFIX" (the name is shortened to fit 63 characters): `envctl run` gives each run an
	// environment of its own, so two runs of one file never share one.
	NameSuffix string
	// Vars are the --var "K=V" values, in order; a later one wins. String-typed variables
	// (and untyped ones) take V literally; any other type parses V as an HCL expression.
	Vars []string
	// VarFiles are --var-file values: HCL files of `name = value` attributes.
	VarFiles []string
	// Profiles are the active profiles (--profile, ENVCTL_PROFILES): a service with profiles
	// is loaded only when one of them is active, or when a loaded service depends on it.
	Profiles []string
	// Environ is os.Environ() form; ENVCTL_VAR_<name>=V sets a variable. Precedence, lowest
	// first: default, ENVCTL_VAR_, var files, --var.
	Environ []string
}

// Environment is a loaded, evaluated and validated environment file.
type Environment struct {
	// Name is --name, else environment.name, else the name of the first file's directory
	// made DNS-safe (like Compose's project name; with -f examples/shop that is "shop").
	Name string
	// TTL is environment.ttl; 0 when unset (the CLI applies its default).
	TTL time.Duration
	// Variables are in declaration order.
	Variables []*Variable
	// Services are in declaration order: files in the order given (lexical within a
	// directory), then by position.
	Services []*Service
	// Sensitive holds every non-empty string inside every sensitive variable's value, for
	// redacting output. Longest first, so that replacing them in order never leaves a part
	// of a longer secret.
	Sensitive []string
	// Dir is the absolute directory of the first file.
	Dir string
	// LeftOut names the services left out because none of their profiles is active, in
	// declaration order.
	LeftOut []string

	byName map[string]*Service
}

// Service returns the service called name, or nil.
func (e *Environment) Service(name string) *Service {
	if e == nil {
		return nil
	}
	return e.byName[name]
}

// Graph returns a new graph with one node per service, in declaration order, and an edge per
// Dep. Each call builds a fresh graph, so callers may change it. O(services + deps).
func (e *Environment) Graph() *graph.Graph {
	g := graph.New()
	for _, s := range e.Services {
		g.Add(s.Name)
	}
	for _, s := range e.Services {
		for _, d := range s.Deps {
			g.Connect(s.Name, d.Name)
		}
	}
	return g
}

// Variable is one declared variable with its final value.
type Variable struct {
	Name        string
	Description string
	// Type is the type constraint as written, e.g. "string" or "list(string)"; "any" when the
	// declaration has no type.
	Type      string
	Sensitive bool
	// Value is the final value rendered as HCL (for plan); "" when it has none. Callers print
	// "(sensitive)" instead when Sensitive is set.
	Value     string
	DeclRange hcl.Range
}

// RunMode says whether a service runs for the life of the environment or once.
type RunMode int

// The run modes. Do not reorder: the values are compared and stored.
const (
	RunService RunMode = 0 // long-running; ready per its ready block
	RunOnce    RunMode = 1 // a job: ready when it has exited 0
)

// String returns the mode as written in the file.
func (m RunMode) String() string {
	if m == RunOnce {
		return "once"
	}
	return "service"
}

// ProbeKind selects how readiness is probed.
type ProbeKind int

// The probe kinds. Do not reorder.
const (
	ProbePorts ProbeKind = 0 // default: every declared port accepts TCP; with no ports: running
	ProbeHTTP  ProbeKind = 1
	ProbeTCP   ProbeKind = 2
	ProbeExec  ProbeKind = 3
	ProbeLog   ProbeKind = 4
	// Protocol probes: envctl speaks the server's own protocol (provisioner/protocol).
	ProbePostgres  ProbeKind = 5
	ProbeMySQL     ProbeKind = 6
	ProbeRedis     ProbeKind = 7
	ProbeAMQP      ProbeKind = 8
	ProbeMemcached ProbeKind = 9
	ProbeGRPC      ProbeKind = 10
	ProbeKafka     ProbeKind = 11
	ProbeMongoDB   ProbeKind = 12
)

// protocolKinds names the protocol probes as written in a ready block, in the order the
// "exactly one probe" errors list them.
var protocolKinds = []struct {
	name string
	kind ProbeKind
}{
	{"postgres", ProbePostgres}, {"mysql", ProbeMySQL}, {"redis", ProbeRedis}, {"amqp", ProbeAMQP},
	{"memcached", ProbeMemcached}, {"grpc", ProbeGRPC}, {"kafka", ProbeKafka}, {"mongodb", ProbeMongoDB},
}

// IsProtocol tells whether k is a protocol probe (one that speaks the server's protocol).
func (k ProbeKind) IsProtocol() bool { return k >= ProbePostgres && k <= ProbeMongoDB }

// String returns the probe's name as written in a ready block ("ports" for the default).
func (k ProbeKind) String() string {
	switch k {
	case ProbeHTTP:
		return "http"
	case ProbeTCP:
		return "tcp"
	case ProbeExec:
		return "exec"
	case ProbeLog:
		return "log"
	}
	for _, p := range protocolKinds {
		if p.kind == k {
			return p.name
		}
	}
	return "ports"
}

// DefaultReadyTimeout is the ready timeout when a service does not set one.
const DefaultReadyTimeout = 60 * time.Second

// DefaultAttemptTimeout bounds one readiness attempt when a service does not set attempt_timeout.
const DefaultAttemptTimeout = 2 * time.Second

// DefaultPublishIP is where ports are published on the host unless publish_ip says otherwise:
// loopback only, so an environment is not reachable from the network by accident.
const DefaultPublishIP = "127.0.0.1"

// Service is one evaluated service block.
type Service struct {
	Name      string
	DeclRange hcl.Range // the `service "x"` header
	// Image is "" only when Build is set.
	Image     string
	Build     *Build
	Run       RunMode
	Ports     []Port // sorted by Name
	PublishIP string // default DefaultPublishIP
	// Deps are the service's edges: depends_on entries and every service.X referenced in it,
	// unique by Name, in first-seen source order.
	Deps      []Dep
	Ready     Ready
	Resources Resources
	Labels    map[string]string
	// Command and Entrypoint are the evaluated values when the attribute references no
	// service; otherwise nil, and Resolve or Template give them.
	Command, Entrypoint []string
	// Env follows the same rule as Command.
	Env map[string]string

	// The container settings of attrs.md; zero values mean "the image's or engine's default".
	User, WorkingDir, Hostname string
	Aliases                    []string // extra network aliases on the environment's network
	Profiles                   []string // the service is left out unless one of them is active
	Init, ReadOnly             bool
	ShmSize                    int64    // bytes
	CapAdd, CapDrop            []string // normalised: upper case, no "CAP_" prefix
	ExtraHosts                 map[string]string
	Ulimits                    []Ulimit // sorted by Name
	StopSignal                 string   // normalised: "SIGTERM"
	StopGrace                  time.Duration
	Mounts                     []Mount  // in file order
	Secrets                    []Secret // in file order
	// EnvFiles are the env_file paths (absolute), in order; their variables, read at load, are
	// merged under Env by Resolve and Template.
	EnvFiles []string

	envFileVars   map[string]string
	envFileSecret map[string]bool // env file keys that look like secrets (see secretKeyRe)
	rt            *runtimeExprs
	buildRange    hcl.Range
}

// Build describes an image built from a local context.
type Build struct {
	Context    string // absolute
	Dockerfile string // relative to Context; default "Dockerfile"
	Args       map[string]string
	Target     string   // the multi-stage target; "" = the last stage
	CacheFrom  []string // images whose layers may serve as build cache
}

// MountType is the kind of a mount block.
type MountType string

// The mount types.
const (
	MountBind   MountType = "bind"   // a file or directory of the repository, copied in
	MountVolume MountType = "volume" // a named volume of the environment, <env>-<source>
	MountTmpfs  MountType = "tmpfs"
)

// Mount is one mount block.
type Mount struct {
	Type MountType
	// Source is, for bind, the absolute path of the file or directory; for volume, the
	// volume's name within the environment; for tmpfs, "".
	Source   string
	Target   string // absolute path in the container
	ReadOnly bool
	Size     int64 // tmpfs: bytes, 0 = the engine's default
	// Digest is, for bind, a sha256 over the content (names, modes, bytes) read at load, so a
	// changed file changes the config hash and recreates the service.
	Digest string
}

// Secret is one secret block: content put in a file in the container, never in labels,
// environment variables or the engine's inspect output.
type Secret struct {
	Name   string
	Target string // default /run/secrets/<name>
	Mode   uint32 // default 0444
	// Value is the content, from `value` or read from `file` at load. It is sensitive.
	Value string
	File  string // the absolute path when read from a file
}

// Ulimit is one resource limit; -1 is unlimited.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// Port is one named container port.
type Port struct {
	Name string
	Port int
}

// Dep is one dependency edge; Range is where the reference is written.
type Dep struct {
	Name  string
	Range hcl.Range
	// Via is the local the reference goes through ("local.database_url"), when the service
	// uses a local built from service addresses; Range is then where the service uses it.
	Via string
}

// Resources are limits (Docker) or requests (Mesos).
type Resources struct {
	CPUs   float64
	Memory int64 // bytes; 0 = unset
}

// Ready says when a service counts as ready.
type Ready struct {
	Kind   ProbeKind
	Port   string // http, tcp and the protocol probes: the port name
	Path   string // http: default "/"
	Status int    // http: default 200
	Exec   []string
	Log    string // a regular expression, checked at load
	// Timeout defaults to DefaultReadyTimeout.
	Timeout time.Duration
	// Interval 0 means adaptive: the prober starts fast and backs off.
	Interval time.Duration
	// AttemptTimeout bounds one probe attempt; 0 (unset) means DefaultAttemptTimeout. Kept 0
	// when unset so services without it keep their config hashes.
	AttemptTimeout time.Duration
	DeclRange      hcl.Range // the ready block, or the service header without one

	// User and Database are the postgres probe's startup parameters ("" means "postgres").
	User, Database string
	// GRPCService is the service name the grpc probe asks grpc.health.v1 about; "" is the
	// server as a whole.
	GRPCService string
	// Password is the redis probe's AUTH password; it never goes into a label or output (the
	// provisioner hands it to the instance as a sensitive environment variable, so that status
	// can read it back without the file).
	Password string
}

// Endpoint is what a dependency looks like to its dependents at run time.
type Endpoint struct {
	Host  string
	Ports map[string]int
}

// Runtime holds a service's run-time values, evaluated by Resolve or Template.
type Runtime struct {
	Command, Entrypoint []string
	Env                 map[string]string
	// SensitiveEnv lists, sorted, the env keys whose value derives from a sensitive variable.
	SensitiveEnv []string
	// SensitiveArgs is set when command or entrypoint contains a sensitive value.
	SensitiveArgs bool
	// FromEnvFile lists, sorted, the Env keys whose value comes from an env_file (and not
	// from env, which wins): plan shows where they come from, never their values.
	FromEnvFile []string
}

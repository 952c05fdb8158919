package provisioner

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/envctl/envctl/envs"
)

// Backend runs service instances on one kind of infrastructure. Implementations are safe for
// concurrent use: the executor starts independent services in parallel.
//
// The lifecycle of one instance:
//
//	(absent) --Start--> Running --Stop--> Exited --Remove--> (absent)
//	   \                  |  \--(exits by itself)--> Exited     ^
//	    \                 \----------------- Remove ------------/
//
// A backend creates whatever an environment needs around its instances (a Docker network, a Mesos
// framework) on the first Start, and removes it in EnvironmentManager.Teardown.
type Backend interface {
	// Name is "docker" or "mesos".
	Name() string
	// Observe returns every instance the backend holds for env ("" = every environment), read
	// back from the infrastructure itself (Docker labels, Mesos task labels). It is the only
	// source of truth: envctl keeps no state file.
	Observe(ctx context.Context, env string) ([]Instance, error)
	// Start creates and starts one instance and returns once the backend reports it running (or,
	// for a job, started). Waiting for readiness is the executor's job, not the backend's.
	Start(ctx context.Context, spec Spec) (Instance, error)
	// Stop asks the instance to stop, killing it after grace.
	Stop(ctx context.Context, inst Instance, grace time.Duration) error
	// Remove deletes the instance, stopping it at once if it still runs. Removing an instance
	// that is already gone is not an error.
	Remove(ctx context.Context, inst Instance) error
	// Close releases the backend's connections.
	Close() error
}

// State is what the infrastructure says about an instance. Values are explicit and stored
// nowhere; do not reorder.
type State int

const (
	StateUnknown  State = 0
	StateCreated  State = 1 // created, not yet started
	StateRunning  State = 2
	StateExited   State = 3 // stopped, finished or crashed; see Instance.ExitCode
	StateStarting State = 4 // the backend is still bringing it up (Mesos: staging)
	// StateUnreachable: the instance's host stopped answering (Mesos: its agent is
	// unreachable); it may still run there, but nothing reaches or stops it until the host is
	// back. See Instance.Unreachable.
	StateUnreachable State = 5
)

func (s State) String() string {
	switch s {
	case StateCreated:
		return "created"
	case StateRunning:
		return "running"
	case StateExited:
		return "exited"
	case StateStarting:
		return "starting"
	case StateUnreachable:
		return "unreachable"
	}
	return "unknown"
}

// Port is one named container port of a service.
type Port struct {
	Name string
	Port int
}

// Build asks the backend to build the image from a local directory before starting.
type Build struct {
	Context    string // absolute directory
	Dockerfile string // relative to Context
	Args       map[string]string
	Target     string   // multi-stage target; "" = the last stage
	CacheFrom  []string // images to use as build cache
}

// The mount types of Mount.Type.
const (
	MountBind   = "bind"   // Source, a file or directory on envctl's machine, copied in
	MountVolume = "volume" // Source is the volume's name within the environment
	MountTmpfs  = "tmpfs"
)

// Mount is one filesystem mount of an instance.
type Mount struct {
	Type     string
	Source   string
	Target   string
	ReadOnly bool
	Size     int64 // tmpfs: bytes; 0 = default
}

// File is content put at Target in the instance before it starts (a secret). Backends never
// write it into labels, environment variables or anything their inspect output shows.
type File struct {
	Name   string // the secret's name, for messages
	Target string
	Mode   uint32
	Data   []byte
}

// Ulimit is one resource limit; -1 is unlimited.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// Spec is everything a backend needs to start one instance, fully evaluated.
type Spec struct {
	Env     string
	Service string
	Image   string // the image reference; with Build, the tag to build it as
	Build   *Build
	// Command and Entrypoint are argv lists, never passed through a shell.
	Command     []string
	Entrypoint  []string
	Environment map[string]string
	Ports       []Port // sorted by name
	PublishIP   string // host address ports are published on; "" = 127.0.0.1
	Once        bool   // a job: it is expected to exit, and exit 0
	CPUs        float64
	Memory      int64 // bytes; 0 = no limit
	// Labels is the complete label set of the instance: the user's and envctl's own (see
	// Labels in labels.go). Backends store them verbatim and return them from Observe.
	Labels map[string]string
	// Ready is the readiness check, for backends that run it natively (NativeReadiness).
	Ready ReadySpec

	// Container settings; zero values keep the image's or engine's default.
	User, WorkingDir, Hostname string
	Aliases                    []string // network aliases besides Service
	Init, ReadOnly             bool
	ShmSize                    int64 // bytes
	CapAdd, CapDrop            []string
	ExtraHosts                 map[string]string // host name -> IP
	Ulimits                    []Ulimit
	StopSignal                 string        // "SIGINT"
	StopGrace                  time.Duration // 0 = the backend's default
	Mounts                     []Mount
	Files                      []File // secrets
}

// Instance is one running (or exited) service instance as the backend reports it.
type Instance struct {
	ID      string // the backend's own ID (container ID, Mesos task ID)
	Name    string // a human name (container name)
	Env     string
	Service string
	Labels  map[string]string
	State   State
	// ExitCode is meaningful when State is StateExited.
	ExitCode int
	// Host and Ports are how other services of the environment reach this one: on Docker the
	// network alias and the container ports, on Mesos the agent's host name and the host ports.
	Host  string
	Ports map[string]int
	// Published maps a port name to the "host:port" a program on the user's machine dials.
	Published map[string]string
	// ProbeAddrs maps a port name to the "host:port" envctl dials to probe readiness: the
	// service's own address, never a published port (Docker's userland proxy accepts
	// connections before the service listens).
	ProbeAddrs map[string]string
	Created    time.Time
	Started    time.Time
	// ImageID is the ID of the image the instance runs, when the backend knows it; a
	// different ID for the same reference (a rebuilt or re-pulled image) recreates it.
	ImageID string
	// CPUs and Memory (bytes) are the resources the instance holds, when the backend says
	// (Mesos: its task's resources, which count against its role's quota); 0 when unknown or
	// unlimited.
	CPUs   float64
	Memory int64
	// Unreachable is since when the instance's host has not answered (StateUnreachable), as
	// the backend decided it (Mesos: when the master marked the agent unreachable).
	Unreachable time.Time
	// HostID names the host the instance runs on, for messages (Mesos: the agent's ID).
	HostID string
}

// Hash is the config hash the instance was created with.
func (i Instance) Hash() string { return i.Labels[LabelHash] }

// ImagePreparer is a backend that can make an image available before any start: build it from
// a Build, or pull it when it is missing. It returns the image's ID, which the planner compares
// with the instances' so that a rebuilt image recreates its service.
type ImagePreparer interface {
	PrepareImage(ctx context.Context, spec Spec, progress io.Writer) (id string, err error)
}

// Inspector reads the current state of one instance.
type Inspector interface {
	Inspect(ctx context.Context, inst Instance) (Instance, error)
}

// LogOptions selects what LogReader.Logs returns.
type LogOptions struct {
	Follow bool
	Since  time.Time // zero: from the start
	Tail   int       // 0: all
}

// LogReader streams an instance's output (stdout and stderr, in order, as lines).
type LogReader interface {
	Logs(ctx context.Context, inst Instance, opt LogOptions, w io.Writer) error
}

// Execer runs a command inside a running instance (the exec probe).
type Execer interface {
	Exec(ctx context.Context, inst Instance, argv []string) (exitCode int, output []byte, err error)
}

// EnvInfo is one environment as a backend sees it, read from what it created.
type EnvInfo struct {
	Name    string
	Labels  map[string]string // the environment-level labels (expiry, version, owner)
	Created time.Time
}

// EnvironmentManager is a backend with environment-level resources (Docker: the network; Mesos:
// the framework). Environments lists every environment that has anything left, even when no
// instance remains; Teardown removes the environment-level resources once its instances are gone.
type EnvironmentManager interface {
	Environments(ctx context.Context) ([]EnvInfo, error)
	Teardown(ctx context.Context, env string) error
}

// NativeReadiness is a backend that checks some readiness itself (Mesos: a job's end, the
// sandbox of a log probe, a health check for an exec probe or where envctl cannot reach the
// agents). For the instances and specs where ChecksNatively says so, WaitReady calls the
// backend's WaitReady instead of probing, and it returns nil once ready; every other one is
// probed by envctl's own prober like on any backend (ProbeAddrs, Reacher, ProbeNet), so that
// every probe kind works there without code of the backend's own.
type NativeReadiness interface {
	ChecksNatively(inst Instance, spec ReadySpec, once bool) bool
	WaitReady(ctx context.Context, inst Instance, spec ReadySpec, report func(ProbeResult)) error
}

// Describer returns the backend's own full description of an instance (Docker: the inspect
// document), for the diagnostics a failed run leaves behind.
type Describer interface {
	Describe(ctx context.Context, inst Instance) ([]byte, error)
}

// EnvironmentPreparer is a backend that can create an environment's own resources (Docker: its
// network) before the first Start, so that creating them overlaps with preparing images instead
// of delaying the first service. labels are the environment-level labels (EnvLabels).
type EnvironmentPreparer interface {
	PrepareEnvironment(ctx context.Context, env string, labels map[string]string) error
}

// SecretReader reads back the values of an instance's sensitive environment variables (named
// by LabelSensitive), so that commands working without the file can redact them from what the
// service printed. The values never leave envctl's process.
type SecretReader interface {
	Secrets(ctx context.Context, inst Instance) ([]string, error)
}

// EnvReader reads back one environment variable of an instance: a protocol probe's password
// (ReadyPasswordEnv), which status needs and which no label may hold. The value never leaves
// envctl's process (and the probe agent's stdin).
type EnvReader interface {
	EnvValue(ctx context.Context, inst Instance, key string) (string, error)
}

// VolumeManager is a backend with named volumes scoped to an environment (Docker: <env>-<name>).
// Volumes outlive their instances: a recreated service finds its data again. Down removes
// them unless asked to keep them; a rollback removes only the ones its own run created.
type VolumeManager interface {
	RemoveVolumes(ctx context.Context, env string, onlyCreated bool) error
}

// ExecIO are the streams of an interactive command (envctl exec).
type ExecIO struct {
	Stdin          io.Reader // nil: the command gets no input
	Stdout, Stderr io.Writer // with TTY, everything goes to Stdout
	TTY            bool
	// Resize, if not nil, carries the terminal's size, [rows, columns], first and on change.
	Resize <-chan [2]uint
}

// InteractiveExecer runs a command inside a running instance with the caller's streams and
// returns its exit status.
type InteractiveExecer interface {
	ExecStream(ctx context.Context, inst Instance, argv []string, streams ExecIO) (exitCode int, err error)
}

// Restarter stops and starts an instance in place (same container, same configuration),
// returning it as it runs again (envctl restart).
type Restarter interface {
	Restart(ctx context.Context, inst Instance, grace time.Duration) (Instance, error)
}

// AheadCreator is a backend whose instances' addresses are static: known before the instance
// exists (Docker: the service's alias on the environment's network and its container ports).
// A service's whole configuration is then known while its dependencies are still getting
// ready, so Apply creates its instance ahead of time and, once they are ready, only starts it:
// the engine's create work (container, mounts, network endpoint) leaves the critical path.
// The service's process still starts only after its dependencies are ready.
type AheadCreator interface {
	// StaticEndpoint is the endpoint an instance of service, with these ports, will have once
	// running: what its dependents' references resolve to.
	StaticEndpoint(env, service string, ports []Port) envs.Endpoint
	// Create creates spec's instance without starting it. On an error nothing is left,
	// except an instance it returns with an ID, which the caller must remove.
	Create(ctx context.Context, spec Spec) (Instance, error)
	// StartCreated starts an instance that Create returned, and returns it as running.
	StartCreated(ctx context.Context, inst Instance) (Instance, error)
}

// StartPlanner is a backend that launches better when it knows which Starts are coming (Mesos:
// it holds the offers it receives while a layer of services gets ready, instead of declining
// them, and launches the next layer on them the moment its dependencies are ready). Apply
// calls PlanStarts before its first Start, and the function it returns once it will make no
// more Starts (it finished, failed or was interrupted). The plan is a hint: a backend must
// work the same without it, and with Starts the plan does not name.
type StartPlanner interface {
	PlanStarts(plan StartPlan) (done func())
}

// UnboundedStarts is a backend whose Start hands the instance to a cluster's scheduler and
// waits for it to run (Mesos: a launch waits for an offer and goes out with every other
// waiting launch in one ACCEPT per agent). Apply does not bound its Starts by
// Options.Parallel: the cluster paces its own launches, and the bound would only split a
// layer into offer rounds (30 services without dependencies at the default 16 took two, the
// second after the first 16 ran).
type UnboundedStarts interface {
	UnboundedStarts()
}

// StartPlan is the Starts one Apply is going to make in an environment.
type StartPlan struct {
	Env string
	// Deps has one entry per service Apply is going to start, naming the services among those
	// it waits for (dependencies that Apply does not start, kept ones, are left out).
	Deps map[string][]string
	// Parallel is the most Starts Apply has under way at once (Options.Parallel).
	Parallel int
}

// Holder is an AheadCreator that can also start an instance ahead of its dependencies'
// readiness with the service's own process held back (Docker: a gate as the container's
// entrypoint, see provisioner/gate), so that once they are ready only the process start
// remains: the engine's start work (sandbox, network endpoint, shim) leaves the critical path
// too. StartCreated on an instance StartHeld returned releases its process. What the service
// sees is what a plain start gives it: argv, environment, user, working directory, PID 1.
type Holder interface {
	// StartHeld creates spec's instance and starts it held. An error wrapping ErrCannotHold
	// says why this instance cannot be held (the gate is turned off, a read-only root
	// filesystem, no binary for the engine's platform...): nothing is left, and the caller
	// uses Create instead. Other errors are Create's: an instance returned with an ID must be
	// removed by the caller.
	StartHeld(ctx context.Context, spec Spec) (Instance, error)
	// Release lets inst's held process run. It does nothing for an instance that is not held
	// or that was released already: an up that keeps an instance a killed run left held
	// calls it once the instance's dependencies are ready.
	Release(ctx context.Context, inst Instance) error
}

// ErrCannotHold is wrapped by Holder.StartHeld's error when an instance cannot be held.
var ErrCannotHold = errors.New("not held")

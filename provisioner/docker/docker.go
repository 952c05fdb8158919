package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envctl/envctl/provisioner"
)

// minAPIVersion is the oldest Engine API envctl speaks: Docker 20.10. Older engines lack
// features the backend relies on (network labels filters, NetworkSettings in container lists).
const minAPIVersion = "1.41"

// pingTimeout bounds New's ping. A local engine answers a ping in milliseconds; two seconds
// leaves room for a loaded machine while keeping "Docker is not running" under the 3 s users
// tolerate before they assume a hang.
const pingTimeout = 2 * time.Second

// callTimeout bounds every single, non-streaming request to the engine, to protect against a
// wedged engine (Nomad's dockerAPIQueryContext). It is generous because on a loaded CI machine
// a container create or start can take seconds when dozens run at once; it is not a deadline
// for anything the user waits on, only a guard against waiting forever.
const callTimeout = 60 * time.Second

// apiClient is the part of the Docker SDK client the backend uses. *client.Client implements
// it; tests may substitute a fault-injecting wrapper.
type apiClient interface {
	Ping(ctx context.Context) (types.Ping, error)
	NegotiateAPIVersionPing(types.Ping)
	DaemonHost() string
	Close() error

	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ContainerCreate(ctx context.Context, config *container.Config, hostConfig *container.HostConfig, networkingConfig *network.NetworkingConfig, platform *ocispec.Platform, containerName string) (container.CreateResponse, error)
	ContainerStart(ctx context.Context, containerID string, options container.StartOptions) error
	ContainerStop(ctx context.Context, containerID string, options container.StopOptions) error
	ContainerRemove(ctx context.Context, containerID string, options container.RemoveOptions) error
	ContainerInspect(ctx context.Context, containerID string) (container.InspectResponse, error)
	ContainerLogs(ctx context.Context, containerID string, options container.LogsOptions) (io.ReadCloser, error)
	ContainerExecCreate(ctx context.Context, containerID string, options container.ExecOptions) (container.ExecCreateResponse, error)
	ContainerExecAttach(ctx context.Context, execID string, config container.ExecAttachOptions) (types.HijackedResponse, error)
	ContainerExecInspect(ctx context.Context, execID string) (container.ExecInspect, error)
	ContainerExecResize(ctx context.Context, execID string, options container.ResizeOptions) error

	CopyToContainer(ctx context.Context, containerID, dstPath string, content io.Reader, options container.CopyToContainerOptions) error
	ContainerStatPath(ctx context.Context, containerID, path string) (container.PathStat, error)
	ContainerKill(ctx context.Context, containerID, signal string) error

	VolumeCreate(ctx context.Context, options volume.CreateOptions) (volume.Volume, error)
	VolumeInspect(ctx context.Context, volumeID string) (volume.Volume, error)
	VolumeList(ctx context.Context, options volume.ListOptions) (volume.ListResponse, error)
	VolumeRemove(ctx context.Context, volumeID string, force bool) error

	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
	NetworkCreate(ctx context.Context, name string, options network.CreateOptions) (network.CreateResponse, error)
	NetworkRemove(ctx context.Context, networkID string) error

	ImageBuild(ctx context.Context, buildContext io.Reader, options build.ImageBuildOptions) (build.ImageBuildResponse, error)
	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImagePull(ctx context.Context, refStr string, options image.PullOptions) (io.ReadCloser, error)
	ImageRemove(ctx context.Context, imageID string, options image.RemoveOptions) ([]image.DeleteResponse, error)
	ImageList(ctx context.Context, options image.ListOptions) ([]image.Summary, error)
	ImageTag(ctx context.Context, source, target string) error
	ImagePush(ctx context.Context, ref string, options image.PushOptions) (io.ReadCloser, error)

	ServerVersion(ctx context.Context) (types.Version, error)
	ContainerAttach(ctx context.Context, containerID string, options container.AttachOptions) (types.HijackedResponse, error)
	NetworkConnect(ctx context.Context, networkID, containerID string, config *network.EndpointSettings) error
	NetworkDisconnect(ctx context.Context, networkID, containerID string, force bool) error
	NetworkInspect(ctx context.Context, networkID string, options network.InspectOptions) (network.Inspect, error)
}

// Backend runs services as containers on one Docker Engine. It is safe for concurrent use.
type Backend struct {
	api apiClient

	// envMu guards envLocks. envLocks holds one mutex per environment, held while its network is
	// looked up and created, so that concurrent Starts of one environment create one network:
	// Docker allows several networks with the same name. Entries are never deleted; one mutex
	// per environment a process touches is a negligible cost.
	envMu    sync.Mutex
	envLocks map[string]*sync.Mutex

	// archOnce guards arch, the engine's architecture once asked (EngineArch);
	// agentImageMu serialises AgentImage's look-up and build.
	archOnce     sync.Mutex
	arch         string
	agentImageMu sync.Mutex

	// gateMu guards the gate's delivery (gate.go): gateOff (SetGate), and the volume holding
	// the gate binary once known (gateVol) or why there is none (gateErr), asked once.
	gateMu  sync.Mutex
	gateOff bool
	gateVol string
	gateErr error
	gateRdy chan struct{} // closed once gateVol or gateErr is set

	// volMu guards createdVolumes: the volumes this Backend created, which a rollback removes
	// (and no others).
	volMu          sync.Mutex
	createdVolumes map[string]bool

	// forceReach is the way SetReach forced ("" = choose); reaches holds the choice per
	// environment (ProbeNet), guarded by reachMu.
	forceReach string
	reachMu    sync.Mutex
	reaches    map[string]*envReach

	// notice is told what the user must know (SetNotice), once each (noticeOnce); selfInfo
	// is the container envctl itself runs in, if it runs in one of this engine's.
	notice     func(string)
	noticeOnce sync.Once
	selfInfo   selfState

	// execs remembers the exec attempts that were cut off and could not be killed (exec.go).
	execs execState
}

var (
	_ provisioner.Backend             = (*Backend)(nil)
	_ provisioner.ImagePreparer       = (*Backend)(nil)
	_ provisioner.Inspector           = (*Backend)(nil)
	_ provisioner.LogReader           = (*Backend)(nil)
	_ provisioner.Execer              = (*Backend)(nil)
	_ provisioner.Describer           = (*Backend)(nil)
	_ provisioner.EnvironmentPreparer = (*Backend)(nil)
	_ provisioner.SecretReader        = (*Backend)(nil)
	_ provisioner.EnvReader           = (*Backend)(nil)
	_ provisioner.VolumeManager       = (*Backend)(nil)
	_ provisioner.EnvironmentManager  = (*Backend)(nil)
	_ provisioner.Reacher             = (*Backend)(nil)
)

// New connects to the engine named by DOCKER_HOST (and DOCKER_API_VERSION, DOCKER_CERT_PATH,
// DOCKER_TLS_VERIFY), or to the default socket, and negotiates the API version. It pings the
// engine first: when the engine does not answer within pingTimeout, the error wraps
// provisioner.ErrUnreachable and says where it looked.
func New(ctx context.Context) (*Backend, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		// A malformed DOCKER_HOST or certificate path: the user's configuration, not a dead engine.
		return nil, fmt.Errorf("docker client: %w", err)
	}
	b, err := newBackend(ctx, cli)
	if err != nil {
		cli.Close()
		return nil, err
	}
	return b, nil
}

// newBackend pings the engine behind api and wraps it in a Backend.
func newBackend(ctx context.Context, api apiClient) (*Backend, error) {
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ping, err := api.Ping(pctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: docker is not answering at %s: %w", provisioner.ErrUnreachable, where(api), err)
	}
	if ping.APIVersion != "" && versions.LessThan(ping.APIVersion, minAPIVersion) {
		return nil, fmt.Errorf("docker engine at %s speaks API %s; envctl needs %s or newer (Docker 20.10+)",
			api.DaemonHost(), ping.APIVersion, minAPIVersion)
	}
	// Negotiate from this ping instead of letting the client ping again on the first request.
	api.NegotiateAPIVersionPing(ping)
	return &Backend{api: api, envLocks: map[string]*sync.Mutex{}}, nil
}

// where describes the place New looked for the engine, for error messages.
func where(api apiClient) string {
	if os.Getenv(client.EnvOverrideHost) != "" {
		return fmt.Sprintf("%s (from %s)", api.DaemonHost(), client.EnvOverrideHost)
	}
	return fmt.Sprintf("%s (the default socket; set %s to use another engine)", api.DaemonHost(), client.EnvOverrideHost)
}

// Name is "docker".
func (b *Backend) Name() string { return "docker" }

// Close releases the client's connections.
func (b *Backend) Close() error {
	b.closeAgents()
	b.waitGate()
	return b.api.Close()
}

// call runs one non-streaming engine request under callTimeout.
func call(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return fn(ctx)
}

// cleanupContext is for removing what a failed operation created: it survives the caller's
// cancellation (Ctrl-C must not leak a half-started container) but not forever.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
}

// envLock returns the mutex that serialises network creation for env.
func (b *Backend) envLock(env string) *sync.Mutex {
	b.envMu.Lock()
	defer b.envMu.Unlock()
	mu, ok := b.envLocks[env]
	if !ok {
		mu = &sync.Mutex{}
		b.envLocks[env] = mu
	}
	return mu
}

// errNoEnv is returned for specs and instances that name no environment: the backend never
// creates or touches anything without provisioner.LabelEnv.
var errNoEnv = errors.New("no environment name")

package provisioner

import (
	"context"
	"io"
	"net"
	"net/http"

	"github.com/envctl/envctl/provisioner/protocol"
)

// Ways envctl reaches the services of an environment (Reach.Way).
const (
	// ReachDirect: envctl dials the containers' own addresses (a Linux host, or a job
	// container joined to the environment's network).
	ReachDirect = "direct"
	// ReachAgent: probes run from a small agent container on the environment's network,
	// reached through the engine's API; nothing but the API needs to reach the engine.
	ReachAgent = "agent"
	// ReachJobNetwork: envctl runs in a container of the same engine, which is connected to
	// the environment's network; probes and endpoints then use the services' addresses there.
	ReachJobNetwork = "job-network"
)

// EnvReach forces a way (ReachDirect, ReachAgent, ...) instead of choosing one; the --reach
// flag sets it.
const EnvReach = "ENVCTL_REACH"

// Reach is how envctl reaches an environment's services, and why it chose that way.
type Reach struct {
	Way string `json:"way"`
	Why string `json:"why"`
}

// ProbeNet performs the network part of readiness probes: a TCP connect and an HTTP GET with
// the first status (no redirects, a fresh connection each time). Direct does it from envctl's
// own process; a backend can do it from elsewhere (the Docker backend's agent). Errors are
// short, for a person reading a list of attempts ("connection refused").
type ProbeNet interface {
	DialTCP(ctx context.Context, addr string) error
	GetHTTP(ctx context.Context, url string) (status int, err error)
	// Protocol connects to addr and runs a protocol check (protocol.Check): ok and what the
	// server answered. err is set only when no connection was made, as DialTCP's.
	Protocol(ctx context.Context, addr string, p protocol.Params) (ok bool, detail string, err error)
}

// Reacher is a backend that chooses how probes reach an environment's instances. ProbeNet is
// asked before every network probe of inst; it decides once per environment. An error means
// no way works: readiness fails at once with it instead of waiting for the timeout.
type Reacher interface {
	ProbeNet(ctx context.Context, inst Instance) (ProbeNet, error)
	// ReachOf is the way chosen for env by this process, if one was.
	ReachOf(env string) (Reach, bool)
}

// Direct is the ProbeNet of envctl's own process.
var Direct ProbeNet = directNet{client: probeClient()}

type directNet struct{ client *http.Client }

func (d directNet) DialTCP(ctx context.Context, addr string) error {
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return shortErr(err)
	}
	return c.Close()
}

func (d directNet) GetHTTP(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, shortErr(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (d directNet) Protocol(ctx context.Context, addr string, p protocol.Params) (bool, string, error) {
	ok, detail, err := protocol.Probe(ctx, addr, p)
	if err != nil {
		return false, "", shortErr(err)
	}
	return ok, detail, nil
}

// netErr is an error whose text is already short.
type netErr struct {
	msg   string
	cause error
}

func (e *netErr) Error() string { return e.msg }
func (e *netErr) Unwrap() error { return e.cause }

func shortErr(err error) error { return &netErr{msg: shortNetErr(err), cause: err} }

type oneShotKey struct{}

// OneShot tells whether ctx is of a probe made once (status), not of a wait that will try
// again: a backend then settles a doubt about the way at once instead of over the next attempts.
func OneShot(ctx context.Context) bool { return ctx.Value(oneShotKey{}) != nil }

func withOneShot(ctx context.Context) context.Context {
	return context.WithValue(ctx, oneShotKey{}, true)
}

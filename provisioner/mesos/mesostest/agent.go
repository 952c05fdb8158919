package mesostest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// agent is a simulated Mesos agent that runs its tasks for real: Docker
// tasks as containers on the local engine, command tasks as host processes.
type agent struct {
	m        *Master
	n        int
	id       string
	hostname string // an address of this host that containers can reach too
	ip       string // where its HTTP server listens: 127.0.0.1, not its hostname, as the
	// agents of ../shared/mesos (and of many real clusters): a framework must find the agent's
	// API through its PID, slave(1)@IP:PORT, never through its advertised hostname
	port    int    // of its HTTP server (files API, /state)
	network string // its Docker bridge network, "" with NoDocker
	workDir string
	total   res
	used    res // by tasks
	offered res // in outstanding offers
	lost    bool
	runs    map[string]*taskRun // by framework ID + "/" + task ID
	files   *http.Server
	started time.Time
}

func (a *agent) freeLocked() res { return a.total.minus(a.used).minus(a.offered) }

// attributes: the double's agents are started without --attributes.
func (a *agent) attributes() []mesos.Attribute { return nil }

func (a *agent) infoLocked() mesos.AgentInfo {
	port := int32(a.port)
	return mesos.AgentInfo{Hostname: a.hostname, Port: &port, ID: &mesos.AgentID{Value: a.id},
		Resources: a.total.toProto("")}
}

// newAgent creates agent i: its Docker bridge network (whose gateway, a
// host address, becomes the agent's hostname and the address its host ports
// are published on), its sandbox root and its HTTP server.
func (m *Master) newAgent(ctx context.Context, i int) (*agent, error) {
	a := &agent{m: m, n: i, id: m.id + "-S" + strconv.Itoa(i), hostname: "127.0.0.1", ip: "127.0.0.1",
		runs: map[string]*taskRun{}, started: time.Now()}
	a.total = res{cpus: m.opt.CPUs, mem: m.opt.MemMB, disk: m.opt.DiskMB}
	for _, p := range m.opt.Ports {
		a.total.ports = append(a.total.ports, portRange{p[0], p[1]})
	}
	a.total.ports = normalize(a.total.ports)
	a.workDir = filepath.Join(m.opt.WorkDir, "slaves", a.id)
	if err := os.MkdirAll(a.workDir, 0o755); err != nil {
		return nil, err
	}
	if !m.opt.NoDocker {
		name := fmt.Sprintf("mesostest-%s-%d", m.instance, i)
		gw, err := createNetwork(ctx, m.opt.DockerCLI, name, m.instance)
		if err != nil {
			return nil, fmt.Errorf("mesostest: agent %d: %w", i, err)
		}
		a.network, a.hostname = name, gw
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(a.ip, "0"))
	if err != nil {
		return nil, fmt.Errorf("mesostest: agent %d: listen: %w", i, err)
	}
	a.port = ln.Addr().(*net.TCPAddr).Port
	a.files = &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second} // guards against stalled clients only
	go a.files.Serve(ln)
	return a, nil
}

// URL returns the base URL of agent i's HTTP server (files API, /state).
func (m *Master) AgentURL(i int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.agents) {
		return ""
	}
	a := m.agents[i]
	return "http://" + net.JoinHostPort(a.ip, strconv.Itoa(a.port))
}

// AgentHostname returns agent i's hostname: the address its tasks' host
// ports are published on.
func (m *Master) AgentHostname(i int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.agents) {
		return ""
	}
	return m.agents[i].hostname
}

// AgentID returns agent i's ID.
func (m *Master) AgentID(i int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.agents) {
		return ""
	}
	return m.agents[i].id
}

func (m *Master) agentByID(id string) *agent {
	for _, a := range m.agents {
		if a.id == id {
			return a
		}
	}
	return nil
}

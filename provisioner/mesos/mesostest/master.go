package mesostest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/quota"
)

// Mesos defaults the double follows unless Options say otherwise.
const (
	DefaultAllocationInterval = time.Second      // --allocation_interval
	DefaultHeartbeatInterval  = 15 * time.Second // DEFAULT_HEARTBEAT_INTERVAL, not configurable in Mesos
	DefaultRefuseSeconds      = 5.0              // Filters.refuse_seconds default
	maxRefuseSeconds          = 365 * 24 * 3600.0
	statusRetryMin            = 10 * time.Second // STATUS_UPDATE_RETRY_INTERVAL_MIN
	statusRetryMax            = 10 * time.Minute // STATUS_UPDATE_RETRY_INTERVAL_MAX
	defaultShutdownGrace      = 5 * time.Second  // DEFAULT_EXECUTOR_SHUTDOWN_GRACE_PERIOD
	mesosVersion              = "1.11.0"
	// LabelInstance marks every Docker object a double creates, with the
	// double's instance ID as its value, so that Close removes exactly its own.
	LabelInstance = "io.envctl.mesostest"
)

// DoubleTestPorts is the port range envctl's tests give the double's agents: not Mesos's
// default [31000-32000], because a real cluster may run on the same host at the same time
// (../shared/mesos gives its agents 31000-31999, 32000-32999, ...) and its Docker tasks publish
// host ports on every address (0.0.0.0), so a double's task holding 31000 on its bridge's
// gateway makes a real task's launch fail with "address already in use". Below 32768 too,
// where Linux's ephemeral ports (and Docker's random host ports) begin.
var DoubleTestPorts = [][2]uint64{{30000, 30999}}

// Options configure a Master. The zero value is a master with one agent and
// Mesos's defaults.
type Options struct {
	// Agents is the number of agents (default 1).
	Agents int
	// Clock drives every protocol timer (default: the wall clock).
	Clock Clock
	// AllocationInterval is the periodic allocation tick (default 1 s).
	AllocationInterval time.Duration
	// HeartbeatInterval is the time between HEARTBEAT events (default 15 s,
	// which is all Mesos supports; only for tests).
	HeartbeatInterval time.Duration
	// CPUs, MemMB and DiskMB are each agent's scalar resources (defaults 4,
	// 8192 and 16384). Ports are its port ranges (default [31000-32000]).
	CPUs, MemMB, DiskMB float64
	Ports               [][2]uint64
	// Roles, when not empty, is the --roles whitelist.
	Roles []string
	// DenyRootSubmissions is --root_submissions=false.
	DenyRootSubmissions bool
	// NoDocker runs agents without the Docker engine: no per-agent bridge
	// networks, hostnames are 127.0.0.1 and Docker tasks fail to launch.
	// Command tasks still run as host processes.
	NoDocker bool
	// DockerCLI is the docker binary (default "docker").
	DockerCLI string
	// Listen is the master's listen address (default 127.0.0.1:0).
	Listen string
	// WorkDir holds the agents' sandboxes (default: a new temporary directory
	// removed by Close).
	WorkDir string
	// Logf receives the master's log lines (default: discarded).
	Logf func(format string, args ...any)
}

// Master is a Mesos master with its agents, in process. Create it with New,
// serve with Start, and always Close it.
type Master struct {
	opt      Options
	clock    Clock
	instance string // value of LabelInstance on everything this double creates
	id       string // master UUID, prefix of framework, offer and agent IDs
	logf     func(format string, args ...any)
	ownWork  bool

	// mu serialises all master and agent state, as the master's libprocess
	// actor does: every call, timer and agent report runs under it. It is
	// never held across docker or network I/O.
	mu           sync.Mutex
	info         mesos.MasterInfo
	url          string
	frameworks   map[string]*framework
	fwOrder      []string        // framework IDs in registration order, for allocation order
	removed      map[string]bool // torn-down or reaped framework IDs
	completedFws []*framework
	agents       []*agent
	offers       map[string]*offer
	quotas       map[string]quota.QuotaConfig // by role (quota.go)
	nextFw       int
	nextOffer    int
	rounds       int
	transcript   []Call
	faults       faults
	allocTimer   Timer
	closed       bool

	srv       *http.Server
	ln        net.Listener
	bg        sync.WaitGroup // executor and health goroutines, waited for by Close
	closeMu   sync.Mutex     // makes Close idempotent without holding mu during cleanup
	closeErr  error
	closeDone bool
}

// New returns an unstarted master.
func New(opt Options) *Master {
	if opt.Agents <= 0 {
		opt.Agents = 1
	}
	if opt.Clock == nil {
		opt.Clock = RealClock{}
	}
	if opt.AllocationInterval <= 0 {
		opt.AllocationInterval = DefaultAllocationInterval
	}
	if opt.HeartbeatInterval <= 0 {
		opt.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if opt.CPUs <= 0 {
		opt.CPUs = 4
	}
	if opt.MemMB <= 0 {
		opt.MemMB = 8192
	}
	if opt.DiskMB <= 0 {
		opt.DiskMB = 16384
	}
	if len(opt.Ports) == 0 {
		opt.Ports = [][2]uint64{{31000, 32000}}
	}
	if opt.DockerCLI == "" {
		opt.DockerCLI = "docker"
	}
	if opt.Listen == "" {
		opt.Listen = "127.0.0.1:0"
	}
	m := &Master{
		opt:        opt,
		clock:      opt.Clock,
		id:         newUUID(),
		frameworks: map[string]*framework{},
		removed:    map[string]bool{},
		offers:     map[string]*offer{},
		quotas:     map[string]quota.QuotaConfig{},
		logf:       opt.Logf,
	}
	m.instance = m.id[:8]
	if m.logf == nil {
		m.logf = func(string, ...any) {}
	}
	return m
}

// Instance returns the value of the io.envctl.mesostest label on every
// container and network this double creates.
func (m *Master) Instance() string { return m.instance }

// ID returns the master's ID, the prefix of its framework, offer and agent IDs.
func (m *Master) ID() string { return m.id }

// Start creates the agents (their networks and files servers) and starts
// serving the master's HTTP API. It returns the master's base URL,
// e.g. http://127.0.0.1:5050.
func (m *Master) Start(ctx context.Context) (string, error) {
	if m.opt.WorkDir == "" {
		dir, err := os.MkdirTemp("", "mesostest-")
		if err != nil {
			return "", err
		}
		m.opt.WorkDir = dir
		m.ownWork = true
	}
	ln, err := net.Listen("tcp", m.opt.Listen)
	if err != nil {
		return "", fmt.Errorf("mesostest: listen: %w", err)
	}
	m.ln = ln
	addr := ln.Addr().(*net.TCPAddr)
	m.url = "http://" + addr.String()
	ip4 := addr.IP.To4()
	var ipn uint32
	if ip4 != nil {
		// MasterInfo.ip is the IPv4 address in network byte order read as a
		// little-endian uint32 (a quirk of the C++ code).
		ipn = binary.LittleEndian.Uint32(ip4)
	}
	host := addr.IP.String()
	port := int32(addr.Port)
	pid := fmt.Sprintf("master@%s", addr.String())
	ver := mesosVersion
	m.info = mesos.MasterInfo{
		ID: m.id, IP: ipn, Port: ptr(uint32(port)), Hostname: &host, PID: &pid, Version: &ver,
		Address: &mesos.Address{Hostname: &host, IP: &host, Port: port},
		// As Mesos 1.12 announces them (seen in TestDifferential); its third, QUOTA_V2, is
		// newer than mesos-go v0.0.11's protos and left out (doc.go).
		Capabilities: []mesos.MasterInfo_Capability{
			{Type: mesos.MasterInfo_Capability_AGENT_UPDATE},
			{Type: mesos.MasterInfo_Capability_AGENT_DRAINING},
		},
	}
	for i := 0; i < m.opt.Agents; i++ {
		a, err := m.newAgent(ctx, i)
		if err != nil {
			ln.Close()
			m.cleanupAgents(context.Background())
			return "", err
		}
		m.mu.Lock()
		m.agents = append(m.agents, a)
		m.mu.Unlock()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/scheduler", m.serveScheduler)
	mux.HandleFunc("/api/v1", m.serveOperator)
	mux.HandleFunc("/master/api/v1/scheduler", m.serveScheduler)
	mux.HandleFunc("/master/api/v1", m.serveOperator)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second} // guards against stalled clients only
	go m.srv.Serve(ln)
	m.mu.Lock()
	m.scheduleAllocation()
	m.mu.Unlock()
	m.logf("master %s listening on %s with %d agents", m.id, m.url, len(m.agents))
	return m.url, nil
}

// URL returns the base URL given by Start.
func (m *Master) URL() string { return m.url }

// Close stops the master, kills every task, and removes every container,
// network, process and sandbox this double created. It is safe to call twice.
func (m *Master) Close() error {
	m.closeMu.Lock()
	defer m.closeMu.Unlock()
	if m.closeDone {
		return m.closeErr
	}
	m.closeDone = true
	m.mu.Lock()
	m.closed = true
	if m.allocTimer != nil {
		m.allocTimer.Stop()
	}
	for _, fw := range m.frameworks {
		fw.stopTimers()
		if fw.stream != nil {
			fw.stream.close()
		}
	}
	var runs []*taskRun
	for _, a := range m.agents {
		for _, r := range a.runs {
			runs = append(runs, r)
		}
	}
	m.mu.Unlock()
	var errs []error
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second) // streams are closed; this only waits for in-flight calls
		_ = m.srv.Shutdown(ctx)
		cancel()
		m.srv.Close()
	}
	for _, r := range runs {
		r.destroy()
	}
	m.bg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // docker rm of many containers on a slow engine
	defer cancel()
	if err := m.cleanupAgents(ctx); err != nil {
		errs = append(errs, err)
	}
	if m.ownWork {
		if err := os.RemoveAll(m.opt.WorkDir); err != nil {
			errs = append(errs, err)
		}
	}
	m.closeErr = errors.Join(errs...)
	return m.closeErr
}

func (m *Master) cleanupAgents(ctx context.Context) error {
	m.mu.Lock()
	agents := append([]*agent(nil), m.agents...)
	m.mu.Unlock()
	var errs []error
	for _, a := range agents {
		if a.files != nil {
			a.files.Close()
		}
	}
	if !m.opt.NoDocker {
		if err := removeDockerObjects(ctx, m.opt.DockerCLI, m.instance); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// newUUID returns a random RFC 4122 version 4 UUID string.
func newUUID() string {
	b := newUUIDBytes()
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newUUIDBytes() []byte {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("mesostest: crypto/rand failed: " + err.Error()) // not user input; the OS is broken
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}

func fmtUUID(b []byte) string {
	if len(b) != 16 {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func itoa(n int) string { return strconv.Itoa(n) }

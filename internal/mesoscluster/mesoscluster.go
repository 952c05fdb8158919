package mesoscluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// EnvMaster names a running master to use instead of starting one.
const EnvMaster = "ENVCTL_TEST_MESOS_MASTER"

// SkipHint is the one line a test skipped for want of real Mesos says.
const SkipHint = "no real Mesos: run eval \"$(../shared/mesos/start)\" and set " + EnvMaster + "=$MESOS_MASTER, or put shared/mesos beside the checkout"

// Agents is how many agents a cluster started here has: each offers all of the host's cores,
// and two keep the two-agent placement the double's tests also use.
var Agents = 2

var (
	mu       sync.Mutex
	url      string
	dir      string // MESOS_DIR of the cluster started here, "" if none
	scripts  string // the shared/mesos folder
	startErr error
	tried    bool
)

// Master returns the URL of a real master, starting a cluster on first use when
// ENVCTL_TEST_MESOS_MASTER is not set. It skips t when there is no way to get one (fails it
// with CI=true).
func Master(t testing.TB) string {
	t.Helper()
	if u := strings.TrimRight(os.Getenv(EnvMaster), "/"); u != "" {
		return u
	}
	mu.Lock()
	defer mu.Unlock()
	if !tried {
		tried = true
		scripts = Find()
		if scripts != "" {
			url, dir, startErr = start(scripts, Agents)
		}
	}
	if scripts == "" {
		testimage.SkipOrFail(t, SkipHint)
	}
	if startErr != nil {
		// shared/mesos is there, so a cluster is expected to start: never a skip.
		t.Fatalf("start the real Mesos from %s: %v", scripts, startErr)
	}
	return url
}

// Available tells, without starting anything, whether Master would give a master rather
// than skip.
func Available() bool {
	return os.Getenv(EnvMaster) != "" || Find() != ""
}

// Main runs the package's tests and then stops the cluster Master started, if any.
func Main(m *testing.M) int {
	code := m.Run()
	for _, stop := range []func() error{Stop, StopMultiHost} {
		if err := stop(); err != nil {
			fmt.Fprintf(os.Stderr, "mesoscluster: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Stop stops the cluster started by Master (a no-op when none was), with the stop script,
// which also removes the containers its agents made; it checks no agent container is left.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		return nil
	}
	d := dir
	dir, url, tried = "", "", false
	return StopCluster(scripts, d)
}

// StartCluster starts a cluster of n agents from the shared/mesos folder scripts, on free
// ports, and returns its master's URL and its MESOS_DIR (for StopCluster).
func StartCluster(scripts string, n int) (string, string, error) { return start(scripts, n) }

// QuickAgentLoss are master settings for a cluster whose tests stop agents: the master pings
// each agent every 2 s and marks it unreachable after 3 missed pings, about 6 s, instead of
// its defaults' 15 s x 5 = 75 s. The Mesos binaries read a flag from the MESOS_<FLAG>
// variable and ignore the variables that name no flag of theirs, so these reach the master
// alone (the agents have no such flags).
var QuickAgentLoss = []string{"MESOS_AGENT_PING_TIMEOUT=2secs", "MESOS_MAX_AGENT_PING_TIMEOUTS=3"}

// StartClusterEnv is StartCluster with extra MESOS_* settings for the master and agents
// (QuickAgentLoss).
func StartClusterEnv(scripts string, n int, env []string) (string, string, error) {
	return start(scripts, n, env...)
}

// AgentPID is the process ID of agent i (1-based) of the cluster whose MESOS_DIR is d.
func AgentPID(d string, i int) (int, error) {
	b, err := os.ReadFile(filepath.Join(d, fmt.Sprintf("agent%d.pid", i)))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// StopCluster stops the cluster whose MESOS_DIR is d, and checks that none of its processes
// and none of its agents' containers is left.
func StopCluster(scripts, d string) error {
	pids, _ := filepath.Glob(filepath.Join(d, "*.pid"))
	var procs []int
	for _, f := range pids {
		if b, err := os.ReadFile(f); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				procs = append(procs, pid)
			}
		}
	}
	defer unreservePorts(d)
	defer releaseClaim(d)
	// The stop script removes the agents' containers without -v, which leaves the anonymous
	// volumes of images that declare VOLUME (Postgres's, MariaDB's data) behind, one per task
	// for good: they are noted now and removed once their containers are gone.
	vols := anonymousVolumes(Containers(d))
	defer removeVolumes(vols)
	cmd := exec.Command(filepath.Join(scripts, "stop"))
	cmd.Env = append(os.Environ(), "MESOS_DIR="+d)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s/stop: %v: %s", scripts, err, out)
	}
	// The stop script ends the master and the agents, but an executor whose agent is gone
	// lives on (it waits up to 15 min for the agent to recover), holding ~200 MB: every
	// process of this cluster, found by its work folder under d, ends here too.
	procs = append(procs, clusterProcesses(d)...)
	for _, pid := range procs {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Signal(syscall.SIGKILL)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var alive []int
		for _, pid := range append(procs, clusterProcesses(d)...) {
			if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) == nil && !Zombie(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of the Mesos cluster in %s still run after stop", alive, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if left := Containers(d); len(left) > 0 {
		return fmt.Errorf("containers of the Mesos agents left after stop: %v", left)
	}
	// A clean stop leaves nothing worth reading: the folder (its unpacked Mesos, the agents'
	// work folders and logs, ~75 MB) goes too. After a failed one it stays, for its logs.
	_ = os.RemoveAll(d)
	return nil
}

// Find returns the shared/mesos folder beside the module root or beside any folder above
// it, "" when there is none.
func Find() string {
	root, err := moduleRoot()
	if err != nil {
		return ""
	}
	for d := root; ; {
		parent := filepath.Dir(d)
		if c := filepath.Join(parent, "shared", "mesos"); isFile(filepath.Join(c, "start")) {
			return c
		}
		if parent == d {
			return ""
		}
		d = parent
	}
}

func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isFile(filepath.Join(d, "go.mod")) {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		d = parent
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// start runs shared/mesos/start on a free master port, with a MESOS_DIR of that port's own.
// The folder is kept afterwards: it holds the unpacked Mesos that /usr/lib/mesos-1.12 links
// to (another cluster started from it may still be running), and the next run reuses it.
func start(scripts string, agents int, env ...string) (string, string, error) {
	// An agent starting recovers the Docker containers named mesos-* on the engine, all of
	// them, other clusters' too: one that another cluster removes between the agent's
	// `docker ps` and its `docker inspect` makes the agent exit ("Failed to perform recovery:
	// ... No such container"), seen with several helpers' clusters on one engine. That race
	// is over in a moment, so a cluster that did not start is started again, twice at most.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var url, d string
		url, d, err = startOnce(scripts, agents, env...)
		if err == nil || !errors.Is(err, errRecoveryRace) {
			return url, d, err
		}
	}
	return "", "", err
}

// errRecoveryRace marks a start whose agent exited in its Docker recovery (see start).
var errRecoveryRace = errors.New("an agent failed its recovery")

// recoveryRace tells whether an agent of the cluster in d exited in its recovery.
func recoveryRace(d string) bool {
	logs, _ := filepath.Glob(filepath.Join(d, "logs", "agent*.log"))
	for _, l := range logs {
		if b, err := os.ReadFile(l); err == nil && bytes.Contains(b, []byte("Failed to perform recovery")) {
			return true
		}
	}
	return false
}

func startOnce(scripts string, agents int, env ...string) (string, string, error) {
	port, err := freePorts(agents + 1)
	if err != nil {
		return "", "", err
	}
	d := clusterDir(port)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", "", err
	}
	reservePorts(d, agents)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the first run unpacks Mesos
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(scripts, "start"))
	cmd.Env = append(append(os.Environ(), "MESOS_DIR="+d, "MESOS_PORT="+strconv.Itoa(port),
		"MESOS_AGENTS="+strconv.Itoa(agents)), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// Whatever did start is stopped again.
		stop := exec.Command(filepath.Join(scripts, "stop"))
		stop.Env = append(os.Environ(), "MESOS_DIR="+d)
		_ = stop.Run()
		unreservePorts(d)
		releaseClaim(d)
		if recoveryRace(d) {
			err = fmt.Errorf("%w: %v", errRecoveryRace, err)
		}
		return "", "", fmt.Errorf("%w: %s%s", err, strings.TrimSpace(stderr.String()), logTails(d))
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if u, ok := strings.CutPrefix(strings.TrimSpace(line), "MESOS_MASTER="); ok {
			return u, d, nil
		}
	}
	return "", d, fmt.Errorf("start printed no MESOS_MASTER=: %q", stdout.String())
}

// freePorts finds a port P such that P..P+n-1 are free on loopback (the master and its
// agents), away from Mesos's default 5050 that a cluster started by hand may hold, and claims
// it (claimPort) for this process: free ports alone are not enough, since two test processes
// starting clusters at the same moment both see the same ports free and then share a
// MESOS_DIR, each wiping the other's master (seen with tests of several packages at once).
func freePorts(n int) (int, error) {
next:
	for p := 15050; p < 16000; p += 10 {
		for i := 0; i < n; i++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
			if err != nil {
				continue next
			}
			ln.Close()
		}
		if claimPort(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no %d free ports from 15050 on", n)
}

var (
	claimsMu sync.Mutex
	claims   = map[string]*os.File{} // MESOS_DIR -> its lock, held while the cluster runs
)

func clusterDir(port int) string {
	return filepath.Join(os.TempDir(), "envctl-mesos-test-"+strconv.Itoa(port))
}

// claimPort takes an exclusive lock on port's cluster folder for the life of this process (or
// until releaseClaim); false when another process holds it. The kernel drops the lock when the
// process ends, so a killed test run never leaves a port claimed.
func claimPort(port int) bool {
	f, ok := tryLock(clusterDir(port) + ".lock")
	if !ok {
		return false
	}
	claimsMu.Lock()
	claims[clusterDir(port)] = f
	claimsMu.Unlock()
	return true
}

func releaseClaim(d string) {
	claimsMu.Lock()
	defer claimsMu.Unlock()
	if f := claims[d]; f != nil {
		f.Close()
		delete(claims, d)
	}
}

// Containers lists the Docker containers made by the agents of the cluster whose MESOS_DIR
// is d: named mesos-* and mounting a sandbox under d (as shared/mesos/stop finds them).
func Containers(d string) []string {
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "name=^/mesos-").Output()
	if err != nil {
		return nil
	}
	var left []string
	for _, id := range strings.Fields(string(out)) {
		mounts, err := exec.Command("docker", "inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", id).Output()
		if err == nil && strings.Contains(string(mounts), filepath.Join(d, "agent")) {
			left = append(left, id)
		}
	}
	return left
}

// anonymousVolumes lists the anonymous volumes (64 hex digits, no name given) that the
// containers ids mount.
func anonymousVolumes(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out, err := exec.Command("docker", append([]string{"inspect", "-f", `{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}`}, ids...)...).Output()
	if err != nil {
		return nil
	}
	var vols []string
	for _, v := range strings.Fields(string(out)) {
		if anonymousVolume.MatchString(v) {
			vols = append(vols, v)
		}
	}
	return vols
}

var anonymousVolume = regexp.MustCompile(`^[0-9a-f]{64}$`)

// removeVolumes removes the volumes vols, best effort: one still in use stays.
func removeVolumes(vols []string) {
	if len(vols) > 0 {
		_ = exec.Command("docker", append([]string{"volume", "rm"}, vols...)...).Run()
	}
}

// clusterProcesses are the processes whose command line names a folder under d (the
// cluster's master, agents and executors, which get their sandboxes there).
func clusterProcesses(d string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmd), d+string(filepath.Separator)) {
			out = append(out, pid)
		}
	}
	return out
}

// Zombie tells whether pid has exited and only waits to be reaped by its parent.
func Zombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

// logTails is the end of each log of the cluster in d, for a start that failed: the start
// script's own `tail -5 FILE...` is refused by GNU tail with several files ("option used in
// invalid context"), so without this the failure said nothing of why.
func logTails(d string) string {
	logs, _ := filepath.Glob(filepath.Join(d, "logs", "*.log"))
	var b strings.Builder
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		fmt.Fprintf(&b, "\n==> %s <==\n%s", l, strings.Join(lines[max(0, len(lines)-8):], "\n"))
	}
	return b.String()
}

// tryLock takes an exclusive flock on path without waiting; the open file holds it (the
// kernel drops it when the process ends). false when another process holds it.
func tryLock(path string) (*os.File, bool) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return f, true
}

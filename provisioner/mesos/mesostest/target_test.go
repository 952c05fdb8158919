package mesostest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/mesoscluster"
)

// The conformance tests (mesos.md §5, one test per item) run against two targets: the
// double, started per subtest with the options the test asks for, and the real Apache Mesos
// 1.12 master that internal/mesoscluster provides (ENVCTL_TEST_MESOS_MASTER under with-mesos,
// or a cluster started for this package from ../shared/mesos). Each runs in both codecs:
// subtests double/json, double/protobuf, real/json, real/protobuf.
//
// The real master cannot be made to misbehave (no fault switches, no fake clock, its agents
// are shared with every other test of the run), so realPlans says, in this one place, what
// each test checks on the real master: all of it, the parts that need no fault injection
// (the test asks tg.real and leaves the rest to the double), or nothing, each with its reason.
// TestConformanceReport prints the table; mesostest/doc.go summarizes it.

// realPlan is what a conformance test checks on the real master.
type realPlan struct {
	mode string // realFull, realPartial or doubleOnly
	// why the test, or the part of it named here, runs on the double only
	why string
	// parallel: the json and protobuf real subtests may run beside each other: they need no
	// offers, or one offer each at the start (launchFirst declines the rest) and then only
	// wait on their own tasks and timers. Tests that need both agents' offers at once, or
	// time offers across the cluster, run alone.
	parallel bool
}

const (
	realFull    = "real"
	realPartial = "real, in part"
	doubleOnly  = "double only"
)

var realPlans = map[int]realPlan{
	1:  {mode: realFull, parallel: true},
	2:  {mode: doubleOnly, why: "307 and 503 need a master that is not the leader (SetRedirect, SetNoLeader); the test cluster's one master always leads"},
	3:  {mode: doubleOnly, why: "503 needs a master that is recovering its registry (SetRecovering); the test master starts with an in-memory registry and is never seen recovering"},
	4:  {mode: realFull, parallel: true},
	5:  {mode: realFull, parallel: true},
	6:  {mode: realFull, parallel: true},
	7:  {mode: realFull, parallel: true},
	8:  {mode: realFull, parallel: true},
	9:  {mode: realFull, parallel: true},
	10: {mode: realFull},
	11: {mode: realFull, parallel: true},
	12: {mode: realPartial, parallel: true, why: "the 15 s period is checked once on the real clock (no HEARTBEAT before 14 s, one within 60 s); stopping heartbeats (SetHeartbeats) is a fault switch"},
	13: {mode: realPartial, parallel: true, why: "refusing user root is the double's DenyRootSubmissions option (Mesos's --root_submissions=false), which the test cluster does not set"},
	14: {mode: realFull},
	15: {mode: realFull, parallel: true},
	16: {mode: realFull, parallel: true, why: "on the real clock, with a 5 s failover_timeout instead of a fake clock's 10 s"},
	17: {mode: realPartial, why: "the resources are the test cluster's (its hosts' cores and memory, each agent its own port range), not the double's 4 cpus, 8192 MB, 16384 MB and [31000-32000]: checked as some cpus, mem and disk and one range of 1000 ports"},
	18: {mode: realPartial, why: "the 1 s tick's exact timing needs a fake clock (FakeClock) and OfferRounds: on real, offers come at once after SUBSCRIBED and after REVIVE inside a filter, and again after a DECLINE without a filter"},
	19: {mode: realPartial, parallel: true, why: "on the real clock; filters shorter than the 1 s tick are not timed there"},
	20: {mode: realFull},
	21: {mode: realFull},
	22: {mode: realFull},
	23: {mode: realFull},
	24: {mode: realFull},
	25: {mode: realPartial, parallel: true, why: "one resend (after 10 s on the real clock) instead of the fake clock's 10 s and 20 s"},
	26: {mode: realPartial, why: "that a master update is never resent needs minutes on the real clock (FakeClock): only the missing uuid and the source are checked"},
	27: {mode: realFull, parallel: true},
	28: {mode: realPartial, parallel: true, why: "a KILL before the task reaches its agent needs a launch held back (SetLaunchDelay)"},
	29: {mode: realPartial, parallel: true, why: "a task still TASK_STAGING when reconciled needs a launch held back (SetLaunchDelay)"},
	30: {mode: realPartial, parallel: true, why: "the grace period's and the interval's timing need a fake clock: on real, only the sequence of health updates is checked"},
	31: {mode: realFull, parallel: true},
	32: {mode: doubleOnly, why: "losing an agent (LoseAgent) would take an agent away from every other test using the shared cluster"},
	33: {mode: realFull, parallel: true},
	35: {mode: realFull},
	34: {mode: doubleOnly, why: "holding SUBSCRIBED back (SetSubscribeDelay) is a fault switch; undelayed, the real master's headers-first answer is already checked by items 9 and 10"},
}

// target is the master one conformance subtest talks to: the double (Master set) or the
// real one (real, url). Tests call the double's own methods (fault switches, its clock) only
// when !real.
type target struct {
	*Master
	real bool
	url  string
	id   string

	mu         sync.Mutex
	fws        map[string]bool // frameworks subscribed on the real master, torn down at the end
	containers map[string]bool // container IDs of its tasks, whose Docker containers go too
}

// URL is the master's base URL.
func (tg *target) URL() string {
	if tg.real {
		return tg.url
	}
	return tg.Master.URL()
}

// ID is the master's ID (framework and offer IDs start with it).
func (tg *target) ID() string {
	if tg.real {
		return tg.id
	}
	return tg.Master.ID()
}

// name is "double" or "real".
func (tg *target) name() string {
	if tg.real {
		return "real"
	}
	return "double"
}

// wait is d on the double and a generous multiple of it on the real master, whose Docker
// executor starts containers and checks seconds later, more so on a loaded machine.
func (tg *target) wait(d time.Duration) time.Duration {
	if tg != nil && tg.real {
		return 6*d + 30*time.Second
	}
	return d
}

// start is the double's startMaster with opt; on the real master opt is ignored (the test
// cluster has its own agents, 1 s allocation interval and the real clock).
func (tg *target) start(t *testing.T, opt Options) *target {
	t.Helper()
	if !tg.real {
		tg.Master = startMaster(t, opt)
	}
	return tg
}

// user is the framework user a test asks for, except on the real master, whose agents run
// command tasks as that user: there it is whoever runs the tests (as envctl sends it).
func (tg *target) user(u string) string {
	if tg.real && u != "root" {
		return diffUser()
	}
	return u
}

// track remembers a framework subscribed on the real master, for the teardown at the end.
func (tg *target) track(id string) {
	if !tg.real || id == "" {
		return
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.fws[id] = true
}

// trackContainer remembers a task's container on the real master: a real agent keeps a
// stopped task's Docker container for --docker_remove_delay (6 h by default).
func (tg *target) trackContainer(id string) {
	if !tg.real || id == "" {
		return
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.containers[id] = true
}

// removeContainers removes the Docker containers of this subtest's tasks (named
// mesos-<container ID> by the Docker containerizer; command tasks have none) once their
// tasks have ended, and checks that none is left.
func (tg *target) removeContainers(t *testing.T) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for id := range tg.containers {
		name := "mesos-" + id
		_ = exec.Command("docker", "rm", "-f", "-v", name).Run() // "No such container" for command tasks
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "name=^/"+name+"$").Output()
		if err != nil {
			t.Errorf("docker ps for %s: %v", name, err)
		} else if strings.TrimSpace(string(out)) != "" {
			t.Errorf("container %s of this test is left after TEARDOWN", name)
		}
	}
}

// teardown ends every framework this subtest subscribed on the real master (operator
// TEARDOWN, which needs no subscription), so their tasks and containers go, and checks that
// none of their tasks is left running.
func (tg *target) teardown(t *testing.T) {
	tg.mu.Lock()
	ids := make([]string, 0, len(tg.fws))
	for id := range tg.fws {
		ids = append(ids, id)
	}
	tg.mu.Unlock()
	for _, id := range ids {
		body := `{"type":"TEARDOWN","teardown":{"framework_id":{"value":"` + id + `"}}}`
		req, _ := http.NewRequest(http.MethodPost, tg.url+"/api/v1", strings.NewReader(body))
		req.Header.Set("Content-Type", mediaJSON)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Errorf("TEARDOWN %s on the real master: %v", id, err)
			continue
		}
		resp.Body.Close()
		// 200, or 400 for a framework already gone (removed by its failover timeout, or by
		// the test's own TEARDOWN).
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("TEARDOWN %s on the real master: %d", id, resp.StatusCode)
		}
	}
	if len(ids) == 0 {
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		left := tg.activeTasks(t, ids)
		if len(left) == 0 {
			tg.removeContainers(t)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("tasks of this test still active on the real master after TEARDOWN: %v", left)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// activeTasks lists the non-terminal tasks of the frameworks ids on the real master.
func (tg *target) activeTasks(t *testing.T, ids []string) []string {
	resp := tg.operatorJSON(t, "GET_TASKS")
	var left []string
	for _, tk := range asList(dig(resp, "get_tasks", "tasks")) {
		fw, _ := dig(tk, "framework_id", "value").(string)
		st, _ := dig(tk, "state").(string)
		if contains(ids, fw) && !isTerminalName(st) {
			left = append(left, fmt.Sprintf("%s %s", dig(tk, "task_id", "value"), st))
		}
	}
	return left
}

func isTerminalName(st string) bool {
	switch st {
	case "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE":
		return true
	}
	return false
}

// operatorJSON sends an operator call as JSON, whatever the test's codec, and decodes the
// answer into plain maps.
func (tg *target) operatorJSON(t *testing.T, typ string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tg.URL()+"/api/v1", strings.NewReader(`{"type":"`+typ+`"}`))
	req.Header.Set("Content-Type", mediaJSON)
	req.Header.Set("Accept", mediaJSON)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("operator %s: %v", typ, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("operator %s: %d %v", typ, resp.StatusCode, err)
	}
	return out
}

// frameworkState tells whether the master knows framework id as a current (not completed)
// framework, and whether it is connected, from GET_FRAMEWORKS: the same on both targets.
func (tg *target) frameworkState(t *testing.T, id string) (known, connected bool) {
	t.Helper()
	resp := tg.operatorJSON(t, "GET_FRAMEWORKS")
	for _, f := range asList(dig(resp, "get_frameworks", "frameworks")) {
		if dig(f, "framework_info", "id", "value") == id {
			c, _ := dig(f, "connected").(bool)
			return true, c
		}
	}
	return false, false
}

// eventually polls cond every 20 ms, failing after 10 s on the double and longer on real.
func (tg *target) eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(tg.wait(10 * time.Second))
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// disconnected waits until the master sees framework id disconnected.
func (tg *target) disconnected(t *testing.T, id string) {
	t.Helper()
	tg.eventually(t, "framework "+id+" disconnected", func() bool {
		_, c := tg.frameworkState(t, id)
		return !c
	})
}

// processGone waits until no process's command line contains marker (a command task's
// shell carries its whole command), failing after d.
func processGone(t *testing.T, marker string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if len(processesWith(marker)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v running %q still run after %v", processesWith(marker), marker, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func processesWith(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), marker) && !mesoscluster.Zombie(pid) {
			out = append(out, pid)
		}
	}
	return out
}

var conformanceNumber = regexp.MustCompile(`^TestConformance(\d\d)_`)

// conformance runs f as the subtests double/json and double/protobuf and, as realPlans says
// for this test, real/json and real/protobuf against the real master.
func conformance(t *testing.T, f func(t *testing.T, tg *target, c testCodec)) {
	t.Helper()
	m := conformanceNumber.FindStringSubmatch(t.Name())
	if m == nil {
		t.Fatalf("%s is not named TestConformanceNN_...", t.Name())
	}
	n, _ := strconv.Atoi(m[1])
	plan, ok := realPlans[n]
	if !ok {
		t.Fatalf("realPlans has no entry for item %d", n)
	}
	for _, c := range testCodecs {
		t.Run("double/"+c.name, func(t *testing.T) { f(t, &target{}, c) })
	}
	if plan.mode == doubleOnly {
		return
	}
	for _, c := range testCodecs {
		t.Run("real/"+c.name, func(t *testing.T) {
			t.Cleanup(func() { recordResult(n, c.name, t) }) // last: after the teardown
			url := mesoscluster.Master(t)
			if plan.parallel {
				t.Parallel()
			}
			tg := &target{real: true, url: url, fws: map[string]bool{}, containers: map[string]bool{}}
			resp := tg.operatorJSON(t, "GET_MASTER")
			tg.id, _ = dig(resp, "get_master", "master_info", "id").(string)
			if tg.id == "" {
				t.Fatalf("GET_MASTER on %s: no master_info.id in %v", url, resp)
			}
			t.Cleanup(func() { tg.teardown(t) })
			f(t, tg, c)
		})
	}
}

var (
	resultsMu sync.Mutex
	results   = map[string]string{} // "NN codec" -> passed, FAILED or skipped: why
)

// recordResult keeps a real subtest's outcome for TestConformanceReport.
func recordResult(n int, codec string, t *testing.T) {
	v := "passed"
	switch {
	case t.Failed():
		v = "FAILED"
	case t.Skipped():
		v = "skipped"
	}
	resultsMu.Lock()
	defer resultsMu.Unlock()
	results[fmt.Sprintf("%02d %s", n, codec)] = v
}

// TestConformanceReport prints, per item of mesos.md §5, where its conformance test runs:
// on the real master as well as the double (all of it, or in part and why), or on the
// double only and why. It fails if a conformance test has no entry or an entry lacks its
// reason.
func TestConformanceReport(t *testing.T) {
	var b strings.Builder
	nums := make([]int, 0, len(realPlans))
	for n := range realPlans {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	counts := map[string]int{}
	for _, n := range nums {
		p := realPlans[n]
		counts[p.mode]++
		line := fmt.Sprintf("%2d  %-13s", n, p.mode)
		if p.mode != doubleOnly {
			resultsMu.Lock()
			for _, c := range testCodecs {
				v := results[fmt.Sprintf("%02d %s", n, c.name)]
				if v == "" {
					v = "not run"
				}
				line += fmt.Sprintf("  %s: %-7s", c.name, v)
			}
			resultsMu.Unlock()
		}
		if p.why != "" {
			line += "  " + p.why
		}
		fmt.Fprintln(&b, line)
		if p.mode != realFull && p.why == "" {
			t.Errorf("item %d is %q without a reason", n, p.mode)
		}
	}
	if len(nums) != 35 || nums[0] != 1 || nums[34] != 35 {
		t.Errorf("realPlans covers items %v, want 1..35", nums)
	}
	where := "the real master from internal/mesoscluster"
	if !mesoscluster.Available() {
		where = "no real master here (" + mesoscluster.SkipHint + ")"
	}
	t.Logf("conformance items on the real Apache Mesos (%s), double and real each in json and protobuf:\n%s"+
		"%d on real in full, %d in part, %d on the double only", where, b.String(),
		counts[realFull], counts[realPartial], counts[doubleOnly])
}

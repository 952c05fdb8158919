package mesostest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"

	"github.com/envctl/envctl/internal/testimage"
)

// These tests run real containers on the local engine through the double.

func dockerTask(id, agentID, image string, network mesos.ContainerInfo_DockerInfo_Network, args ...string) mesos.TaskInfo {
	dt := mesos.ContainerInfo_DOCKER
	return mesos.TaskInfo{Name: id, TaskID: mesos.TaskID{Value: id}, AgentID: mesos.AgentID{Value: agentID},
		Resources: smallRes(),
		Command:   &mesos.CommandInfo{Shell: ptr(false), Arguments: args},
		Container: &mesos.ContainerInfo{Type: &dt, Docker: &mesos.ContainerInfo_DockerInfo{Image: image, Network: network.Enum()}}}
}

func withPort(ti mesos.TaskInfo, host, container uint32) mesos.TaskInfo {
	ti.Resources = smallRes(uint64(host))
	ti.Container.Docker.PortMappings = append(ti.Container.Docker.PortMappings,
		mesos.ContainerInfo_DockerInfo_PortMapping{HostPort: host, ContainerPort: container, Protocol: ptr("tcp")})
	return ti
}

func startDockerMaster(t *testing.T, agents int) (*Master, string) {
	t.Helper()
	image := testimage.NeedTestsvc(t)
	return startMaster(t, Options{Agents: agents, AllocationInterval: 100 * time.Millisecond}), image
}

func TestConformance24_DockerLaunch(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		image := testimage.NeedTestsvc(t)
		m := tg.start(t, Options{Agents: 1, AllocationInterval: 100 * time.Millisecond})
		s := targetClient(t, m, c).subscribe(frameworkInfo("d"))
		offers := s.offers(5 * time.Second)
		a := offers[0].AgentID.Value
		// Host ports from the agent's own range (the real test cluster gives each agent one).
		r, err := fromProto(offers[0].Resources)
		if err != nil || len(r.ports) == 0 {
			t.Fatalf("offer without ports: %v %v", r, err)
		}
		base := uint32(r.ports[0].begin)
		ok := dockerTask("ok", a, image, mesos.ContainerInfo_DockerInfo_BRIDGE, "--exit", "0")
		fail := dockerTask("fail", a, image, mesos.ContainerInfo_DockerInfo_BRIDGE, "--exit", "3")
		missing := dockerTask("missing", a, "envctl-test/mesostest-missing:none", mesos.ContainerInfo_DockerInfo_BRIDGE)
		badPort := withPort(dockerTask("bad-port", a, image, mesos.ContainerInfo_DockerInfo_BRIDGE), base, 80)
		badPort.Container.Docker.PortMappings[0].HostPort = base + 999
		shell := dockerTask("shell-no-value", a, image, mesos.ContainerInfo_DockerInfo_BRIDGE)
		shell.Command = &mesos.CommandInfo{}
		s.launchFirst(offers, ok, fail, missing, badPort, shell)
		type result struct {
			states []mesos.TaskState
			last   mesos.TaskStatus
		}
		results := map[string]*result{}
		done := 0
		deadline := time.Now().Add(tg.wait(60 * time.Second))
		for done < 5 {
			st := s.nextUpdate(time.Until(deadline))
			s.ack(st)
			r := results[st.TaskID.Value]
			if r == nil {
				r = &result{}
				results[st.TaskID.Value] = r
			}
			r.states = append(r.states, st.GetState())
			r.last = st
			if st.GetState() == mesos.TASK_STAGING {
				t.Errorf("%s: TASK_STAGING pushed", st.TaskID.Value)
			}
			if st.GetState() == mesos.TASK_RUNNING && st.TaskID.Value == "ok" {
				// docker inspect's output: an array holding the container's object.
				var inspect []map[string]any
				if err := json.Unmarshal(st.Data, &inspect); err != nil || len(inspect) != 1 || inspect[0]["Id"] == nil {
					t.Errorf("RUNNING data: got %q, want docker inspect's JSON array", st.Data)
				}
				if st.ContainerStatus == nil || st.ContainerStatus.ContainerID == nil || st.Timestamp == nil {
					t.Errorf("RUNNING lacks container_status or timestamp: %+v", st)
				}
				if st.GetSource() != mesos.SOURCE_EXECUTOR {
					t.Errorf("RUNNING source %s, want SOURCE_EXECUTOR", st.GetSource())
				}
			}
			if isTerminal(st.GetState()) {
				done++
			}
		}
		want := map[string]string{
			"ok":             "[TASK_STARTING TASK_RUNNING TASK_FINISHED] Container exited with status 0",
			"fail":           "[TASK_STARTING TASK_RUNNING TASK_FAILED] Container exited with status 3",
			"missing":        "[TASK_FAILED] Failed to launch container",
			"bad-port":       fmt.Sprintf("[TASK_STARTING TASK_FAILED] Failed to create docker run options: Port [%d] not included in resources", base+999),
			"shell-no-value": "[TASK_STARTING TASK_FAILED] Failed to create docker run options: Shell specified but no command value provided",
		}
		for id, w := range want {
			r := results[id]
			got := fmt.Sprintf("%v %s", r.states, r.last.GetMessage())
			if !strings.HasPrefix(got, w) {
				t.Errorf("%s: got %q, want prefix %q", id, got, w)
			}
		}
		if r := results["missing"].last; r.GetSource() != mesos.SOURCE_AGENT || r.GetReason() != mesos.REASON_CONTAINER_LAUNCH_FAILED {
			t.Errorf("missing image: got %s %s, want SOURCE_AGENT REASON_CONTAINER_LAUNCH_FAILED", r.GetSource(), r.GetReason())
		}
	})
}

// TestDockerBridgeAcrossAgents: a BRIDGE task answers on (agent hostname,
// host port) from this host, from a container on another agent, goes
// healthy, and its stdout is readable through the files API.
func TestDockerBridgeAcrossAgents(t *testing.T) {
	m, image := startDockerMaster(t, 2)
	c := testCodecs[0]
	s := newClient(t, m, c).subscribe(frameworkInfo("x"))
	offers := s.offers(5 * time.Second)
	byAgent := map[string]mesos.Offer{}
	for _, o := range offers {
		byAgent[o.AgentID.Value] = o
	}
	a0, a1 := m.AgentID(0), m.AgentID(1)
	if m.AgentHostname(0) == m.AgentHostname(1) {
		t.Fatalf("agents share hostname %s; want one address each", m.AgentHostname(0))
	}
	web := withPort(dockerTask("web", a0, image, mesos.ContainerInfo_DockerInfo_BRIDGE,
		"--name", "web", "--http", "8080", "--log", "hello from web"), 31005, 8080)
	web.HealthCheck = &mesos.HealthCheck{Type: mesos.HealthCheck_HTTP, HTTP: &mesos.HealthCheck_HTTPCheckInfo{Port: 8080, Path: ptr("/healthz")},
		DelaySeconds: ptr(0.0), IntervalSeconds: ptr(0.2), GracePeriodSeconds: ptr(60.0)}
	s.launch([]mesos.OfferID{byAgent[a0].ID}, web)
	// The grace period is generous because a loaded engine can take seconds
	// to start the container; failures inside it are not reported.
	s.updateAck("web", mesos.TASK_RUNNING, 30*time.Second)
	st := s.updateAck("web", mesos.TASK_RUNNING, 60*time.Second)
	if st.Healthy == nil || !*st.Healthy {
		t.Fatalf("web: got healthy=%v, want true", *st.Healthy)
	}
	addr := fmt.Sprintf("%s:31005", m.AgentHostname(0))
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("from the host: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "web" {
		t.Errorf("GET / from the host: got %q, want %q", body, "web")
	}
	// From a container on agent 1.
	caller := dockerTask("caller", a1, image, mesos.ContainerInfo_DockerInfo_BRIDGE, "probe", "http", "http://"+addr+"/healthz")
	s.launch([]mesos.OfferID{byAgent[a1].ID}, caller)
	if st := s.updateAck("caller", mesos.TASK_FINISHED, 30*time.Second); st.GetMessage() != "Container exited with status 0" {
		t.Errorf("caller: %s", st.GetMessage())
	}
	// Files API: the container's stdout in the sandbox.
	path := fmt.Sprintf("/frameworks/%s/executors/web/runs/latest/stdout", s.fwID)
	q := url.Values{"path": {path}, "offset": {"0"}}
	resp, err = http.Get(m.AgentURL(0) + "/files/read?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var fr map[string]any
	json.NewDecoder(resp.Body).Decode(&fr)
	resp.Body.Close()
	if data, _ := fr["data"].(string); !strings.Contains(data, "hello from web") {
		t.Errorf("files/read stdout: got %v, want it to contain %q", fr, "hello from web")
	}
}

// TestDockerUnhealthyKilled: a failing COMMAND check (run with docker exec
// in a scratch image) reports healthy=false, then kills the task.
func TestDockerUnhealthyKilled(t *testing.T) {
	m, image := startDockerMaster(t, 1)
	s := newClient(t, m, testCodecs[1]).subscribe(frameworkInfo("u"))
	offers := s.offers(5 * time.Second)
	task := dockerTask("sick", offers[0].AgentID.Value, image, mesos.ContainerInfo_DockerInfo_BRIDGE, "--http", "8080")
	task.HealthCheck = &mesos.HealthCheck{Type: mesos.HealthCheck_COMMAND,
		Command:      &mesos.CommandInfo{Shell: ptr(false), Value: ptr("/testsvc"), Arguments: []string{"probe", "tcp", "127.0.0.1:9"}},
		DelaySeconds: ptr(0.0), IntervalSeconds: ptr(0.2), GracePeriodSeconds: ptr(0.0), ConsecutiveFailures: ptr(uint32(2))}
	task.KillPolicy = &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(time.Second)}}
	s.launch(ids(offers), task)
	s.updateAck("sick", mesos.TASK_RUNNING, 30*time.Second)
	unhealthy := 0
	for {
		st := s.nextUpdate(30 * time.Second)
		s.ack(st)
		if st.GetState() == mesos.TASK_RUNNING {
			if st.Healthy == nil || *st.Healthy {
				t.Fatalf("got healthy=%v, want false", st.Healthy)
			}
			unhealthy++
			continue
		}
		if st.GetState() != mesos.TASK_KILLED || st.Healthy == nil || *st.Healthy {
			t.Fatalf("got %s healthy=%v, want TASK_KILLED healthy=false", st.GetState(), st.Healthy)
		}
		break
	}
	if unhealthy != 2 {
		t.Errorf("unhealthy updates: got %d, want 2 (consecutive_failures)", unhealthy)
	}
}

// TestDockerHostNetworkKillAndReap: HOST networking with env, KILL, and a
// framework whose failover_timeout runs out has its containers removed.
func TestDockerHostNetworkKillAndReap(t *testing.T) {
	m, image := startDockerMaster(t, 1)
	cl := newClient(t, m, testCodecs[0])
	s := cl.subscribe(&mesos.FrameworkInfo{User: "u", Name: "reap", FailoverTimeout: ptr(1.0)})
	offers := s.offers(5 * time.Second)
	a := offers[0].AgentID.Value
	host := dockerTask("host", a, image, mesos.ContainerInfo_DockerInfo_HOST, "--http", "31777")
	host.Resources = smallRes(31777)
	host.Command.Environment = &mesos.Environment{Variables: []mesos.Environment_Variable{{Name: "GREETING", Value: ptr("hi there")}}}
	victim := dockerTask("victim", a, image, mesos.ContainerInfo_DockerInfo_BRIDGE)
	s.launch(ids(offers), host, victim)
	s.allRunning(30*time.Second, "host", "victim")
	resp, err := http.Get(fmt.Sprintf("http://%s:31777/env", m.AgentHostname(0)))
	if err != nil {
		t.Fatalf("HOST network task: %v", err)
	}
	var env map[string]string
	json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if env["GREETING"] != "hi there" {
		t.Errorf("env GREETING: got %q, want %q", env["GREETING"], "hi there")
	}
	s.mustCall(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "victim"}}}, http.StatusAccepted)
	s.updateAck("victim", mesos.TASK_KILLED, 30*time.Second)
	if n := countContainers(t, m); n != 1 {
		t.Errorf("containers after KILL: got %d, want 1", n)
	}
	s.close()
	waitFor(t, "failover_timeout to reap the framework's containers", func() bool { return countContainers(t, m) == 0 })
}

func countContainers(t *testing.T, m *Master) int {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+LabelInstance+"="+m.Instance()).Output()
	if err != nil {
		t.Fatal(err)
	}
	return len(strings.Fields(string(out)))
}

package mesostest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// The golden tests speak to the double the way a scheduler written from the
// Mesos documentation would: raw JSON bodies from docs/scheduler-http-api.md
// (testdata/*.json) in, events decoded with plain encoding/json out. No
// mesos-go type is involved, so a quirk shared by mesos-go and the double
// cannot hide here.

type rawSub struct {
	t      *testing.T
	m      *Master
	stream string
	events chan map[string]any
	cancel context.CancelFunc
}

func golden(t *testing.T, name string, vars map[string]string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return []byte(s)
}

func rawSubscribe(t *testing.T, m *Master, body []byte) *rawSub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL()+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("SUBSCRIBE: got %d %q, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &rawSub{t: t, m: m, stream: resp.Header.Get("Mesos-Stream-Id"), events: make(chan map[string]any, 100), cancel: cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.events)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			n, _ := strconv.Atoi(strings.TrimSpace(line))
			rec := make([]byte, n)
			if _, err := io.ReadFull(br, rec); err != nil {
				return
			}
			var ev map[string]any
			if err := json.Unmarshal(rec, &ev); err != nil {
				t.Errorf("event is not JSON: %q", rec)
				return
			}
			s.events <- ev
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func (s *rawSub) next(typ string) map[string]any {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("stream ended waiting for %s", typ)
			}
			checkNoNulls(s.t, typ, ev)
			if ev["type"] == typ {
				return ev
			}
		case <-timeout:
			s.t.Fatalf("no %s event", typ)
		}
	}
}

func (s *rawSub) post(body []byte, want int) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.m.URL()+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", s.stream)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		s.t.Fatalf("POST %.60s…: got %d %q, want %d", body, resp.StatusCode, b, want)
	}
}

func TestGoldenDocumentationFlow(t *testing.T) {
	m := startMaster(t, Options{NoDocker: true})
	s := rawSubscribe(t, m, golden(t, "subscribe.json", nil))
	sub := s.next("SUBSCRIBED")
	fwID, _ := dig(sub, "subscribed", "framework_id", "value").(string)
	if fwID == "" || dig(sub, "subscribed", "heartbeat_interval_seconds") != 15.0 {
		t.Fatalf("SUBSCRIBED: got %v", sub)
	}
	if dig(sub, "subscribed", "master_info", "id") != m.ID() {
		t.Errorf("master_info.id: got %v, want %s", dig(sub, "subscribed", "master_info", "id"), m.ID())
	}
	s.next("HEARTBEAT")
	offers := s.next("OFFERS")
	offer := dig(offers, "offers", "offers", 0)
	offerID, _ := dig(offer, "id", "value").(string)
	agentID, _ := dig(offer, "agent_id", "value").(string)
	if dig(offer, "allocation_info", "role") != "test" {
		t.Errorf("offer allocation_info: got %v, want role test", dig(offer, "allocation_info"))
	}
	for i, want := range []string{"cpus", "mem", "disk", "ports"} {
		if dig(offer, "resources", i, "name") != want {
			t.Errorf("resources[%d].name: got %v, want %s", i, dig(offer, "resources", i, "name"), want)
		}
	}
	if dig(offer, "resources", 0, "type") != "SCALAR" || dig(offer, "resources", 0, "role") != "*" {
		t.Errorf("cpus resource: got %v", dig(offer, "resources", 0))
	}
	vars := map[string]string{"FRAMEWORK_ID": fwID, "OFFER_ID": offerID, "AGENT_ID": agentID}
	s.post(golden(t, "accept.json", vars), 202)
	up := s.next("UPDATE")
	st := dig(up, "update", "status")
	if dig(st, "state") != "TASK_STARTING" || dig(st, "source") != "SOURCE_EXECUTOR" ||
		dig(st, "task_id", "value") != "12220-3440-12532-my-task" || dig(st, "agent_id", "value") != agentID {
		t.Fatalf("first UPDATE: got %v", st)
	}
	uuid, _ := dig(st, "uuid").(string)
	if _, err := json.Marshal(uuid); err != nil || len(uuid) != 24 || !strings.HasSuffix(uuid, "==") {
		t.Errorf("uuid: got %q, want 16 bytes of standard base64 with padding", uuid)
	}
	if _, ok := dig(st, "timestamp").(float64); !ok {
		t.Errorf("timestamp: got %v, want a number", dig(st, "timestamp"))
	}
	vars["UUID"] = uuid
	s.post(golden(t, "acknowledge.json", vars), 202)
	running := s.next("UPDATE")
	if dig(running, "update", "status", "state") != "TASK_RUNNING" {
		t.Fatalf("after ACK: got %v, want TASK_RUNNING", running)
	}
	vars["UUID"], _ = dig(running, "update", "status", "uuid").(string)
	s.post(golden(t, "acknowledge.json", vars), 202)
	s.post(golden(t, "reconcile.json", vars), 202)
	rec := s.next("UPDATE")
	if dig(rec, "update", "status", "reason") != "REASON_RECONCILIATION" || dig(rec, "update", "status", "uuid") != nil {
		t.Errorf("reconcile: got %v, want REASON_RECONCILIATION without uuid", rec)
	}
	s.post(golden(t, "suppress.json", vars), 202)
	s.post(golden(t, "revive.json", vars), 202)
	more := s.next("OFFERS")
	vars["OFFER_ID"], _ = dig(more, "offers", "offers", 0, "id", "value").(string)
	s.post(golden(t, "decline.json", vars), 202)
	s.post(golden(t, "kill.json", vars), 202)
	killed := s.next("UPDATE")
	if dig(killed, "update", "status", "state") != "TASK_KILLED" {
		t.Errorf("after KILL: got %v, want TASK_KILLED", killed)
	}
	s.post(golden(t, "teardown.json", vars), 202)
	s.post(golden(t, "teardown.json", vars), 400)
}

// TestGoldenOperatorAPI reads GET_FRAMEWORKS and GET_TASKS as plain JSON.
func TestGoldenOperatorAPI(t *testing.T) {
	m := startMaster(t, Options{NoDocker: true})
	c := testCodecs[0]
	s := newClient(t, m, c).subscribe(frameworkInfo("op"))
	offers := s.offers(5 * time.Second)
	s.launch(ids(offers), cmdTask("t", offers[0].AgentID.Value, "sleep 30"))
	s.updateAck("t", mesos.TASK_RUNNING, 5*time.Second)
	for _, body := range []string{`{"type":"GET_FRAMEWORKS"}`, `{"type":"GET_TASKS"}`, `{"type":"GET_AGENTS"}`, `{"type":"GET_STATE"}`} {
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var mp map[string]any
		json.NewDecoder(resp.Body).Decode(&mp)
		resp.Body.Close()
		checkNoNulls(t, body, mp)
		switch body {
		case `{"type":"GET_FRAMEWORKS"}`:
			if dig(mp, "get_frameworks", "frameworks", 0, "framework_info", "id", "value") != s.fwID ||
				dig(mp, "get_frameworks", "frameworks", 0, "connected") != true {
				t.Errorf("GET_FRAMEWORKS: got %v", mp)
			}
		case `{"type":"GET_TASKS"}`:
			if dig(mp, "get_tasks", "tasks", 0, "task_id", "value") != "t" || dig(mp, "get_tasks", "tasks", 0, "state") != "TASK_RUNNING" {
				t.Errorf("GET_TASKS: got %v", mp)
			}
		case `{"type":"GET_AGENTS"}`:
			if dig(mp, "get_agents", "agents", 0, "agent_info", "hostname") != m.AgentHostname(0) {
				t.Errorf("GET_AGENTS: got %v", mp)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1",
		strings.NewReader(`{"type":"TEARDOWN","teardown":{"framework_id":{"value":"`+s.fwID+`"}}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("operator TEARDOWN: got %d, want 200", resp.StatusCode)
	}
	if _, ok := <-s.events; ok {
		for range s.events {
		}
	}
	if frameworkConnected(m, s.fwID) {
		t.Error("framework still connected after operator TEARDOWN")
	}
}

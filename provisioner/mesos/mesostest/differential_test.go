package mesostest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/mesoscluster"
	"github.com/envctl/envctl/internal/testimage"
)

// The differential tests run the same scripted scenarios against the double and against a
// real Apache Mesos master (internal/mesoscluster), speaking raw JSON with encoding/json
// maps (not mesos-go, so an encoding quirk shared with the double cannot hide), and compare
// their normalized transcripts: call and event types in order, task states, reasons and
// sources, which fields each message has and their JSON types, HTTP status codes and error
// texts (IDs masked). TestDifferential prints each scenario with its verdict; a difference
// fails it unless deliberateDiffs lists it (and doc.go says why).

// deliberateDiffs are transcript lines, "scenario: line", that differ on purpose (see doc.go,
// "Deliberate differences"). Keys are the real master's line prefixed by "real " or the
// double's prefixed by "double ".
var deliberateDiffs = map[string]string{}

// deliberateFields are message fields that only the real master has, left out of the
// comparison on purpose (doc.go says the same), by "message.field".
var deliberateFields = map[string]string{
	"agent_info.checkpoint":       "mesos-go v0.0.11's AgentInfo has no checkpoint field",
	"framework.offer_constraints": "Mesos 1.12's offer constraints are newer than mesos-go v0.0.11's protos",
	"get_tasks.unreachable_tasks": "an empty list: the real master writes [], the double omits every empty list; a reader sees none either way",
	"get_agents.recovered_agents": "an empty list: the real master writes [], the double omits every empty list; a reader sees none either way",
	// Lists present only while offers are outstanding: that depends on the number of agents
	// and on timing, not on the master (both omit them when empty).
	"framework.offers":            "present only while offers are outstanding (agents, timing)",
	"framework.offered_resources": "present only while offers are outstanding (agents, timing)",
	"agent.offered_resources":     "present only while offers are outstanding (agents, timing)",
	"agent.allocated_resources":   "present only while the agent runs a task (which agent gets it is timing)",
}

// TestMain stops the real Mesos cluster mesoscluster may have started for this package.
func TestMain(m *testing.M) { os.Exit(mesoscluster.Main(m)) }

// diffTarget is one master the scenarios run against.
type diffTarget struct {
	name string
	url  string
}

// TestDifferential runs every scenario on both masters and compares.
func TestDifferential(t *testing.T) {
	image := testimage.NeedTestsvc(t)
	realURL := mesoscluster.Master(t)
	m := startMaster(t, Options{Agents: 1, Ports: DoubleTestPorts})
	targets := []diffTarget{{"double", m.URL()}, {"real", realURL}}
	var report strings.Builder
	failed := false
	for _, sc := range diffScenarios(image) {
		var got [2][]string
		for i, tg := range targets {
			tr := &transcript{t: t, url: tg.url}
			func() {
				defer tr.cleanup()
				sc.run(tr)
			}()
			got[i] = tr.lines
		}
		verdict, diff := compareTranscripts(sc.name, got[0], got[1])
		fmt.Fprintf(&report, "== %s: %s\n", sc.name, verdict)
		for _, l := range got[1] {
			fmt.Fprintf(&report, "     %s\n", l)
		}
		for _, d := range diff {
			fmt.Fprintf(&report, "   ! %s\n", d)
		}
		if verdict == "DIFFERENT" {
			failed = true
		}
	}
	fmt.Fprintf(&report, "fields left out on purpose:\n")
	keys := make([]string, 0, len(deliberateFields))
	for k := range deliberateFields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&report, "   %s: %s\n", k, deliberateFields[k])
	}
	t.Logf("differential report (double vs real Apache Mesos; real transcript shown):\n%s", report.String())
	if failed {
		t.Error("the double and the real master differ (see the report); fix the double or list the difference in deliberateDiffs and doc.go")
	}
}

// compareTranscripts is SAME, SAME EXCEPT DELIBERATE, or DIFFERENT, with the lines that differ.
func compareTranscripts(scenario string, double, real []string) (string, []string) {
	var diff []string
	deliberate := false
	n := max(len(double), len(real))
	for i := 0; i < n; i++ {
		var d, r string
		if i < len(double) {
			d = double[i]
		}
		if i < len(real) {
			r = real[i]
		}
		if d == r {
			continue
		}
		why, okD := deliberateDiffs[scenario+": double "+d]
		whyR, okR := deliberateDiffs[scenario+": real "+r]
		if okD || okR {
			deliberate = true
			diff = append(diff, fmt.Sprintf("line %d deliberate (%s%s): double %q, real %q", i+1, why, whyR, d, r))
			continue
		}
		diff = append(diff, fmt.Sprintf("line %d: double %q, real %q", i+1, d, r))
	}
	for _, d := range diff {
		if !strings.Contains(d, " deliberate (") {
			return "DIFFERENT", diff
		}
	}
	if deliberate {
		return "SAME EXCEPT DELIBERATE", diff
	}
	return "SAME", nil
}

// transcript records one scenario's run against one master.
type transcript struct {
	t       *testing.T
	url     string
	lines   []string
	streams []*rawStream
	fwIDs   []string
	failed  bool
}

func (tr *transcript) add(format string, args ...any) {
	tr.lines = append(tr.lines, fmt.Sprintf(format, args...))
}

// fail ends the scenario's recording with a line saying what did not happen.
func (tr *transcript) fail(format string, args ...any) {
	tr.failed = true
	tr.add("!! "+format, args...)
}

// cleanup tears down every framework the scenario subscribed, so nothing runs on.
func (tr *transcript) cleanup() {
	for i, s := range tr.streams {
		if tr.fwIDs[i] != "" {
			tr.post(map[string]any{"type": "TEARDOWN", "framework_id": map[string]any{"value": tr.fwIDs[i]}}, s.streamID)
		}
		s.close()
	}
}

// post sends a scheduler call as JSON and returns the status and the masked body.
func (tr *transcript) post(call map[string]any, streamID string) (int, string) {
	b, _ := json.Marshal(call)
	return tr.postRaw(b, "application/json", streamID)
}

func (tr *transcript) postRaw(body []byte, ctype, streamID string) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, tr.url+"/api/v1/scheduler", bytes.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if streamID != "" {
		req.Header.Set("Mesos-Stream-Id", streamID)
	}
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, mask(strings.TrimSpace(string(b)))
}

// operator sends an operator API call and returns the decoded response.
func (tr *transcript) operator(typ string) (int, map[string]any) {
	req, _ := http.NewRequest(http.MethodPost, tr.url+"/api/v1", strings.NewReader(`{"type":"`+typ+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// rawStream is one SUBSCRIBE's RecordIO event stream, decoded into maps.
type rawStream struct {
	resp     *http.Response
	streamID string
	events   chan map[string]any
	cancel   context.CancelFunc
}

func (s *rawStream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// subscribe opens a framework's subscription and records the answer's shape.
func (tr *transcript) subscribe(name string, extra map[string]any) *rawStream {
	info := map[string]any{"user": diffUser(), "name": name, "failover_timeout": 0}
	for k, v := range extra {
		info[k] = v
	}
	b, _ := json.Marshal(map[string]any{"type": "SUBSCRIBE", "subscribe": map[string]any{"framework_info": info}})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tr.url+"/api/v1/scheduler", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		tr.fail("subscribe: %v", err)
		return nil
	}
	s := &rawStream{resp: resp, streamID: resp.Header.Get("Mesos-Stream-Id"), events: make(chan map[string]any, 256), cancel: cancel}
	tr.add("SUBSCRIBE -> %d content-type=%s stream-id=%v chunked=%v", resp.StatusCode, resp.Header.Get("Content-Type"),
		s.streamID != "", resp.ContentLength < 0)
	go func() {
		defer close(s.events)
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			n, err := strconv.Atoi(strings.TrimSpace(line))
			if err != nil || n <= 0 {
				return
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(br, buf); err != nil {
				return
			}
			var ev map[string]any
			if json.Unmarshal(buf, &ev) == nil {
				s.events <- ev
			}
		}
	}()
	tr.streams = append(tr.streams, s)
	tr.fwIDs = append(tr.fwIDs, "")
	return s
}

// next returns the next event other than HEARTBEAT (and, unless wanted, OFFERS), or nil
// after d.
func (tr *transcript) next(s *rawStream, d time.Duration, types ...string) map[string]any {
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return map[string]any{"type": "(stream closed)"}
			}
			typ, _ := ev["type"].(string)
			if len(types) == 0 || contains(types, typ) {
				return ev
			}
		case <-deadline:
			return nil
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// subscribed waits for SUBSCRIBED and remembers the framework ID for the teardown.
func (tr *transcript) subscribed(s *rawStream) string {
	ev := tr.next(s, 10*time.Second, "SUBSCRIBED", "ERROR", "(stream closed)")
	if ev == nil {
		tr.fail("no SUBSCRIBED")
		return ""
	}
	tr.add("event %s %s", ev["type"], shape(ev[strings.ToLower(fmt.Sprint(ev["type"]))], 1))
	id, _ := dig(ev, "subscribed", "framework_id", "value").(string)
	for i, st := range tr.streams {
		if st == s {
			tr.fwIDs[i] = id
		}
	}
	return id
}

// offer waits for an OFFERS event and returns its first offer.
func (tr *transcript) offer(s *rawStream) map[string]any {
	ev := tr.next(s, 15*time.Second, "OFFERS")
	if ev == nil {
		tr.fail("no OFFERS")
		return nil
	}
	o, _ := dig(ev, "offers", "offers", 0).(map[string]any)
	return o
}

// update waits for the next UPDATE and records its state, reason, source, health and
// whether it carries a uuid; it acknowledges it when it does.
func (tr *transcript) update(s *rawStream, fw string, what string) map[string]any {
	ev := tr.next(s, 60*time.Second, "UPDATE", "(stream closed)")
	if ev == nil {
		tr.fail("no UPDATE (%s)", what)
		return nil
	}
	st, _ := dig(ev, "update", "status").(map[string]any)
	if st == nil {
		tr.fail("%s", ev["type"])
		return nil
	}
	healthy := "-"
	if h, ok := st["healthy"].(bool); ok {
		healthy = strconv.FormatBool(h)
	}
	_, hasUUID := st["uuid"]
	tr.add("UPDATE %s reason=%v source=%v healthy=%s uuid=%v fields=%s", st["state"], st["reason"], st["source"], healthy,
		hasUUID, shape(st, 0))
	if hasUUID {
		code, body := tr.post(map[string]any{"type": "ACKNOWLEDGE", "framework_id": map[string]any{"value": fw},
			"acknowledge": map[string]any{"agent_id": st["agent_id"], "task_id": st["task_id"], "uuid": st["uuid"]}}, s.streamID)
		tr.add("ACKNOWLEDGE -> %d %s", code, body)
	}
	return st
}

// updateUntil records updates until one has state (and, if health is not nil, that health);
// repeats of one line are recorded once, as their number differs with timing.
func (tr *transcript) updateUntil(s *rawStream, fw, state string, health *bool) {
	last := ""
	repeats := 0
	for i := 0; i < 40; i++ {
		before := len(tr.lines)
		st := tr.update(s, fw, state)
		if st == nil {
			return
		}
		// Collapse a repeat of the previous update (and its acknowledgement).
		cur := strings.Join(tr.lines[before:], "\n")
		if cur == last {
			tr.lines = tr.lines[:before]
			repeats++
		} else {
			last = cur
		}
		if st["state"] == state {
			if health == nil {
				return
			}
			if h, ok := st["healthy"].(bool); ok && h == *health {
				return
			}
		}
		if st["state"] != "TASK_RUNNING" && st["state"] != "TASK_STARTING" && st["state"] != "TASK_STAGING" && st["state"] != state {
			return
		}
	}
}

// shape is the JSON shape of v: objects as {key:shape,...} with sorted keys down to depth,
// arrays as [shape of the first element], scalars as their JSON type.
func shape(v any, depth int) string { return shapeOf("", v, depth) }

// shapeOf is shape for the message named msg, leaving out its deliberateFields.
func shapeOf(msg string, v any, depth int) string {
	switch x := v.(type) {
	case map[string]any:
		if depth < 0 {
			return "object"
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			if _, skip := deliberateFields[msg+"."+k]; !skip {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + shapeOf(k, x[k], depth-1)
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shapeOf(msg, x[0], depth) + "]"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

var (
	diffUUIDRE  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(-[A-Z]?[0-9]+)?`)
	diffShortID = regexp.MustCompile(`[0-9a-f]{16,}`)
)

// mask replaces IDs in an error text, which differ between runs and masters.
func mask(s string) string {
	s = diffUUIDRE.ReplaceAllString(s, "<id>")
	return diffShortID.ReplaceAllString(s, "<id>")
}

// diffScenario is one scripted conversation with a master.
type diffScenario struct {
	name string
	run  func(tr *transcript)
}

func diffScenarios(image string) []diffScenario {
	dockerTask := func(id, agent string, port float64, args []string, health map[string]any) map[string]any {
		task := map[string]any{
			"name": id, "task_id": map[string]any{"value": id}, "agent_id": map[string]any{"value": agent},
			"resources": []any{
				map[string]any{"name": "cpus", "type": "SCALAR", "scalar": map[string]any{"value": 0.1}},
				map[string]any{"name": "mem", "type": "SCALAR", "scalar": map[string]any{"value": 32}},
				map[string]any{"name": "ports", "type": "RANGES", "ranges": map[string]any{"range": []any{map[string]any{"begin": port, "end": port}}}},
			},
			"command": map[string]any{"shell": false, "arguments": args},
			"container": map[string]any{"type": "DOCKER", "docker": map[string]any{"image": image, "network": "BRIDGE",
				"port_mappings": []any{map[string]any{"host_port": port, "container_port": 8080, "protocol": "tcp"}}}},
		}
		if health != nil {
			task["health_check"] = health
		}
		return task
	}
	httpCheck := func(path string, failures int) map[string]any {
		return map[string]any{"type": "HTTP", "http": map[string]any{"port": 8080, "path": path, "scheme": "http"},
			"delay_seconds": 0, "interval_seconds": 0.5, "timeout_seconds": 2, "grace_period_seconds": 0,
			"consecutive_failures": failures}
	}
	// firstPort is the lowest port of an offer.
	firstPort := func(o map[string]any) float64 {
		for _, r := range o["resources"].([]any) {
			rm := r.(map[string]any)
			if rm["name"] == "ports" {
				if b, ok := dig(rm, "ranges", "range", 0, "begin").(float64); ok {
					return b
				}
			}
		}
		return 0
	}
	launch := func(tr *transcript, name string, args []string, health map[string]any) (*rawStream, string, string, bool) {
		s := tr.subscribe(name, nil)
		if s == nil {
			return nil, "", "", false
		}
		fw := tr.subscribed(s)
		o := tr.offer(s)
		if o == nil {
			return s, fw, "", false
		}
		agent, _ := dig(o, "agent_id", "value").(string)
		id := name + "-task"
		code, body := tr.post(map[string]any{"type": "ACCEPT", "framework_id": map[string]any{"value": fw},
			"accept": map[string]any{"offer_ids": []any{o["id"]}, "operations": []any{map[string]any{"type": "LAUNCH",
				"launch": map[string]any{"task_infos": []any{dockerTask(id, agent, firstPort(o), args, health)}}}},
				"filters": map[string]any{"refuse_seconds": 0}}}, s.streamID)
		tr.add("ACCEPT LAUNCH docker task with a host port -> %d %s", code, body)
		return s, fw, agent, true
	}
	yes := true
	return []diffScenario{
		{"subscribe", func(tr *transcript) {
			s := tr.subscribe("diff-subscribe", nil)
			if s == nil {
				return
			}
			tr.subscribed(s)
			// HEARTBEAT and OFFERS follow at once, in no fixed order.
			var types []string
			for len(types) < 2 {
				ev := tr.next(s, 10*time.Second)
				if ev == nil {
					break
				}
				types = append(types, fmt.Sprint(ev["type"]))
				if ev["type"] == "HEARTBEAT" {
					tr.add("event HEARTBEAT %s", shape(ev, 1))
				}
			}
			sort.Strings(types)
			tr.add("then %v", types)
		}},
		{"offers", func(tr *transcript) {
			s := tr.subscribe("diff-offers", nil)
			if s == nil {
				return
			}
			fw := tr.subscribed(s)
			o := tr.offer(s)
			if o == nil {
				return
			}
			// Resources are compared one by one below, in name order (agents list them in
			// their own order).
			withoutRes := map[string]any{}
			for k, v := range o {
				if k != "resources" {
					withoutRes[k] = v
				}
			}
			tr.add("offer %s", shape(withoutRes, 1))
			// Resources in name order: agents list them in their own order.
			var names []string
			for _, r := range o["resources"].([]any) {
				rm := r.(map[string]any)
				names = append(names, fmt.Sprintf("%s:%s", rm["name"], shape(rm, 3)))
			}
			sort.Strings(names)
			for _, n := range names {
				tr.add("resource %s", n)
			}
			tr.add("url %s", shape(o["url"], 2))
			code, body := tr.post(map[string]any{"type": "DECLINE", "framework_id": map[string]any{"value": fw},
				"decline": map[string]any{"offer_ids": []any{o["id"]}, "filters": map[string]any{"refuse_seconds": 0}}}, s.streamID)
			tr.add("DECLINE -> %d %s", code, body)
			code, body = tr.post(map[string]any{"type": "DECLINE", "framework_id": map[string]any{"value": fw},
				"decline": map[string]any{"offer_ids": []any{o["id"]}}}, s.streamID)
			tr.add("DECLINE again (stale offer) -> %d %s", code, body)
		}},
		{"launch-healthy-kill", func(tr *transcript) {
			// A grace period: whether the first check comes before the service listens is
			// timing (the real executor starts checking later than the double), and inside
			// the grace period both ignore failures until the first success.
			check := httpCheck("/healthz", 3)
			check["grace_period_seconds"] = 10
			s, fw, _, ok := launch(tr, "diff-healthy", []string{"--http", "8080"}, check)
			if !ok {
				return
			}
			tr.updateUntil(s, fw, "TASK_RUNNING", &yes)
			code, body := tr.post(map[string]any{"type": "KILL", "framework_id": map[string]any{"value": fw},
				"kill": map[string]any{"task_id": map[string]any{"value": "diff-healthy-task"}}}, s.streamID)
			tr.add("KILL -> %d %s", code, body)
			tr.updateUntil(s, fw, "TASK_KILLED", nil)
		}},
		{"health-failing", func(tr *transcript) {
			s, fw, _, ok := launch(tr, "diff-sick", []string{"--http", "8080", "--health-status", "503"}, httpCheck("/healthz", 2))
			if !ok {
				return
			}
			tr.updateUntil(s, fw, "TASK_KILLED", nil)
		}},
		{"failed-task", func(tr *transcript) {
			s, fw, _, ok := launch(tr, "diff-exit", []string{"--exit", "3"}, nil)
			if !ok {
				return
			}
			tr.updateUntil(s, fw, "TASK_FAILED", nil)
		}},
		{"reconcile-operator", func(tr *transcript) {
			s, fw, agent, ok := launch(tr, "diff-rec", []string{"--http", "8080"}, nil)
			if !ok {
				return
			}
			tr.updateUntil(s, fw, "TASK_RUNNING", nil)
			code, body := tr.post(map[string]any{"type": "RECONCILE", "framework_id": map[string]any{"value": fw},
				"reconcile": map[string]any{"tasks": []any{map[string]any{"task_id": map[string]any{"value": "diff-rec-task"},
					"agent_id": map[string]any{"value": agent}}}}}, s.streamID)
			tr.add("RECONCILE explicit -> %d %s", code, body)
			tr.update(s, fw, "explicit reconciliation")
			code, body = tr.post(map[string]any{"type": "RECONCILE", "framework_id": map[string]any{"value": fw},
				"reconcile": map[string]any{}}, s.streamID)
			tr.add("RECONCILE implicit -> %d %s", code, body)
			tr.update(s, fw, "implicit reconciliation")
			code, body = tr.post(map[string]any{"type": "RECONCILE", "framework_id": map[string]any{"value": fw},
				"reconcile": map[string]any{"tasks": []any{map[string]any{"task_id": map[string]any{"value": "no-such-task"}}}}}, s.streamID)
			tr.add("RECONCILE unknown task -> %d %s", code, body)
			tr.update(s, fw, "unknown task")
			for _, typ := range []string{"GET_FRAMEWORKS", "GET_TASKS", "GET_AGENTS"} {
				code, resp := tr.operator(typ)
				key := strings.ToLower(typ)
				tr.add("%s -> %d %s", typ, code, shapeOf(key, resp[key], 0))
				switch typ {
				case "GET_FRAMEWORKS":
					for _, f := range asList(dig(resp, key, "frameworks")) {
						if dig(f, "framework_info", "id", "value") == fw {
							tr.add("  framework %s", shapeOf("framework", f, 0))
							tr.add("  framework_info %s", shapeOf("framework_info", dig(f, "framework_info"), 0))
						}
					}
				case "GET_TASKS":
					for _, tk := range asList(dig(resp, key, "tasks")) {
						if dig(tk, "task_id", "value") == "diff-rec-task" && dig(tk, "framework_id", "value") == fw {
							tr.add("  task %s", shapeOf("task", tk, 0))
						}
					}
				case "GET_AGENTS":
					if a := dig(resp, key, "agents", 0); a != nil {
						tr.add("  agent %s", shapeOf("agent", a, 0))
						tr.add("  agent_info %s", shapeOf("agent_info", dig(a, "agent_info"), 0))
						pid, _ := dig(a, "pid").(string)
						tr.add("  pid looks like slave(1)@IP:PORT: %v", regexp.MustCompile(`^slave\(1\)@[0-9.]+:[0-9]+$`).MatchString(pid))
					}
				}
			}
		}},
		{"teardown", func(tr *transcript) {
			s := tr.subscribe("diff-teardown", nil)
			if s == nil {
				return
			}
			fw := tr.subscribed(s)
			code, body := tr.post(map[string]any{"type": "TEARDOWN", "framework_id": map[string]any{"value": fw}}, s.streamID)
			tr.add("TEARDOWN -> %d %s", code, body)
			ev := tr.next(s, 10*time.Second, "(stream closed)", "ERROR")
			if ev == nil {
				tr.add("stream still open")
			} else {
				tr.add("then %v", ev["type"])
			}
			code, body = tr.post(map[string]any{"type": "REVIVE", "framework_id": map[string]any{"value": fw}}, s.streamID)
			tr.add("REVIVE after TEARDOWN -> %d %s", code, body)
			for i := range tr.fwIDs {
				tr.fwIDs[i] = "" // gone already
			}
		}},
		{"bad-calls", func(tr *transcript) {
			s := tr.subscribe("diff-bad", nil)
			if s == nil {
				return
			}
			fw := tr.subscribed(s)
			revive, _ := json.Marshal(map[string]any{"type": "REVIVE", "framework_id": map[string]any{"value": fw}})
			code, body := tr.postRaw(revive, "text/plain", s.streamID)
			tr.add("wrong content type -> %d %s", code, body)
			code, body = tr.postRaw(revive, "", s.streamID)
			tr.add("no content type -> %d %s", code, body)
			code, body = tr.postRaw(revive, "application/json", "")
			tr.add("missing stream id -> %d %s", code, body)
			code, body = tr.postRaw(revive, "application/json", "00000000-0000-0000-0000-000000000000")
			tr.add("wrong stream id -> %d %s", code, body)
			code, body = tr.post(map[string]any{"type": "REVIVE", "framework_id": map[string]any{"value": "no-such-framework"}}, s.streamID)
			tr.add("unknown framework -> %d %s", code, body)
			code, body = tr.postRaw([]byte(`{"type":`), "application/json", s.streamID)
			tr.add("malformed JSON -> %d %s", code, body)
			code, body = tr.post(map[string]any{"type": "ACKNOWLEDGE", "framework_id": map[string]any{"value": fw},
				"acknowledge": map[string]any{"agent_id": map[string]any{"value": "a"}, "task_id": map[string]any{"value": "t"},
					"uuid": base64.StdEncoding.EncodeToString([]byte("short"))}}, s.streamID)
			tr.add("ACKNOWLEDGE with a 5-byte uuid -> %d %s", code, body)
			sub, _ := json.Marshal(map[string]any{"type": "SUBSCRIBE", "subscribe": map[string]any{"framework_info": map[string]any{"user": "nobody", "name": "x"}}})
			code, body = tr.postRaw(sub, "application/json", s.streamID)
			tr.add("SUBSCRIBE with a stream id -> %d %s", code, body)
		}},
	}
}

// diffUser is the framework's user: whoever runs the tests, as envctl sends it (an agent
// chowns the sandbox to it, so it must exist there).
func diffUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestCompareTranscripts: the report's comparison itself, on made-up transcripts.
func TestCompareTranscripts(t *testing.T) {
	if v, _ := compareTranscripts("x", []string{"a", "b"}, []string{"a", "b"}); v != "SAME" {
		t.Errorf("same transcripts: %s", v)
	}
	if v, d := compareTranscripts("x", []string{"a", "b"}, []string{"a", "c"}); v != "DIFFERENT" || len(d) != 1 {
		t.Errorf("different transcripts: %s %v", v, d)
	}
	deliberateDiffs["x: real c"] = "test"
	defer delete(deliberateDiffs, "x: real c")
	if v, _ := compareTranscripts("x", []string{"a", "b"}, []string{"a", "c"}); v != "SAME EXCEPT DELIBERATE" {
		t.Errorf("deliberate difference: %s", v)
	}
	if got := mask("framework 61c36bc0-1840-48a9-95eb-2a4863e29649-0024 not found"); got != "framework <id> not found" {
		t.Errorf("mask: %q", got)
	}
}

package mesostest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// The conformance tests follow mesos.md §5, one test per item, each run in
// JSON and in protobuf.

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	t0     = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func subscribeBody(t *testing.T, c testCodec) []byte {
	cl := &client{t: t, c: c}
	return cl.encode(&scheduler.Call{Type: scheduler.Call_SUBSCRIBE,
		Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: frameworkInfo("x")}})
}

func TestConformance01_PostOnly(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequest(method, m.URL()+"/api/v1/scheduler", strings.NewReader(string(subscribeBody(t, c))))
			req.Header.Set("Content-Type", c.media)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s: got %d, want 405", method, resp.StatusCode)
			}
			if got := resp.Header.Get("Allow"); got != "POST" {
				t.Errorf("%s: Allow got %q, want POST", method, got)
			}
		}
	})
}

func TestConformance02_RedirectAndNoLeader(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		hdr := map[string]string{"Content-Type": c.media}
		m.SetRedirect("leader.example:5050")
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/scheduler", strings.NewReader(string(subscribeBody(t, c))))
		req.Header.Set("Content-Type", c.media)
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("redirect mode: got %d, want 307", resp.StatusCode)
		}
		if got, want := resp.Header.Get("Location"), "//leader.example:5050/api/v1/scheduler"; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
		m.SetRedirect("")
		m.SetNoLeader(true)
		if code, _, _ := cl.post("/api/v1/scheduler", subscribeBody(t, c), hdr); code != http.StatusServiceUnavailable {
			t.Errorf("no leader: got %d, want 503", code)
		}
		m.SetNoLeader(false)
		s := cl.subscribe(frameworkInfo("ok"))
		if s.fwID == "" {
			t.Error("subscribe after clearing faults: no framework ID")
		}
	})
}

func TestConformance03_Recovering(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		m.SetRecovering(true)
		code, _, body := cl.post("/api/v1/scheduler", subscribeBody(t, c), map[string]string{"Content-Type": c.media})
		if code != http.StatusServiceUnavailable {
			t.Fatalf("got %d, want 503", code)
		}
		if !strings.Contains(body, "recovery") {
			t.Errorf("body: got %q, want it to mention recovery", body)
		}
	})
}

func TestConformance04_ContentType(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		body := subscribeBody(t, c)
		tests := []struct {
			name string
			hdr  map[string]string
			want int
		}{
			{"missing", map[string]string{}, http.StatusBadRequest},
			{"with charset", map[string]string{"Content-Type": c.media + "; charset=utf-8"}, http.StatusUnsupportedMediaType},
			{"upper case", map[string]string{"Content-Type": strings.ToUpper(c.media)}, http.StatusUnsupportedMediaType},
			{"text", map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
			{"recordio", map[string]string{"Content-Type": "application/recordio"}, http.StatusUnsupportedMediaType},
		}
		for _, tt := range tests {
			req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/scheduler", strings.NewReader(string(body)))
			req.Header.Del("Content-Type")
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%s: got %d, want %d", tt.name, resp.StatusCode, tt.want)
			}
		}
		_ = cl
	})
}

func TestConformance05_MalformedBody(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		type tc struct {
			name string
			body string
			want int
		}
		var tests []tc
		if c.media == mediaJSON {
			tests = []tc{
				{"not json", `{"type":`, 400},
				{"not an object", `[1,2]`, 400},
				{"missing required user", `{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"n"}}}`, 400},
				{"numeric enum", `{"type":1,"subscribe":{"framework_info":{"user":"u","name":"n"}}}`, 400},
				{"bad base64 uuid", `{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"%%%"}}`, 400},
				{"unknown keys and nulls", `{"type":"SUBSCRIBE","bogus":{"x":1},"subscribe":{"framework_info":{"user":"u","name":"n","capabilities":null,"roles":null,"offer_filters":null,"labels":null,"extra":true}}}`, 200},
			}
		} else {
			good := subscribeBody(t, c)
			tests = []tc{
				{"garbage", "\xff\xff\xff\xff", 400},
				{"truncated", string(good[:len(good)-3]), 400},
				// Call{type: SUBSCRIBE, subscribe{framework_info{name: "n"}}}: user missing.
				{"missing required user", "\x10\x01\x1a\x05\x0a\x03\x12\x01n", 400},
				// An unknown field (number 99, varint) is skipped.
				{"unknown field", string(append(append([]byte(nil), good...), 0x98, 0x06, 0x01)), 200},
			}
		}
		for _, tt := range tests {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL()+"/api/v1/scheduler", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", c.media)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
				t.Errorf("%s: got %d %q, want %d", tt.name, resp.StatusCode, b, tt.want)
			}
			cancel()
			resp.Body.Close()
		}
		_ = cl
	})
}

func TestConformance06_CallValidation(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		s := cl.subscribe(frameworkInfo("v"))
		fid := &mesos.FrameworkID{Value: s.fwID}
		other := &mesos.FrameworkID{Value: "other"}
		info := frameworkInfo("v")
		info.ID = other
		tests := []struct {
			name string
			call *scheduler.Call
			raw  []byte
		}{
			{"no framework_id", &scheduler.Call{Type: scheduler.Call_REVIVE}, nil},
			{"accept without accept", &scheduler.Call{Type: scheduler.Call_ACCEPT, FrameworkID: fid}, nil},
			{"kill without kill", &scheduler.Call{Type: scheduler.Call_KILL, FrameworkID: fid}, nil},
			{"subscribe id mismatch", &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, FrameworkID: fid,
				Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: info}}, nil},
			{"short uuid", &scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, FrameworkID: fid,
				Acknowledge: &scheduler.Call_Acknowledge{AgentID: mesos.AgentID{Value: "a"}, TaskID: mesos.TaskID{Value: "t"}, UUID: []byte("abc")}}, nil},
		}
		// No type at all.
		if c.media == mediaJSON {
			tests = append(tests, struct {
				name string
				call *scheduler.Call
				raw  []byte
			}{"no type", nil, []byte(`{"framework_id":{"value":"` + s.fwID + `"}}`)})
		} else {
			b, _ := (&mesos.FrameworkID{Value: s.fwID}).Marshal()
			tests = append(tests, struct {
				name string
				call *scheduler.Call
				raw  []byte
			}{"no type", nil, append([]byte{0x0a, byte(len(b))}, b...)})
		}
		for _, tt := range tests {
			body := tt.raw
			if tt.call != nil {
				body = cl.encode(tt.call)
			}
			code, _, msg := cl.post("/api/v1/scheduler", body, map[string]string{"Content-Type": c.media, "Mesos-Stream-Id": s.streamID})
			if code != http.StatusBadRequest {
				t.Errorf("%s: got %d %q, want 400", tt.name, code, msg)
			}
		}
	})
}

func TestConformance07_AcceptNegotiation(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		tests := []struct {
			accept string
			want   int
			ct     string
		}{
			{"", 200, mediaJSON},
			{"*/*", 200, mediaJSON},
			{"application/json", 200, mediaJSON},
			{"application/*", 200, mediaJSON},
			{"application/x-protobuf", 200, mediaProtobuf},
			{"application/json;q=0, application/x-protobuf", 200, mediaProtobuf},
			{"application/recordio", 406, ""},
			{"text/html", 406, ""},
		}
		for _, tt := range tests {
			ctx, cancel := context.WithCancel(context.Background())
			resp := cl.subscribeRaw(ctx, frameworkInfo("n"), tt.accept)
			if resp.StatusCode != tt.want {
				t.Errorf("Accept %q: got %d, want %d", tt.accept, resp.StatusCode, tt.want)
			}
			if tt.want == 200 {
				if got := resp.Header.Get("Content-Type"); got != tt.ct {
					t.Errorf("Accept %q: Content-Type got %q, want %q", tt.accept, got, tt.ct)
				}
			}
			cancel()
			resp.Body.Close()
		}
	})
}

func TestConformance08_SubscribeWithStreamID(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		code, _, _ := cl.post("/api/v1/scheduler", subscribeBody(t, c),
			map[string]string{"Content-Type": c.media, "Mesos-Stream-Id": newUUID()})
		if code != http.StatusBadRequest {
			t.Errorf("got %d, want 400", code)
		}
	})
}

func TestConformance09_SubscribeResponse(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		seen := map[string]bool{}
		for i := 0; i < 2; i++ {
			ctx, cancel := context.WithCancel(context.Background())
			resp := cl.subscribeRaw(ctx, frameworkInfo("n"), c.media)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", resp.StatusCode)
			}
			if resp.ContentLength != -1 || resp.Header.Get("Content-Length") != "" {
				t.Errorf("Content-Length: got %d %q, want none", resp.ContentLength, resp.Header.Get("Content-Length"))
			}
			if got := strings.Join(resp.TransferEncoding, ","); got != "chunked" {
				t.Errorf("Transfer-Encoding: got %q, want chunked", got)
			}
			id := resp.Header.Get("Mesos-Stream-Id")
			if !uuidRE.MatchString(id) {
				t.Errorf("Mesos-Stream-Id: got %q, want a UUID", id)
			}
			if seen[id] {
				t.Errorf("Mesos-Stream-Id %q reused", id)
			}
			seen[id] = true
			cancel()
			resp.Body.Close()
		}
	})
}

func TestConformance10_RecordIO(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true, Agents: 2})
		cl := targetClient(t, m, c)
		ctx, cancel := context.WithTimeout(context.Background(), tg.wait(10*time.Second))
		defer cancel()
		resp := cl.subscribeRaw(ctx, frameworkInfo("n"), c.media)
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		// SUBSCRIBED, HEARTBEAT, OFFERS: three records, each "<len>\n<record>".
		for i := 0; i < 3; i++ {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			n, err := strconv.ParseUint(strings.TrimSuffix(line, "\n"), 10, 64)
			if err != nil || n == 0 {
				t.Fatalf("record %d: length line %q, want a positive decimal", i, line)
			}
			rec := make([]byte, n)
			if _, err := io.ReadFull(br, rec); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			if _, err := decodeEvent(rec, c.media); err != nil {
				t.Fatalf("record %d does not decode alone: %v", i, err)
			}
			if i < 2 {
				// No trailing newline: the next byte starts the next length.
				b, err := br.Peek(1)
				if err != nil || b[0] < '1' || b[0] > '9' {
					t.Fatalf("after record %d: got %q, want the next length's first digit", i, b)
				}
			}
		}
	})
}

func TestConformance11_Subscribed(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		s := cl.open(frameworkInfo("n"))
		ev := s.next(5 * time.Second)
		if ev == nil || ev.Type != scheduler.Event_SUBSCRIBED {
			t.Fatalf("first event: got %v, want SUBSCRIBED", eventString(ev))
		}
		sub := ev.Subscribed
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(m.ID()) + `-\d{4}$`).MatchString(sub.FrameworkID.Value) {
			t.Errorf("framework_id: got %q, want %s-NNNN", sub.FrameworkID.Value, m.ID())
		}
		if got := sub.GetHeartbeatIntervalSeconds(); got != 15 {
			t.Errorf("heartbeat_interval_seconds: got %v, want 15", got)
		}
		if sub.MasterInfo == nil || sub.MasterInfo.ID != m.ID() {
			t.Errorf("master_info: got %+v, want id %s", sub.MasterInfo, m.ID())
		}
		s2 := cl.subscribe(frameworkInfo("n2"))
		if s2.fwID == sub.FrameworkID.Value {
			t.Errorf("second framework got the same ID %s", s2.fwID)
		}
	})
}

func TestConformance12_Heartbeat(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		if tg.real {
			// The real clock, once: a HEARTBEAT at once (OFFERS may come before it), then
			// none before 14 s and the next one by 45 s however loaded the machine is.
			s := targetClient(t, tg, c).subscribe(frameworkInfo("n"))
			// Offers are declined as they come, not held from the cluster's other frameworks.
			heartbeat := func(ev *scheduler.Event) bool {
				if ev.Type == scheduler.Event_OFFERS {
					s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
						OfferIDs: ids(ev.Offers.Offers), Filters: &mesos.Filters{RefuseSeconds: ptr(3600.0)}}}, http.StatusAccepted)
				}
				return ev.Type == scheduler.Event_HEARTBEAT
			}
			s.waitFor("the first HEARTBEAT", 5*time.Second, heartbeat)
			start := time.Now()
			s.waitFor("the second HEARTBEAT", 5*time.Second, heartbeat)
			if d := time.Since(start); d < 14*time.Second {
				t.Errorf("second HEARTBEAT %v after the first, want 15 s", d)
			}
			return
		}
		clock := NewFakeClock(t0)
		m := tg.start(t, Options{NoDocker: true, Clock: clock})
		s := targetClient(t, m, c).subscribe(frameworkInfo("n"))
		if ev := s.next(5 * time.Second); ev == nil || ev.Type != scheduler.Event_HEARTBEAT {
			t.Fatalf("second event: got %v, want HEARTBEAT", eventString(ev))
		}
		s.offers(5 * time.Second)
		clock.Advance(14 * time.Second)
		if ev := s.next(200 * time.Millisecond); ev != nil && ev.Type == scheduler.Event_HEARTBEAT {
			t.Fatal("HEARTBEAT after 14 s, want none before 15 s")
		}
		clock.Advance(time.Second)
		s.waitFor("HEARTBEAT at 15 s", 5*time.Second, func(ev *scheduler.Event) bool { return ev.Type == scheduler.Event_HEARTBEAT })
		// Fault switch: heartbeats stop.
		m.SetHeartbeats(false)
		clock.Advance(30 * time.Second)
		if ev := s.next(200 * time.Millisecond); ev != nil && ev.Type == scheduler.Event_HEARTBEAT {
			t.Fatal("HEARTBEAT with heartbeats switched off")
		}
	})
}

func TestConformance13_Refusal(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true, DenyRootSubmissions: true})
		cl := targetClient(t, m, c)
		bad := frameworkInfo("bad-role")
		bad.Role = ptr("-bad")
		root := frameworkInfo("root")
		root.User = "root"
		good := cl.subscribe(&mesos.FrameworkInfo{User: "u", Name: "gone", FailoverTimeout: ptr(100.0)})
		good.mustCall(&scheduler.Call{Type: scheduler.Call_TEARDOWN}, http.StatusAccepted)
		removed := frameworkInfo("again")
		removed.ID = &mesos.FrameworkID{Value: good.fwID}
		tests := []struct {
			name string
			info *mesos.FrameworkInfo
			msg  string
		}{
			{"invalid role", bad, "-bad"},
			{"root", root, "root"},
			{"removed id", removed, "Framework has been removed"},
		}
		for _, tt := range tests {
			if tg.real && tt.name == "root" {
				continue // realPlans: the test cluster does not set --root_submissions=false
			}
			s := cl.open(tt.info)
			if s.streamID == "" {
				t.Errorf("%s: no Mesos-Stream-Id on a refused subscription", tt.name)
			}
			ev := s.next(5 * time.Second)
			if ev == nil || ev.Type != scheduler.Event_ERROR || !strings.Contains(ev.Error.Message, tt.msg) {
				t.Errorf("%s: got %v, want ERROR containing %q", tt.name, eventString(ev), tt.msg)
				continue
			}
			select {
			case _, ok := <-s.events:
				if ok {
					t.Errorf("%s: got another event after ERROR, want the stream closed", tt.name)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s: stream not closed after ERROR", tt.name)
			}
		}
	})
}

func TestConformance14_Failover(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		s1 := cl.subscribe(&mesos.FrameworkInfo{User: "u", Name: "f", FailoverTimeout: ptr(60.0)})
		old := s1.offers(5 * time.Second)
		info := &mesos.FrameworkInfo{User: "u", Name: "f", FailoverTimeout: ptr(60.0), ID: &mesos.FrameworkID{Value: s1.fwID}}
		s2 := cl.subscribe(info)
		if s2.fwID != s1.fwID {
			t.Fatalf("framework ID after failover: got %s, want %s", s2.fwID, s1.fwID)
		}
		if s2.streamID == s1.streamID {
			t.Fatal("failover reused the stream ID")
		}
		// Fresh offers arrive on the new stream, with no RESCIND of the old ones.
		fresh := s2.waitFor("new OFFERS", 5*time.Second, func(ev *scheduler.Event) bool {
			if ev.Type == scheduler.Event_RESCIND {
				t.Errorf("new stream got RESCIND, want none")
			}
			return ev.Type == scheduler.Event_OFFERS
		})
		if fresh.Offers.Offers[0].ID.Value == old[0].ID.Value {
			t.Errorf("failover re-sent the old offer %s", old[0].ID.Value)
		}
		ev := s1.waitFor("ERROR on the old stream", 5*time.Second, func(ev *scheduler.Event) bool {
			if ev.Type == scheduler.Event_RESCIND {
				t.Errorf("old stream got RESCIND, want none")
			}
			return ev.Type == scheduler.Event_ERROR
		})
		if ev.Error.Message != "Framework failed over" {
			t.Errorf("ERROR: got %q, want %q", ev.Error.Message, "Framework failed over")
		}
		if _, ok := <-s1.events; ok {
			t.Error("old stream still open after ERROR")
		}
		// The old stream ID is now rejected.
		code, _ := cl.call(&scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: &mesos.FrameworkID{Value: s1.fwID}}, s1.streamID)
		if code != http.StatusBadRequest {
			t.Errorf("call with old stream ID: got %d, want 400", code)
		}
		// Old offers are invalid: tasks on them are lost.
		s2.launch(first(old), cmdTask("t", old[0].AgentID.Value, "true"))
		st := s2.update("t", mesos.TASK_LOST, 5*time.Second)
		if st.GetReason() != mesos.REASON_INVALID_OFFERS {
			t.Errorf("reason: got %s, want REASON_INVALID_OFFERS", st.GetReason())
		}
	})
}

func TestConformance15_CallGate(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		s := cl.subscribe(&mesos.FrameworkInfo{User: "u", Name: "g", FailoverTimeout: ptr(3600.0)})
		fid := &mesos.FrameworkID{Value: s.fwID}
		revive := func(id *mesos.FrameworkID) *scheduler.Call {
			return &scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: id}
		}
		tests := []struct {
			name     string
			call     *scheduler.Call
			streamID string
			want     int
		}{
			{"unknown framework", revive(&mesos.FrameworkID{Value: "nope"}), s.streamID, 400},
			{"no stream id", revive(fid), "", 400},
			{"wrong stream id", revive(fid), newUUID(), 400},
			{"good", revive(fid), s.streamID, 202},
			{"update framework", &scheduler.Call{Type: scheduler.Call_UPDATE_FRAMEWORK, FrameworkID: fid,
				UpdateFramework: &scheduler.Call_UpdateFramework{FrameworkInfo: mesos.FrameworkInfo{
					User: tg.user("u"), Name: "g2", ID: fid, FailoverTimeout: ptr(3600.0)}}}, s.streamID, 200},
			{"unknown type", &scheduler.Call{Type: scheduler.Call_UNKNOWN, FrameworkID: fid}, s.streamID, 501},
		}
		for _, tt := range tests {
			if tg.real && tt.call.Type == scheduler.Call_UNKNOWN {
				// The real master aborts on it (doc.go, "Deliberate differences"): never sent there.
				continue
			}
			code, body := cl.call(tt.call, tt.streamID)
			if code != tt.want {
				t.Errorf("%s: got %d %q, want %d", tt.name, code, body, tt.want)
			}
			if code == http.StatusAccepted && body != "" {
				t.Errorf("%s: 202 with body %q, want empty", tt.name, body)
			}
		}
		// Disconnected but inside the failover timeout: 403.
		s.close()
		m.disconnected(t, s.fwID)
		if code, _ := cl.call(revive(fid), s.streamID); code != http.StatusForbidden {
			t.Errorf("disconnected framework: got %d, want 403", code)
		}
	})
}

func frameworkConnected(m *Master, id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	fw := m.frameworks[id]
	return fw != nil && fw.connected
}

// waitFor polls cond every 10 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConformance16_FailoverTimeout(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		clock := NewFakeClock(t0)
		m := tg.start(t, Options{NoDocker: true, Clock: clock})
		cl := targetClient(t, m, c)
		// On the real clock: 5 s, time enough to come back under load, short enough to wait.
		timeout := 10 * time.Second
		if tg.real {
			timeout = 5 * time.Second
		}
		// advance moves the double's clock; the real one's moves by itself.
		advance := func(d time.Duration) {
			if !tg.real {
				clock.Advance(d)
			}
		}
		info := &mesos.FrameworkInfo{User: "u", Name: "ft", FailoverTimeout: ptr(timeout.Seconds())}
		s := cl.subscribe(info)
		offers := s.offers(5 * time.Second)
		// The sleep's length tells its process apart from every other test's.
		command := "sleep 316." + strconv.Itoa(len(c.name))
		s.launchFirst(offers, cmdTask("sleeper", offers[0].AgentID.Value, command))
		s.updateAck("sleeper", mesos.TASK_RUNNING, 5*time.Second)
		alive := func() bool { return len(processesWith(command)) > 0 }
		if !tg.real {
			pid := taskPID(m.Master, s.fwID, "sleeper")
			alive = func() bool { return processAlive(pid) }
		}

		// Disconnect, come back within the timeout: the task keeps running.
		s.close()
		m.disconnected(t, s.fwID)
		if !tg.real {
			if n := len(m.offersOf(s.fwID)); n != 0 {
				t.Errorf("offers after disconnect: got %d, want 0", n)
			}
		}
		advance(timeout - time.Second)
		info.ID = &mesos.FrameworkID{Value: s.fwID}
		s2 := cl.subscribe(info)
		// Past the first timer's deadline: it must have been cancelled.
		if tg.real {
			time.Sleep(timeout + time.Second)
		}
		advance(5 * time.Second)
		s2.mustCall(&scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{}}, http.StatusAccepted)
		if st := s2.update("sleeper", mesos.TASK_RUNNING, 5*time.Second); st.GetReason() != mesos.REASON_RECONCILIATION {
			t.Errorf("reconcile after failover: got %s, want REASON_RECONCILIATION", st.GetReason())
		}
		if !alive() {
			t.Fatal("task process died although the framework came back in time")
		}

		// Disconnect and stay away: the framework and its task are removed.
		s2.close()
		m.disconnected(t, s.fwID)
		advance(timeout)
		m.eventually(t, "task process killed", func() bool { return !alive() })
		m.eventually(t, "framework removed", func() bool { known, _ := m.frameworkState(t, s.fwID); return !known })
		code, _ := cl.call(&scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: info.ID}, s2.streamID)
		if code != http.StatusBadRequest {
			t.Errorf("call after removal: got %d, want 400", code)
		}
		s3 := cl.open(info)
		if ev := s3.next(tg.wait(5 * time.Second)); ev == nil || ev.Type != scheduler.Event_ERROR || ev.Error.Message != "Framework has been removed" {
			t.Errorf("re-SUBSCRIBE after removal: got %v, want ERROR Framework has been removed", eventString(ev))
		}
		if !tg.real { // the real master serves other tests' frameworks too
			resp, _ := operator(t, m, c, &master.Call{Type: master.Call_GET_FRAMEWORKS})
			if c.media == mediaJSON {
				if got := dig(resp, "get_frameworks", "frameworks"); got != nil {
					t.Errorf("GET_FRAMEWORKS frameworks: got %v, want none", got)
				}
			}
		}
	})
}

func (m *Master) offersOf(fwID string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for id, o := range m.offers {
		if o.fw.id == fwID {
			out = append(out, id)
		}
	}
	return out
}

func taskPID(m *Master, fwID, taskID string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.frameworks[fwID].tasks[taskID]
	t.run.kmu.Lock()
	defer t.run.kmu.Unlock()
	return t.run.proc.Pid
}

func TestConformance17_Offers(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true, Agents: 2})
		cl := targetClient(t, m, c)
		s := cl.subscribe(frameworkInfo("o"))
		// The offers and the raw JSON of the first OFFERS event; on the real master, whose
		// agents may register their resources in separate allocations, later OFFERS events
		// until both agents have offered.
		var offers []mesos.Offer
		var raw []byte
		deadline := time.Now().Add(tg.wait(5 * time.Second))
		for len(offers) < 2 {
			ev, r := s.nextRaw(time.Until(deadline))
			if ev == nil {
				t.Fatalf("OFFERS: got %d offers, want one per agent (2)", len(offers))
			}
			if ev.Type != scheduler.Event_OFFERS {
				continue
			}
			if raw == nil {
				raw = r
			}
			if !tg.real {
				offers = ev.Offers.Offers
				break
			}
			for _, o := range ev.Offers.Offers {
				if len(offers) == 0 || offers[0].AgentID.Value != o.AgentID.Value {
					offers = append(offers, o)
				}
			}
		}
		if len(offers) != 2 {
			t.Fatalf("offers: got %d, want one per agent (2)", len(offers))
		}
		idRE := regexp.MustCompile(`^` + regexp.QuoteMeta(m.ID()) + `-O\d+$`)
		agents := map[string]bool{}
		for _, o := range offers {
			agents[o.AgentID.Value] = true
			if !idRE.MatchString(o.ID.Value) {
				t.Errorf("offer ID %q, want %s-O<n>", o.ID.Value, m.ID())
			}
			if o.FrameworkID.Value != s.fwID || o.Hostname == "" || o.URL == nil {
				t.Errorf("offer %s: framework_id %q hostname %q url %v", o.ID.Value, o.FrameworkID.Value, o.Hostname, o.URL)
			}
			if o.AllocationInfo != nil {
				t.Errorf("offer %s has allocation_info for a non-MULTI_ROLE framework", o.ID.Value)
			}
			r, err := fromProto(o.Resources)
			if err != nil {
				t.Fatal(err)
			}
			want := res{cpus: 4, mem: 8192, disk: 16384, ports: []portRange{{31000, 32000}}}
			if tg.real {
				// The test cluster's own: its host's cores and memory, a range of 1000 ports per
				// agent. make test shares the cluster among packages, and another package's tasks
				// may hold some of an agent's cpus, memory and ports: what is offered is then less,
				// and its ports may come in several ranges, all inside the agent's 1000.
				if r.cpus <= 0 || r.mem <= 0 || r.disk <= 0 || len(r.ports) == 0 ||
					r.ports[0].begin < 31000 || r.ports[len(r.ports)-1].end-r.ports[0].begin > 999 {
					t.Errorf("resources: got %s, want cpus, mem, disk and ports within one agent's range of 1000", r)
				}
			} else if r.String() != want.String() {
				t.Errorf("resources: got %s, want %s", r, want)
			}
		}
		if len(agents) != 2 {
			t.Errorf("agents in offers: got %d distinct, want 2", len(agents))
		}
		if c.media == mediaJSON {
			var mp map[string]any
			if err := json.Unmarshal(raw, &mp); err != nil {
				t.Fatal(err)
			}
			var begin any
			for _, r := range asList(dig(mp, "offers", "offers", 0, "resources")) {
				if dig(r, "name") == "ports" {
					begin = dig(r, "ranges", "range", 0, "begin")
				}
			}
			if b, ok := begin.(float64); !ok || b < 31000 {
				t.Errorf("ports begin in JSON: got %v (%T), want a number from 31000", begin, begin)
			}
		}
		// MULTI_ROLE frameworks get allocation_info.
		mr := frameworkInfo("mr")
		mr.Roles = []string{"web"}
		mr.Capabilities = []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
			OfferIDs: ids(offers), Filters: &mesos.Filters{RefuseSeconds: ptr(3600.0)}}}, http.StatusAccepted)
		s2 := cl.subscribe(mr)
		o2 := s2.offers(5 * time.Second)
		if o2[0].AllocationInfo == nil || o2[0].AllocationInfo.GetRole() != "web" {
			t.Errorf("MULTI_ROLE offer allocation_info: got %v, want role web", o2[0].AllocationInfo)
		}
		if o2[0].Resources[0].AllocationInfo == nil {
			t.Error("MULTI_ROLE offer resources lack allocation_info")
		}
	})
}

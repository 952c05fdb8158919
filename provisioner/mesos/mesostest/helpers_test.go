package mesostest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// testCodec is one of the two wire encodings every conformance test runs in.
type testCodec struct{ name, media string }

var testCodecs = []testCodec{{"json", mediaJSON}, {"protobuf", mediaProtobuf}}

// eachCodec runs f as a subtest per codec.
func eachCodec(t *testing.T, f func(t *testing.T, c testCodec)) {
	t.Helper()
	for _, c := range testCodecs {
		t.Run(c.name, func(t *testing.T) { f(t, c) })
	}
}

// startMaster starts a master with opt, closed (and checked for leaks) at
// the end of the test.
func startMaster(t *testing.T, opt Options) *Master {
	t.Helper()
	if opt.Logf == nil {
		opt.Logf = t.Logf
	}
	m := New(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := m.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if !opt.NoDocker {
			checkNoLeaks(t, m.Instance())
		}
	})
	return m
}

// checkNoLeaks fails if any container or network with the instance's label remains.
func checkNoLeaks(t *testing.T, instance string) {
	t.Helper()
	for _, args := range [][]string{
		{"ps", "-aq", "--filter", "label=" + LabelInstance + "=" + instance},
		{"network", "ls", "-q", "--filter", "label=" + LabelInstance + "=" + instance},
	} {
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Errorf("docker %v: %v", args, err)
			continue
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("leaked docker objects after Close (docker %s): %s", strings.Join(args, " "), s)
		}
	}
}

// client speaks the scheduler API in one codec, the way any v1 scheduler does.
type client struct {
	t     *testing.T
	tg    *target
	c     testCodec
	extra http.Header
}

// newClient is a client of the double m.
func newClient(t *testing.T, m *Master, c testCodec) *client {
	return &client{t: t, tg: &target{Master: m}, c: c}
}

// targetClient is a client of a conformance test's target, the double or the real master.
func targetClient(t *testing.T, tg *target, c testCodec) *client {
	return &client{t: t, tg: tg, c: c}
}

// encode uses mesos-go's own encoders: ffjson for JSON (with its nulls) and
// gogo for protobuf, i.e. exactly what a mesos-go scheduler sends.
func (c *client) encode(call *scheduler.Call) []byte {
	c.t.Helper()
	var b []byte
	var err error
	if c.c.media == mediaJSON {
		b, err = json.Marshal(call)
	} else {
		b, err = call.Marshal()
	}
	if err != nil {
		c.t.Fatalf("encoding call: %v", err)
	}
	return b
}

// post sends a raw body with headers and returns status, headers and body.
func (c *client) post(path string, body []byte, hdr map[string]string) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.tg.URL()+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// call sends a non-SUBSCRIBE call with a stream ID ("" for none).
func (c *client) call(call *scheduler.Call, streamID string) (int, string) {
	c.t.Helper()
	hdr := map[string]string{"Content-Type": c.c.media}
	if streamID != "" {
		hdr["Mesos-Stream-Id"] = streamID
	}
	code, _, body := c.post("/api/v1/scheduler", c.encode(call), hdr)
	return code, body
}

// sub is an open subscription.
type sub struct {
	t        *testing.T
	c        *client
	resp     *http.Response
	streamID string
	fwID     string
	events   chan *scheduler.Event
	raw      chan []byte // raw records, in order
	cancel   context.CancelFunc
	done     chan struct{}
}

func frameworkInfo(name string) *mesos.FrameworkInfo {
	return &mesos.FrameworkInfo{User: "tester", Name: name}
}

// subscribeRaw sends SUBSCRIBE and returns the HTTP response unread.
func (c *client) subscribeRaw(ctx context.Context, info *mesos.FrameworkInfo, accept string) *http.Response {
	c.t.Helper()
	if c.tg != nil && c.tg.real {
		cp := *info
		cp.User = c.tg.user(info.User)
		info = &cp
	}
	call := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: info}}
	if info.ID != nil {
		call.FrameworkID = &mesos.FrameworkID{Value: info.ID.Value}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tg.URL()+"/api/v1/scheduler", bytes.NewReader(c.encode(call)))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", c.c.media)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("SUBSCRIBE: %v", err)
	}
	return resp
}

// subscribe subscribes (accepting the client's codec) and waits for SUBSCRIBED.
func (c *client) subscribe(info *mesos.FrameworkInfo) *sub {
	c.t.Helper()
	s := c.open(info)
	ev := s.next(c.tg.wait(5 * time.Second))
	if ev == nil || ev.Type != scheduler.Event_SUBSCRIBED {
		c.t.Fatalf("first event: got %v, want SUBSCRIBED", ev)
	}
	s.fwID = ev.Subscribed.FrameworkID.Value
	return s
}

// open subscribes without waiting for the first event.
func (c *client) open(info *mesos.FrameworkInfo) *sub {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	resp := c.subscribeRaw(ctx, info, c.c.media)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		c.t.Fatalf("SUBSCRIBE: got %d %s, want 200", resp.StatusCode, b)
	}
	s := &sub{t: c.t, c: c, resp: resp, streamID: resp.Header.Get("Mesos-Stream-Id"),
		events: make(chan *scheduler.Event, 1000), raw: make(chan []byte, 1000), cancel: cancel, done: make(chan struct{})}
	go s.read()
	c.t.Cleanup(s.close)
	return s
}

func (s *sub) close() {
	s.cancel()
	<-s.done
}

// read decodes RecordIO records with mesos-go's decoders (ffjson for JSON).
func (s *sub) read() {
	defer close(s.done)
	defer close(s.events)
	defer close(s.raw)
	defer s.resp.Body.Close()
	br := bufio.NewReader(s.resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(line, "\n"))
		if err != nil || n <= 0 {
			s.t.Errorf("bad RecordIO length %q", line)
			return
		}
		rec := make([]byte, n)
		if _, err := io.ReadFull(br, rec); err != nil {
			return
		}
		ev, err := decodeEvent(rec, s.c.c.media)
		if err != nil {
			s.t.Errorf("decoding event %q: %v", rec, err)
			return
		}
		if ev.Type == scheduler.Event_SUBSCRIBED && ev.Subscribed != nil && s.c.tg != nil {
			s.c.tg.track(ev.Subscribed.FrameworkID.Value)
		}
		if ev.Type == scheduler.Event_UPDATE && ev.Update != nil && s.c.tg != nil {
			if cs := ev.Update.Status.ContainerStatus; cs != nil && cs.ContainerID != nil {
				s.c.tg.trackContainer(cs.ContainerID.Value)
			}
		}
		s.raw <- rec
		s.events <- ev
	}
}

// decodeEvent decodes one record with mesos-go's decoders (ffjson for JSON), as a mesos-go
// scheduler does. Mesos 1.12's master announces the capability QUOTA_V2 in SUBSCRIBED's
// master_info, which mesos-go v0.0.11's ffjson refuses as an unknown enum value (its
// protobuf decoder keeps it): such capabilities are left out before the JSON is decoded.
// envctl's backend speaks protobuf; see doc.go.
func decodeEvent(rec []byte, media string) (*scheduler.Event, error) {
	ev := &scheduler.Event{}
	if media != mediaJSON {
		return ev, ev.Unmarshal(rec)
	}
	if err := json.Unmarshal(rec, ev); err == nil {
		return ev, nil
	}
	var mp map[string]any
	if err := json.Unmarshal(rec, &mp); err != nil {
		return nil, err
	}
	if mi, ok := dig(mp, "subscribed", "master_info").(map[string]any); ok {
		var known []any
		for _, c := range asList(mi["capabilities"]) {
			if typ, _ := dig(c, "type").(string); mesos.MasterInfo_Capability_Type_value[typ] != 0 {
				known = append(known, c)
			}
		}
		mi["capabilities"] = known
	}
	b, _ := json.Marshal(mp)
	return ev, json.Unmarshal(b, ev)
}

// next returns the next event, nil on timeout or end of stream.
func (s *sub) next(d time.Duration) *scheduler.Event {
	select {
	case ev := <-s.events:
		<-s.raw
		return ev
	case <-time.After(d):
		return nil
	}
}

// nextRaw returns the next event with its raw record.
func (s *sub) nextRaw(d time.Duration) (*scheduler.Event, []byte) {
	select {
	case ev := <-s.events:
		return ev, <-s.raw
	case <-time.After(d):
		return nil, nil
	}
}

// waitFor skips events until one matches, failing after d.
func (s *sub) waitFor(what string, d time.Duration, match func(*scheduler.Event) bool) *scheduler.Event {
	s.t.Helper()
	d = s.c.tg.wait(d)
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			s.t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		ev := s.next(left)
		if ev == nil {
			select {
			case <-s.done:
				s.t.Fatalf("stream ended while waiting for %s", what)
			default:
			}
			continue
		}
		if match(ev) {
			return ev
		}
	}
}

// noOffersFor asserts that no OFFERS event arrives within d (other events are skipped).
func (s *sub) noOffersFor(d time.Duration, when string) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ev := s.next(time.Until(deadline)); ev != nil && ev.Type == scheduler.Event_OFFERS {
			s.t.Fatalf("%s: got OFFERS, want none", when)
		}
	}
}

// noOffersOnFor asserts that no offer of agent arrives within d, while a filter covers the
// refused resources there; offers of other agents go to other. An offer of agent beyond what
// was refused (see noRefusedOffersFor) is declined with no filter of its own: the agent's next
// offer, after the window, is what the test goes on with (other's hour-long filter would hide
// it).
func (s *sub) noOffersOnFor(agent string, d time.Duration, when string, refused res, other func([]mesos.Offer)) {
	s.t.Helper()
	s.noRefusedOffersFor(d, when, map[string][]res{agent: {refused}}, func(o mesos.Offer, _ res, watched bool) {
		if !watched {
			other([]mesos.Offer{o})
			return
		}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
			OfferIDs: ids([]mesos.Offer{o}), Filters: &mesos.Filters{RefuseSeconds: ptr(0.0)}}}, http.StatusAccepted)
	})
}

// noRefusedOffersFor asserts that, within d, no offer arrives that a filter covers: one
// contained in what was refused on its agent (refused: per agent, the resources of each
// filter). The real test cluster is shared by the packages of one `go test ./...`: another
// framework's task that ends frees resources no filter covered, and Mesos offers them (a
// filter hides only offers contained in what was refused); the real master may also offer an
// agent the test has not refused anything of yet. Every such offer goes to beyond (watched: its
// agent has a filter), which must answer it. Containment is over all resources, ports too:
// tasks of the same size that start and end in the window leave cpus and mem where they were
// and move ports.
func (s *sub) noRefusedOffersFor(d time.Duration, when string, refused map[string][]res, beyond func(o mesos.Offer, r res, watched bool)) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ev := s.next(time.Until(deadline))
		if ev == nil || ev.Type != scheduler.Event_OFFERS {
			continue
		}
		for _, o := range ev.Offers.Offers {
			agent := o.AgentID.Value
			got := s.resources(o.Resources)
			filters, watched := refused[agent]
			for _, f := range filters {
				if f.contains(got) {
					s.t.Fatalf("%s: got an offer of agent %s (%s, within the refused %s), want none", when, agent, got, f)
				}
			}
			if watched {
				s.t.Logf("%s: agent %s offered %s, beyond what was refused (%v): resources another framework freed, which no filter covers", when, agent, got, filters)
			}
			beyond(o, got, watched)
		}
	}
}

// resources reads offered resources as the double's own sum of cpus, mem, disk and ports.
func (s *sub) resources(rs []mesos.Resource) res {
	s.t.Helper()
	r, err := fromProto(rs)
	if err != nil {
		s.t.Fatalf("reading offered resources %v: %v", rs, err)
	}
	return r
}

// quiet asserts that no event other than HEARTBEAT arrives within d.
func (s *sub) quiet(d time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		ev := s.next(time.Until(deadline))
		if ev != nil && ev.Type != scheduler.Event_HEARTBEAT {
			s.t.Fatalf("got unexpected event %v, want none", eventString(ev))
		}
	}
}

func eventString(ev *scheduler.Event) string {
	if ev == nil {
		return "<nil>"
	}
	if ev.Type == scheduler.Event_UPDATE {
		st := ev.Update.Status
		return fmt.Sprintf("UPDATE{%s %s %s %s healthy=%v uuid=%d %q}", st.TaskID.Value, st.GetState(), st.GetSource(),
			st.GetReason(), st.Healthy, len(st.UUID), st.GetMessage())
	}
	return ev.Type.String()
}

// call sends a call on this subscription (framework ID and stream ID set).
func (s *sub) call(call *scheduler.Call) (int, string) {
	s.t.Helper()
	call.FrameworkID = &mesos.FrameworkID{Value: s.fwID}
	return s.c.call(call, s.streamID)
}

// mustCall sends a call and requires want.
func (s *sub) mustCall(call *scheduler.Call, want int) {
	s.t.Helper()
	if code, body := s.call(call); code != want {
		s.t.Fatalf("%s: got %d %q, want %d", call.Type, code, body, want)
	}
}

// offers waits for an OFFERS event.
func (s *sub) offers(d time.Duration) []mesos.Offer {
	s.t.Helper()
	return s.waitFor("OFFERS", d, func(ev *scheduler.Event) bool { return ev.Type == scheduler.Event_OFFERS }).Offers.Offers
}

// offersOf waits for OFFERS events until they hold offers from n agents, one offer each (the
// real master may offer its agents in separate events); other offers stay outstanding.
func (s *sub) offersOf(n int, d time.Duration) []mesos.Offer {
	s.t.Helper()
	var out []mesos.Offer
	seen := map[string]bool{}
	for len(out) < n {
		for _, o := range s.offers(d) {
			if !seen[o.AgentID.Value] && len(out) < n {
				seen[o.AgentID.Value] = true
				out = append(out, o)
			}
		}
	}
	return out
}

// update waits for an UPDATE of task id in state st.
func (s *sub) update(id string, st mesos.TaskState, d time.Duration) mesos.TaskStatus {
	s.t.Helper()
	ev := s.waitFor(fmt.Sprintf("UPDATE %s %s", id, st), d, func(ev *scheduler.Event) bool {
		if ev.Type == scheduler.Event_UPDATE && ev.Update.Status.TaskID.Value == id {
			if ev.Update.Status.GetState() != st {
				s.t.Logf("update for %s: %s", id, eventString(ev))
			}
			return ev.Update.Status.GetState() == st
		}
		return false
	})
	return ev.Update.Status
}

// nextUpdate returns the next UPDATE event's status, skipping other events.
func (s *sub) nextUpdate(d time.Duration) mesos.TaskStatus {
	s.t.Helper()
	return s.waitFor("UPDATE", d, func(ev *scheduler.Event) bool { return ev.Type == scheduler.Event_UPDATE }).Update.Status
}

// ack acknowledges a status that carries a uuid.
func (s *sub) ack(st mesos.TaskStatus) {
	s.t.Helper()
	if len(st.UUID) == 0 {
		return
	}
	s.mustCall(&scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{
		AgentID: *st.AgentID, TaskID: st.TaskID, UUID: st.UUID}}, http.StatusAccepted)
}

// updateAck waits for a state and acknowledges every update on the way.
func (s *sub) updateAck(id string, want mesos.TaskState, d time.Duration) mesos.TaskStatus {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev := s.waitFor(fmt.Sprintf("UPDATE %s %s", id, want), time.Until(deadline), func(ev *scheduler.Event) bool {
			return ev.Type == scheduler.Event_UPDATE && ev.Update.Status.TaskID.Value == id
		})
		st := ev.Update.Status
		s.ack(st)
		if st.GetState() == want {
			return st
		}
		if isTerminal(st.GetState()) {
			s.t.Fatalf("task %s: got terminal %s, want %s", id, eventString(ev), want)
		}
	}
}

// launch accepts offer o with the given tasks (refuse_seconds 0).
func (s *sub) launch(offerIDs []mesos.OfferID, tasks ...mesos.TaskInfo) {
	s.t.Helper()
	zero := 0.0
	s.mustCall(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{
		OfferIDs:   offerIDs,
		Operations: []mesos.Offer_Operation{{Type: mesos.Offer_Operation_LAUNCH, Launch: &mesos.Offer_Operation_Launch{TaskInfos: tasks}}},
		Filters:    &mesos.Filters{RefuseSeconds: &zero},
	}}, http.StatusAccepted)
}

// launchFirst launches tasks on the first offer and declines the others for an hour (REVIVE
// clears that): on the real master, whose two agents offer together, resources held
// unanswered would be kept from every other framework on the shared cluster.
func (s *sub) launchFirst(offers []mesos.Offer, tasks ...mesos.TaskInfo) {
	s.t.Helper()
	s.launch(first(offers), tasks...)
	if len(offers) > 1 {
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
			OfferIDs: ids(offers[1:]), Filters: &mesos.Filters{RefuseSeconds: ptr(3600.0)}}}, http.StatusAccepted)
	}
}

// cmdTask is a command task (host process) with small resources.
func cmdTask(id string, agentID string, shell string) mesos.TaskInfo {
	return mesos.TaskInfo{Name: id, TaskID: mesos.TaskID{Value: id}, AgentID: mesos.AgentID{Value: agentID},
		Resources: smallRes(), Command: &mesos.CommandInfo{Value: &shell}}
}

func smallRes(ports ...uint64) []mesos.Resource {
	out := res{cpus: 0.1, mem: 32}
	for _, p := range ports {
		out.ports = append(out.ports, portRange{p, p})
	}
	out.ports = normalize(out.ports)
	return out.toProto("")
}

// first is the ID of the first offer only: the real master offers its two agents in one
// event, and an ACCEPT naming offers of two agents launches nothing.
func first(offers []mesos.Offer) []mesos.OfferID { return ids(offers[:1]) }

func ids(offers []mesos.Offer) []mesos.OfferID {
	var out []mesos.OfferID
	for _, o := range offers {
		out = append(out, o.ID)
	}
	return out
}

// operator sends an operator API call and decodes the response as JSON into
// a plain map (never mesos-go types), or as protobuf into master.Response.
// m is the double (*Master) or a conformance test's *target.
func operator(t *testing.T, m interface{ URL() string }, c testCodec, call *master.Call) (map[string]any, *master.Response) {
	t.Helper()
	tg, ok := m.(*target)
	if !ok {
		tg = &target{Master: m.(*Master)}
	}
	cl := &client{t: t, tg: tg, c: c}
	var body []byte
	var err error
	if c.media == mediaJSON {
		body, err = json.Marshal(call)
	} else {
		body, err = call.Marshal()
	}
	if err != nil {
		t.Fatal(err)
	}
	code, hdr, out := cl.post("/api/v1", body, map[string]string{"Content-Type": c.media, "Accept": c.media})
	if code != http.StatusOK {
		t.Fatalf("operator %s: got %d %q, want 200", call.Type, code, out)
	}
	if got := hdr.Get("Content-Type"); got != c.media && call.Type != master.Call_TEARDOWN {
		t.Fatalf("operator %s: Content-Type got %q, want %q", call.Type, got, c.media)
	}
	if call.Type == master.Call_TEARDOWN {
		return nil, nil
	}
	if c.media == mediaJSON {
		var mp map[string]any
		if err := json.Unmarshal([]byte(out), &mp); err != nil {
			t.Fatalf("operator %s: %v in %q", call.Type, err, out)
		}
		return mp, nil
	}
	resp := &master.Response{}
	if err := resp.Unmarshal([]byte(out)); err != nil {
		t.Fatal(err)
	}
	return nil, resp
}

// dig walks a JSON map by keys and array indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mp, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = mp[k]
		case int:
			arr, ok := v.([]any)
			if !ok || k >= len(arr) {
				return nil
			}
			v = arr[k]
		}
	}
	return v
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// allRunning acknowledges every update until each named task is TASK_RUNNING.
func (s *sub) allRunning(d time.Duration, ids ...string) {
	s.t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	deadline := time.Now().Add(d)
	for len(want) > 0 {
		st := s.nextUpdate(time.Until(deadline))
		s.ack(st)
		if st.GetState() == mesos.TASK_RUNNING {
			delete(want, st.TaskID.Value)
		} else if isTerminal(st.GetState()) {
			s.t.Fatalf("task %s: got %s, want TASK_RUNNING", st.TaskID.Value, st.GetState())
		}
	}
}

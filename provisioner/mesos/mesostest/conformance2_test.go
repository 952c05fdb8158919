package mesostest

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

func isOffers(ev *scheduler.Event) bool { return ev.Type == scheduler.Event_OFFERS }

// noOffers asserts that no OFFERS event is waiting.
func noOffers(t *testing.T, s *sub, when string) {
	t.Helper()
	for {
		ev := s.next(100 * time.Millisecond)
		if ev == nil {
			return
		}
		if ev.Type == scheduler.Event_OFFERS {
			t.Fatalf("%s: got OFFERS, want none", when)
		}
	}
}

func TestConformance18_AllocationTiming(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		clock := NewFakeClock(t0)
		m := tg.start(t, Options{NoDocker: true, Clock: clock})
		s := targetClient(t, m, c).subscribe(frameworkInfo("a"))
		// Immediately after SUBSCRIBED, with no tick.
		offers := s.offers(5 * time.Second)
		// Resources returned without a filter wait for the next tick.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
			OfferIDs: ids(offers), Filters: &mesos.Filters{RefuseSeconds: ptr(0.0)}}}, http.StatusAccepted)
		if !tg.real { // realPlans: the tick's timing needs the fake clock
			noOffers(t, s, "right after DECLINE")
			clock.Advance(999 * time.Millisecond)
			noOffers(t, s, "before the 1 s tick")
			clock.Advance(time.Millisecond)
		}
		offers = s.offers(5 * time.Second)
		// REVIVE allocates at once, even inside a long filter.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
			OfferIDs: ids(offers), Filters: &mesos.Filters{RefuseSeconds: ptr(3600.0)}}}, http.StatusAccepted)
		if tg.real {
			// On the shared real cluster: only an offer within what was refused is the
			// filter not holding (noRefusedOffersFor); any other is declined under the same
			// filter, and REVIVE below clears them all.
			refused := map[string][]res{}
			for _, o := range offers {
				refused[o.AgentID.Value] = append(refused[o.AgentID.Value], s.resources(o.Resources))
			}
			s.noRefusedOffersFor(3*time.Second, "inside the filter", refused, func(o mesos.Offer, r res, _ bool) {
				s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
					OfferIDs: ids([]mesos.Offer{o}), Filters: &mesos.Filters{RefuseSeconds: ptr(3600.0)}}}, http.StatusAccepted)
				refused[o.AgentID.Value] = append(refused[o.AgentID.Value], r)
			})
		} else {
			clock.Advance(3 * time.Second)
			noOffers(t, s, "inside the filter")
		}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_REVIVE}, http.StatusAccepted)
		s.offers(5 * time.Second)
		if !tg.real && m.OfferRounds() != 3 {
			t.Errorf("OfferRounds: got %d, want 3", m.OfferRounds())
		}
	})
}

func TestConformance19_OfferFilters(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		clock := NewFakeClock(t0)
		m := tg.start(t, Options{NoDocker: true, Clock: clock})
		s := targetClient(t, m, c).subscribe(frameworkInfo("f"))
		// Filters are per agent, and the real master may offer its two agents in separate
		// events: the test watches one agent, and declines the other's offers for an hour.
		agent := ""
		declineOthers := func(other []mesos.Offer) {
			s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
				OfferIDs: ids(other), Filters: &mesos.Filters{RefuseSeconds: ptr(3600.0)}}}, http.StatusAccepted)
		}
		// hidden asserts no offer for d: by advancing the double's clock to a second before
		// d, or on the real clock by watching until then.
		var refused res // what the filter under test covers on agent
		hidden := func(d time.Duration, when string) {
			t.Helper()
			if tg.real {
				s.noOffersOnFor(agent, d-time.Second, when, refused, declineOthers)
				return
			}
			clock.Advance(d - time.Second)
			noOffers(t, s, when)
			clock.Advance(time.Second)
		}
		tests := []struct {
			name    string
			filters *mesos.Filters
			hidden  time.Duration // no offer before this
		}{
			{"default 5 s", nil, 5 * time.Second},
			{"negative means default", &mesos.Filters{RefuseSeconds: ptr(-1.0)}, 5 * time.Second},
			{"below the interval means the interval", &mesos.Filters{RefuseSeconds: ptr(0.2)}, time.Second},
			{"explicit 3 s", &mesos.Filters{RefuseSeconds: ptr(3.0)}, 3 * time.Second},
		}
		mine := func() []mesos.Offer {
			t.Helper()
			for {
				var on, other []mesos.Offer
				for _, o := range s.offers(5 * time.Second) {
					if agent == "" {
						agent = o.AgentID.Value
					}
					if o.AgentID.Value == agent {
						on = append(on, o)
					} else {
						other = append(other, o)
					}
				}
				if len(other) > 0 {
					declineOthers(other)
				}
				if len(on) > 0 {
					return on
				}
			}
		}
		offers := mine()
		for _, tt := range tests {
			refused = res{}
			for _, o := range offers {
				refused = refused.plus(s.resources(o.Resources))
			}
			s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
				OfferIDs: ids(offers), Filters: tt.filters}}, http.StatusAccepted)
			hidden(tt.hidden, tt.name+": before the filter expires")
			offers = mine()
		}
		// An ACCEPT filters what it leaves unused, too.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{OfferIDs: first(offers),
			Operations: []mesos.Offer_Operation{{Type: mesos.Offer_Operation_LAUNCH, Launch: &mesos.Offer_Operation_Launch{
				TaskInfos: []mesos.TaskInfo{cmdTask("t", offers[0].AgentID.Value, "sleep 30")}}}}}}, http.StatusAccepted)
		// On the real clock 3 s of the 5 s, leaving time for SUPPRESS to arrive inside it.
		if tg.real {
			// The filter covers what the ACCEPT left of its offer: the offer less the task's.
			left := s.resources(offers[0].Resources).minus(s.resources(smallRes()))
			s.noOffersOnFor(agent, 3*time.Second, "inside ACCEPT's default filter", left, declineOthers)
		} else {
			clock.Advance(4 * time.Second)
			noOffers(t, s, "inside ACCEPT's default filter")
		}
		// SUPPRESS stops offers (past the filter's end, too); REVIVE clears filters and
		// suppression.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_SUPPRESS}, http.StatusAccepted)
		if tg.real {
			// The master answers 202 before its allocator has the SUPPRESS: an allocation
			// already under way (the offers of freed resources declined above come back at
			// the next tick) can still reach the framework. Such offers arrive within an
			// allocation interval; after it, none may.
			deadline := time.Now().Add(1500 * time.Millisecond)
			for time.Now().Before(deadline) {
				if ev := s.next(time.Until(deadline)); ev != nil && ev.Type == scheduler.Event_OFFERS {
					s.t.Logf("an offer allocated before the SUPPRESS took effect: declined")
					s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{
						OfferIDs: ids(ev.Offers.Offers), Filters: &mesos.Filters{RefuseSeconds: ptr(3600.0)}}}, http.StatusAccepted)
				}
			}
			s.noOffersFor(3*time.Second, "while suppressed")
		} else {
			clock.Advance(10 * time.Second)
			noOffers(t, s, "while suppressed")
		}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_REVIVE}, http.StatusAccepted)
		s.offers(5 * time.Second)
	})
}

func TestConformance20_StaleOfferIDs(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		s := targetClient(t, m, c).subscribe(frameworkInfo("s"))
		offers := s.offers(5 * time.Second)
		stale := []mesos.OfferID{{Value: m.ID() + "-O999"}}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: stale}}, http.StatusAccepted)
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: ids(offers)}}, http.StatusAccepted)
		// Declining the same offer twice is still 202.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: ids(offers)}}, http.StatusAccepted)
		s.mustCall(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{OfferIDs: ids(offers)}}, http.StatusAccepted)
	})
}

func TestConformance21_InvalidOffers(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true, Agents: 2})
		cl := targetClient(t, m, c)
		s := cl.subscribe(frameworkInfo("i"))
		offers := s.offersOf(2, 5*time.Second)
		a0 := offers[0].AgentID.Value
		unknown := mesos.OfferID{Value: m.ID() + "-O999"}
		check := func(name string, offerIDs []mesos.OfferID, state mesos.TaskState) {
			t.Helper()
			id := strings.ReplaceAll(name, " ", "-")
			s.launch(offerIDs, cmdTask(id, a0, "true"))
			st := s.update(id, state, 5*time.Second)
			if st.GetReason() != mesos.REASON_INVALID_OFFERS || st.GetSource() != mesos.SOURCE_MASTER || len(st.UUID) != 0 {
				t.Errorf("%s: got %s %s uuid %d bytes, want REASON_INVALID_OFFERS SOURCE_MASTER and no uuid",
					name, st.GetReason(), st.GetSource(), len(st.UUID))
			}
		}
		check("empty", nil, mesos.TASK_LOST)
		check("unknown", []mesos.OfferID{unknown}, mesos.TASK_LOST)
		check("duplicate", []mesos.OfferID{offers[0].ID, offers[0].ID}, mesos.TASK_LOST)
		check("mixed agents", ids(offers), mesos.TASK_LOST)
		// The valid offers named in those calls were discarded: using them again fails too.
		check("used", []mesos.OfferID{offers[1].ID}, mesos.TASK_LOST)
		// Another framework's offer.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_REVIVE}, http.StatusAccepted)
		mine := s.offers(5 * time.Second)
		pa := frameworkInfo("pa")
		pa.Capabilities = []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_PARTITION_AWARE}}
		s2 := cl.subscribe(pa)
		s2.launch([]mesos.OfferID{mine[0].ID}, cmdTask("foreign", a0, "true"))
		st := s2.update("foreign", mesos.TASK_DROPPED, 5*time.Second)
		if st.GetReason() != mesos.REASON_INVALID_OFFERS {
			t.Errorf("foreign offer: got %s, want REASON_INVALID_OFFERS", st.GetReason())
		}
	})
}

func TestConformance22_TaskValidation(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true, CPUs: 1})
		s := targetClient(t, m, c).subscribe(frameworkInfo("v"))
		offers := s.offers(5 * time.Second)
		a := offers[0].AgentID.Value
		good := cmdTask("good", a, "sleep 30")
		dup := cmdTask("good", a, "true")
		wrongAgent := cmdTask("wrong-agent", "S-nope", "true")
		noRes := cmdTask("no-res", a, "true")
		noRes.Resources = nil
		offered, err := fromProto(offers[0].Resources)
		if err != nil {
			t.Fatal(err)
		}
		// What is left after good's 0.1 cpus, and a little more.
		big := cmdTask("over-commit", a, "true")
		big.Resources = res{cpus: offered.cpus - 0.05, mem: 32}.toProto("")
		neither := cmdTask("neither", a, "true")
		neither.Command = nil
		dockerType := mesos.ContainerInfo_DOCKER
		noDocker := cmdTask("no-docker", a, "true")
		noDocker.Container = &mesos.ContainerInfo{Type: &dockerType}
		nameParam := cmdTask("name-param", a, "true")
		nameParam.Container = &mesos.ContainerInfo{Type: &dockerType, Docker: &mesos.ContainerInfo_DockerInfo{
			Image: "x", Parameters: []mesos.Parameter{{Key: "name", Value: "y"}}}}
		badHealth := cmdTask("bad-health", a, "true")
		badHealth.HealthCheck = &mesos.HealthCheck{Type: mesos.HealthCheck_HTTP,
			HTTP: &mesos.HealthCheck_HTTPCheckInfo{Port: 80, Path: ptr("healthz")}}
		badID := cmdTask("bad/id", a, "true")
		dotID := cmdTask("..", a, "true")
		s.launchFirst(offers, good, dup, wrongAgent, noRes, big, neither, noDocker, nameParam, badHealth, badID, dotID)
		want := map[string]string{
			"wrong-agent": "invalid agent", "no-res": "no resources", "over-commit": "more than available",
			"neither": "CommandInfo or ExecutorInfo", "no-docker": "DockerInfo 'docker' is not set",
			"name-param": "must not be 'name'", "bad-health": "must start with '/'", "bad/id": "'bad/id' contains invalid characters",
			"..": "'..' is disallowed",
		}
		gotErrors := map[string]string{}
		dupSeen, goodStarted := false, false
		deadline := time.Now().Add(10 * time.Second)
		for (len(gotErrors) < len(want) || !dupSeen || !goodStarted) && time.Now().Before(deadline) {
			st := s.nextUpdate(time.Until(deadline))
			id := st.TaskID.Value
			switch {
			case id == "good" && st.GetState() == mesos.TASK_ERROR:
				if !strings.Contains(st.GetMessage(), "duplicate ID") {
					t.Errorf("duplicate: got %q", st.GetMessage())
				}
				dupSeen = true
			case id == "good":
				if st.GetState() != mesos.TASK_STARTING {
					t.Errorf("good task: got %s, want TASK_STARTING", st.GetState())
				}
				goodStarted = true
			default:
				if st.GetState() != mesos.TASK_ERROR || st.GetReason() != mesos.REASON_TASK_INVALID ||
					st.GetSource() != mesos.SOURCE_MASTER || len(st.UUID) != 0 {
					t.Errorf("%s: got %s %s %s uuid=%d, want TASK_ERROR REASON_TASK_INVALID SOURCE_MASTER no uuid",
						id, st.GetState(), st.GetReason(), st.GetSource(), len(st.UUID))
				}
				gotErrors[id] = st.GetMessage()
			}
		}
		for id, frag := range want {
			if !strings.Contains(gotErrors[id], frag) {
				t.Errorf("%s: message %q, want it to contain %q", id, gotErrors[id], frag)
			}
		}
		if !dupSeen || !goodStarted {
			t.Errorf("duplicate seen %v, good task started %v; want both", dupSeen, goodStarted)
		}
	})
}

func TestConformance23_LaunchGroupValidation(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		s := targetClient(t, m, c).subscribe(frameworkInfo("g"))
		offers := s.offers(5 * time.Second)
		a := offers[0].AgentID.Value
		dockerType := mesos.ContainerInfo_DOCKER
		dt := cmdTask("docker-in-group", a, "true")
		dt.Container = &mesos.ContainerInfo{Type: &dockerType, Docker: &mesos.ContainerInfo_DockerInfo{Image: "x"}}
		exec := mesos.ExecutorInfo{ExecutorID: mesos.ExecutorID{Value: "e"}, Type: mesos.ExecutorInfo_DEFAULT,
			Resources: res{cpus: 0.1, mem: 32, disk: 10}.toProto("")}
		custom := exec
		custom.Type = mesos.ExecutorInfo_CUSTOM
		ct := cmdTask("custom-exec", a, "true")
		s.mustCall(&scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{OfferIDs: first(offers),
			Operations: []mesos.Offer_Operation{
				{Type: mesos.Offer_Operation_LAUNCH_GROUP, LaunchGroup: &mesos.Offer_Operation_LaunchGroup{
					Executor: exec, TaskGroup: mesos.TaskGroupInfo{Tasks: []mesos.TaskInfo{dt}}}},
				{Type: mesos.Offer_Operation_LAUNCH_GROUP, LaunchGroup: &mesos.Offer_Operation_LaunchGroup{
					Executor: custom, TaskGroup: mesos.TaskGroupInfo{Tasks: []mesos.TaskInfo{ct}}}},
			}}}, http.StatusAccepted)
		for _, id := range []string{"docker-in-group", "custom-exec"} {
			st := s.update(id, mesos.TASK_ERROR, 5*time.Second)
			if st.GetReason() != mesos.REASON_TASK_GROUP_INVALID {
				t.Errorf("%s: reason %s, want REASON_TASK_GROUP_INVALID", id, st.GetReason())
			}
		}
	})
}

func TestConformance25_ReliableUpdates(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		clock := NewFakeClock(t0)
		m := tg.start(t, Options{NoDocker: true, Clock: clock})
		cl := targetClient(t, m, c)
		info := &mesos.FrameworkInfo{User: "u", Name: "r", FailoverTimeout: ptr(600.0)}
		s := cl.subscribe(info)
		offers := s.offers(5 * time.Second)
		s.launchFirst(offers, cmdTask("t", offers[0].AgentID.Value, "sleep 30"))
		first := s.update("t", mesos.TASK_STARTING, 5*time.Second)
		if len(first.UUID) != 16 || first.AgentID == nil || first.ExecutorID == nil || first.Timestamp == nil {
			t.Fatalf("reliable update lacks uuid/agent_id/executor_id/timestamp: %+v", first)
		}
		// Not acknowledged: TASK_RUNNING is held back; STARTING is resent
		// after 10 s, then 20 s later (on the real clock: once, after 10 s).
		if st := s.nextUpdateWithin(300 * time.Millisecond); st != nil {
			t.Fatalf("got %s before acknowledging STARTING, want nothing", st.GetState())
		}
		if tg.real {
			sent := time.Now()
			st := s.nextUpdate(30 * time.Second)
			if st.GetState() != mesos.TASK_STARTING || string(st.UUID) != string(first.UUID) {
				t.Fatalf("resend: got %s with the same uuid %v, want TASK_STARTING again", st.GetState(), string(st.UUID) == string(first.UUID))
			}
			if d := time.Since(sent); d < 9*time.Second {
				t.Errorf("resent after %v, want 10 s", d)
			}
		} else {
			for _, wait := range []time.Duration{10 * time.Second, 20 * time.Second} {
				clock.Advance(wait - time.Millisecond)
				if st := s.nextUpdateWithin(100 * time.Millisecond); st != nil {
					t.Fatalf("resend before %v: got %s", wait, st.GetState())
				}
				clock.Advance(time.Millisecond)
				st := s.update("t", mesos.TASK_STARTING, 5*time.Second)
				if string(st.UUID) != string(first.UUID) {
					t.Fatal("resent update has a different uuid")
				}
			}
		}
		// After a re-SUBSCRIBE the pending update comes again at once.
		s.close()
		m.disconnected(t, s.fwID)
		info.ID = &mesos.FrameworkID{Value: s.fwID}
		s = cl.subscribe(info)
		st := s.update("t", mesos.TASK_STARTING, 5*time.Second)
		s.ack(st)
		s.update("t", mesos.TASK_RUNNING, 5*time.Second)
	})
}

// nextUpdateWithin returns the next UPDATE within d, or nil.
func (s *sub) nextUpdateWithin(d time.Duration) *mesos.TaskStatus {
	deadline := time.Now().Add(d)
	for {
		ev := s.next(time.Until(deadline))
		if ev == nil {
			return nil
		}
		if ev.Type == scheduler.Event_UPDATE {
			return &ev.Update.Status
		}
	}
}

func TestConformance26_MasterUpdatesHaveNoUUID(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		clock := NewFakeClock(t0)
		m := tg.start(t, Options{NoDocker: true, Clock: clock})
		s := targetClient(t, m, c).subscribe(frameworkInfo("n"))
		s.offers(5 * time.Second)
		s.mustCall(&scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{
			Tasks: []scheduler.Call_Reconcile_Task{{TaskID: mesos.TaskID{Value: "ghost"}}}}}, http.StatusAccepted)
		s.mustCall(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "ghost2"}}}, http.StatusAccepted)
		for _, id := range []string{"ghost", "ghost2"} {
			st := s.update(id, mesos.TASK_LOST, 5*time.Second)
			if len(st.UUID) != 0 || st.GetSource() != mesos.SOURCE_MASTER {
				t.Errorf("%s: uuid %d bytes, source %s; want none and SOURCE_MASTER", id, len(st.UUID), st.GetSource())
			}
		}
		if !tg.real { // realPlans: minutes on the real clock
			clock.Advance(2 * time.Minute)
			if st := s.nextUpdateWithin(300 * time.Millisecond); st != nil {
				t.Errorf("master update resent: %s %s", st.TaskID.Value, st.GetState())
			}
		}
	})
}

func TestConformance27_Acknowledge(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		s := targetClient(t, m, c).subscribe(frameworkInfo("a"))
		offers := s.offers(5 * time.Second)
		agent := offers[0].AgentID
		for _, ack := range []scheduler.Call_Acknowledge{
			{AgentID: agent, TaskID: mesos.TaskID{Value: "unknown"}, UUID: newUUIDBytes()},
			{AgentID: mesos.AgentID{Value: "no-agent"}, TaskID: mesos.TaskID{Value: "x"}, UUID: newUUIDBytes()},
		} {
			ack := ack
			s.mustCall(&scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &ack}, http.StatusAccepted)
		}
		s.launchFirst(offers, cmdTask("t", agent.Value, "true"))
		s.updateAck("t", mesos.TASK_RUNNING, 5*time.Second)
		fin := s.update("t", mesos.TASK_FINISHED, 5*time.Second)
		// A wrong uuid does not release anything; the task stays known.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{
			AgentID: agent, TaskID: fin.TaskID, UUID: newUUIDBytes()}}, http.StatusAccepted)
		s.mustCall(&scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{}}, http.StatusAccepted)
		if st := s.update("t", mesos.TASK_FINISHED, 5*time.Second); st.GetReason() != mesos.REASON_RECONCILIATION {
			t.Errorf("implicit reconcile before the terminal ACK: got %s, want REASON_RECONCILIATION", st.GetReason())
		}
		s.ack(fin)
		s.ack(fin) // a duplicate ACK is harmless
		s.mustCall(&scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{}}, http.StatusAccepted)
		if st := s.nextUpdateWithin(500 * time.Millisecond); st != nil {
			t.Errorf("implicit reconcile after the terminal ACK: got %s %s, want nothing", st.TaskID.Value, st.GetState())
		}
	})
}

func TestConformance28_Kill(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		ks := frameworkInfo("k")
		ks.Capabilities = []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_TASK_KILLING_STATE}}
		s := cl.subscribe(ks)
		offers := s.offers(5 * time.Second)
		a := offers[0].AgentID
		grace := &mesos.KillPolicy{GracePeriod: &mesos.DurationInfo{Nanoseconds: int64(time.Second)}}
		t1 := cmdTask("victim", a.Value, "sleep 60")
		t1.KillPolicy = grace
		t2 := cmdTask("bystander", a.Value, "sleep 60")
		s.launchFirst(offers, t1, t2)
		s.allRunning(5*time.Second, "victim", "bystander")
		// Wrong agent: ignored.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "bystander"},
			AgentID: &mesos.AgentID{Value: "other"}}}, http.StatusAccepted)
		s.mustCall(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "victim"}, AgentID: &a}}, http.StatusAccepted)
		st := s.nextUpdate(5 * time.Second)
		if st.TaskID.Value != "victim" || st.GetState() != mesos.TASK_KILLING {
			t.Fatalf("first update after KILL: got %s %s, want victim TASK_KILLING", st.TaskID.Value, st.GetState())
		}
		s.ack(st)
		s.updateAck("victim", mesos.TASK_KILLED, 5*time.Second)
		// Unknown task.
		s.mustCall(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "ghost"}}}, http.StatusAccepted)
		if st := s.update("ghost", mesos.TASK_LOST, 5*time.Second); st.GetReason() != mesos.REASON_RECONCILIATION || len(st.UUID) != 0 {
			t.Errorf("unknown task: got %s uuid %d, want REASON_RECONCILIATION, no uuid", st.GetReason(), len(st.UUID))
		}
		if st := s.nextUpdateWithin(300 * time.Millisecond); st != nil {
			t.Errorf("bystander: got %s %s, want it untouched", st.TaskID.Value, st.GetState())
		}
		if tg.real { // realPlans: a launch held back needs SetLaunchDelay
			return
		}
		// Without the capability: no TASK_KILLING. And a kill during launch.
		m.SetLaunchDelay(time.Second)
		s2 := cl.subscribe(frameworkInfo("plain"))
		s.mustCall(&scheduler.Call{Type: scheduler.Call_REVIVE}, http.StatusAccepted)
		o2 := s2.offers(5 * time.Second)
		s2.launch(first(o2), cmdTask("early", a.Value, "sleep 60"))
		time.Sleep(100 * time.Millisecond)
		s2.mustCall(&scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: "early"}}}, http.StatusAccepted)
		st = s2.nextUpdate(5 * time.Second)
		if st.GetState() != mesos.TASK_KILLED || st.GetReason() != mesos.REASON_TASK_KILLED_DURING_LAUNCH {
			t.Errorf("kill during launch: got %s %s, want TASK_KILLED REASON_TASK_KILLED_DURING_LAUNCH", st.GetState(), st.GetReason())
		}
	})
}

func TestConformance29_Reconcile(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		s := targetClient(t, m, c).subscribe(frameworkInfo("r"))
		offers := s.offers(5 * time.Second)
		a := offers[0].AgentID
		hc := &mesos.HealthCheck{Type: mesos.HealthCheck_COMMAND, Command: &mesos.CommandInfo{Value: ptr("true")},
			DelaySeconds: ptr(0.0), IntervalSeconds: ptr(0.05)}
		run := cmdTask("running", a.Value, "sleep 60")
		run.HealthCheck = hc
		s.launchFirst(offers, run)
		s.updateAck("running", mesos.TASK_RUNNING, 5*time.Second)
		if st := s.updateAck("running", mesos.TASK_RUNNING, 5*time.Second); st.Healthy == nil || !*st.Healthy {
			t.Fatalf("want a healthy update first, got %+v", st)
		}
		wantStates := map[string]mesos.TaskState{"running": mesos.TASK_RUNNING, "staging": mesos.TASK_STAGING}
		if tg.real { // realPlans: a task held in TASK_STAGING needs SetLaunchDelay
			delete(wantStates, "staging")
		} else {
			m.SetLaunchDelay(5 * time.Second)
			s.mustCall(&scheduler.Call{Type: scheduler.Call_REVIVE}, http.StatusAccepted)
			o2 := s.offers(5 * time.Second)
			s.launch(first(o2), cmdTask("staging", a.Value, "sleep 60"))
			time.Sleep(100 * time.Millisecond)
		}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{}}, http.StatusAccepted)
		got := map[string]mesos.TaskStatus{}
		for len(got) < len(wantStates) {
			st := s.nextUpdate(5 * time.Second)
			got[st.TaskID.Value] = st
		}
		for id, want := range wantStates {
			st := got[id]
			if st.GetState() != want || st.GetReason() != mesos.REASON_RECONCILIATION || st.GetSource() != mesos.SOURCE_MASTER || len(st.UUID) != 0 {
				t.Errorf("%s: got %s %s %s uuid=%d, want %s REASON_RECONCILIATION SOURCE_MASTER no uuid",
					id, st.GetState(), st.GetReason(), st.GetSource(), len(st.UUID), want)
			}
		}
		if h := got["running"].Healthy; h == nil || !*h {
			t.Errorf("reconciled running task: healthy %v, want true", h)
		}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_RECONCILE, Reconcile: &scheduler.Call_Reconcile{Tasks: []scheduler.Call_Reconcile_Task{
			{TaskID: mesos.TaskID{Value: "running"}}, {TaskID: mesos.TaskID{Value: "nobody"}, AgentID: &a}}}}, http.StatusAccepted)
		s.update("running", mesos.TASK_RUNNING, 5*time.Second)
		s.update("nobody", mesos.TASK_LOST, 5*time.Second)
	})
}

func TestConformance30_Health(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		clock := NewFakeClock(t0)
		m := tg.start(t, Options{NoDocker: true, Clock: clock})
		s := targetClient(t, m, c).subscribe(frameworkInfo("h"))
		offers := s.offers(5 * time.Second)
		flag := filepath.Join(t.TempDir(), "healthy")
		// On the real clock the steps are not timed (realPlans): a long grace period keeps
		// failures before the flag exists out, and each step waits for its update.
		advance := func(d time.Duration) {
			if !tg.real {
				clock.Advance(d)
			}
		}
		grace, steady := 4.0, 300*time.Millisecond
		if tg.real {
			grace, steady = 120.0, 2*time.Second
		}
		task := cmdTask("h", offers[0].AgentID.Value, "sleep 60")
		task.HealthCheck = &mesos.HealthCheck{Type: mesos.HealthCheck_COMMAND,
			Command:      &mesos.CommandInfo{Value: ptr("test -f " + flag)},
			DelaySeconds: ptr(2.0), IntervalSeconds: ptr(1.0), GracePeriodSeconds: ptr(grace),
			ConsecutiveFailures: ptr(uint32(2)), TimeoutSeconds: ptr(5.0)}
		s.launchFirst(offers, task)
		st := s.updateAck("h", mesos.TASK_RUNNING, 5*time.Second)
		if st.Healthy != nil {
			t.Errorf("first RUNNING carries healthy=%v, want none", *st.Healthy)
		}
		// Failing, but inside the grace period (4 s, including the 2 s delay): no update.
		advance(3 * time.Second)
		if st := s.nextUpdateWithin(300 * time.Millisecond); st != nil {
			t.Fatalf("update inside the grace period: %s healthy=%v", st.GetState(), st.Healthy)
		}
		os.WriteFile(flag, nil, 0o644)
		advance(time.Second)
		st = s.updateAck("h", mesos.TASK_RUNNING, 5*time.Second)
		if st.Healthy == nil || !*st.Healthy || st.GetReason() != mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED {
			t.Fatalf("after the first pass: got healthy=%v reason %s, want true REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", st.Healthy, st.GetReason())
		}
		// Steady health is not repeated.
		advance(time.Second)
		if st := s.nextUpdateWithin(steady); st != nil {
			t.Fatalf("repeated healthy update: %+v", st)
		}
		os.Remove(flag)
		advance(time.Second)
		st = s.updateAck("h", mesos.TASK_RUNNING, 5*time.Second)
		if st.Healthy == nil || *st.Healthy {
			t.Fatalf("after a failure: got healthy=%v, want false", st.Healthy)
		}
		advance(time.Second)
		st = s.updateAck("h", mesos.TASK_RUNNING, 5*time.Second)
		if st.Healthy == nil || *st.Healthy {
			t.Fatalf("second failure: got healthy=%v, want false", st.Healthy)
		}
		st = s.updateAck("h", mesos.TASK_KILLED, 10*time.Second)
		if st.Healthy == nil || *st.Healthy {
			t.Errorf("killed by health check: healthy %v, want false", st.Healthy)
		}
	})
}

func TestConformance31_Teardown(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		cl := targetClient(t, m, c)
		info := &mesos.FrameworkInfo{User: "u", Name: "td", FailoverTimeout: ptr(600.0)}
		s := cl.subscribe(info)
		offers := s.offers(5 * time.Second)
		command := "sleep 331." + strconv.Itoa(len(c.name)) // tells its process apart
		s.launchFirst(offers, cmdTask("t", offers[0].AgentID.Value, command))
		s.updateAck("t", mesos.TASK_RUNNING, 5*time.Second)
		alive := func() bool { return len(processesWith(command)) > 0 }
		if !tg.real {
			pid := taskPID(m.Master, s.fwID, "t")
			alive = func() bool { return processAlive(pid) }
		}
		s.mustCall(&scheduler.Call{Type: scheduler.Call_TEARDOWN}, http.StatusAccepted)
		for ev := range s.events {
			if ev.Type == scheduler.Event_UPDATE {
				t.Errorf("TEARDOWN streamed %s, want no update", eventString(ev))
			}
		}
		m.eventually(t, "task process killed", func() bool { return !alive() })
		if code, _ := s.call(&scheduler.Call{Type: scheduler.Call_REVIVE}); code != http.StatusBadRequest {
			t.Errorf("call after TEARDOWN: got %d, want 400", code)
		}
		info.ID = &mesos.FrameworkID{Value: s.fwID}
		s2 := cl.open(info)
		if ev := s2.next(5 * time.Second); ev == nil || ev.Type != scheduler.Event_ERROR {
			t.Errorf("re-SUBSCRIBE after TEARDOWN: got %v, want ERROR", eventString(ev))
		}
	})
}

func TestConformance32_AgentLoss(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true, Agents: 2, AllocationInterval: 50 * time.Millisecond})
		s := targetClient(t, m, c).subscribe(frameworkInfo("l"))
		offers := s.offers(5 * time.Second)
		var on0 mesos.Offer
		for _, o := range offers {
			if o.AgentID.Value == m.AgentID(0) {
				on0 = o
			}
		}
		s.launch([]mesos.OfferID{on0.ID}, cmdTask("t", on0.AgentID.Value, "sleep 60"))
		s.updateAck("t", mesos.TASK_RUNNING, 5*time.Second)
		pid := taskPID(m.Master, s.fwID, "t")
		// Wait until agent 0's remaining resources are offered again.
		var rescinded string
		s.waitFor("an offer on agent 0", 5*time.Second, func(ev *scheduler.Event) bool {
			if ev.Type == scheduler.Event_OFFERS {
				for _, o := range ev.Offers.Offers {
					if o.AgentID.Value == m.AgentID(0) {
						rescinded = o.ID.Value
						return true
					}
				}
			}
			return false
		})
		if _, err := m.LoseAgent(0); err != nil {
			t.Fatal(err)
		}
		var gotFailure, gotRescind, gotLost bool
		for !(gotFailure && gotRescind && gotLost) {
			ev := s.waitFor("agent loss events", 5*time.Second, func(ev *scheduler.Event) bool { return ev.Type != scheduler.Event_OFFERS })
			switch ev.Type {
			case scheduler.Event_FAILURE:
				gotFailure = ev.Failure.AgentID != nil && ev.Failure.AgentID.Value == m.AgentID(0) && ev.Failure.ExecutorID == nil
			case scheduler.Event_RESCIND:
				gotRescind = gotRescind || ev.Rescind.OfferID.Value == rescinded
			case scheduler.Event_UPDATE:
				st := ev.Update.Status
				gotLost = st.TaskID.Value == "t" && st.GetState() == mesos.TASK_LOST && st.GetReason() == mesos.REASON_AGENT_REMOVED
			}
		}
		waitFor(t, "lost task's process killed", func() bool { return !processAlive(pid) })
	})
}

// TestConformance33_EncodingParity checks the JSON a scheduler receives with
// a plain decoder: snake_case keys, string enums, base64 bytes, unset
// fields omitted (no nulls). The protobuf half is covered by decoding every
// event of every other test with gogo's generated code.
func TestConformance33_EncodingParity(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		s := targetClient(t, m, c).subscribe(frameworkInfo("p"))
		offers := s.offers(5 * time.Second)
		s.launchFirst(offers, cmdTask("t", offers[0].AgentID.Value, "sleep 5"))
		ev, raw := s.nextRaw(5 * time.Second)
		for ev != nil && ev.Type != scheduler.Event_UPDATE {
			ev, raw = s.nextRaw(5 * time.Second)
		}
		if ev == nil {
			t.Fatal("no UPDATE")
		}
		if c.media == mediaProtobuf {
			var back scheduler.Event
			if err := back.Unmarshal(raw); err != nil || back.Update.Status.GetState() != mesos.TASK_STARTING {
				t.Fatalf("protobuf round trip: %v %v", err, back.Update)
			}
			return
		}
		var mp map[string]any
		if err := json.Unmarshal(raw, &mp); err != nil {
			t.Fatal(err)
		}
		if got := dig(mp, "type"); got != "UPDATE" {
			t.Errorf("type: got %v, want \"UPDATE\"", got)
		}
		status := dig(mp, "update", "status").(map[string]any)
		if status["state"] != "TASK_STARTING" || status["source"] != "SOURCE_EXECUTOR" {
			t.Errorf("enums: got state %v source %v, want strings", status["state"], status["source"])
		}
		if u, ok := status["uuid"].(string); !ok || len(u) != 24 {
			t.Errorf("uuid: got %v, want 24 base64 characters", status["uuid"])
		}
		if _, ok := status["task_id"]; !ok {
			t.Error("task_id missing: keys must be snake_case")
		}
		checkNoNulls(t, "", mp)
	})
}

func checkNoNulls(t *testing.T, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		t.Errorf("%s: null in the master's JSON", path)
	case map[string]any:
		for k, e := range x {
			if strings.ContainsAny(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				t.Errorf("%s.%s: key not snake_case", path, k)
			}
			checkNoNulls(t, path+"."+k, e)
		}
	case []any:
		if len(x) == 0 {
			t.Errorf("%s: empty array, want the field omitted", path)
		}
		for i, e := range x {
			checkNoNulls(t, path+"["+string(rune('0'+i%10))+"]", e)
		}
	}
}

func TestConformance34_HeadersBeforeEvents(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		m.SetSubscribeDelay(1500 * time.Millisecond)
		cl := targetClient(t, m, c)
		call := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: frameworkInfo("d")}}
		req, _ := http.NewRequest(http.MethodPost, m.URL()+"/api/v1/scheduler", strings.NewReader(string(cl.encode(call))))
		req.Header.Set("Content-Type", c.media)
		req.Header.Set("Accept", c.media)
		hc := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 500 * time.Millisecond}}
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("headers did not arrive within 500 ms while SUBSCRIBED is delayed: %v", err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 1)
		if _, err := resp.Body.Read(buf); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("first event after %v, want the 1.5 s delay", d)
		}
	})
}

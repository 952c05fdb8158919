package mesostest

import (
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

func TestFaultDropStreamAndSlowAcks(t *testing.T) {
	eachCodec(t, func(t *testing.T, c testCodec) {
		clock := NewFakeClock(t0)
		m := startMaster(t, Options{NoDocker: true, Clock: clock})
		cl := newClient(t, m, c)
		info := &mesos.FrameworkInfo{User: "u", Name: "f", FailoverTimeout: ptr(600.0)}
		s := cl.subscribe(info)
		offers := s.offers(5 * time.Second)
		m.SetAckDelay(5 * time.Second)
		s.launch(ids(offers), cmdTask("t", offers[0].AgentID.Value, "sleep 30"))
		s.ack(s.update("t", mesos.TASK_STARTING, 5*time.Second))
		if st := s.nextUpdateWithin(300 * time.Millisecond); st != nil {
			t.Fatalf("got %s before the slow ACK was processed", st.GetState())
		}
		clock.Advance(5 * time.Second)
		s.update("t", mesos.TASK_RUNNING, 5*time.Second)

		m.DropStream(s.fwID)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			t.Fatal("stream not dropped")
		}
		waitFor(t, "framework disconnected", func() bool { return !frameworkConnected(m, s.fwID) })
		calls := m.Transcript()
		if len(calls) == 0 || calls[0].Type != "SUBSCRIBE" || calls[0].Status != 200 {
			t.Errorf("transcript starts with %+v, want SUBSCRIBE 200", calls[0])
		}
	})
}

func TestFaultRescindOffers(t *testing.T) {
	eachCodec(t, func(t *testing.T, c testCodec) {
		m := startMaster(t, Options{NoDocker: true})
		cl := newClient(t, m, c)
		s := cl.subscribe(&mesos.FrameworkInfo{User: "u", Name: "f"})
		offers := s.offers(5 * time.Second)
		if n := m.RescindOffers(s.fwID, true); n != len(offers) {
			t.Fatalf("RescindOffers = %d, want %d", n, len(offers))
		}
		for range offers {
			s.waitFor("RESCIND", 5*time.Second, func(ev *scheduler.Event) bool { return ev.Type == scheduler.Event_RESCIND })
		}
		// Withdrawn: accepting one now is accepting an invalid offer.
		s.launch(ids(offers[:1]), cmdTask("t", offers[0].AgentID.Value, "sleep 30"))
		if st := s.update("t", mesos.TASK_LOST, 5*time.Second); st.GetReason() != mesos.REASON_INVALID_OFFERS {
			t.Errorf("reason %s, want REASON_INVALID_OFFERS", st.GetReason())
		}
	})
}

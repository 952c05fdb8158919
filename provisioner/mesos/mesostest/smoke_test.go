package mesostest

import (
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

func TestSmokeCommandTask(t *testing.T) {
	eachCodec(t, func(t *testing.T, c testCodec) {
		m := startMaster(t, Options{NoDocker: true})
		s := newClient(t, m, c).subscribe(frameworkInfo("smoke"))
		offers := s.offers(5 * time.Second)
		s.launch(ids(offers), cmdTask("t1", offers[0].AgentID.Value, "echo hello; sleep 0.2"))
		st := s.updateAck("t1", mesos.TASK_STARTING, 5*time.Second)
		if len(st.UUID) != 16 {
			t.Errorf("uuid: got %d bytes, want 16", len(st.UUID))
		}
		s.updateAck("t1", mesos.TASK_RUNNING, 5*time.Second)
		fin := s.updateAck("t1", mesos.TASK_FINISHED, 5*time.Second)
		if got, want := fin.GetMessage(), "Command exited with status 0"; got != want {
			t.Errorf("message: got %q, want %q", got, want)
		}
	})
}

package mesos

import (
	"testing"
	"time"

	"github.com/envctl/envctl/provisioner"
)

// TestHealthCheckAttemptTimeout pins the Mesos health check's attempt timeout: on a busy real
// agent forking the check's helper took over 2 s, every such timeout was an "unhealthy"
// status update, and a task's updates queue one at a time behind envctl's acknowledgements, so
// the 30-service benchmark never saw a layer get ready (issue 13). A short ready timeout keeps
// a short attempt, so that a failed attempt is still observed before the ready timeout ends.
func TestHealthCheckAttemptTimeout(t *testing.T) {
	b := &Backend{opt: Options{HealthInterval: defaultHealthInterval}}
	for _, tc := range []struct {
		ready, want time.Duration
	}{
		{0, 10 * time.Second}, // the default ready timeout (1 min)
		{5 * time.Minute, 10 * time.Second},
		{12 * time.Second, 6 * time.Second},
		{3 * time.Second, 2 * time.Second},
	} {
		spec := provisioner.Spec{Service: "api", Ports: []provisioner.Port{{Name: "http", Port: 80}},
			Ready: provisioner.ReadySpec{Kind: provisioner.ProbeTCP, Port: "http", Timeout: tc.ready}}
		hc := b.healthCheck(spec)
		if hc == nil {
			t.Fatalf("ready timeout %v: no health check", tc.ready)
		}
		if got := time.Duration(hc.GetTimeoutSeconds() * float64(time.Second)); got != tc.want {
			t.Errorf("ready timeout %v: attempt timeout %v, want %v", tc.ready, got, tc.want)
		}
		if hc.GetIntervalSeconds() != defaultHealthInterval.Seconds() {
			t.Errorf("ready timeout %v: interval %vs, want the default %v", tc.ready, hc.GetIntervalSeconds(), defaultHealthInterval)
		}
	}
}

// TestProtocolProbeHealthCheck: Mesos health checks know no server protocols, so a protocol
// probe is a TCP check of its port (never no check at all, which would call the task ready as
// soon as it runs) until envctl probes Mesos tasks itself.
func TestProtocolProbeHealthCheck(t *testing.T) {
	b := &Backend{opt: Options{HealthInterval: defaultHealthInterval}}
	for _, kind := range []string{provisioner.ProbePostgres, provisioner.ProbeMySQL, provisioner.ProbeRedis, provisioner.ProbeAMQP,
		provisioner.ProbeMemcached, provisioner.ProbeGRPC, provisioner.ProbeKafka, provisioner.ProbeMongoDB} {
		spec := provisioner.Spec{Service: "db", Ports: []provisioner.Port{{Name: "admin", Port: 8080}, {Name: "db", Port: 6379}},
			Ready: provisioner.ReadySpec{Kind: kind, Port: "db"}}
		hc := b.healthCheck(spec)
		if hc == nil || hc.TCP == nil {
			t.Fatalf("%s: health check %v, want TCP", kind, hc)
		}
		if hc.TCP.Port != 6379 {
			t.Errorf("%s: TCP check of port %d, want the probe's port 6379", kind, hc.TCP.Port)
		}
	}
}

package mesos

import (
	"testing"
	"time"

	"github.com/envctl/envctl/provisioner"
)

// TestHealthCheckAttemptTimeoutSet: the Mesos health check's timeout_seconds is the ready
// block's attempt_timeout when the file sets one, and half the ready timeout (2-10 s) otherwise. (The double, mesostest, cuts each
// check at timeout_seconds as Mesos does.)
func TestHealthCheckAttemptTimeoutSet(t *testing.T) {
	b := &Backend{opt: Options{HealthInterval: defaultHealthInterval}}
	for _, tc := range []struct {
		set  time.Duration
		want float64
	}{{0, 10}, {5 * time.Second, 5}, {1500 * time.Millisecond, 1.5}} {
		spec := provisioner.Spec{
			Ports: []provisioner.Port{{Name: "http", Port: 80}},
			Ready: provisioner.ReadySpec{Kind: provisioner.ProbeTCP, Port: "http", Timeout: time.Minute, AttemptTimeout: tc.set},
		}
		hc := b.healthCheck(spec, true)
		if hc == nil {
			t.Fatalf("attempt_timeout %v: no health check", tc.set)
		}
		if got := hc.GetTimeoutSeconds(); got != tc.want {
			t.Errorf("attempt_timeout %v: timeout_seconds %v, want %v", tc.set, got, tc.want)
		}
	}
}

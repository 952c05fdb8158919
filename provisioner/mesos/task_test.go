package mesos

import (
	"strings"
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
		hc := b.healthCheck(spec, true)
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
// soon as it runs) where Mesos checks readiness (an agent envctl cannot reach).
func TestProtocolProbeHealthCheck(t *testing.T) {
	b := &Backend{opt: Options{HealthInterval: defaultHealthInterval}}
	for _, kind := range []string{provisioner.ProbePostgres, provisioner.ProbeMySQL, provisioner.ProbeRedis, provisioner.ProbeAMQP,
		provisioner.ProbeMemcached, provisioner.ProbeGRPC, provisioner.ProbeKafka, provisioner.ProbeMongoDB} {
		spec := provisioner.Spec{Service: "db", Ports: []provisioner.Port{{Name: "admin", Port: 8080}, {Name: "db", Port: 6379}},
			Ready: provisioner.ReadySpec{Kind: kind, Port: "db"}}
		hc := b.healthCheck(spec, true)
		if hc == nil || hc.TCP == nil {
			t.Fatalf("%s: health check %v, want TCP", kind, hc)
		}
		if hc.TCP.Port != 6379 {
			t.Errorf("%s: TCP check of port %d, want the probe's port 6379", kind, hc.TCP.Port)
		}
	}
}

// TestHealthCheckOnlyWhereNeeded: a task envctl probes from outside carries no Mesos health
// check (which would run for its whole life, a fork by the executor each time: issue 16),
// except for an exec probe, which only a COMMAND check can run; where a check is kept it runs
// every second at most, whatever the ready block asks.
func TestHealthCheckOnlyWhereNeeded(t *testing.T) {
	b := &Backend{opt: Options{HealthInterval: defaultHealthInterval}}
	ports := []provisioner.Port{{Name: "http", Port: 80}}
	for _, tc := range []struct {
		name    string
		ready   provisioner.ReadySpec
		byMesos bool
		want    string // the check's type, "" for none
	}{
		{"http by envctl", provisioner.ReadySpec{Kind: provisioner.ProbeHTTP, Port: "http"}, false, ""},
		{"tcp by envctl", provisioner.ReadySpec{Kind: provisioner.ProbeTCP, Port: "http"}, false, ""},
		{"ports by envctl", provisioner.ReadySpec{}, false, ""},
		{"protocol probe by envctl", provisioner.ReadySpec{Kind: "postgres", Port: "http"}, false, ""},
		{"log", provisioner.ReadySpec{Kind: provisioner.ProbeLog, Log: "x"}, true, ""},
		{"exec by envctl", provisioner.ReadySpec{Kind: provisioner.ProbeExec, Exec: []string{"/bin/true"}}, false, "COMMAND"},
		{"http by mesos", provisioner.ReadySpec{Kind: provisioner.ProbeHTTP, Port: "http"}, true, "HTTP"},
		{"http 401 by mesos", provisioner.ReadySpec{Kind: provisioner.ProbeHTTP, Port: "http", Status: 401}, true, "TCP"},
		{"ports by mesos", provisioner.ReadySpec{}, true, "TCP"},
		{"protocol probe by mesos", provisioner.ReadySpec{Kind: "postgres", Port: "http"}, true, "TCP"},
		{"fast interval by mesos", provisioner.ReadySpec{Kind: provisioner.ProbeTCP, Port: "http", Interval: 250 * time.Millisecond}, true, "TCP"},
	} {
		hc := b.healthCheck(provisioner.Spec{Service: "api", Ports: ports, Ready: tc.ready}, tc.byMesos)
		got := ""
		if hc != nil {
			got = hc.GetType().String()
			if hc.GetIntervalSeconds() < 1 {
				t.Errorf("%s: interval %vs, want at least 1 s", tc.name, hc.GetIntervalSeconds())
			}
		}
		if got != tc.want {
			t.Errorf("%s: health check %q, want %q", tc.name, got, tc.want)
		}
	}
	info := b.taskInfo("t", "a", "", provisioner.Spec{Service: "api", Image: "x", Ports: ports,
		Ready: provisioner.ReadySpec{Kind: provisioner.ProbeHTTP, Port: "http"}}, request{cpus: 0.1, mem: 32}, []uint64{31000}, false)
	if info.HealthCheck != nil {
		t.Errorf("a task envctl probes has a health check: %v", info.HealthCheck)
	}
	inst := provisioner.Instance{Labels: labelMap(info.Labels)}
	if b.ChecksNatively(inst, provisioner.ReadySpec{Kind: provisioner.ProbeHTTP, Port: "http"}, false) {
		t.Errorf("an http probe of a task without a health check is checked natively, want by envctl's prober")
	}
	for _, rs := range []provisioner.ReadySpec{{Kind: provisioner.ProbeExec}, {Kind: provisioner.ProbeLog}} {
		if !b.ChecksNatively(inst, rs, false) {
			t.Errorf("%s probe: not checked natively", rs.Kind)
		}
	}
	if !b.ChecksNatively(inst, provisioner.ReadySpec{}, true) {
		t.Errorf("a job: not checked natively (TASK_FINISHED)")
	}
	info = b.taskInfo("t", "a", "", provisioner.Spec{Service: "api", Image: "x", Ports: ports}, request{cpus: 0.1, mem: 32}, []uint64{31000}, true)
	if !b.ChecksNatively(provisioner.Instance{Labels: labelMap(info.Labels)}, provisioner.ReadySpec{}, false) {
		t.Errorf("a task with a Mesos health check (agent out of reach): not checked natively")
	}
}

// TestForcedMesosProbeRefusesStatus: with --mesos-probe=mesos an HTTP status outside 200-399
// cannot be checked (Mesos's HTTP check passes on 200-399 only); envctl's own probe can.
func TestForcedMesosProbeRefusesStatus(t *testing.T) {
	b := &Backend{opt: Options{HealthInterval: defaultHealthInterval}, probe: ProbeMesos}
	_, err := b.Start(t.Context(), provisioner.Spec{Env: "e", Service: "api", Image: "x",
		Ports: []provisioner.Port{{Name: "http", Port: 80}},
		Ready: provisioner.ReadySpec{Kind: provisioner.ProbeHTTP, Port: "http", Status: 401}})
	if err == nil || !strings.Contains(err.Error(), "ready http status = 401 cannot be checked with --mesos-probe=mesos") {
		t.Errorf("Start: %v, want the refusal", err)
	}
}

// TestExecCheckNotice: only an exec check left at the default interval is worth a note (it
// costs the cluster for the task's life); the note names the service, the interval and the
// way out.
func TestExecCheckNotice(t *testing.T) {
	exec := provisioner.ReadySpec{Kind: provisioner.ProbeExec, Exec: []string{"pg_isready"}}
	tests := []struct {
		name string
		spec provisioner.Spec
		want []string // substrings; nil: no note
	}{
		{"exec at the default", provisioner.Spec{Service: "db", Ready: exec},
			[]string{`service "db"`, "every 1s", "0.05 cores", "ready { interval }", "protocol probe"}},
		{"exec with its own interval", provisioner.Spec{Service: "db", Ready: provisioner.ReadySpec{Kind: provisioner.ProbeExec, Exec: []string{"x"}, Interval: 10 * time.Second}}, nil},
		{"a job's exec", provisioner.Spec{Service: "job", Once: true, Ready: exec}, nil},
		{"http", provisioner.Spec{Service: "web", Ready: provisioner.ReadySpec{Kind: provisioner.ProbeHTTP, Port: "http"}}, nil},
	}
	for _, tt := range tests {
		got := execCheckNotice(tt.spec, time.Second)
		if tt.want == nil {
			if got != "" {
				t.Errorf("%s: got %q, want no note", tt.name, got)
			}
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: got %q, want it to contain %q", tt.name, got, w)
			}
		}
	}
	if got := execCheckNotice(provisioner.Spec{Service: "db", Ready: exec}, 2*time.Second); !strings.Contains(got, "every 2s") || !strings.Contains(got, "0.03 cores") {
		t.Errorf("at 2s: got %q", got)
	}
}

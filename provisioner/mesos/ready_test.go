package mesos

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
)

// readyKinds has a service per probe kind: http and tcp on services that listen a second or
// two after they start (the probes must not see them ready before), exec (a COMMAND health
// check running testsvc's own probe inside the container), log and a job.
const readyKinds = `
environment { name = %q }
variable "img" { type = string }
service "late" {
  image   = var.img
  command = ["--delay", "2s", "--http", "80"]
  ports   = { http = 80 }
  ready {
    http {
      port = "http"
    }
  }
}
service "tcp" {
  image   = var.img
  command = ["--delay", "1s", "--http", "80"]
  ports   = { http = 80 }
  ready {
    tcp = "http"
  }
}
service "plain" {
  image   = var.img
  command = ["--delay", "1s", "--http", "80"]
  ports   = { http = 80 }
}
service "ex" {
  image   = var.img
  command = ["--delay", "1s", "--http", "80"]
  ports   = { http = 80 }
  ready {
    exec = ["/testsvc", "probe", "tcp", "127.0.0.1:80"]
  }
}
service "logger" {
  image   = var.img
  command = ["--delay", "1s", "--log", "now listening"]
  ready {
    log = "now listening"
  }
}
service "job" {
  image   = var.img
  run     = "once"
  command = ["--delay", "1s", "--log", "done", "--exit", "0"]
}
`

// TestReadinessFromOutside: envctl probes http, tcp and the default ports check itself,
// through each task's agent host and host port, and those tasks carry no Mesos health check
// (one would run every interval for the task's whole life, issue 16); a service that listens
// late is not ready before it listens (a GET right after up answers); exec is a COMMAND
// health check, log reads the sandbox, a job is ready when it finished.
func TestReadinessFromOutside(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	onClusters(t, func(t *testing.T, c *cluster) { testReadiness(t, c, img, false) })
}

// TestReadinessFallback: where envctl cannot reach an agent's host ports, that agent's tasks
// carry Mesos health checks (at 1 s) and readiness is theirs; up says so (ReachOf).
func TestReadinessFallback(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	onClusters(t, func(t *testing.T, c *cluster) { testReadiness(t, c, img, true) })
}

func testReadiness(t *testing.T, c *cluster, img string, unreachable bool) {
	b := backend(t, c.url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if unreachable {
		// Every agent as if a dial to it had timed out: what checkAgents records for an
		// agent behind a firewall (no such network can be made here).
		agents, err := b.agents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b.reach.mu.Lock()
		b.reach.agents = map[string]*agentReach{}
		for _, a := range agents {
			b.reach.agents[a.hostname] = &agentReach{why: "a dial to " + a.hostname + " got no answer (test)"}
		}
		b.reach.mu.Unlock()
	}
	name := uniqueEnv("ready")
	tg := target(t, fmt.Sprintf(readyKinds, name), time.Hour, "img="+img)
	t.Cleanup(func() { down(t, b, name) })
	res := up(t, ctx, b, tg)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	// Ready means listening: each GET right after up answers.
	for _, svc := range []string{"late", "tcp", "plain", "ex"} {
		addr := res.Service(svc).Instance.Published["http"]
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Errorf("%s was ready, but GET %s: %v", svc, addr, err)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	s := b.sessions[name]
	s.mu.Lock()
	checks := map[string]*mesospb.HealthCheck{}
	for _, ts := range s.tasks {
		if ts.info != nil {
			checks[ts.service] = ts.info.HealthCheck
		}
	}
	s.mu.Unlock()
	for svc, want := range map[string]string{"late": "HTTP", "tcp": "TCP", "plain": "TCP", "ex": "COMMAND", "logger": "", "job": ""} {
		hc := checks[svc]
		if !unreachable && svc != "ex" {
			want = ""
		}
		got := ""
		if hc != nil {
			got = hc.GetType().String()
			if hc.GetIntervalSeconds() < 1 {
				t.Errorf("%s: a health check every %vs, want at least 1 s", svc, hc.GetIntervalSeconds())
			}
		}
		if got != want {
			t.Errorf("%s: health check %q, want %q", svc, got, want)
		}
	}
	late := res.Service("late").Probes
	if !unreachable && (len(late) < 2 || late[0].OK || !late[len(late)-1].OK) {
		t.Errorf("late's probes %+v: want failures while it did not listen, then an answer", late)
	}
	way, ok := b.ReachOf(name)
	wantWay := ReachHostPorts
	if unreachable {
		wantWay = ReachHealthChecks
	}
	if !ok || way.Way != wantWay {
		t.Errorf("ReachOf = %+v, %v; want %s", way, ok, wantWay)
	}
	t.Logf("reach: %s: %s", way.Way, way.Why)
	// status checks now: envctl's own probe of each service (not Mesos's last word).
	if !unreachable {
		insts, err := b.Observe(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range insts {
			if inst.Service != "late" {
				continue
			}
			rs := provisioner.ParseReady(inst.Labels[provisioner.LabelReady])
			if ok, detail := provisioner.ProbeOnce(ctx, b, inst, rs); !ok || !strings.Contains(detail, "HTTP 200") {
				t.Errorf("ProbeOnce(late) = %v %q, want an HTTP 200", ok, detail)
			}
		}
	}
}

// TestDialAgent: a host that accepts or refuses the dial is reachable (it answered); one
// that does not answer, or has no route, is not. (No unrouted address can be dialled here:
// this machine's network accepts every outbound connection; the failures are classified
// from their errors.)
func TestDialAgent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if a := dialAgent(addr); !a.ok {
		t.Errorf("listening %s: %s, want reachable", addr, a.why)
	}
	ln.Close()
	if a := dialAgent(addr); !a.ok || !strings.Contains(a.why, "refused") {
		t.Errorf("closed %s: %+v, want reachable (refused)", addr, a)
	}
}

func TestReachOfDial(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{context.DeadlineExceeded, false},
		{&net.OpError{Op: "dial", Err: syscall.EHOSTUNREACH}, false},
		{&net.OpError{Op: "dial", Err: syscall.ENETUNREACH}, false},
	} {
		if got := reachOfDial("h:1", tc.err); got.ok != tc.want {
			t.Errorf("%v: %+v, want ok=%v", tc.err, got, tc.want)
		}
	}
}

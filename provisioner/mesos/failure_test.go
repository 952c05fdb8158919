package mesos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/master"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
)

// TestFailures: up fails, naming the service and saying why, and rolls back everything it
// started (no task, framework or container is left).
func TestFailures(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	onClusters(t, func(t *testing.T, c *cluster) { testFailures(t, c, img) })
}

func testFailures(t *testing.T, c *cluster, img string) {
	b := backend(t, c.url, Options{})
	tests := []struct {
		name, hcl   string
		service     string
		reason      string // in ServiceError.Reason
		exitCode    int
		probeDetail string // in one of the probe results, if set
		logLine     string // in the error's log lines, if set
		errText     string // in the error's text, if set
	}{
		{
			name: "failing-health-check",
			hcl: `
service "ok" {
  image   = var.img
  command = ["--http", "80"]
  ports   = { http = 80 }
}
service "sick" {
  image      = var.img
  command    = ["--http", "8080", "--health-status", "503", "--log", "sick but alive"]
  ports      = { http = 8080 }
  depends_on = [service.ok]
  ready {
    http {
      port = "http"
      path = "/healthz"
    }
    timeout = "3s"
  }
}`,
			service: "sick", reason: "did not become ready within 3s", exitCode: -1,
			probeDetail: "503", logLine: "sick but alive",
		},
		{
			name: "failed-job",
			hcl: `
service "job" {
  image   = var.img
  run     = "once"
  command = ["--log", "migration 7 failed: table exists", "--exit", "3"]
}`,
			service: "job", reason: "exited with code 3", exitCode: 3, logLine: "migration 7 failed: table exists",
		},
		{
			name: "crash-before-ready",
			hcl: `
service "crash" {
  image   = var.img
  # Nothing ever listens on the port, so the TCP health check cannot pass: with --http
  # the service listened for a moment before it exited and a loaded CI machine saw it ready.
  command = ["--delay", "200ms", "--log", "giving up", "--exit", "4"]
  ports   = { http = 80 }
}`,
			service: "crash", reason: "exited with code 4 before it was ready", exitCode: 4, logLine: "giving up",
		},
		{
			// Mesos's health check passes on any 200-399; the file asks for 204 exactly.
			name: "status-mismatch",
			hcl: `
service "api" {
  image   = var.img
  command = ["--http", "8080"]
  ports   = { http = 8080 }
  ready {
    http {
      port   = "http"
      path   = "/healthz"
      status = 204
    }
    timeout = "3s"
  }
}`,
			service: "api", reason: "did not become ready within 3s", exitCode: -1, probeDetail: "HTTP 200, want 204",
		},
		{
			// No agent can take it: it waits for offers until its ready timeout (at least
			// minOfferWait), and the error says it was never launched and what it asked for,
			// not that it did not get ready.
			name: "no-agent-fits",
			hcl: `
service "big" {
  image   = var.img
  command = ["--http", "80"]
  ports   = { http = 80 }
  resources {
    cpus   = 512
    memory = "1GiB"
  }
  ready {
    tcp     = "http"
    timeout = "3s"
  }
}`,
			service: "big", reason: "was never launched: still waiting for offers after " + minOfferWait.String(), exitCode: -1,
			errText: `service "big" was never launched: still waiting for offers after ` + minOfferWait.String() + ` — no agent offered the cpus 512, mem 1024 MB, 1 port it asks for`,
		},
		{
			name: "missing-image",
			hcl: `
service "ghost" {
  image = "envctl-test/no-such-image:never"
}`,
			service: "ghost", reason: "failed to start", exitCode: -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			name := uniqueEnv(tc.name)
			tg := target(t, fmt.Sprintf("environment { name = %q }\nvariable \"img\" { type = string }\n%s", name, tc.hcl), time.Hour, "img="+img)
			t.Cleanup(func() { down(t, b, name) })
			res := up(t, ctx, b, tg)
			if res.Err == nil {
				t.Fatal("up succeeded, want it to fail")
			}
			t.Logf("up failed as expected:\n%v", res.Err)
			var se *provisioner.ServiceError
			if !errors.As(res.Err, &se) {
				t.Fatalf("error %T is not a *ServiceError: %v", res.Err, res.Err)
			}
			if se.Service != tc.service || !strings.Contains(se.Reason, tc.reason) || se.ExitCode != tc.exitCode {
				t.Errorf("got service %q reason %q exit %d, want %q, %q, %d", se.Service, se.Reason, se.ExitCode, tc.service, tc.reason, tc.exitCode)
			}
			if tc.probeDetail != "" {
				found := false
				for _, p := range se.Probes {
					found = found || (!p.OK && strings.Contains(p.Detail, tc.probeDetail))
				}
				if !found {
					t.Errorf("probe results %+v: none failed with %q", se.Probes, tc.probeDetail)
				}
			}
			if tc.errText != "" && !strings.Contains(res.Err.Error(), tc.errText) {
				t.Errorf("error %q, want it to say %q", res.Err, tc.errText)
			}
			if tc.logLine != "" && !strings.Contains(strings.Join(se.Logs, "\n"), tc.logLine) {
				t.Errorf("log lines %q, want one with %q", se.Logs, tc.logLine)
			}
			if !res.RolledBack {
				t.Errorf("not rolled back: %v", res.Err)
			}
			assertGone(t, ctx, c, b, name)
		})
	}
}

// TestDownAfterKill: envctl dies right after launching (its connection just drops, nothing is
// rolled back), and down from a new process removes everything through the operator API and a
// re-subscription.
func TestDownAfterKill(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	onClusters(t, func(t *testing.T, c *cluster) { testDownAfterKill(t, c, img) })
}

func testDownAfterKill(t *testing.T, c *cluster, img string) {
	url := c.url
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := uniqueEnv("killed")
	tg := target(t, fmt.Sprintf(`
environment { name = %q }
variable "img" { type = string }
service "a" {
  image   = var.img
  command = ["--http", "80"]
  ports   = { http = 80 }
}
service "b" {
  image   = var.img
  command = ["--http", "80"]
  ports   = { http = 80 }
}
service "slow" {
  image      = var.img
  command    = ["--delay", "1h", "--http", "80"]
  ports      = { http = 80 }
  depends_on = [service.a]
}
service "never" {
  image      = var.img
  depends_on = [service.slow]
}`, name), time.Hour, "img="+img)

	first := backend(t, url, Options{})
	upCtx, stopUp := context.WithCancel(ctx)
	done := make(chan *provisioner.Result, 1)
	go func() {
		observed, _ := first.Observe(upCtx, name)
		desired, _ := tg.Desired()
		plan := provisioner.MakePlan(name, desired, observed)
		done <- provisioner.Apply(upCtx, first, tg, plan, provisioner.Options{Parallel: 4, Rollback: false})
	}()
	// Wait until "slow" runs (it never gets ready), then "kill" envctl: its subscription
	// drops and nothing is cleaned up.
	second := backend(t, url, Options{})
	waitFor(t, 30*time.Second, "slow to run", func() bool {
		insts, err := second.Observe(ctx, name)
		for _, in := range insts {
			if in.Service == "slow" && in.State == provisioner.StateRunning {
				return err == nil
			}
		}
		return false
	})
	first.Close()
	stopUp()
	<-done

	insts, err := second.Observe(ctx, name)
	if err != nil || len(insts) != 3 {
		t.Fatalf("before down: %d instances, %v; want a, b and slow", len(insts), err)
	}
	// The master notices the closed subscription on its own time (a real one under load took
	// more than the moment the double takes).
	var fws []master.Response_GetFrameworks_Framework
	waitFor(t, 30*time.Second, "the framework to be disconnected", func() bool {
		fws, err = second.frameworks(ctx, name)
		return err == nil && len(fws) == 1 && !fws[0].Connected
	})
	if err != nil || len(fws) != 1 || fws[0].Connected {
		t.Fatalf("before down: frameworks %+v, %v; want one, disconnected", fws, err)
	}
	n, err := provisioner.Down(ctx, second, name, provisioner.Options{Parallel: 4, Grace: time.Second})
	if err != nil || n != 3 {
		t.Fatalf("down: removed %d, %v; want 3, nil", n, err)
	}
	assertGone(t, ctx, c, second, name)
}

// TestTTLReap: an environment whose envctl went away is removed by Mesos itself once its
// failover_timeout (the TTL) runs out.
func TestTTLReap(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	onClusters(t, func(t *testing.T, c *cluster) { testTTLReap(t, c, img) })
}

func testTTLReap(t *testing.T, c *cluster, img string) {
	url := c.url
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniqueEnv("ttl")
	tg := target(t, fmt.Sprintf(`
environment {
  name = %q
  ttl  = "3s"
}
variable "img" { type = string }
service "web" {
  image   = var.img
  command = ["--http", "80"]
  ports   = { http = 80 }
}`, name), 3*time.Second, "img="+img)
	b := backend(t, url, Options{})
	res := up(t, ctx, b, tg)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	fws, err := b.frameworks(ctx, name)
	if err != nil || len(fws) != 1 {
		t.Fatalf("frameworks: %v, %v", fws, err)
	}
	if ft := fws[0].FrameworkInfo.GetFailoverTimeout(); ft < 1 || ft > 3 {
		t.Errorf("failover_timeout = %v s, want the 3 s TTL (at least 1)", ft)
	}
	b.Close() // envctl goes away; the tasks keep running...
	obs := backend(t, url, Options{})
	if insts, err := obs.Observe(ctx, name); err != nil || len(insts) != 1 || insts[0].State != provisioner.StateRunning {
		t.Fatalf("right after the client left: %+v, %v; want web running", insts, err)
	}
	// ...until Mesos reaps the framework.
	start := time.Now()
	waitFor(t, 15*time.Second, "the framework to be reaped", func() bool {
		fws, err := obs.frameworks(ctx, name)
		return err == nil && len(fws) == 0
	})
	t.Logf("reaped %v after the client left", time.Since(start).Round(100*time.Millisecond))
	assertGone(t, ctx, c, obs, name)
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

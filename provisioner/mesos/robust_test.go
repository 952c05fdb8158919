package mesos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

func TestNewUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	// A master that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct{ name, url string }{
		{"refused", "http://" + addr},
		{"silent", "http://" + silent.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := New(context.Background(), Options{Master: tc.url})
			if !errors.Is(err, provisioner.ErrUnreachable) || !strings.Contains(err.Error(), tc.url) {
				t.Errorf("New(%s) = %v, want an error wrapping ErrUnreachable naming the URL", tc.url, err)
			}
			// dialTimeout with room for a loaded machine: what this catches is a New that
			// waits on a silent master without a bound.
			if d, limit := time.Since(start), dialTimeout+3*time.Second; d > limit {
				t.Errorf("New took %v, want at most %v (dialTimeout %v)", d, limit, dialTimeout)
			}
		})
	}
	if _, err := New(context.Background(), Options{Master: "mesos.example:5050"}); err == nil || errors.Is(err, provisioner.ErrUnreachable) {
		t.Errorf("New with a URL without scheme = %v, want a usage error", err)
	}
}

const oneService = `
environment { name = %q }
variable "img" { type = string }
service "web" {
  image   = var.img
  command = ["--http", "80"]
  ports   = { http = 80 }
}
service "after" {
  image      = var.img
  command    = ["--http", "80", "--call", "http://${service.web.host}:${service.web.ports.http}/"]
  ports      = { http = 80 }
  depends_on = [service.web]
}
`

// TestRedirect: envctl is pointed at a master that is not the leader and follows its 307 to
// the leader, for the operator and the scheduler API alike.
func TestRedirect(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	m, url := double(t, mesostest.Options{Agents: 1})
	leader := strings.TrimPrefix(url, "http://")
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "//"+leader+r.URL.Path) // protocol-relative, as Mesos sends it
		w.WriteHeader(http.StatusTemporaryRedirect)
	}))
	defer follower.Close()
	b := backend(t, follower.URL, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniqueEnv("redirect")
	t.Cleanup(func() { down(t, b, name) })
	res := up(t, ctx, b, target(t, fmt.Sprintf(oneService, name), time.Hour, "img="+img))
	if res.Err != nil {
		t.Fatalf("up through a follower: %v", res.Err)
	}
	if got := b.cli.base(); got != url {
		t.Errorf("leader = %s, want %s", got, url)
	}
	subs := 0
	for _, c := range m.Transcript() {
		if c.Type == "SUBSCRIBE" {
			subs++
		}
	}
	if subs != 1 {
		t.Errorf("%d SUBSCRIBE calls reached the leader, want 1", subs)
	}
}

// TestResubscribe: after a dropped stream, or a stream that goes silent (no heartbeats), the
// backend re-subscribes with its framework ID, reconciles, and goes on launching.
func TestResubscribe(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	for _, tc := range []struct {
		name  string
		fault func(m *mesostest.Master)
	}{
		{"dropped-stream", func(m *mesostest.Master) { m.DropStream("") }},
		{"silent-stream", func(m *mesostest.Master) { m.SetHeartbeats(false) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Heartbeats every 200 ms, so that the watchdog (3 intervals) notices silence
			// quickly; a real master sends one every 15 s.
			m, url := double(t, mesostest.Options{Agents: 1, HeartbeatInterval: 200 * time.Millisecond})
			b := backend(t, url, Options{})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			name := uniqueEnv(tc.name)
			t.Cleanup(func() { down(t, b, name) })
			tg := target(t, fmt.Sprintf(oneService, name), time.Hour, "img="+img)
			// Bring up web alone first, break the subscription, then let "after" launch.
			spec, err := tg.Spec(tg.Env.Service("web"), nil)
			if err != nil {
				t.Fatal(err)
			}
			web, err := b.Start(ctx, spec)
			if err != nil {
				t.Fatalf("Start web: %v", err)
			}
			if err := b.WaitReady(ctx, web, spec.Ready, nil); err != nil {
				t.Fatalf("web: %v", err)
			}
			fws, err := b.frameworks(ctx, name)
			if err != nil || len(fws) != 1 {
				t.Fatalf("frameworks of %s: %v, %v", name, fws, err)
			}
			fwID := fws[0].FrameworkInfo.ID.GetValue()
			tc.fault(m)
			waitFor(t, 10*time.Second, "a second SUBSCRIBE", func() bool { return len(subscribes(m)) >= 2 })
			m.SetHeartbeats(true)
			res := up(t, ctx, b, tg)
			if res.Err != nil {
				t.Fatalf("up after the fault: %v", res.Err)
			}
			if res.Service("web").Phase != provisioner.PhaseKept || res.Service("after").Phase != provisioner.PhaseReady {
				t.Errorf("web %s, after %s; want web kept and after ready", res.Service("web").Phase, res.Service("after").Phase)
			}
			subs := subscribes(m)
			if subs[1].FrameworkID != fwID || fwID == "" {
				t.Errorf("re-SUBSCRIBE with framework %q, want %q", subs[1].FrameworkID, fwID)
			}
			for _, c := range m.Transcript() {
				if c.Endpoint == "scheduler" && c.Type != "ACKNOWLEDGE" {
				}
			}
			reconciled := false
			for _, c := range m.Transcript() {
				reconciled = reconciled || (c.Type == "RECONCILE" && c.StreamID != subs[0].StreamID)
			}
			if !reconciled {
				t.Error("no RECONCILE after re-subscribing")
			}
		})
	}
}

func subscribes(m *mesostest.Master) []mesostest.Call {
	var out []mesostest.Call
	for _, c := range m.Transcript() {
		if c.Type == "SUBSCRIBE" && c.Status == http.StatusOK {
			out = append(out, c)
		}
	}
	return out
}

// TestOfferHygiene: every status update with a uuid is acknowledged, unused offers are
// declined with a filter, and the framework is suppressed once nothing waits.
func TestOfferHygiene(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	m, url := double(t, mesostest.Options{Agents: 2})
	b := backend(t, url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniqueEnv("hygiene")
	t.Cleanup(func() { down(t, b, name) })
	res := up(t, ctx, b, target(t, fmt.Sprintf(oneService, name), time.Hour, "img="+img))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	// The last update is acknowledged just after WaitReady saw it: give it a moment.
	waitFor(t, 5*time.Second, "4 acknowledgements", func() bool {
		n := 0
		for _, c := range m.Transcript() {
			if c.Type == "ACKNOWLEDGE" {
				n++
			}
		}
		return n >= 4
	})
	count := map[string]int{}
	for _, c := range m.Transcript() {
		if c.Endpoint == "scheduler" {
			count[c.Type]++
			if c.Status >= 300 {
				t.Errorf("%s answered %d", c.Type, c.Status)
			}
		}
	}
	t.Logf("calls: %v; offer rounds %d", count, m.OfferRounds())
	// Two agents, two layers: the first round offers both agents; web goes to one, the other
	// agent's offer is held for after (it is expected: offers.go), which then needs no round
	// of its own. Nothing is held once both are launched.
	if count["ACCEPT"] != 2 || count["SUPPRESS"] < 1 {
		t.Errorf("calls %v: want 2 ACCEPTs, and at least one SUPPRESS", count)
	}
	if n := outstandingOffers(t, b, name); n != 0 {
		t.Errorf("%d offers still held after the up", n)
	}
	// STARTING and RUNNING per task at least (envctl probes them itself: no health updates).
	if count["ACKNOWLEDGE"] < 4 {
		t.Errorf("%d ACKNOWLEDGEs, want at least 4 (STARTING, RUNNING for 2 tasks)", count["ACKNOWLEDGE"])
	}
	if r := m.OfferRounds(); r != 1 {
		t.Errorf("%d offer rounds for a depth-2 environment on 2 agents, want 1", r)
	}
}

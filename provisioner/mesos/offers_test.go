package mesos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

// outstandingOffers is how many offers the master has out to env's framework: the ones the
// session holds.
func outstandingOffers(t testing.TB, b *Backend, env string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fws, err := b.frameworks(ctx, env)
	if err != nil {
		t.Fatalf("GET_FRAMEWORKS: %v", err)
	}
	n := 0
	for _, fw := range fws {
		n += len(fw.GetOffers())
	}
	return n
}

// staggeredSparse is a sparse layered environment (each service on two of the layer before)
// whose services get ready one second apart within a layer (column i waits i seconds before
// it listens), so that each layer becomes launchable in two pieces a second apart: the shape
// that cost a REVIVE round per piece before offers were held.
func staggeredSparse(name string, layers, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "environment { name = %q }\nvariable \"img\" { type = string }\n", name)
	for l := 0; l < layers; l++ {
		for i := 0; i < width; i++ {
			fmt.Fprintf(&b, "service \"s%d-%d\" {\n  image = var.img\n  command = [\"--delay\", \"%ds\", \"--http\", \"80\"]\n  ports = { http = 80 }\n", l, i, i)
			if l > 0 {
				fmt.Fprintf(&b, "  depends_on = [service.s%d-%d, service.s%d-%d]\n", l-1, i, l-1, (i+1)%width)
			}
			b.WriteString("  ready {\n    tcp     = \"http\"\n    timeout = \"5m\"\n  }\n")
			b.WriteString("  resources {\n    cpus = 0.1\n    memory = \"32MiB\"\n  }\n}\n")
		}
	}
	return b.String()
}

// TestSparseRounds is issue 12's point 3 as a test: a sparse environment of depth D takes at
// most D+1 offer rounds on the double (2 agents, 1 s allocation interval), although each of
// its layers becomes launchable in two pieces; and nothing is held once everything runs.
func TestSparseRounds(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	m, url := double(t, mesostest.Options{Agents: 2})
	b := backend(t, url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := uniqueEnv("sparse")
	t.Cleanup(func() { down(t, b, name) })
	const depth = 3
	res := up(t, ctx, b, target(t, staggeredSparse(name, depth, 3), time.Hour, "img="+img))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	rounds := m.OfferRounds()
	accepts := 0
	for _, c := range m.Transcript() {
		if c.Type == "ACCEPT" {
			accepts++
		}
	}
	t.Logf("%d offer rounds, %d ACCEPTs, up %s", rounds, accepts, res.Duration)
	if rounds > depth+1 {
		t.Errorf("%d offer rounds for a sparse environment of depth %d, want at most %d", rounds, depth, depth+1)
	}
	if n := outstandingOffers(t, b, name); n != 0 {
		t.Errorf("%d offers still held once every service was launched", n)
	}
}

// twoLayers is web, then after (on web): one Start the plan expects after the first.
const twoLayers = oneService

// planTwo tells b that web and then after will be started, as Apply does.
func planTwo(b *Backend, env string) (done func()) {
	return b.PlanStarts(provisioner.StartPlan{Env: env, Deps: map[string][]string{"web": nil, "after": {"web"}}, Parallel: 16})
}

// heldBy is how many offers env's session holds.
func heldBy(b *Backend, env string) int {
	b.mu.Lock()
	s := b.sessions[env]
	b.mu.Unlock()
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// startWeb starts web's task under a plan that still expects after, and (wantHeld) waits
// until the session holds offers for after (the other agent's offer of the first round).
func startWeb(t *testing.T, b *Backend, env, img string, wantHeld bool) (*provisioner.Target, provisioner.Instance) {
	t.Helper()
	tg := target(t, fmt.Sprintf(twoLayers, env), time.Hour, "img="+img)
	spec, err := tg.Spec(tg.Env.Service("web"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	inst, err := b.Start(ctx, spec)
	if err != nil {
		t.Fatalf("start web: %v", err)
	}
	if wantHeld {
		waitFor(t, 10*time.Second, "offers held for after", func() bool { return outstandingOffers(t, b, env) > 0 })
	}
	return tg, inst
}

func countCalls(m *mesostest.Master, typ string) int {
	n := 0
	for _, c := range m.Transcript() {
		if c.Type == typ {
			n++
		}
	}
	return n
}

// TestHeldOffersReleased: offers held for launches to come go back to the master when the
// Apply that expected them fails, on down, and once held for OfferHold.
func TestHeldOffersReleased(t *testing.T) {
	img := testimage.NeedTestsvc(t)

	t.Run("failed", func(t *testing.T) {
		m, url := double(t, mesostest.Options{Agents: 2})
		b := backend(t, url, Options{})
		name := uniqueEnv("release")
		t.Cleanup(func() { down(t, b, name) })
		// broken exits before it listens; after waits for it: when broken fails, the session
		// holds the other agent's offer for after, which will never come.
		hcl := fmt.Sprintf(`
environment { name = %q }
variable "img" { type = string }
service "broken" {
  image   = var.img
  command = ["--delay", "2s", "--exit", "3"]
  ports   = { http = 80 }
  ready { tcp = "http" }
}
service "after" {
  image      = var.img
  command    = ["--http", "80"]
  depends_on = [service.broken]
}
`, name)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res := up(t, ctx, b, target(t, hcl, time.Hour, "img="+img))
		if res.Err == nil {
			t.Fatal("up succeeded with a service that exits 3")
		}
		if n := outstandingOffers(t, b, name); n != 0 {
			t.Errorf("%d offers still held after the up failed", n)
		}
		if countCalls(m, "DECLINE") == 0 {
			t.Error("no DECLINE: the offers held for after were never given back")
		}
	})

	t.Run("down", func(t *testing.T) {
		m, url := double(t, mesostest.Options{Agents: 2})
		b := backend(t, url, Options{})
		name := uniqueEnv("release")
		done := planTwo(b, name)
		defer done()
		startWeb(t, b, name, img, true)
		down(t, b, name)
		var declined, tornDown bool
		for _, c := range m.Transcript() {
			switch c.Type {
			case "DECLINE":
				declined = true
			case "TEARDOWN":
				if !declined {
					t.Error("TEARDOWN before the held offers were declined")
				}
				tornDown = true
			}
		}
		if !declined || !tornDown {
			t.Errorf("DECLINE %v, TEARDOWN %v: want both", declined, tornDown)
		}
	})

	t.Run("bound", func(t *testing.T) {
		m, url := double(t, mesostest.Options{Agents: 2})
		b := backend(t, url, Options{OfferHold: time.Second})
		name := uniqueEnv("release")
		t.Cleanup(func() { down(t, b, name) })
		done := planTwo(b, name)
		defer done()
		// The first round offers both agents and web takes one: the other's offer is held for
		// after, which is still expected, but not for longer than OfferHold.
		startWeb(t, b, name, img, false)
		waitFor(t, 10*time.Second, "held offers declined after OfferHold", func() bool {
			return outstandingOffers(t, b, name) == 0 && heldBy(b, name) == 0
		})
		if countCalls(m, "DECLINE") == 0 {
			t.Error("no DECLINE: the held offer went some other way")
		}
	})
}

// TestRescindHeldOffers: a held offer the master withdraws is forgotten, and a launch that
// meets one anyway (its RESCIND crossed the ACCEPT) is launched again on another offer.
func TestRescindHeldOffers(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	for _, notify := range []bool{true, false} {
		t.Run(fmt.Sprintf("notify=%v", notify), func(t *testing.T) {
			m, url := double(t, mesostest.Options{Agents: 2})
			var mu sync.Mutex
			var relaunched bool
			b := backend(t, url, Options{Logf: func(format string, args ...any) {
				line := fmt.Sprintf(format, args...)
				t.Log(line)
				mu.Lock()
				defer mu.Unlock()
				relaunched = relaunched || strings.Contains(line, "launching it again")
			}})
			name := uniqueEnv("rescind")
			t.Cleanup(func() { down(t, b, name) })
			done := planTwo(b, name)
			defer done()
			tg, web := startWeb(t, b, name, img, true)
			if n := m.RescindOffers("", notify); n == 0 {
				t.Fatal("no offers to rescind")
			}
			if notify {
				waitFor(t, 10*time.Second, "the session to forget the rescinded offers", func() bool { return heldBy(b, name) == 0 })
			}
			// after's launch must not be lost on the withdrawn offers.
			spec, err := tg.Spec(tg.Env.Service("after"), map[string]envs.Endpoint{"web": {Host: web.Host, Ports: web.Ports}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if _, err := b.Start(ctx, spec); err != nil {
				t.Fatalf("start after: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			// With the RESCIND seen, the launch never meets the withdrawn offer; without, it
			// does, and is launched again.
			if relaunched == notify {
				t.Errorf("launched again: %v, want %v", relaunched, !notify)
			}
		})
	}
}

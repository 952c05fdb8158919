package mesos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
)

var shopServices = []string{"store", "migrate", "api", "worker", "web"}

// shopTarget loads examples/shop unchanged and points its services at images built from the
// same packages: on Mesos there is no build step, so the images must exist already (here: on
// the local engine the double's agents use).
func shopTarget(t *testing.T, ctx context.Context, name string) *provisioner.Target {
	t.Helper()
	images := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(shopServices))
	for i, svc := range shopServices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref, err := testimage.Build(ctx, "shop-"+svc, "github.com/envctl/envctl/examples/shop/"+svc)
			mu.Lock()
			images[svc], errs[i] = ref, err
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("build the shop's images: %v", err)
	}
	tg := loadTarget(t, filepath.Join("..", "..", "examples", "shop"), name, time.Hour)
	for svc, ref := range images {
		tg.Images[svc] = ref
	}
	return tg
}

// TestShopOnMesos is acceptance point 1: the shop comes up on the double and on real Mesos,
// one GET to web travels the whole chain, and down leaves no task, framework or container.
func TestShopOnMesos(t *testing.T) {
	testimage.NeedTestsvc(t)
	onClusters(t, testShop)
}

func testShop(t *testing.T, c *cluster) {
	url := c.url
	b := backend(t, url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	name := uniqueEnv("shop")
	tg := shopTarget(t, ctx, name)
	t.Cleanup(func() { down(t, b, name) })

	res := up(t, ctx, b, tg)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	for _, s := range res.Services {
		t.Logf("%-8s %-6s ready after %v on %s %v", s.Service, s.Phase, s.TimeToReady.Round(time.Millisecond), s.Instance.Host, s.Instance.Ports)
	}
	t.Logf("up took %v in %d offer rounds", res.Duration.Round(time.Millisecond), c.offerRounds())
	web := res.Service("web").Instance.Published["http"]
	if web == "" {
		t.Fatalf("web has no published http port: %+v", res.Service("web").Instance)
	}
	want := regexp.MustCompile(`^web -> api -> store \(schema 1, migrated by migrate, 3 products\) ; order [0-9a-f]{12} processed by worker ; worker ok \(processed 1\)\n$`)
	status, body, err := get("http://" + web + "/")
	if err != nil || status != http.StatusOK || !want.MatchString(body) {
		t.Fatalf("GET web / = %d %q, %v; want 200 matching %s", status, body, err, want)
	}
	t.Logf("web answered: %s", strings.TrimSpace(body))

	// A second process (a fresh backend) sees the environment through the operator API alone.
	b2 := backend(t, url, Options{})
	insts, err := b2.Observe(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]provisioner.State{}
	for _, in := range insts {
		got[in.Service] = in.State
	}
	wantStates := map[string]provisioner.State{"store": provisioner.StateRunning, "migrate": provisioner.StateExited,
		"api": provisioner.StateRunning, "worker": provisioner.StateRunning, "web": provisioner.StateRunning}
	if fmt.Sprint(got) != fmt.Sprint(wantStates) {
		t.Errorf("Observe from a second backend: states %v, want %v", got, wantStates)
	}
	for _, in := range insts {
		if in.Service == "migrate" && in.ExitCode != 0 {
			t.Errorf("migrate: exit code %d, want 0", in.ExitCode)
		}
		if in.Service == "web" && in.Published["http"] != web {
			t.Errorf("web observed at %q, want %q (the address up reported)", in.Published["http"], web)
		}
	}
	var logs strings.Builder
	for _, in := range insts {
		if in.Service == "migrate" {
			if err := b2.Logs(ctx, in, provisioner.LogOptions{}, &logs); err != nil {
				t.Fatalf("Logs(migrate): %v", err)
			}
		}
	}
	if !strings.Contains(logs.String(), "migrated to schema 1, 3 products seeded") {
		t.Errorf("migrate's logs = %q, want its report", logs.String())
	}

	// A second up changes nothing: every service is kept, and no task is launched.
	before := launches(c)
	res2 := up(t, ctx, b2, shopTarget(t, ctx, name))
	if res2.Err != nil {
		t.Fatalf("second up: %v", res2.Err)
	}
	for _, s := range res2.Services {
		if s.Phase != provisioner.PhaseKept {
			t.Errorf("second up: %s is %s, want kept", s.Service, s.Phase)
		}
	}
	if n := launches(c) - before; c.m != nil && n != 0 {
		t.Errorf("second up launched %d tasks, want 0", n)
	}

	down(t, b2, name)
	assertGone(t, ctx, c, b2, name)
}

// launches counts the tasks the double was asked to launch (0 on real Mesos, which keeps no
// transcript; the kept phases say the same there).
func launches(cl *cluster) int {
	if cl.m == nil {
		return 0
	}
	n := 0
	for _, c := range cl.m.Transcript() {
		if c.Type == "ACCEPT" {
			n += c.Tasks
		}
	}
	return n
}

// assertGone checks that env left no task, no framework and no container.
func assertGone(t *testing.T, ctx context.Context, c *cluster, b *Backend, name string) {
	t.Helper()
	if insts, err := b.Observe(ctx, name); err != nil || len(insts) != 0 {
		t.Errorf("after down: Observe = %d instances, %v; want none", len(insts), err)
	}
	fws, err := b.frameworks(ctx, name)
	if err != nil || len(fws) != 0 {
		t.Errorf("after down: %d frameworks, %v; want none", len(fws), err)
	}
	snap, err := b.snapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range snap.live {
		if labelMap(tk.Labels)[provisioner.LabelEnv] == name {
			t.Errorf("after down: task %s is still %s", tk.TaskID.Value, tk.GetState())
		}
	}
	c.waitNoContainers(t, name)
}

func get(url string) (int, string, error) {
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

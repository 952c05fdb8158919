package realservers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/mesos"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
	"github.com/envctl/envctl/provisioner/protocol"
)

// TestRedisProbeOnMesos: a service with a redis protocol probe gets ready on Mesos (the
// double, whose agents run real containers), and is then usable: PING through its endpoint
// answers PONG.
func TestRedisProbeOnMesos(t *testing.T) {
	t.Parallel()
	img := realImage(t, "redis")
	m := mesostest.New(mesostest.Options{Agents: 1, Ports: mesostest.DoubleTestPorts})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url, err := m.Start(ctx)
	if err != nil {
		m.Close()
		t.Fatalf("start the Mesos double: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close the Mesos double: %v", err)
		}
	})
	b, err := mesos.New(ctx, mesos.Options{Master: url, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	dir := t.TempDir()
	src := `environment { name = "probes-mesos" }
variable "pw" {
  sensitive = true
  default   = "s3cret"
}
service "cache" {
  image   = "` + img + `"
  command = ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--save", "", "--requirepass", var.pw]
  ports   = { cache = 6379 }
  ready {
    redis { password = var.pw }
    timeout = "2m"
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, diags := envs.Load(envs.Options{Dir: dir})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	tg := provisioner.NewTarget(env, time.Hour, time.Now())
	desired, err := tg.Desired()
	if err != nil {
		t.Fatal(err)
	}
	observed, err := b.Observe(ctx, env.Name)
	if err != nil {
		t.Fatal(err)
	}
	res := provisioner.Apply(ctx, b, tg, provisioner.MakePlan(env.Name, desired, observed), provisioner.Options{Parallel: 4, Rollback: true, Grace: time.Second})
	defer func() {
		dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
		defer dcancel()
		if _, err := provisioner.Down(dctx, b, env.Name, provisioner.Options{Parallel: 4}); err != nil {
			t.Errorf("down: %v", err)
		}
	}()
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	sr := res.Service("cache")
	if sr.LastProbe != nil {
		t.Logf("the last probe: %+v", *sr.LastProbe)
	}
	ep := sr.Instance.Published["cache"]
	if ep == "" {
		t.Fatalf("no endpoint for cache: %+v", sr.Instance)
	}
	ok, detail, err := provisioner.Direct.Protocol(ctx, ep, protocol.Params{Kind: protocol.Redis, Password: "s3cret"})
	if err != nil || !ok || detail != "PONG" {
		t.Errorf("PING at %s after up: %v %q %v", ep, ok, detail, err)
	}
	if strings.Contains(sr.Instance.Labels[provisioner.LabelReady], "s3cret") {
		t.Errorf("the ready label holds the password: %s", sr.Instance.Labels[provisioner.LabelReady])
	}
}

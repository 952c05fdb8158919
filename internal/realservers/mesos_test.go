package realservers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
	dockerbackend "github.com/envctl/envctl/provisioner/docker"
	"github.com/envctl/envctl/provisioner/mesos"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
	"github.com/envctl/envctl/provisioner/protocol"
)

// TestRedisProbeOnMesos: a service with a redis protocol probe (and a password) gets ready on
// Mesos (the double, whose agents run real containers) by the probe itself, and is then usable:
// PING through its endpoint answers PONG.
func TestRedisProbeOnMesos(t *testing.T) {
	t.Parallel()
	img := realImage(t, "redis")
	_, url := mesostest.StartTest(t, mesostest.Options{Agents: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := mesos.New(ctx, mesos.Options{Master: url, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sr := upRedis(t, ctx, b, img, unique("probes-mesos"))
	// envctl probes Mesos tasks itself, through the agent's host port (issue 14's readiness):
	// the protocol probe, not a TCP health check, said ready.
	if sr.LastProbe == nil || sr.LastProbe.Detail != "redis: PONG" {
		t.Errorf("the last probe of up: %+v, want redis: PONG", sr.LastProbe)
	}
}

// TestRedisProbeOnDocker: the same through envctl's Docker backend: its executor, its way to
// reach the container (direct here), the probe's password from memory, and status's from the
// container (ProbeOnce with the label's spec).
func TestRedisProbeOnDocker(t *testing.T) {
	t.Parallel()
	img := realImage(t, "redis")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b, err := dockerbackend.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	name := unique("probes-docker")
	sr := upRedis(t, ctx, b, img, name)
	if sr.LastProbe == nil || sr.LastProbe.Detail != "redis: PONG" {
		t.Errorf("the last probe of up: %+v, want redis: PONG", sr.LastProbe)
	}
	insts, err := b.Observe(ctx, name)
	if err != nil || len(insts) != 1 {
		t.Fatalf("Observe: %v %v", insts, err)
	}
	ok, detail := provisioner.ProbeOnce(ctx, b, insts[0], provisioner.ParseReady(insts[0].Labels[provisioner.LabelReady]))
	if !ok || detail != "redis: PONG" {
		t.Errorf("status's probe: %v %q, want redis: PONG (the password read back from the container)", ok, detail)
	}
}

// upRedis brings up a Redis with a password and a redis probe on b, checks it answers PONG
// afterwards and that no label holds the password, and returns its result. It is brought
// down at the end of the test.
func upRedis(t *testing.T, ctx context.Context, b provisioner.Backend, img, name string) *provisioner.ServiceResult {
	src := `environment { name = "` + name + `" }
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
	res := upFile(t, ctx, b, src)
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
	for k, v := range sr.Instance.Labels {
		if strings.Contains(v, "s3cret") {
			t.Errorf("label %s holds the password: %s", k, v)
		}
	}
	return sr
}

// upFile loads src as an environment's only file and applies it on b as `up` does; the
// environment is brought down at the end of the test, whatever up did.
func upFile(t *testing.T, ctx context.Context, b provisioner.Backend, src string) *provisioner.Result {
	t.Helper()
	dir := t.TempDir()
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
	t.Cleanup(func() {
		dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
		defer dcancel()
		if _, err := provisioner.Down(dctx, b, env.Name, provisioner.Options{Parallel: 4}); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	return provisioner.Apply(ctx, b, tg, provisioner.MakePlan(env.Name, desired, observed), provisioner.Options{Parallel: 4, Rollback: true, Grace: time.Second})
}

// unique makes an environment name of its own for each run: two runs of the suite on one
// engine must not meet.
func unique(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

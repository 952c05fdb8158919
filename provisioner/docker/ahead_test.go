package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

// applyFile loads hcl as environment env and applies it on b, as envctl up does.
func applyFile(t *testing.T, ctx context.Context, b *Backend, env, hcl string, opt provisioner.Options) *provisioner.Result {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	e, _, diags := envs.Load(envs.Options{Dir: dir, Name: env, Vars: []string{"img=" + testsvcImage(t)}})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	tg := provisioner.NewTarget(e, time.Hour, time.Now())
	observed, err := b.Observe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	desired, err := tg.Desired()
	if err != nil {
		t.Fatal(err)
	}
	return provisioner.Apply(ctx, b, tg, provisioner.MakePlan(env, desired, observed), opt)
}

// A dependent is created while its dependency gets ready, but its process begins only after
// the dependency is ready: the engine's StartedAt of each dependent is after its dependency's
// ReadyAt, while (for app, whose dependency takes 4 s) its container was created before. The dependent also proves it by its own
// behaviour: at start it calls its dependency once, within 300 ms, and exits 1 if that fails,
// so a process begun early would fail the up. Its address arguments (host and port) are
// resolved from the dependency's static endpoint.
func TestCreateAheadStartsAfterDependencies(t *testing.T) {
	b := testBackend(t)
	b.SetGate(false) // the path without the gate; gate_test.go has the gate's own
	env := newEnv(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const hcl = `
variable "img" {}
service "db" {
  image   = var.img
  command = ["--http", "80", "--delay", "4s"]
  ports   = { http = 80 }
}
service "app" {
  image   = var.img
  command = ["--http", "80", "--call", "http://${service.db.host}:${service.db.ports.http}/", "--call-timeout", "300ms"]
  ports   = { http = 80 }
}
service "web" {
  image      = var.img
  command    = ["--http", "80", "--call", "http://${service.app.host}:${service.app.ports.http}/", "--call-timeout", "300ms"]
  ports      = { http = 80 }
  depends_on = [service.app]
}
`
	res := applyFile(t, ctx, b, env, hcl, provisioner.Options{Parallel: 16, Rollback: true, Grace: time.Second})
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	api := housekeeping(t)
	for _, pair := range [][2]string{{"app", "db"}, {"web", "app"}} {
		dep, depOf := res.Service(pair[0]), res.Service(pair[1])
		if !strings.HasPrefix(dep.StartPath, "created ahead; not started held: the gate is turned off") {
			t.Errorf("%s: start path %q, want created ahead with the gate off", pair[0], dep.StartPath)
		}
		c, err := api.ContainerInspect(ctx, dep.Instance.ID)
		if err != nil {
			t.Fatal(err)
		}
		created, err1 := time.Parse(time.RFC3339Nano, c.Created)
		started, err2 := time.Parse(time.RFC3339Nano, c.State.StartedAt)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: times %q, %q: %v %v", pair[0], c.Created, c.State.StartedAt, err1, err2)
		}
		if !started.After(depOf.ReadyAt) {
			t.Errorf("%s's process began at %s, before %s was ready at %s", pair[0],
				started.Format("15:04:05.000"), pair[1], depOf.ReadyAt.Format("15:04:05.000"))
		}
		// app's container is created while db gets ready (4 s); web's is created once app
		// runs, and app gets ready at once, so only app's creation is sure to come first.
		if pair[0] == "app" && !created.Before(depOf.ReadyAt) {
			t.Errorf("%s's container was created at %s, not ahead of %s's readiness at %s", pair[0],
				created.Format("15:04:05.000"), pair[1], depOf.ReadyAt.Format("15:04:05.000"))
		}
		t.Logf("%s: created %s, %s ready %s, started %s", pair[0], created.Format("15:04:05.000"), pair[1],
			depOf.ReadyAt.Format("15:04:05.000"), started.Format("15:04:05.000"))
	}
}

// A container created ahead whose dependency fails never starts, and goes: with the rollback,
// and without it too (it never ran; a kept failure leaves what ran, as before).
func TestCreateAheadRemovedWhenDependencyFails(t *testing.T) {
	b := testBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const hcl = `
variable "img" {}
service "db" {
  image   = var.img
  command = ["--delay", "500ms", "--exit", "3"]
  ports   = { http = 80 }
}
service "app" {
  image      = var.img
  command    = ["--http", "80"]
  depends_on = [service.db]
}
`
	for _, rollback := range []bool{true, false} {
		t.Run(fmt.Sprintf("rollback=%v", rollback), func(t *testing.T) {
			env := newEnv(t, b)
			res := applyFile(t, ctx, b, env, hcl, provisioner.Options{Parallel: 16, Rollback: rollback, Grace: time.Second})
			if res.Err == nil {
				t.Fatal("up succeeded; db exits 3")
			}
			insts, err := b.Observe(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, inst := range insts {
				left = append(left, inst.Service)
			}
			want := ""
			if !rollback {
				want = "db" // what ran is kept for debugging, as before
			}
			if got := strings.Join(left, ","); got != want {
				t.Errorf("left %q, want %q", got, want)
			}
			if res.Service("app").Phase != provisioner.PhaseSkipped {
				t.Errorf("app: phase %q, want skipped", res.Service("app").Phase)
			}
		})
	}
}

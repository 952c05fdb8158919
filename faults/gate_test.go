package faults

import (
	"strings"
	"testing"
	"time"
)

// heldFile has a slow db and two dependents whose containers the gate starts ahead and holds
// while db gets ready (20 s: long enough to kill envctl in the middle).
const heldFile = `
variable "img" {}
service "db" {
  image   = var.img
  command = ["--http", "80", "--delay", "20s"]
  ports   = { http = 80 }
}
service "app" {
  image   = var.img
  command = ["--http", "80", "--call", "http://${service.db.host}:${service.db.ports.http}/", "--call-timeout", "300ms"]
  ports   = { http = 80 }
}
service "web" {
  image      = var.img
  command    = ["--http", "80"]
  ports      = { http = 80 }
  depends_on = [service.app]
}
`

// heldContainers lists env's containers that run held by the gate (label io.envctl.gate).
func heldContainers(t testing.TB, env string) []string {
	t.Helper()
	return lines(docker(t, "ps", "--filter", "label="+labelEnv+"="+env, "--filter", "label=io.envctl.gate", "--format", "{{.Names}}"))
}

// waitHeld waits until env has at least n held containers running.
func waitHeld(t testing.TB, env string, n int, p *started) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for len(heldContainers(t, env)) < n {
		select {
		case <-p.waited:
			t.Fatalf("envctl ended before %d containers were held\n%s", n, p.errb)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d held containers after 2 minutes; have %q\n%s", n, heldContainers(t, env), p.errb)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A held container (started ahead, its process not released) that a SIGKILLed envctl leaves
// behind is removed by `down`, and nothing comes back a second later.
func TestGateHeldSIGKILLDown(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", heldFile)
	env := newEnvName(t, "gk")
	cleanupEnv(t, env)
	p := start(t, dir, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
	waitHeld(t, env, 1, p)
	_ = p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	if held := heldContainers(t, env); len(held) == 0 {
		t.Fatal("no held container left after the SIGKILL; the test proves nothing")
	}
	d := envctl(t, dir, nil, "down", env)
	wantExit(t, d, 0)
	wantNothingLeft(t, env)
	time.Sleep(time.Second)
	wantNothingLeft(t, env)
}

// An up after a SIGKILLed one keeps the held containers it left and releases each once its
// dependencies are ready: it completes, and app's own check of db at its start (it exits 1
// if db does not answer) proves its process began only then.
func TestGateHeldSIGKILLUpAgain(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", heldFile)
	env := newEnvName(t, "gu")
	cleanupEnv(t, env)
	p := start(t, dir, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
	waitHeld(t, env, 1, p)
	_ = p.cmd.Process.Kill()
	p.wait(t, 10*time.Second)
	held := heldContainers(t, env)
	r := envctl(t, dir, nil, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
	wantExit(t, r, 0)
	for _, name := range held {
		svc := strings.TrimPrefix(name, env+"-")
		if !strings.Contains(r.stderr, svc) {
			t.Errorf("second up does not mention %s\n%s", svc, r.stderr)
		}
	}
	d := envctl(t, dir, nil, "down", env)
	wantExit(t, d, 0)
	wantNothingLeft(t, env)
}

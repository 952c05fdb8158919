package faults

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// oneService is the smallest environment: a job-free service, ready when it runs.
const oneService = `variable "img" {}
service "s" {
  image   = var.img
  command = ["--http", "80"]
}
`

// at is the ENVCTL_NOW setting for t (cli/clock.go: the injectable clock).
func at(t time.Time) []string { return []string{"ENVCTL_NOW=" + t.UTC().Format(time.RFC3339)} }

// lsDoc is the part of `ls -o json` the expiry test reads.
type lsDoc struct {
	Environments []struct {
		Name    string `json:"name"`
		Expires string `json:"expires"`
		Expired bool   `json:"expired"`
	} `json:"environments"`
}

// TestExpiry creates environments that are already expired by bringing them up with the clock
// set two hours back (ENVCTL_NOW) and a one-hour TTL, so nothing sleeps for a TTL. gc, the
// sweep at the start of every up, and down --expired remove them; live environments (a 24h
// TTL, or none) are never touched, also by a gc that only looks (--dry-run) a century ahead.
// Expired environments are made with a past clock, not found with a future one, because a real
// gc with a future clock would remove other tests' live environments on this engine.
func TestExpiry(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", oneService)
	up := func(env string, clock []string, ttl string) result {
		t.Helper()
		cleanupEnv(t, env)
		r := envctl(t, dir, clock, append([]string{"up", "--name", env, "-f", file, "--ttl", ttl}, imgVar(img)...)...)
		wantExit(t, r, 0)
		return r
	}
	past := at(time.Now().Add(-2 * time.Hour))
	old, live, never := newEnvName(t, "xold"), newEnvName(t, "xlive"), newEnvName(t, "xnever")
	up(live, nil, "24h")
	up(never, nil, "0")
	up(old, past, "1h") // last: any later up would sweep it

	// ls tells which is expired.
	r := envctl(t, dir, nil, "ls", "-o", "json")
	wantExit(t, r, 0)
	var ls lsDoc
	if err := json.Unmarshal([]byte(r.stdout), &ls); err != nil {
		t.Fatalf("ls -o json: %v\n%s", err, r)
	}
	want := map[string]bool{old: true, live: false, never: false}
	for _, e := range ls.Environments {
		if exp, ok := want[e.Name]; ok {
			if e.Expired != exp {
				t.Errorf("ls: %s: got expired %v, want %v", e.Name, e.Expired, exp)
			}
			if (e.Expires == "") != (e.Name == never) {
				t.Errorf("ls: %s: got expires %q, want one only for a TTL", e.Name, e.Expires)
			}
			delete(want, e.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("ls: missing %v\n%s", want, r)
	}

	// A gc that only looks, a century ahead, sees every environment with a TTL, never the one
	// without; it removes nothing.
	r = envctl(t, dir, at(time.Now().AddDate(100, 0, 0)), "gc", "--dry-run", "-o", "json")
	wantExit(t, r, 0)
	var dry struct {
		Expired []string `json:"expired"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &dry); err != nil {
		t.Fatalf("gc --dry-run -o json: %v\n%s", err, r)
	}
	for env, wantIt := range map[string]bool{old: true, live: true, never: false} {
		if got := slices.Contains(dry.Expired, env); got != wantIt {
			t.Errorf("gc --dry-run a century ahead: %s listed %v, want %v\n%s", env, got, wantIt, r)
		}
	}
	for _, env := range []string{old, live, never} {
		if c, _ := leftovers(t, env); len(c) != 1 {
			t.Errorf("after gc --dry-run: %s has %d containers, want 1 (a dry run removes nothing)", env, len(c))
		}
	}

	// gc removes the expired environment and only it.
	r = envctl(t, dir, nil, "gc")
	wantExit(t, r, 0)
	wantIn(t, "gc's stderr", r.stderr, `Removed environment "`+old+`"`)
	wantNothingLeft(t, old)
	wantAlive(t, live, never)

	// The sweep at the start of an up removes an expired environment before the up's own work.
	old2, fresh := newEnvName(t, "xold"), newEnvName(t, "xfresh")
	up(old2, past, "1h")
	r = up(fresh, nil, "24h")
	wantIn(t, "up's stderr", r.stderr, `Removed expired environment "`+old2+`"`)
	wantNothingLeft(t, old2)
	wantAlive(t, live, never, fresh)

	// down --expired does the same on request.
	old3 := newEnvName(t, "xold")
	up(old3, past, "1h")
	r = envctl(t, dir, nil, "down", "--expired")
	wantExit(t, r, 0)
	wantIn(t, "down --expired's stderr", r.stderr, `Removed environment "`+old3+`"`)
	wantNothingLeft(t, old3)
	wantAlive(t, live, never, fresh)

	// A malformed clock is a usage error, not silently the wall clock.
	r = envctl(t, dir, []string{"ENVCTL_NOW=yesterday"}, "gc")
	wantExit(t, r, 2)
	wantIn(t, "gc's stderr", r.stderr, "ENVCTL_NOW")
	wantAlive(t, live, never, fresh)

	for _, env := range []string{live, never, fresh} {
		wantExit(t, envctl(t, dir, nil, "down", env), 0)
		wantNothingLeft(t, env)
	}
}

// wantAlive fails the test unless each environment still has its running container.
func wantAlive(t testing.TB, envs ...string) {
	t.Helper()
	for _, env := range envs {
		c := lines(docker(t, "ps", "--filter", "label="+labelEnv+"="+env, "--format", "{{.Names}}"))
		if len(c) != 1 {
			t.Errorf("environment %s: got running containers %q, want its one service (a live environment is never removed)", env, c)
		}
	}
}

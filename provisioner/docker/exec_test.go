package docker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/realimage"
	"github.com/envctl/envctl/provisioner"
)

// processes lists the command lines running in inst's container, from the engine's own `top`
// (the image needs no ps).
func processes(t *testing.T, inst provisioner.Instance) []string {
	t.Helper()
	top, err := housekeeping(t).ContainerTop(context.Background(), inst.ID, nil)
	if err != nil {
		t.Fatalf("top: %v", err)
	}
	cmd := len(top.Titles) - 1
	for i, title := range top.Titles {
		if title == "CMD" || title == "COMMAND" {
			cmd = i
		}
	}
	var out []string
	for _, p := range top.Processes {
		out = append(out, p[cmd])
	}
	return out
}

func countMatching(procs []string, sub string) int {
	n := 0
	for _, p := range procs {
		if strings.Contains(p, sub) {
			n++
		}
	}
	return n
}

// TestExecCutOffIsKilled: an exec attempt that its context cuts off does not go on running
// in the container: the command and what it started are killed (an image with sh), so
// repeated attempts of a hanging check do not pile up.
func TestExecCutOffIsKilled(t *testing.T) {
	b := testBackend(t)
	img := realimage.Need(t, "memcached")["memcached"]
	env := newEnv(t, b)
	ctx := context.Background()
	inst, err := b.Start(ctx, testSpec(env, "mc", img, nil))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, b, inst, provisioner.StateRunning, time.Minute)

	// A check that forks a child which hangs: sh waits for sleep.
	argv := []string{"sh", "-c", "sleep 4242; echo never"}
	for i := 0; i < 3; i++ {
		actx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, _, err := b.Exec(actx, inst, argv)
		cancel()
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("attempt %d: error %v, want the attempt's deadline", i+1, err)
		}
	}
	if n := countMatching(processes(t, inst), "sleep 4242"); n != 0 {
		t.Errorf("%d cut-off check processes still run in the container, want 0: %q", n, processes(t, inst))
	}
	// A check that finishes in time is untouched by the marker.
	code, out, err := b.Exec(ctx, inst, []string{"sh", "-c", "echo fine"})
	if err != nil || code != 0 || strings.TrimSpace(string(out)) != "fine" {
		t.Errorf("a quick check: exit %d, output %q, error %v", code, out, err)
	}
}

// TestExecCutOffWithoutShell: in an image without sh the cut-off command cannot be killed; it
// is left alone, and no second one of the same command starts while it runs.
func TestExecCutOffWithoutShell(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()
	inst, err := b.Start(ctx, testSpec(env, "bare", img, []provisioner.Port{{Name: "http", Port: 8080}}, "--http", "8080"))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, b, inst, provisioner.StateRunning, time.Minute)

	// testsvc waiting 10 minutes before it listens: a check that hangs.
	argv := []string{"/testsvc", "--delay", "10m", "--http", "127.0.0.1:9999"}
	actx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = b.Exec(actx, inst, argv)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("first attempt: error %v, want the attempt's deadline", err)
	}
	for i := 0; i < 3; i++ {
		_, _, err = b.Exec(ctx, inst, argv)
		if !errors.Is(err, ErrExecStillRunning) {
			t.Fatalf("attempt %d: error %v, want ErrExecStillRunning", i+2, err)
		}
	}
	if n := countMatching(processes(t, inst), "--delay 10m"); n != 1 {
		t.Errorf("%d hung checks run, want exactly 1: %q", n, processes(t, inst))
	}
	// Another command is not held back by it.
	if code, _, err := b.Exec(ctx, inst, []string{"/testsvc", "exit", "3"}); err != nil || code != 3 {
		t.Errorf("another command: exit %d, error %v; want exit 3", code, err)
	}
}

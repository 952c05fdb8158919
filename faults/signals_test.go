package faults

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// layeredFile is a 10-service environment in 3 layers (3, 4, 3): every service of a layer
// depends on every service of the one before, and each is ready about 300 ms after it starts
// (it listens only after --delay), so an up spends its time in all phases: creating, probing,
// waiting for a layer, with services of one layer starting in parallel.
func layeredFile() string {
	layers := [][]string{{"a1", "a2", "a3"}, {"b1", "b2", "b3", "b4"}, {"c1", "c2", "c3"}}
	var b strings.Builder
	b.WriteString("variable \"img\" {}\n")
	for i, layer := range layers {
		for _, n := range layer {
			fmt.Fprintf(&b, "service %q {\n  image   = var.img\n  command = [\"--http\", \"80\", \"--delay\", \"300ms\"]\n  ports   = { http = 80 }\n", n)
			if i > 0 {
				var deps []string
				for _, d := range layers[i-1] {
					deps = append(deps, "service."+d)
				}
				fmt.Fprintf(&b, "  depends_on = [%s]\n", strings.Join(deps, ", "))
			}
			b.WriteString("}\n")
		}
	}
	return b.String()
}

// signalSeed is the base of the seeded moments; a failing seed is reproduced by its number.
const signalSeed = 5

// signalRuns is how many seeded moments each signal is sent at (issue 5: 20).
const signalRuns = 20

// started is an envctl process running in the background.
type started struct {
	cmd         *exec.Cmd
	out, errb   *bytes.Buffer
	began       time.Time
	waited      chan struct{}
	err         error
	endDuration time.Duration
}

func start(t testing.TB, dir string, args ...string) *started {
	t.Helper()
	cmd := exec.Command(envctlBin, args...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	s := &started{cmd: cmd, out: &bytes.Buffer{}, errb: &bytes.Buffer{}, waited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.out, s.errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.began = time.Now()
	go func() {
		s.err = cmd.Wait()
		s.endDuration = time.Since(s.began)
		close(s.waited)
	}()
	// Whatever happens to the test, the process does not outlive it.
	t.Cleanup(func() {
		select {
		case <-s.waited:
		default:
			_ = cmd.Process.Kill()
			<-s.waited
		}
	})
	return s
}

// wait waits at most d for the process to end and returns how it ended.
func (s *started) wait(t testing.TB, d time.Duration) result {
	t.Helper()
	select {
	case <-s.waited:
	case <-time.After(d):
		_ = s.cmd.Process.Kill()
		<-s.waited
		t.Fatalf("envctl %s did not end within %s after the signal\nstderr:\n%s", strings.Join(s.cmd.Args[1:], " "), d, s.errb)
	}
	return result{args: s.cmd.Args[1:], code: exitCode(s.err), stdout: s.out.String(), stderr: s.errb.String(), duration: s.endDuration}
}

// calibrate times one whole up and down of the layered environment; the seeded moments are
// spread over the up's duration.
func calibrate(t *testing.T, dir, file, img string) time.Duration {
	t.Helper()
	env := newEnvName(t, "cal")
	cleanupEnv(t, env)
	r := envctl(t, dir, nil, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
	wantExit(t, r, 0)
	d := envctl(t, dir, nil, "down", env)
	wantExit(t, d, 0)
	wantNothingLeft(t, env)
	t.Logf("calibration: up took %s, down %s", r.duration.Round(time.Millisecond), d.duration.Round(time.Millisecond))
	return r.duration
}

// moment is the seeded moment of run i within [0, span).
func moment(i int, span time.Duration) time.Duration {
	r := rand.New(rand.NewPCG(signalSeed, uint64(i)))
	return time.Duration(r.Int64N(int64(span)))
}

// TestSignalUpSIGINT sends SIGINT at seeded random moments of an up of the layered
// environment: every run ends with exit 130 and nothing of the environment is left.
func TestSignalUpSIGINT(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", layeredFile())
	span := calibrate(t, dir, file, img)
	var report []string
	t.Cleanup(func() { t.Logf("SIGINT outcomes (seed %d):\n%s", signalSeed, strings.Join(report, "\n")) })
	for i := range signalRuns {
		at := moment(i, span)
		env := newEnvName(t, "int")
		cleanupEnv(t, env)
		p := start(t, dir, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
		time.Sleep(time.Until(p.began.Add(at)))
		sent := time.Now()
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		r := p.wait(t, time.Minute)
		took := time.Since(sent)
		// The summary ("Environment ... is ready") is on stdout.
		finished := r.code == 0 && strings.Contains(r.stdout+r.stderr, "is ready")
		if finished {
			// The signal came as the up was ending, or after it (a run faster than the
			// calibration on a machine whose load varies): it succeeded first. Not a failure
			// of envctl, but not the case under test either: remove it and say so.
			envctl(t, dir, nil, "down", env)
		}
		c, n := leftovers(t, env)
		outcome := fmt.Sprintf("run %2d: SIGINT at %5dms: exit %d after %5dms, %s, left %d containers %d networks",
			i, at.Milliseconds(), r.code, took.Milliseconds(), upPhase(r.stderr), len(c), len(n))
		report = append(report, outcome)
		switch {
		case r.code == 130:
		case finished:
			report[len(report)-1] += " (up had finished)"
		default:
			t.Errorf("%s\nwant exit 130\n%s", outcome, r)
		}
		if len(c) > 0 || len(n) > 0 {
			t.Errorf("%s: got containers %q and networks %q left after the rollback, want none\n%s", outcome, c, n, r)
		}
	}
}

// upPhase summarises how far up had got from its event lines.
func upPhase(stderr string) string {
	ready := strings.Count(stderr, " ready ")
	created := strings.Count(stderr, " creating ")
	rolled := strings.Contains(stderr, "Rolled back")
	return fmt.Sprintf("%2d creating/%2d ready before, rolled back %-5v", created, ready, rolled)
}

// TestSignalUpSIGKILL kills envctl outright at seeded random moments of an up; a new envctl
// process's `down NAME` then removes everything the killed one had created, from the labels
// alone. Nothing is left, also a second later (a request the engine was still carrying out
// when envctl died must not create anything after the down).
func TestSignalUpSIGKILL(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", layeredFile())
	span := calibrate(t, dir, file, img)
	var report []string
	t.Cleanup(func() { t.Logf("SIGKILL outcomes (seed %d):\n%s", signalSeed, strings.Join(report, "\n")) })
	for i := range signalRuns {
		at := moment(i, span)
		env := newEnvName(t, "kil")
		cleanupEnv(t, env)
		p := start(t, dir, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
		time.Sleep(time.Until(p.began.Add(at)))
		_ = p.cmd.Process.Kill()
		p.wait(t, 10*time.Second)
		before, beforeNets := leftovers(t, env)
		d := envctl(t, dir, nil, "down", env)
		c, n := leftovers(t, env)
		time.Sleep(time.Second)
		lateC, lateN := leftovers(t, env)
		outcome := fmt.Sprintf("run %2d: SIGKILL at %5dms: %2d containers %d networks existed; down exit %d in %4dms; left %d/%d, a second later %d/%d",
			i, at.Milliseconds(), len(before), len(beforeNets), d.code, d.duration.Milliseconds(), len(c), len(n), len(lateC), len(lateN))
		report = append(report, outcome)
		switch {
		case d.code == 0:
		case d.code == 1 && len(before) == 0 && len(beforeNets) == 0 && strings.Contains(d.stderr, "no environment"):
			// Killed before it created anything: down rightly finds nothing to remove.
		default:
			t.Errorf("%s\nwant down to exit 0\n%s", outcome, d)
		}
		if len(c)+len(n)+len(lateC)+len(lateN) > 0 {
			t.Errorf("%s: got containers %q networks %q left (a second later %q %q), want none\n%s", outcome, c, n, lateC, lateN, d)
		}
	}
}

// TestSignalRunSIGINT interrupts run while its command runs. The command is a shell whose
// background child ignores SIGINT (as shells start background jobs), so only the whole
// process group being stopped ends it: the command and its child stop, the environment is
// removed, and run exits 130.
func TestSignalRunSIGINT(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", layeredFile())
	env := newEnvName(t, "run")
	cleanupEnv(t, env)
	pidFile := dir + "/child.pid"
	script := `sleep 301 & echo $! > ` + pidFile + `; echo "cmd sees A1_HTTP=$A1_HTTP"; wait`
	p := start(t, dir, append(append([]string{"run", "--name", env, "-f", file}, imgVar(img)...), "--", "sh", "-c", script)...)
	var child int
	deadline := time.Now().Add(time.Minute)
	for child == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if child == 0 {
		t.Fatalf("the command did not start within a minute\nstderr:\n%s", p.errb)
	}
	sent := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	r := p.wait(t, time.Minute)
	t.Logf("run: SIGINT while CMD ran; exit %d %s after the signal", r.code, time.Since(sent).Round(time.Millisecond))
	wantExit(t, r, 130)
	wantIn(t, "run's stdout", r.stdout, "cmd sees A1_HTTP=127.0.0.1:")
	if state := procState(child); state != "" {
		_ = syscall.Kill(child, syscall.SIGKILL)
		t.Errorf("the command's child %d (sleep, SIGINT ignored) is still running (state %s) after run ended, want it stopped", child, state)
	}
	wantNothingLeft(t, env)
}

// procState is the state letter of a live process ("R", "S", ...), or "" when it is gone or a
// zombie (dead, waiting only for its reaper, which in a container may never come).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The state follows the command name, which is in parentheses and may contain spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	if st := string(b[i+2]); st != "Z" && st != "X" {
		return st
	}
	return ""
}

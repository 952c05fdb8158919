package docker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/envctl/envctl/provisioner"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu  sync.Mutex // Logs writes while the test reads
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestLogs(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	spec := testSpec(env, "talker", img, nil, "--log", "one", "--log", "two", "--stderr", "oops", "--log", "three", "--exit", "0")
	inst, err := b.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, b, inst, provisioner.StateExited, 30*time.Second)

	tests := []struct {
		name string
		opt  provisioner.LogOptions
		want []string // stdout lines in order; stderr checked separately
		err  bool     // whether "oops" (stderr) must be present
	}{
		{"all", provisioner.LogOptions{}, []string{"one", "two", "three"}, true},
		{"since-the-future", provisioner.LogOptions{Since: time.Now().Add(time.Hour)}, nil, false},
		{"since-the-past", provisioner.LogOptions{Since: time.Now().Add(-time.Hour)}, []string{"one", "two", "three"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := b.Logs(ctx, inst, tt.opt, &buf); err != nil {
				t.Fatalf("Logs: %v", err)
			}
			lines := splitLines(buf.String())
			var stdout []string
			hasErr := false
			for _, l := range lines {
				if l == "oops" {
					hasErr = true
					continue
				}
				if strings.HasPrefix(l, "testsvc: ") {
					continue // testsvc's own diagnostics on stderr
				}
				stdout = append(stdout, l)
			}
			if diff := cmp.Diff(tt.want, stdout); diff != "" {
				t.Errorf("stdout lines (-want +got):\n%s\nall output: %q", diff, buf.String())
			}
			if hasErr != tt.err {
				t.Errorf("stderr line present: %v, want %v; output %q", hasErr, tt.err, buf.String())
			}
		})
	}

	t.Run("tail", func(t *testing.T) {
		var buf bytes.Buffer
		if err := b.Logs(ctx, inst, provisioner.LogOptions{Tail: 1}, &buf); err != nil {
			t.Fatalf("Logs: %v", err)
		}
		if lines := splitLines(buf.String()); len(lines) != 1 {
			t.Errorf("Tail 1: %d lines %q, want 1", len(lines), lines)
		}
	})
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestLogsFollowEndsWithContext(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)

	inst, err := b.Start(context.Background(), testSpec(env, "server", img, nil, "--log", "listening"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf syncBuffer
	done := make(chan error, 1)
	go func() { done <- b.Logs(ctx, inst, provisioner.LogOptions{Follow: true}, &buf) }()

	deadline := time.After(20 * time.Second)
	for !strings.Contains(buf.String(), "listening\n") {
		select {
		case err := <-done:
			t.Fatalf("Logs returned %v before the line arrived; output %q", err, buf.String())
		case <-deadline:
			t.Fatalf("no \"listening\" line after 20s; output %q", buf.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Logs with Follow returned %v while the container runs", err)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Logs after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Logs with Follow did not return within 5s of the cancel")
	}
}

func TestLineWriterKeepsLinesWhole(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	a := &lineWriter{mu: &mu, w: &out}
	b := &lineWriter{mu: &mu, w: &out}
	for _, step := range []struct {
		w *lineWriter
		s string
	}{{a, "hel"}, {b, "ERR1\nER"}, {a, "lo\nwor"}, {b, "R2\n"}, {a, "ld"}} {
		io.WriteString(step.w, step.s)
	}
	a.flush()
	b.flush()
	if got, want := out.String(), "ERR1\nhello\nERR2\nworld\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExec(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	inst, err := b.Start(ctx, testSpec(env, "target", img, []provisioner.Port{{Name: "http", Port: 8080}}, "--http", "8080"))
	if err != nil {
		t.Fatal(err)
	}
	httpGet(t, "http://"+inst.ProbeAddrs["http"]+"/healthz") // wait until it listens

	tests := []struct {
		name     string
		argv     []string
		wantCode int
		wantOut  string
	}{
		{"ok", []string{"/testsvc", "probe", "http", "http://127.0.0.1:8080/healthz"}, 0, ""},
		{"fails", []string{"/testsvc", "probe", "tcp", "127.0.0.1:9"}, 1, "127.0.0.1:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, err := b.Exec(ctx, inst, tt.argv)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; output %q", code, tt.wantCode, out)
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("output %q, want it to contain %q", out, tt.wantOut)
			}
		})
	}

	t.Run("no-such-binary", func(t *testing.T) {
		// The runtime reports it as the command's failure (126, like a shell), not the engine's.
		code, out, err := b.Exec(ctx, inst, []string{"/no/such/binary"})
		if err != nil || (code != 126 && code != 127) || !strings.Contains(string(out), "/no/such/binary") {
			t.Errorf("Exec of a missing binary: exit %d, output %q, error %v; want exit 126 or 127 naming the binary", code, out, err)
		}
	})

	t.Run("stopped-container", func(t *testing.T) {
		if err := b.Stop(ctx, inst, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.Exec(ctx, inst, []string{"/testsvc", "probe", "tcp", "127.0.0.1:8080"}); err == nil {
			t.Error("Exec in a stopped container: nil error, want one")
		}
	})
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMain lets the tests run this very binary as testsvc: with TESTSVC_RUN_MAIN=1 the
// test binary behaves as the command, so signal tests need no separate build.
func TestMain(m *testing.M) {
	if os.Getenv("TESTSVC_RUN_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine and the test reading it.
type syncBuffer struct {
	mu sync.Mutex // guards b: serve writes while the test reads
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a testsvc served in-process.
type running struct {
	addrs          map[string][]string // kind => "127.0.0.1:PORT"
	stdout, stderr *syncBuffer
	finished       chan struct{} // closed when serve returns
	code           int           // serve's status, set before finished is closed
	cancel         context.CancelFunc
}

// wait returns serve's status, failing the test if it does not return within d.
func (r *running) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-r.finished:
		return r.code
	case <-time.After(d):
		t.Fatalf("serve did not return within %v", d)
		return -1
	}
}

// exited reports whether serve has returned.
func (r *running) exited() bool {
	select {
	case <-r.finished:
		return true
	default:
		return false
	}
}

// start parses args (ports should be "127.0.0.1:0"), runs serve in a goroutine and
// waits until it listens or returns.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	var errBuf bytes.Buffer
	cfg, err := parseFlags(args, &errBuf)
	if err != nil {
		t.Fatalf("parseFlags(%q): %v: %s", args, err, errBuf.String())
	}
	r := &running{
		addrs:    map[string][]string{},
		stdout:   &syncBuffer{},
		stderr:   &syncBuffer{},
		finished: make(chan struct{}),
	}
	want := len(cfg.httpPorts) + len(cfg.tcpPorts)
	// listened is closed when every listener is up; the mutex guards addrs against
	// the serve goroutine.
	var mu sync.Mutex
	listened := make(chan struct{})
	cfg.listening = func(kind string, addr net.Addr) {
		mu.Lock()
		defer mu.Unlock()
		r.addrs[kind] = append(r.addrs[kind], addr.String())
		if n := len(r.addrs["http"]) + len(r.addrs["tcp"]); n == want {
			close(listened)
		}
	}
	if want == 0 {
		close(listened)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.code = serve(ctx, cfg, r.stdout, r.stderr)
		close(r.finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.finished:
		case <-time.After(5 * time.Second):
			t.Errorf("serve did not return within 5s of cancel")
		}
	})
	select {
	case <-listened:
	case <-r.finished:
	case <-time.After(10 * time.Second):
		t.Fatalf("testsvc %q did not listen within 10s", args)
	}
	mu.Lock()
	defer mu.Unlock()
	return r
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func TestHTTPEndpoints(t *testing.T) {
	t.Setenv("TESTSVC_TEST_VAR", "42")
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "dep says hi")
	}))
	defer dep.Close()

	r := start(t, "--name", "alpha", "--http", "127.0.0.1:0", "--health-status", "503")
	base := "http://" + r.addrs["http"][0]

	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/", 200, "alpha"},
		{"/healthz", 503, "ok"},
		{"/call?url=" + dep.URL + "/x", 200, "alpha -> dep says hi"},
		{"/call", 400, "missing ?url=\n"},
		{"/nope", 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, body := httpGet(t, base+tt.path)
			if status != tt.wantStatus || body != tt.wantBody {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}

	t.Run("/call failing", func(t *testing.T) {
		status, body := httpGet(t, base+"/call?url="+dep.URL+"/fail")
		if status != http.StatusBadGateway || !strings.Contains(body, "status 500") {
			t.Errorf("GET /call of a failing URL = %d %q, want 502 naming status 500", status, body)
		}
	})

	t.Run("/env", func(t *testing.T) {
		status, body := httpGet(t, base+"/env")
		var env map[string]string
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatalf("GET /env = %d %q: not a JSON object: %v", status, body, err)
		}
		if got := env["TESTSVC_TEST_VAR"]; got != "42" {
			t.Errorf("GET /env: TESTSVC_TEST_VAR = %q, want %q", got, "42")
		}
	})
}

func TestExitEndpoint(t *testing.T) {
	r := start(t, "--http", "127.0.0.1:0")
	status, body := httpGet(t, "http://"+r.addrs["http"][0]+"/exit?code=7")
	if status != 200 || body != "exiting 7" {
		t.Errorf("GET /exit?code=7 = %d %q, want 200 %q", status, body, "exiting 7")
	}
	if code := r.wait(t, 5*time.Second); code != 7 {
		t.Errorf("status after /exit?code=7 = %d, want 7", code)
	}
}

func TestExitEndpointRejectsBadCode(t *testing.T) {
	r := start(t, "--http", "127.0.0.1:0")
	for _, q := range []string{"", "?code=x", "?code=256", "?code=-1"} {
		status, _ := httpGet(t, "http://"+r.addrs["http"][0]+"/exit"+q)
		if status != http.StatusBadRequest {
			t.Errorf("GET /exit%s = %d, want 400", q, status)
		}
	}
	if r.exited() {
		t.Fatalf("serve returned %d after invalid /exit requests, want it still running", r.code)
	}
}

func TestTCP(t *testing.T) {
	t.Setenv("NAME", "beta")
	r := start(t, "--tcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0")
	if len(r.addrs["tcp"]) != 2 {
		t.Fatalf("tcp listeners = %v, want 2", r.addrs["tcp"])
	}
	for _, addr := range r.addrs["tcp"] {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil {
			t.Fatalf("read %s: %v", addr, err)
		}
		if got, want := string(b), "beta\n"; got != want {
			t.Errorf("tcp %s wrote %q, want %q", addr, got, want)
		}
	}
}

func TestOneShot(t *testing.T) {
	r := start(t, "--log", "first line", "--log", "second", "--stderr", "to stderr", "--exit", "3")
	if code := r.wait(t, 5*time.Second); code != 3 {
		t.Errorf("status = %d, want 3", code)
	}
	if got, want := r.stdout.String(), "first line\nsecond\n"; got != want {
		t.Errorf("stdout = %q, want exactly %q", got, want)
	}
	if got := r.stderr.String(); !strings.Contains(got, "to stderr\n") {
		t.Errorf("stderr = %q, want it to contain %q", got, "to stderr\n")
	}
}

func TestCall(t *testing.T) {
	// The dependency fails its first two requests, as one still starting would.
	var mu sync.Mutex // guards hits across the server's handler goroutines
	hits := 0
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		n := hits
		mu.Unlock()
		if r.URL.Path == "/down" || n <= 2 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "up")
	}))
	defer dep.Close()

	tests := []struct {
		name       string
		url        string
		wantCode   int
		wantStderr string
	}{
		{"reachable after retries", dep.URL + "/up", 0, "call " + dep.URL + "/up -> up"},
		{"never 200", dep.URL + "/down", 1, "dependency " + dep.URL + "/down not reachable: status 503"},
		{"nothing listens", "http://127.0.0.1:1/", 1, "dependency http://127.0.0.1:1/ not reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 3 s: on a loaded machine every attempt of a 1 s budget could end in the
			// deadline before one saw the 503 (CI saw it), and the test is about the 503.
			r := start(t, "--name", "gamma", "--call", tt.url, "--call-timeout", "3s", "--exit", "0")
			if code := r.wait(t, 10*time.Second); code != tt.wantCode {
				t.Errorf("status = %d, want %d; stderr %q", code, tt.wantCode, r.stderr.String())
			}
			if got := r.stderr.String(); !strings.Contains(got, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", got, tt.wantStderr)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	begin := time.Now()
	r := start(t, "--delay", "300ms", "--http", "127.0.0.1:0")
	if waited := time.Since(begin); waited < 300*time.Millisecond {
		t.Errorf("listened after %v, want at least the 300ms delay", waited)
	}
	if status, _ := httpGet(t, "http://"+r.addrs["http"][0]+"/healthz"); status != 200 {
		t.Errorf("GET /healthz after delay = %d, want 200", status)
	}
}

func TestServeEndsWithContext(t *testing.T) {
	r := start(t, "--http", "127.0.0.1:0")
	r.cancel()
	if code := r.wait(t, 5*time.Second); code != 0 {
		t.Errorf("status after cancel = %d, want 0", code)
	}
}

func TestBadFlags(t *testing.T) {
	tests := [][]string{
		{"--exit", "x"},
		{"--exit", "300"},
		{"--delay", "soon"},
		{"--health-status", "42"},
		{"--unknown"},
		{"stray"},
	}
	for _, args := range tests {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
		if stderr.Len() == 0 {
			t.Errorf("run(%q) wrote nothing on stderr, want a reason", args)
		}
	}
}

func TestProbe(t *testing.T) {
	okSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer okSrv.Close()
	closed := closedAddr(t)

	tests := []struct {
		args []string
		want int
	}{
		{[]string{"probe", "tcp", strings.TrimPrefix(okSrv.URL, "http://")}, 0},
		{[]string{"probe", "tcp", closed}, 1},
		{[]string{"probe", "http", okSrv.URL + "/good"}, 0},
		{[]string{"probe", "http", okSrv.URL + "/bad"}, 1},
		{[]string{"probe", "http", "http://" + closed + "/"}, 1},
		{[]string{"probe", "udp", closed}, 2},
		{[]string{"probe", "tcp"}, 2},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		if got := run(tt.args, &stdout, &stderr); got != tt.want {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", tt.args, got, tt.want, stderr.String())
		}
		if tt.want != 0 && stderr.Len() == 0 {
			t.Errorf("run(%q) failed silently, want a reason on stderr", tt.args)
		}
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// proc is testsvc running as a child process.
type proc struct {
	cmd      *exec.Cmd
	finished chan struct{} // closed when the child has been reaped
	err      error         // cmd.Wait's result, set before finished is closed
}

// wait returns the child's exit status, or fails the test if it runs on past d.
func (p *proc) wait(t *testing.T, d time.Duration, what string) int {
	t.Helper()
	select {
	case <-p.finished:
		return exitCode(p.err)
	case <-time.After(d):
		t.Fatalf("still running %v after %s", d, what)
		return -1
	}
}

// startProcess runs the test binary as testsvc in a child process and waits until its
// stdout shows readyLine (pass a --log line so the test knows it is set up).
func startProcess(t *testing.T, readyLine string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(os.Args[0], args...), finished: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "TESTSVC_RUN_MAIN=1")
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.finished
	})
	lineCh := make(chan string, 1)
	go func() {
		buf := make([]byte, 256)
		n, _ := io.ReadAtLeast(stdout, buf, len(readyLine))
		lineCh <- string(buf[:n])
		io.Copy(io.Discard, stdout)
		p.err = p.cmd.Wait()
		close(p.finished)
	}()
	select {
	case got := <-lineCh:
		if !strings.HasPrefix(got, readyLine) {
			t.Fatalf("child stdout = %q, want %q first", got, readyLine)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("child did not start within 10s")
	}
	return p
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestSIGTERM(t *testing.T) {
	for _, args := range [][]string{
		{"--log", "up"},
		{"--log", "up", "--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"},
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			p := startProcess(t, "up", args...)
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if got := p.wait(t, 5*time.Second, "SIGTERM"); got != 0 {
				t.Errorf("status after SIGTERM = %d (%v), want 0", got, p.err)
			}
		})
	}
}

func TestSIGTERMDuringDelay(t *testing.T) {
	p := &proc{cmd: exec.Command(os.Args[0], "--delay", "1h"), finished: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "TESTSVC_RUN_MAIN=1")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.finished)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.finished
	})
	// No output marks the end of start-up during a delay; the handler is installed
	// within milliseconds, so 300ms is a wide margin.
	time.Sleep(300 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := p.wait(t, 5*time.Second, "SIGTERM during a 1h delay"); got != 0 {
		t.Errorf("status after SIGTERM during delay = %d (%v), want 0", got, p.err)
	}
}

func TestIgnoreSIGTERM(t *testing.T) {
	p := startProcess(t, "up", "--log", "up", "--ignore-sigterm")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.finished:
		t.Fatalf("exited (%v) after SIGTERM despite --ignore-sigterm", p.err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if got := p.wait(t, 5*time.Second, "SIGINT"); got != 0 {
		t.Errorf("status after SIGINT = %d (%v), want 0", got, p.err)
	}
}

func TestParseDefaults(t *testing.T) {
	t.Setenv("NAME", "")
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Name         string
		HealthStatus int
		CallTimeout  time.Duration
		ExitSet      bool
	}{cfg.name, cfg.healthStatus, cfg.callTimeout, cfg.exitSet}
	want := struct {
		Name         string
		HealthStatus int
		CallTimeout  time.Duration
		ExitSet      bool
	}{"testsvc", 200, 5 * time.Second, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// TestHealthDelay: --health-delay makes /healthz slow to answer, as a heavy health command is.
func TestHealthDelay(t *testing.T) {
	r := start(t, "--http", "127.0.0.1:0", "--health-delay", "300ms")
	begin := time.Now()
	if status, _ := httpGet(t, "http://"+r.addrs["http"][0]+"/healthz"); status != 200 {
		t.Errorf("GET /healthz = %d, want 200", status)
	}
	if took := time.Since(begin); took < 300*time.Millisecond {
		t.Errorf("/healthz answered after %v, want at least the 300ms delay", took)
	}
}

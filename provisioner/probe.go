package provisioner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/envctl/envctl/provisioner/protocol"
)

// The adaptive probe schedule. The first attempt comes at once, the next ones every 20 ms for
// the first second — when most services get ready, and when every millisecond of delay adds up
// along the critical path — and then growing by half each time up to half a second, so a slow
// service costs few attempts. (Backing off from the start was measured to see a service that
// listens at 300 ms only at 414 ms.) Compose's first health check waits a whole interval (30 s
// by default), which is the single largest cost in its start-up.
const (
	firstInterval = 20 * time.Millisecond
	fastPhase     = time.Second
	maxInterval   = 500 * time.Millisecond
	// attemptTimeout bounds one attempt, so a service that accepts and never answers cannot
	// eat the whole readiness timeout in one go. ready { attempt_timeout } overrides it.
	attemptTimeout = 2 * time.Second
	// ExecAttemptTimeout is the default for an exec check instead: the tools people run in
	// them take seconds (rabbitmq-diagnostics boots an Erlang VM per call: over 2 s on a
	// loaded machine, so every attempt was cut off), and it is Compose's default healthcheck
	// timeout, which checks imported from Compose were written for.
	ExecAttemptTimeout = 30 * time.Second
	// DefaultReadyTimeout applies when the file sets no timeout.
	DefaultReadyTimeout = 60 * time.Second
	// failureLogLines is how much of a failed service's output an error carries.
	failureLogLines = 20
)

// ErrNotReady is wrapped by the error of a service that did not get ready in time.
var ErrNotReady = errors.New("not ready")

// ServiceError is why one service failed: it names the service and carries what a person needs
// to see to fix it — the last probe results and the last lines of the service's output.
type ServiceError struct {
	Service  string
	Reason   string        // "did not become ready within 60s", "exited with code 3"
	ExitCode int           // when the instance exited; -1 otherwise
	Probes   []ProbeResult // the last few attempts
	Logs     []string      // the last lines of output
	Err      error
}

func (e *ServiceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "service %q %s", e.Service, e.Reason)
	if len(e.Probes) > 0 {
		b.WriteString("\n  last probe results:")
		for _, p := range e.Probes {
			status := "fail"
			if p.OK {
				status = "ok"
			}
			fmt.Fprintf(&b, "\n    #%d %s: %s", p.Attempt, status, p.Detail)
		}
	}
	if len(e.Logs) > 0 {
		fmt.Fprintf(&b, "\n  last %d log lines:", len(e.Logs))
		for _, l := range e.Logs {
			b.WriteString("\n    | " + l)
		}
	} else if e.Logs != nil {
		b.WriteString("\n  (no log output)")
	}
	return b.String()
}

func (e *ServiceError) Unwrap() error { return e.Err }

// prober waits until one instance is ready. It holds the probe history for error messages.
type prober struct {
	b       Backend
	inst    Instance
	spec    ReadySpec
	once    bool
	report  func(ProbeResult)
	history []ProbeResult // last few, for the error
	attempt int
	// unreachable is set when the backend found no way to reach the instance: the wait ends
	// at once with it.
	unreachable error
}

// WaitReady blocks until inst is ready according to spec (a job: until it exited 0), the
// timeout passes, the instance exits when it should not, or ctx ends. report, if not nil, is
// told every attempt. The returned error is a *ServiceError, or ctx's error.
func WaitReady(ctx context.Context, b Backend, inst Instance, spec ReadySpec, once bool, report func(ProbeResult)) error {
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	if nr, ok := b.(NativeReadiness); ok && nr.ChecksNatively(inst, spec, once) {
		tctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		err := nr.WaitReady(tctx, inst, spec, report)
		if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return &ServiceError{Service: inst.Service, Reason: "did not become ready within " + timeout.String(), ExitCode: -1, Logs: lastLogs(ctx, b, inst), Err: ErrNotReady}
		}
		return err
	}
	p := &prober{b: b, inst: inst, spec: spec, once: once, report: report}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if !once && spec.Kind == ProbeLog {
		return p.waitLog(tctx, ctx, timeout)
	}
	return p.poll(tctx, ctx, timeout)
}

func (p *prober) record(ok bool, detail string) {
	p.attempt++
	r := ProbeResult{Attempt: p.attempt, At: time.Now(), OK: ok, Detail: detail}
	p.history = append(p.history, r)
	if len(p.history) > 5 {
		p.history = p.history[len(p.history)-5:]
	}
	if p.report != nil {
		p.report(r)
	}
}

// poll runs attempts on the adaptive (or the file's fixed) schedule.
func (p *prober) poll(tctx, ctx context.Context, timeout time.Duration) error {
	interval := firstInterval
	if p.spec.Interval > 0 {
		interval = p.spec.Interval
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	begin := time.Now()
	for {
		select {
		case <-tctx.Done():
			return p.timedOut(ctx, timeout)
		case <-timer.C:
		}
		done, err := p.attemptOnce(tctx)
		if done || err != nil {
			return err
		}
		if p.spec.Interval <= 0 && time.Since(begin) >= fastPhase {
			interval = min(interval*3/2, maxInterval)
		}
		timer.Reset(interval)
	}
}

// attemptOnce makes one attempt. done is true when the instance is ready; err is set when it
// can never become ready (it exited).
func (p *prober) attemptOnce(ctx context.Context) (done bool, err error) {
	if p.once {
		cur, err := p.inspect(ctx)
		if err != nil {
			// An attempt cut off by the ready timeout or by the whole run's end says nothing
			// about the service; recording it would replace the last real observation
			// ("still running") in the blocked-by message with "context deadline exceeded".
			if ctx.Err() == nil {
				p.record(false, err.Error())
			}
			return false, nil
		}
		if cur.State != StateExited {
			p.record(false, "still running")
			return false, nil
		}
		if cur.ExitCode == 0 {
			p.record(true, "exited 0")
			return true, nil
		}
		p.record(false, fmt.Sprintf("exited %d", cur.ExitCode))
		return false, p.exited(ctx, cur.ExitCode)
	}
	ok, detail := p.check(ctx)
	if !ok && ctx.Err() != nil {
		return false, nil // cut off, not an observation: see above
	}
	p.record(ok, detail)
	if p.unreachable != nil {
		return false, &ServiceError{Service: p.inst.Service, Reason: "cannot be reached by envctl: " + p.unreachable.Error(), ExitCode: -1, Probes: p.history, Err: p.unreachable}
	}
	if ok {
		return true, nil
	}
	// A service that exited will never answer: fail at once instead of at the timeout. The
	// engine is asked only every few attempts, since most failed attempts are a service still
	// starting.
	if p.attempt%4 == 1 || p.spec.Interval > 0 {
		if cur, err := p.inspect(ctx); err == nil && cur.State == StateExited {
			return false, p.exited(ctx, cur.ExitCode)
		}
	}
	return false, nil
}

func (p *prober) inspect(ctx context.Context) (Instance, error) {
	in, ok := p.b.(Inspector)
	if !ok {
		return p.inst, nil
	}
	actx, cancel := context.WithTimeout(ctx, p.spec.PerAttempt())
	defer cancel()
	return in.Inspect(actx, p.inst)
}

// check runs the probe of the ReadySpec once.
func (p *prober) check(ctx context.Context) (bool, string) {
	// The way to the instance is found under the whole wait's context, not the attempt's:
	// finding it may start an agent, which can take longer than one attempt on a loaded
	// machine, and is done once.
	if len(p.inst.ProbeAddrs) > 0 && (p.spec.Kind == ProbeHTTP || p.spec.Kind == ProbeTCP || p.spec.Kind == ProbePorts || IsProtocol(p.spec.Kind)) {
		if _, err := p.net(ctx); err != nil {
			return false, err.Error()
		}
	}
	actx, cancel := context.WithTimeout(ctx, p.spec.PerAttempt())
	defer cancel()
	switch p.spec.Kind {
	case ProbeHTTP:
		addr, ok := p.inst.ProbeAddrs[p.spec.Port]
		if !ok {
			return false, fmt.Sprintf("no address for port %q", p.spec.Port)
		}
		path := p.spec.Path
		if path == "" {
			path = "/"
		}
		want := p.spec.Status
		if want == 0 {
			want = http.StatusOK
		}
		pn, err := p.net(actx)
		if err != nil {
			return false, err.Error()
		}
		status, err := pn.GetHTTP(actx, "http://"+addr+path)
		if err != nil {
			return false, err.Error()
		}
		if status != want {
			return false, fmt.Sprintf("GET %s: HTTP %d, want %d", path, status, want)
		}
		return true, fmt.Sprintf("GET %s: HTTP %d", path, status)
	case ProbeTCP:
		return p.dial(actx, p.spec.Port)
	case ProbePostgres, ProbeMySQL, ProbeRedis, ProbeAMQP, ProbeMemcached, ProbeGRPC, ProbeKafka, ProbeMongoDB:
		return p.protocol(ctx, actx)
	case ProbeExec:
		ex, ok := p.b.(Execer)
		if !ok {
			return false, "the " + p.b.Name() + " backend cannot run exec probes"
		}
		code, out, err := ex.Exec(actx, p.inst, p.spec.Exec)
		if err != nil {
			if actx.Err() != nil && ctx.Err() == nil {
				// The attempt's own timeout, not the engine: say so, and what to do. The
				// backend kills the command it cut off (see its Exec).
				return false, fmt.Sprintf("cut off after %s: raise attempt_timeout", p.spec.PerAttempt())
			}
			return false, err.Error()
		}
		if code != 0 {
			return false, fmt.Sprintf("exit %d: %s", code, lastLine(out))
		}
		return true, "exit 0"
	default: // ProbePorts
		ports := ParsePorts(p.inst.Labels[LabelPorts])
		if len(ports) == 0 {
			cur, err := p.inspect(actx)
			if err != nil {
				return false, err.Error()
			}
			if cur.State == StateRunning {
				return true, "running"
			}
			return false, cur.State.String()
		}
		for _, port := range ports {
			if ok, detail := p.dial(actx, port.Name); !ok {
				return false, detail
			}
		}
		return true, fmt.Sprintf("%d port(s) accept connections", len(ports))
	}
}

func (p *prober) dial(ctx context.Context, port string) (bool, string) {
	addr, ok := p.inst.ProbeAddrs[port]
	if !ok {
		return false, fmt.Sprintf("no address for port %q", port)
	}
	pn, err := p.net(ctx)
	if err != nil {
		return false, err.Error()
	}
	if err := pn.DialTCP(ctx, addr); err != nil {
		return false, fmt.Sprintf("port %s: %s", port, err)
	}
	return true, fmt.Sprintf("port %s accepts connections", port)
}

// protocol runs the ReadySpec's protocol check (provisioner/protocol) at the probe port. The
// detail starts with the kind, so that a list of attempts and status say which check spoke.
func (p *prober) protocol(ctx, actx context.Context) (bool, string) {
	kind := p.spec.Kind
	addr, ok := p.inst.ProbeAddrs[p.spec.Port]
	if !ok {
		return false, fmt.Sprintf("no address for port %q", p.spec.Port)
	}
	params := protocol.Params{Kind: kind, User: p.spec.User, Database: p.spec.Database, Service: p.spec.GRPCService}
	if p.spec.PasswordEnv != "" {
		pw, err := p.password(ctx)
		if err != nil {
			return false, kind + ": the password could not be read back: " + err.Error()
		}
		params.Password = pw
	}
	pn, err := p.net(actx)
	if err != nil {
		return false, err.Error()
	}
	ok, detail, err := pn.Protocol(actx, addr, params)
	if err != nil {
		return false, fmt.Sprintf("%s: port %s: %s", kind, p.spec.Port, err)
	}
	return ok, kind + ": " + detail
}

// password is the redis probe's password: the ReadySpec's during up; for status, which has
// only the labels, read back from the instance's environment (ReadyPasswordEnv), once.
func (p *prober) password(ctx context.Context) (string, error) {
	if p.spec.Password != "" {
		return string(p.spec.Password), nil
	}
	er, ok := p.b.(EnvReader)
	if !ok {
		return "", fmt.Errorf("the %s backend cannot read it from the instance", p.b.Name())
	}
	v, err := er.EnvValue(ctx, p.inst, p.spec.PasswordEnv)
	if err != nil {
		return "", err
	}
	p.spec.Password = Secret(v)
	return v, nil
}

// net is how this attempt reaches the instance: the backend's choice, or envctl's own
// process. An error means no way works (see Reacher); it is kept so the attempt fails at once.
func (p *prober) net(ctx context.Context) (ProbeNet, error) {
	r, ok := p.b.(Reacher)
	if !ok {
		return Direct, nil
	}
	pn, err := r.ProbeNet(ctx, p.inst)
	if err != nil {
		p.unreachable = err
		return nil, err
	}
	return pn, nil
}

// waitLog reads the instance's output from its start until a line matches.
func (p *prober) waitLog(tctx, ctx context.Context, timeout time.Duration) error {
	lr, ok := p.b.(LogReader)
	if !ok {
		return &ServiceError{Service: p.inst.Service, Reason: "uses a log probe, which the " + p.b.Name() + " backend cannot read", ExitCode: -1}
	}
	re, err := regexp.Compile(p.spec.Log)
	if err != nil { // validated at load; kept for hand-made specs
		return &ServiceError{Service: p.inst.Service, Reason: "has an invalid log pattern: " + err.Error(), ExitCode: -1}
	}
	lctx, cancel := context.WithCancel(tctx)
	defer cancel()
	pr, pw := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	var streamErr error
	go func() {
		defer wg.Done()
		streamErr = lr.Logs(lctx, p.inst, LogOptions{Follow: true}, pw)
		pw.Close()
	}()
	matched := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			if re.MatchString(sc.Text()) {
				matched <- fmt.Sprintf("line %d matches %q", n, p.spec.Log)
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr) // let the writer finish
		close(matched)
	}()
	select {
	case detail, ok := <-matched:
		cancel()
		wg.Wait()
		if ok {
			p.record(true, detail)
			return nil
		}
		// The stream ended without a match: the instance has stopped.
		if tctx.Err() != nil {
			return p.timedOut(ctx, timeout)
		}
		code := -1
		if cur, err := p.inspect(ctx); err == nil && cur.State == StateExited {
			code = cur.ExitCode
		}
		p.record(false, "output ended without a line matching "+fmt.Sprintf("%q", p.spec.Log))
		if code >= 0 {
			return p.exited(ctx, code)
		}
		if streamErr != nil {
			return &ServiceError{Service: p.inst.Service, Reason: "could not read its output: " + streamErr.Error(), ExitCode: -1}
		}
		return p.timedOut(ctx, timeout)
	case <-tctx.Done():
		cancel()
		wg.Wait()
		p.record(false, fmt.Sprintf("no line matched %q", p.spec.Log))
		return p.timedOut(ctx, timeout)
	}
}

func (p *prober) timedOut(ctx context.Context, timeout time.Duration) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &ServiceError{
		Service: p.inst.Service, Reason: "did not become ready within " + timeout.String(),
		ExitCode: -1, Probes: p.history, Logs: lastLogs(ctx, p.b, p.inst), Err: ErrNotReady,
	}
}

func (p *prober) exited(ctx context.Context, code int) error {
	reason := fmt.Sprintf("exited with code %d", code)
	if !p.once {
		reason = fmt.Sprintf("exited with code %d before it was ready", code)
	}
	return &ServiceError{Service: p.inst.Service, Reason: reason, ExitCode: code, Probes: p.history, Logs: lastLogs(ctx, p.b, p.inst)}
}

// lastLogs fetches the last lines of an instance's output for an error message; never nil
// when the backend can read logs, so the message can say there was no output.
func lastLogs(ctx context.Context, b Backend, inst Instance) []string {
	lr, ok := b.(LogReader)
	if !ok {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var buf strings.Builder
	if err := lr.Logs(ctx, inst, LogOptions{Tail: failureLogLines}, &buf); err != nil {
		return []string{"(could not read the logs: " + err.Error() + ")"}
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return []string{}
	}
	if len(lines) > failureLogLines {
		lines = lines[len(lines)-failureLogLines:]
	}
	return lines
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// shortNetErr drops the repetitive "dial tcp 172.18.0.3:80:" prefix a person does not need
// twice in a list of attempts.
func shortNetErr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// ProbeOnce makes one readiness attempt against inst, for status: ok and what it saw. A log
// check reads the output so far instead of following it.
func ProbeOnce(ctx context.Context, b Backend, inst Instance, spec ReadySpec) (bool, string) {
	ctx = withOneShot(ctx)
	p := &prober{b: b, inst: inst, spec: spec}
	if spec.Kind != ProbeLog {
		return p.check(ctx)
	}
	lr, ok := b.(LogReader)
	if !ok {
		return false, "the " + b.Name() + " backend cannot read logs"
	}
	re, err := regexp.Compile(spec.Log)
	if err != nil {
		return false, err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, p.spec.PerAttempt())
	defer cancel()
	var buf strings.Builder
	if err := lr.Logs(ctx, inst, LogOptions{}, &buf); err != nil {
		return false, err.Error()
	}
	for i, line := range strings.Split(buf.String(), "\n") {
		if re.MatchString(line) {
			return true, fmt.Sprintf("line %d matches %q", i+1, spec.Log)
		}
	}
	return false, fmt.Sprintf("no line matches %q", spec.Log)
}

// probeClient is the HTTP client of the http probe. A fresh connection per attempt: a pooled
// one could report a service that has since died as alive. Redirects are not followed: the
// status asked for is the first one. No proxy: the service is on a local network. No client
// timeout: each attempt's context carries the service's attempt_timeout.
func probeClient() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

package mesostest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// healthChecker runs a task's HealthCheck the way the built-in executors
// do (docs/health-checks.md): wait delay_seconds, probe every
// interval_seconds, ignore failures inside grace_period_seconds until the
// first success, report the first success and every failure as a
// TASK_RUNNING update with `healthy`, and kill the task after
// consecutive_failures. The schedule runs on the master's Clock; the probes
// themselves are real network or process I/O with a real timeout.
type healthChecker struct {
	r     *taskRun
	h     *mesos.HealthCheck
	start time.Time

	mu          sync.Mutex // guards the fields below; probes run without it
	stopped     bool
	timer       Timer
	failures    uint32
	everHealthy bool
	last        *bool
}

func (r *taskRun) startHealth() *healthChecker {
	h := r.t.info.HealthCheck
	if h == nil {
		return nil
	}
	hc := &healthChecker{r: r, h: h, start: r.m.clock.Now()}
	hc.schedule(secs(h.GetDelaySeconds()))
	return hc
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func (hc *healthChecker) schedule(d time.Duration) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if hc.stopped {
		return
	}
	hc.timer = hc.r.m.clock.AfterFunc(d, hc.check)
}

func (hc *healthChecker) stop() {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	hc.stopped = true
	if hc.timer != nil {
		hc.timer.Stop()
	}
}

func (hc *healthChecker) check() {
	hc.mu.Lock()
	stopped := hc.stopped
	hc.mu.Unlock()
	if stopped {
		return
	}
	err := hc.probe()
	hc.mu.Lock()
	if hc.stopped {
		hc.mu.Unlock()
		return
	}
	now := hc.r.m.clock.Now()
	var report *bool
	kill := false
	if err == nil {
		hc.failures = 0
		if hc.last == nil || !*hc.last {
			report = ptr(true)
		}
		hc.everHealthy = true
		hc.last = ptr(true)
	} else if hc.everHealthy || now.Sub(hc.start) >= secs(hc.h.GetGracePeriodSeconds()) {
		hc.failures++
		report = ptr(false)
		hc.last = ptr(false)
		if hc.failures >= hc.h.GetConsecutiveFailures() {
			kill = true
			hc.stopped = true
		}
	}
	hc.mu.Unlock()
	if report != nil {
		// No message, also on failure: the real Docker executor's health update carries only
		// healthy and the reason (Mesos 1.12 against ../shared/mesos); the failure's cause is
		// in the executor's log in the sandbox.
		_ = err
		st := status(mesos.TASK_RUNNING, mesos.SOURCE_EXECUTOR, "")
		st.TaskID = hc.r.t.info.TaskID
		st.Healthy = report
		st.Reason = mesos.REASON_TASK_HEALTH_CHECK_STATUS_UPDATED.Enum()
		hc.r.update(st)
	}
	if kill {
		grace := defaultShutdownGrace
		if kp := hc.r.t.info.KillPolicy; kp != nil && kp.GracePeriod != nil {
			grace = time.Duration(kp.GracePeriod.Nanoseconds)
		}
		hc.r.requestKill(grace, true)
		return
	}
	hc.schedule(secs(hc.h.GetIntervalSeconds()))
}

// probe runs one check with timeout_seconds (0 means none).
func (hc *healthChecker) probe() error {
	ctx := context.Background()
	if t := hc.h.GetTimeoutSeconds(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, secs(t))
		defer cancel()
	}
	r := hc.r
	// HTTP and TCP checks target 127.0.0.1 inside the task's network
	// namespace; from the host that is the container's IP on a bridge or
	// user network, and 127.0.0.1 for host-network and command tasks.
	host := "127.0.0.1"
	if r.docker {
		r.kmu.Lock()
		ip := r.ip
		r.kmu.Unlock()
		if ip == "" {
			// Not known at TASK_RUNNING (e.g. HOST network); look again.
			if raw, err := inspectContainer(ctx, r.m.opt.DockerCLI, r.name); err == nil {
				ip = containerIP(raw)
			}
		}
		if ip != "" {
			host = ip
		}
	}
	switch hc.h.Type {
	case mesos.HealthCheck_HTTP:
		scheme := hc.h.HTTP.GetScheme()
		if scheme == "" {
			scheme = "http"
		}
		url := fmt.Sprintf("%s://%s%s", scheme, net.JoinHostPort(host, fmt.Sprint(hc.h.HTTP.Port)), hc.h.HTTP.GetPath())
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		cl := &http.Client{Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // curl -k, as the executor runs it
			DisableKeepAlives: true,
		}}
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("HTTP health check returned status %d", resp.StatusCode)
		}
		return nil
	case mesos.HealthCheck_TCP:
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, fmt.Sprint(hc.h.TCP.Port)))
		if err != nil {
			return err
		}
		return c.Close()
	case mesos.HealthCheck_COMMAND:
		c := hc.h.Command
		var argv []string
		if c.GetShell() {
			argv = []string{"/bin/sh", "-c", c.GetValue()}
		} else {
			argv = []string{c.GetValue()}
			if len(c.Arguments) > 1 {
				argv = append(argv, c.Arguments[1:]...) // arguments[0] is argv[0]
			}
		}
		var cmd *exec.Cmd
		if r.docker && !c.GetShell() {
			// The Docker executor makes one shell line of it, `docker exec <container>
			// <value> <arguments...>` joined by spaces, all of arguments after value
			// (src/docker/executor.cpp, launchHealthCheck; seen on Mesos 1.12).
			line := append([]string{r.m.opt.DockerCLI, "exec", r.name, c.GetValue()}, c.Arguments...)
			cmd = exec.CommandContext(ctx, "/bin/sh", "-c", strings.Join(line, " "))
			cmd.Env = append(cmd.Environ(), envVars(c)...)
		} else if r.docker {
			args := []string{"exec"}
			for _, v := range envVars(c) {
				args = append(args, "-e", v)
			}
			args = append(append(args, r.name), argv...)
			cmd = exec.CommandContext(ctx, r.m.opt.DockerCLI, args...)
		} else {
			cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
			cmd.Dir = r.sandbox
			cmd.Env = append(cmd.Environ(), envVars(c)...)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			if len(out) > 0 {
				return fmt.Errorf("%v: %s", err, firstLine(string(out)))
			}
			return err
		}
		return nil
	}
	return fmt.Errorf("unsupported health check type %s", hc.h.Type)
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

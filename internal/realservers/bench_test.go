package realservers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/protocol"
)

// BenchmarkProbeCPU measures the CPU one readiness attempt costs against a real, ready server:
// a protocol probe (envctl's own code, provisioner.Direct) beside the exec check Compose users
// write for the same server (`pg_isready`, `redis-cli ping`, `mariadb-admin ping`,
// `rabbitmq-diagnostics -q check_port_connectivity`), run as envctl runs it, through the
// Engine API (create, start, inspect an exec). Each attempt's CPU counts everything it makes
// work: this process (getrusage), the server's container (its cgroup's cpuacct.usage, where the
// exec'd tool runs too), and the engine (dockerd, containerd and the container's shim, from
// /proc; not runc, whose runs the shim's reaped-children time mixes with the tool's). dockerd
// also serves the other work of a shared machine, so for a protocol probe, which does not
// involve the engine, the engine column is that noise. Reported as cpu-ms/attempt (the total)
// and per part.
func BenchmarkProbeCPU(b *testing.B) {
	type target struct {
		name   string
		params protocol.Params
		port   string
		exec   []string
		start  func(b *testing.B) *server
	}
	targets := []target{
		{"postgres", protocol.Params{Kind: protocol.Postgres, User: "app", Database: "app"}, "5432", []string{"pg_isready", "-U", "app", "-h", "127.0.0.1"}, func(b *testing.B) *server {
			return benchServer(b, "postgres", "-e", "POSTGRES_USER=app", "-e", "POSTGRES_PASSWORD=pw", "-e", "POSTGRES_DB=app")
		}},
		{"redis", protocol.Params{Kind: protocol.Redis}, "6379", []string{"redis-cli", "ping"}, func(b *testing.B) *server { return benchServer(b, "redis") }},
		{"mariadb", protocol.Params{Kind: protocol.MySQL}, "3306", []string{"mariadb-admin", "ping", "-h", "127.0.0.1"}, func(b *testing.B) *server {
			return benchServer(b, "mariadb", "-e", "MARIADB_ROOT_PASSWORD=root")
		}},
		{"rabbitmq", protocol.Params{Kind: protocol.AMQP}, "5672", []string{"rabbitmq-diagnostics", "-q", "check_port_connectivity"}, func(b *testing.B) *server { return benchServer(b, "rabbitmq") }},
		{"memcached", protocol.Params{Kind: protocol.Memcached}, "11211", nil, func(b *testing.B) *server { return benchServer(b, "memcached") }},
		{"grpc", protocol.Params{Kind: protocol.GRPC}, "9090", nil, func(b *testing.B) *server {
			testimage.Need(b)
			img, err := testimage.Build(context.Background(), "grpchealth", "github.com/envctl/envctl/internal/realservers/grpchealth")
			if err != nil {
				b.Fatal(err)
			}
			id, err := docker(context.Background(), "run", "-d", "--label", testLabel, "-e", "NOT_SERVING_FOR=0s", img)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _, _ = docker(context.Background(), "rm", "-f", "-v", id) })
			return &server{tb: b, id: id}
		}},
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			s := tg.start(b)
			addr := net.JoinHostPort(s.ip(), tg.port)
			waitProbe(b, addr, tg.params)
			b.Run("protocol", func(b *testing.B) {
				// Ten attempts per op: a protocol attempt costs about a millisecond, and
				// /proc counts engine CPU in 10 ms ticks.
				measure(b, s, 10, func() error {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					ok, detail, err := provisioner.Direct.Protocol(ctx, addr, tg.params)
					if err != nil || !ok {
						return fmt.Errorf("not ready: %s %v", detail, err)
					}
					return nil
				})
			})
			// envctl's default readiness, a TCP connect: what any client costs the server just
			// by connecting (Postgres forks a backend for it), the floor under the protocol
			// probe's container column.
			b.Run("tcp", func(b *testing.B) {
				measure(b, s, 10, func() error {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					defer cancel()
					return provisioner.Direct.DialTCP(ctx, addr)
				})
			})
			if tg.exec == nil {
				return
			}
			b.Run("exec", func(b *testing.B) {
				measure(b, s, 1, func() error {
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					code, err := engineExec(ctx, s.id, tg.exec)
					if err != nil {
						return err
					}
					if code != 0 {
						return fmt.Errorf("%v exited %d", tg.exec, code)
					}
					return nil
				})
			})
		})
	}
}

// benchServer starts a real server for a benchmark and removes it afterwards.
func benchServer(b *testing.B, name string, args ...string) *server {
	b.Helper()
	img := realImage(b, name)
	id, err := docker(context.Background(), append(append([]string{"run", "-d", "--label", testLabel}, args...), img)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = docker(context.Background(), "rm", "-f", "-v", id) })
	return &server{tb: b, id: id}
}

// waitProbe waits until the probe says ready: the benchmark measures a ready server.
func waitProbe(b *testing.B, addr string, p protocol.Params) {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ok, detail, err := provisioner.Direct.Protocol(ctx, addr, p)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s at %s not ready in 3 minutes: %s %v", p.Kind, addr, detail, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// measure runs attempt reps times per op and reports its CPU per attempt.
func measure(b *testing.B, s *server, reps int, attempt func() error) {
	before := cpuNow(b, s.id)
	b.ResetTimer()
	for range b.N * reps {
		if err := attempt(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := cpuNow(b, s.id)
	n := float64(b.N * reps)
	self := (after.self - before.self).Seconds() * 1000 / n
	server := (after.server - before.server).Seconds() * 1000 / n
	engine := (after.engine - before.engine).Seconds() * 1000 / n
	b.ReportMetric(self+server+engine, "cpu-ms/attempt")
	b.ReportMetric(self, "envctl-ms/attempt")
	b.ReportMetric(server, "container-ms/attempt")
	b.ReportMetric(engine, "engine-ms/attempt")
}

type cpuSample struct{ self, server, engine time.Duration }

func cpuNow(b *testing.B, id string) cpuSample {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	s := cpuSample{self: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	raw, err := os.ReadFile("/sys/fs/cgroup/cpuacct/docker/" + id + "/cpuacct.usage")
	if err != nil {
		testimage.SkipOrFail(b, "needs the container's cgroup v1 cpuacct (%v)", err)
	}
	ns, _ := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	s.server = time.Duration(ns)
	pid, _ := docker(context.Background(), "inspect", "--format", "{{.State.Pid}}", id)
	shim := field(b, "/proc/"+pid+"/stat", 3) // ppid
	for _, p := range append(pidsOf("dockerd"), append(pidsOf("containerd"), shim)...) {
		// utime and stime. Not the reaped children's: the shim reaps the exec'd tool itself,
		// which the container's cgroup already counts; runc's short runs are left out, so an
		// exec check's figure is a lower bound.
		for _, f := range []int{13, 14} {
			v, _ := strconv.ParseInt(field(b, "/proc/"+p+"/stat", f), 10, 64)
			s.engine += time.Duration(v) * 10 * time.Millisecond // USER_HZ = 100
		}
	}
	return s
}

// field is the i-th (0-based) field of a /proc/PID/stat, counted after the command's ")".
func field(b *testing.B, path string, i int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	s = s[strings.LastIndexByte(s, ')')+2:]
	f := strings.Fields(s)
	return f[i-2]
}

func pidsOf(comm string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		c, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err == nil && strings.TrimSpace(string(c)) == comm {
			out = append(out, e.Name())
		}
	}
	return out
}

// engineExec runs argv in the container through the Engine API, as envctl's exec probe does
// (create, start attached, inspect the exit code), over the engine's unix socket.
func engineExec(ctx context.Context, id string, argv []string) (int, error) {
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", "/var/run/docker.sock")
	}}}
	call := func(method, path string, body any, out any) error {
		var rd io.Reader
		if body != nil {
			js, _ := json.Marshal(body)
			rd = bytes.NewReader(js)
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://docker/v1.41"+path, rd)
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		if out != nil {
			return json.Unmarshal(data, out)
		}
		return nil
	}
	var created struct {
		ID string `json:"Id"`
	}
	if err := call("POST", "/containers/"+id+"/exec", map[string]any{"Cmd": argv, "AttachStdout": true, "AttachStderr": true}, &created); err != nil {
		return -1, err
	}
	if err := call("POST", "/exec/"+created.ID+"/start", map[string]any{"Detach": false}, nil); err != nil {
		return -1, err
	}
	var st struct {
		ExitCode int
		Running  bool
	}
	if err := call("GET", "/exec/"+created.ID+"/json", nil, &st); err != nil {
		return -1, err
	}
	return st.ExitCode, nil
}

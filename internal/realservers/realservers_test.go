package realservers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/envctl/envctl/internal/realimage"
	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/protocol"
)

// testLabel marks every container these tests create, for cleanup and leak checks.
const testLabel = "io.envctl.test=realservers"

// docker runs the docker CLI and returns its trimmed stdout.
func docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// realImage returns the image of a real server (internal/realimage builds what the engine
// lacks: minutes the first time, nothing afterwards; without shared/images beside the
// checkout the test skips, saying how).
func realImage(t testing.TB, name string) string {
	t.Helper()
	testimage.Need(t)
	return realimage.Need(t, name)[name]
}

// server is one container of a real server.
type server struct {
	tb testing.TB
	id string
}

// create creates (not starts) a container of img with the args after the image, labelled
// for cleanup, and removes it at the end of the test.
func create(t *testing.T, img string, args ...string) *server {
	t.Helper()
	ctx := context.Background()
	opts, cmd := args, []string(nil)
	for i, a := range args {
		if a == "--" {
			opts, cmd = args[:i], args[i+1:]
			break
		}
	}
	all := append(append([]string{"create", "--label", testLabel}, opts...), img)
	all = append(all, cmd...)
	id, err := docker(ctx, all...)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{tb: t, id: id}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", "--tail", "30", id).CombinedOutput()
			t.Logf("last lines of the server's output:\n%s", logs)
		}
		_, _ = docker(context.Background(), "rm", "-f", "-v", id)
	})
	return s
}

func (s *server) docker(args ...string) string {
	s.tb.Helper()
	out, err := docker(context.Background(), args...)
	if err != nil {
		s.tb.Fatal(err)
	}
	return out
}

// ip is the container's address on the default bridge (envctl's own process routes to it on
// a Linux host, as envctl's direct probes do).
func (s *server) ip() string {
	s.tb.Helper()
	ip := s.docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", s.id)
	if ip == "" {
		s.tb.Fatalf("container %s has no address", s.id)
	}
	return ip
}

// attempt is one try of the probe or of the client.
type attempt struct {
	start, end time.Time
	ok         bool
	detail     string
}

// loop tries fn every 20 ms until it succeeds or ctx ends, and returns every attempt.
func loop(ctx context.Context, fn func(ctx context.Context) (bool, string)) []attempt {
	var out []attempt
	for ctx.Err() == nil {
		a := attempt{start: time.Now()}
		actx, cancel := context.WithTimeout(ctx, 2*time.Second) // envctl's default attempt timeout
		a.ok, a.detail = fn(actx)
		cancel()
		a.end = time.Now()
		out = append(out, a)
		if a.ok {
			return out
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return out
}

// race runs the probe and a real client side by side, each every 20 ms, until both succeed,
// and checks that the probe agrees with the client within 100 ms: it never said ready more
// than 100 ms before an attempt of the client that began later failed, and never said not
// ready in an attempt that began more than 100 ms after the client's first success. It
// returns the probe's attempts. The probe is envctl's own code (provisioner.Direct.Protocol,
// what an up runs on a Linux host), on a fixed 20 ms schedule so that what is compared is the
// check's verdict, not the adaptive schedule's back-off.
func race(t *testing.T, timeout time.Duration, addr string, p protocol.Params, client func(ctx context.Context) error) []attempt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var probe, cl []attempt
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		probe = loop(ctx, func(ctx context.Context) (bool, string) {
			ok, detail, err := provisioner.Direct.Protocol(ctx, addr, p)
			if err != nil {
				return false, err.Error()
			}
			return ok, detail
		})
	}()
	go func() {
		defer wg.Done()
		cl = loop(ctx, func(ctx context.Context) (bool, string) {
			if err := client(ctx); err != nil {
				return false, err.Error()
			}
			return true, "ok"
		})
	}()
	wg.Wait()
	show := func(name string, as []attempt) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: %d attempts", name, len(as))
		last := ""
		for _, a := range as {
			if a.detail != last {
				fmt.Fprintf(&b, "\n  %s %v %q", a.start.Format("15:04:05.000"), a.ok, a.detail)
				last = a.detail
			}
		}
		return b.String()
	}
	t.Logf("%s\n%s", show("probe", probe), show("client", cl))
	if len(probe) == 0 || !probe[len(probe)-1].ok {
		t.Fatalf("the probe never said ready within %v", timeout)
	}
	if len(cl) == 0 || !cl[len(cl)-1].ok {
		t.Fatalf("the client never succeeded within %v", timeout)
	}
	pOK, cOK := probe[len(probe)-1], cl[len(cl)-1]
	if len(cl) > 1 {
		cFail := cl[len(cl)-2]
		if pOK.end.Before(cFail.start.Add(-100 * time.Millisecond)) {
			t.Errorf("the probe said ready at %s, more than 100 ms before a client's attempt that began at %s failed (%s)",
				pOK.end.Format("15:04:05.000"), cFail.start.Format("15:04:05.000"), cFail.detail)
		}
	}
	if len(probe) > 1 {
		pFail := probe[len(probe)-2]
		if pFail.start.After(cOK.end.Add(100 * time.Millisecond)) {
			t.Errorf("the probe said not ready (%s) in an attempt that began at %s, more than 100 ms after the client's first success at %s",
				pFail.detail, pFail.start.Format("15:04:05.000"), cOK.end.Format("15:04:05.000"))
		}
	}
	t.Logf("probe ready %+d ms from the client's first success", pOK.end.Sub(cOK.end).Milliseconds())
	return probe
}

// useAMQP is a real AMQP client's first operation: connect as guest, open a channel.
func useAMQP(ctx context.Context, addr string, dial time.Duration) error {
	conn, err := amqp.DialConfig("amqp://guest:guest@"+addr+"/", amqp.Config{Dial: amqp.DefaultDial(dial)})
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	return ch.Close()
}

// pingMySQL is a real MySQL client's first operation: log in as app to database app, ping.
func pingMySQL(ctx context.Context, addr, timeout string) error {
	db, err := sql.Open("mysql", fmt.Sprintf("app:app@tcp(%s)/app?timeout=%s", addr, timeout))
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

// sawBefore fails the test unless one of the probe's attempts before it got ready says want:
// the server was shown as not ready while it initialised or loaded.
func sawBefore(t *testing.T, probe []attempt, want string) {
	t.Helper()
	for _, a := range probe[:len(probe)-1] {
		if !a.ok && strings.Contains(a.detail, want) {
			return
		}
	}
	t.Errorf("no attempt of the probe said %q before it got ready", want)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	img := realImage(t, "postgres")
	s := create(t, img, "-e", "POSTGRES_USER=app", "-e", "POSTGRES_PASSWORD=pw", "-e", "POSTGRES_DB=app")
	// A slow init script: the image runs it on a server that does not listen on TCP yet.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slow.sql"), []byte("SELECT pg_sleep(3);\nCREATE TABLE t (a int);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.docker("cp", filepath.Join(dir, "slow.sql"), s.id+":/docker-entrypoint-initdb.d/slow.sql")
	s.docker("start", s.id)
	addr := net.JoinHostPort(s.ip(), "5432")
	probe := race(t, 2*time.Minute, addr, protocol.Params{Kind: protocol.Postgres, User: "app", Database: "app"}, func(ctx context.Context) error {
		db, err := sql.Open("postgres", fmt.Sprintf("postgres://app:pw@%s/app?sslmode=disable&connect_timeout=2", addr))
		if err != nil {
			return err
		}
		defer db.Close()
		var n int
		return db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
	})
	sawBefore(t, probe, "refused")
	if d := probe[len(probe)-1].detail; !strings.Contains(d, "SCRAM") {
		t.Errorf("ready on %q, want the server's SCRAM authentication request", d)
	}
}

// startMariaDB starts a MariaDB on its first start (it initialises, then listens) with the
// settings of the official mariadb image, which ours follows, and returns its address.
func startMariaDB(t *testing.T) string {
	t.Helper()
	img := realImage(t, "mariadb")
	s := create(t, img, "-e", "MARIADB_ROOT_PASSWORD=root", "-e", "MARIADB_DATABASE=app", "-e", "MARIADB_USER=app", "-e", "MARIADB_PASSWORD=app")
	s.docker("start", s.id)
	return net.JoinHostPort(s.ip(), "3306")
}

func TestMariaDB(t *testing.T) {
	t.Parallel()
	addr := startMariaDB(t)
	probe := race(t, 3*time.Minute, addr, protocol.Params{Kind: protocol.MySQL}, func(ctx context.Context) error {
		return pingMySQL(ctx, addr, "2s")
	})
	sawBefore(t, probe, "refused")
	if d := probe[len(probe)-1].detail; !strings.Contains(d, "MariaDB") {
		t.Errorf("ready on %q, want MariaDB's handshake", d)
	}
}

// TestMySQLProbeDoesNotBlockHost: MariaDB blocks a host after max_connect_errors (100)
// connections dropped in the middle of the handshake ("Host ... is blocked because of many
// connection errors"), and every client from envctl's machine shares envctl's address. 150
// probes, far more than the 100, leave the server usable from that address: the probe finishes
// the handshake (a refused login does not count) instead of hanging up after the greeting.
func TestMySQLProbeDoesNotBlockHost(t *testing.T) {
	t.Parallel()
	addr := startMariaDB(t)
	ping := func(ctx context.Context) error { return pingMySQL(ctx, addr, "2s") }
	race(t, 3*time.Minute, addr, protocol.Params{Kind: protocol.MySQL}, ping)
	for i := range 150 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ok, detail, err := provisioner.Direct.Protocol(ctx, addr, protocol.Params{Kind: protocol.MySQL})
		cancel()
		if err != nil || !ok {
			t.Fatalf("probe %d: %v %q %v", i+1, ok, detail, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ping(ctx); err != nil {
		t.Fatalf("a client after 150 probes: %v", err)
	}
}

// TestRedisLoading: a Redis with a password restarts on a large dataset; while it loads it
// answers -LOADING, which a TCP check would take for ready.
func TestRedisLoading(t *testing.T) {
	t.Parallel()
	img := realImage(t, "redis")
	s := create(t, img, "--", "redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--save", "",
		"--dir", "/tmp", "--requirepass", "pw", "--enable-debug-command", "yes")
	s.docker("start", s.id)
	cli := func(args ...string) string {
		var out string
		var err error
		for range 100 { // until it listens
			out, err = docker(context.Background(), append([]string{"exec", s.id, "redis-cli", "--no-auth-warning", "-a", "pw"}, args...)...)
			if err == nil && !strings.Contains(out, "LOADING") && !strings.Contains(out, "refused") {
				return out
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("redis-cli %v: %q %v", args, out, err)
		return ""
	}
	cli("DEBUG", "POPULATE", "1000000", "key", "64")
	cli("SAVE")
	// Restarted, it reads dump.rdb back before it serves.
	s.docker("restart", "-t", "1", s.id)
	addr := net.JoinHostPort(s.ip(), "6379")
	probe := race(t, 2*time.Minute, addr, protocol.Params{Kind: protocol.Redis, Password: "pw"}, func(ctx context.Context) error {
		c := redis.NewClient(&redis.Options{Addr: addr, Password: "pw", MaxRetries: -1, PoolSize: 1, DialTimeout: 2 * time.Second})
		defer c.Close()
		return c.Get(ctx, "key:1").Err()
	})
	sawBefore(t, probe, "-LOADING")
	if d := probe[len(probe)-1].detail; d != "PONG" {
		t.Errorf("ready on %q, want PONG", d)
	}
	// Without the password, the server says NOAUTH: not ready, saying why.
	ok, detail, err := provisioner.Direct.Protocol(context.Background(), addr, protocol.Params{Kind: protocol.Redis})
	if err != nil || ok || !strings.Contains(detail, "-NOAUTH") {
		t.Errorf("without the password: %v %q %v, want not ready, -NOAUTH", ok, detail, err)
	}
}

func TestRabbitMQ(t *testing.T) {
	t.Parallel()
	img := realImage(t, "rabbitmq")
	s := create(t, img)
	s.docker("start", s.id)
	addr := net.JoinHostPort(s.ip(), "5672")
	probe := race(t, 3*time.Minute, addr, protocol.Params{Kind: protocol.AMQP}, func(ctx context.Context) error {
		return useAMQP(ctx, addr, 2*time.Second)
	})
	sawBefore(t, probe, "refused")
	if d := probe[len(probe)-1].detail; !strings.Contains(d, "Connection.Start") {
		t.Errorf("ready on %q, want Connection.Start", d)
	}
}

func TestMemcached(t *testing.T) {
	t.Parallel()
	img := realImage(t, "memcached")
	s := create(t, img)
	s.docker("start", s.id)
	addr := net.JoinHostPort(s.ip(), "11211")
	probe := race(t, time.Minute, addr, protocol.Params{Kind: protocol.Memcached}, func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		if dl, ok := ctx.Deadline(); ok {
			c.SetDeadline(dl)
		}
		if _, err := io.WriteString(c, "set k 0 0 1\r\nx\r\n"); err != nil {
			return err
		}
		b := make([]byte, 8)
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		if string(b) != "STORED\r\n" {
			return fmt.Errorf("set answered %q", b)
		}
		return nil
	})
	if d := probe[len(probe)-1].detail; !strings.HasPrefix(d, "VERSION ") {
		t.Errorf("ready on %q, want VERSION", d)
	}
}

// TestGRPC: a server that listens at once and reports NOT_SERVING for 3 s.
func TestGRPC(t *testing.T) {
	t.Parallel()
	testimage.Need(t)
	img, err := testimage.Build(context.Background(), "grpchealth", "github.com/envctl/envctl/internal/realservers/grpchealth")
	if err != nil {
		t.Fatal(err)
	}
	s := create(t, img, "-e", "NOT_SERVING_FOR=3s")
	s.docker("start", s.id)
	addr := net.JoinHostPort(s.ip(), "9090")
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	hc := healthpb.NewHealthClient(cc)
	probe := race(t, time.Minute, addr, protocol.Params{Kind: protocol.GRPC, Service: "app"}, func(ctx context.Context) error {
		r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "app"})
		if err != nil {
			return err
		}
		if r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return errors.New(r.GetStatus().String())
		}
		return nil
	})
	sawBefore(t, probe, "NOT_SERVING")
	if d := probe[len(probe)-1].detail; d != "SERVING" {
		t.Errorf("ready on %q, want SERVING", d)
	}
}

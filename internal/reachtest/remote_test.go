package reachtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// forward accepts TCP connections on l and joins each to a new connection to the unix
// socket sock: a remote engine's tcp:// endpoint, in miniature.
func forward(l net.Listener, sock string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("unix", sock)
			if err != nil {
				return
			}
			defer u.Close()
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { io.Copy(u, c); u.(*net.UnixConn).CloseWrite(); wg.Done() }()
			go func() { io.Copy(c, u); c.(*net.TCPConn).CloseWrite(); wg.Done() }()
			wg.Wait()
		}()
	}
}

// ipCmd runs ip(8) and fails the test when it fails.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestRemoteEngine is setting 3 of issue 10: envctl in a network namespace of its own that
// reaches the engine only through DOCKER_HOST=tcp://ADDR:PORT, a forwarder to the engine's
// socket on the host's end of a veth pair. up gets ready, and the endpoints it prints — the
// engine's host with the published port — answer from that namespace.
func TestRemoteEngine(t *testing.T) {
	needRoot(t, "ip")
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		if !strings.HasPrefix(h, "unix://") {
			testimage.SkipOrFail(t, "DOCKER_HOST=%s is not a unix socket to forward", h)
		}
		sock = strings.TrimPrefix(h, "unix://")
	}
	bin, dir := envctlBin(t), root(t)
	buildExamples(t, dir)

	// The namespace and a veth pair with a /30 of its own, only on this machine.
	tag := fmt.Sprintf("%04x", rand.IntN(1<<16))
	ns, hostIf, nsIf := "envctl-reach-"+tag, "erh"+tag, "ern"+tag
	octet := 1 + rand.IntN(250)
	hostIP, nsIP := fmt.Sprintf("10.251.%d.1", octet), fmt.Sprintf("10.251.%d.2", octet)
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ipCmd(t, "link", "add", hostIf, "type", "veth", "peer", "name", nsIf)
	t.Cleanup(func() { exec.Command("ip", "link", "del", hostIf).Run() })
	ipCmd(t, "link", "set", nsIf, "netns", ns)
	ipCmd(t, "addr", "add", hostIP+"/30", "dev", hostIf)
	ipCmd(t, "link", "set", hostIf, "up")
	ipCmd(t, "-n", ns, "addr", "add", nsIP+"/30", "dev", nsIf)
	ipCmd(t, "-n", ns, "link", "set", nsIf, "up")
	ipCmd(t, "-n", ns, "link", "set", "lo", "up")

	l, err := net.Listen("tcp", hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go forward(l, sock)

	home := t.TempDir()
	r := &runner{t: t, bin: bin, dir: dir, wrap: []string{"ip", "netns", "exec", ns},
		env: append(baseEnv(home)[:3], "DOCKER_HOST=tcp://"+l.Addr().String())}
	name := uniqueName("reach-remote")
	t.Cleanup(func() { sweep(t, bin, dir, name) })

	res := r.must("up", "-f", "examples/shop", "--name", name, "-o", "json")
	up := parseDoc(t, res.stdout)
	if !up.OK || up.Reach == nil || up.Reach.Way != "agent" {
		t.Fatalf("up: ok %v, reach %+v; want ready through the agent", up.OK, up.Reach)
	}
	if n := strings.Count(res.stderr, "published on all of its addresses"); n != 1 {
		t.Errorf("the wide publishing was said %d times, want once:\n%s", n, res.stderr)
	}
	web := dotenv(r.must("env", name).stdout)["WEB_HTTP"]
	if !strings.HasPrefix(web, hostIP+":") {
		t.Fatalf("WEB_HTTP = %q, want the engine's host %s", web, hostIP)
	}
	// The endpoint answers from the namespace envctl runs in.
	client := filepath.Join(home, "jobclient")
	build := exec.Command("go", "build", "-o", client, "./internal/reachtest/jobclient")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build jobclient: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	get := exec.CommandContext(ctx, "ip", "netns", "exec", ns, client)
	get.Env = []string{"WEB_HTTP=" + web}
	out, err := get.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "HTTP 200: web -> api -> store") {
		t.Fatalf("GET %s from the namespace: %v\n%s", web, err, out)
	}
	t.Logf("from the namespace: %s", out)

	// ENVCTL_HOST overrides the host part.
	r.env = append(r.env, "ENVCTL_HOST=engine.example")
	if web := dotenv(r.must("env", name).stdout)["WEB_HTTP"]; !strings.HasPrefix(web, "engine.example:") {
		t.Errorf("with ENVCTL_HOST, WEB_HTTP = %q", web)
	}
	r.env = r.env[:len(r.env)-1]

	st := parseDoc(t, r.must("status", name, "-o", "json").stdout)
	for _, s := range st.Services {
		if !s.Ready {
			t.Errorf("status: %s not ready: %+v", s.Name, s.Probe)
		}
	}
	r.must("down", name)
	noneLeft(t, name)
}

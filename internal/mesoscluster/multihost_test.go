package mesoscluster

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// TestMultiHost checks the shape of the multi-host cluster the tests share: each agent
// registered under its own address, the registry answering at one name from this namespace
// and from every agent's, and an agent's Docker host ports reachable at that agent's address
// and at no other agent's.
func TestMultiHost(t *testing.T) {
	c := MultiHostCluster(t)
	resp, err := http.Get(c.Master + "/state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Slaves []struct {
			Hostname string `json:"hostname"`
			PID      string `json:"pid"`
		} `json:"slaves"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, a := range c.Agents {
		want[a.Addr] = true
	}
	if len(st.Slaves) != len(c.Agents) {
		t.Fatalf("master has %d agents, want %d", len(st.Slaves), len(c.Agents))
	}
	for _, s := range st.Slaves {
		if !want[s.Hostname] {
			t.Errorf("agent %s advertises %q, not one of the agents' own addresses %v", s.PID, s.Hostname, want)
		}
		delete(want, s.Hostname)
	}

	if code := get(t, "http://"+c.Registry+"/v2/"); code != http.StatusOK {
		t.Errorf("registry at %s from this namespace: HTTP %d", c.Registry, code)
	}
	for _, a := range c.Agents {
		out, err := exec.Command("nsenter", "--net=/run/netns/"+a.Namespace, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://"+c.Registry+"/v2/").CombinedOutput()
		if err != nil || string(out) != "200" {
			t.Errorf("registry at %s from agent %s's namespace: %s %v", c.Registry, a.Addr, out, err)
		}
	}

	if len(c.Agents) < 2 {
		t.Fatal("want at least 2 agents")
	}
	a, b := c.Agents[0], c.Agents[1]
	// A port of a's Docker range, where the engine publishes, that no task holds: the cluster
	// may be with-mesos's, shared with other packages' tests, whose tasks take the lowest
	// ports of the range first (provisioner/mesos's takePorts), so from the top down.
	var ln net.Listener
	var port int
	for port = a.DockerPorts[1]; port >= a.DockerPorts[0]; port-- {
		if ln, err = net.Listen("tcp", "0.0.0.0:"+strconv.Itoa(port)); err == nil {
			break
		}
	}
	if ln == nil {
		t.Fatalf("listen on a port of agent %s's Docker ports %v: all taken, the last: %v", a.Addr, a.DockerPorts, err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("hello"))
			conn.Close()
		}
	}()
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(a.Addr, strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatalf("dial agent %s at its own Docker port %d: %v", a.Addr, port, err)
	}
	got, _ := io.ReadAll(conn)
	conn.Close()
	if string(got) != "hello" {
		t.Errorf("agent %s:%d answered %q, want hello", a.Addr, port, got)
	}
	if conn, err := net.DialTimeout("tcp", net.JoinHostPort(b.Addr, strconv.Itoa(port)), 5*time.Second); err == nil {
		conn.Close()
		t.Errorf("agent %s's port %d also answers at agent %s's address", a.Addr, port, b.Addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial agent %s at agent %s's port: %v, want connection refused", b.Addr, a.Addr, err)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMultiHostSweep starts a one-agent cluster of its own, lets go of it as a killed run
// would (its slot's lock released, everything left running), and checks that a sweep removes
// all of it: processes, namespaces, bridge, veths, iptables rules, cgroups, mounts.
func TestMultiHostSweep(t *testing.T) {
	scripts := Find()
	if scripts == "" || os.Geteuid() != 0 {
		testimage.SkipOrFail(t, MultiHostSkipHint)
	}
	c, err := StartMultiHost(scripts, MultiHostOptions{Agents: 1, DieWithParent: true})
	if err != nil {
		t.Fatal(err)
	}
	if left := MultiHostLeftovers(c.Slot); len(left) == 0 {
		t.Fatal("a running cluster shows no namespace, bridge or process: the leftover check sees nothing")
	}
	releaseSlot(c.Slot) // as if its process had been killed
	if err := SweepMultiHost(); err != nil {
		t.Fatal(err)
	}
	if left := MultiHostLeftovers(c.Slot); len(left) > 0 {
		t.Fatalf("left after the sweep: %v", left)
	}
}

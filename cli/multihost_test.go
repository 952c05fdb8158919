package cli

import (
	"bufio"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/envctl/envctl/internal/mesoscluster"
)

// TestScriptsMultiHost runs the scripts of testdata/multihost (kept apart from testdata/script,
// which TestScripts runs against the local engine) against the multi-host cluster
// (mesoscluster.MultiHostCluster: agents in network namespaces of their own, a registry):
// MASTER, REGISTRY and AGENTS (the agents' addresses) name it; the envctl there reaches it as
// a user's would. The cluster's stop (with-mesos, or this package's TestMain) checks that
// nothing of it is left.
func TestScriptsMultiHost(t *testing.T) {
	c := mesoscluster.MultiHostCluster(t)
	t.Cleanup(func() {
		if err := mesoscluster.StopMultiHost(); err != nil { // only a cluster started here
			t.Error(err)
		}
	})
	t.Cleanup(func() { checkNoLeaks(t) })
	files, err := filepath.Glob(filepath.Join("testdata", "multihost", "multihost_*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no multihost_* scripts: %v", err)
	}
	var agents []string
	for _, a := range c.Agents {
		agents = append(agents, a.Addr)
	}
	p := scriptParams(t, func() (string, error) { return c.Master, nil })
	p.Dir, p.Files = "", files
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		env.Setenv("ENVCTL_BACKEND", "mesos")
		env.Setenv("ENVCTL_MESOS_MASTER", c.Master)
		env.Setenv("MASTER", c.Master)
		env.Setenv("REGISTRY", c.Registry)
		env.Setenv("AGENTS", strings.Join(agents, " "))
		return nil
	}
	p.Cmds["only-at-own-agent"] = cmdOnlyAtOwnAgent
	testscript.Run(t, p)
}

// cmdOnlyAtOwnAgent: only-at-own-agent FILE — FILE is `envctl env NAME` output (NAME=HOST:PORT
// lines). Each endpoint on an agent ($AGENTS) must accept a connection at its own agent's
// address, and the same port must refuse one at every other agent's address: a service that
// answered everywhere would let a wrong address pass.
func cmdOnlyAtOwnAgent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: only-at-own-agent FILE")
	}
	agents := strings.Fields(ts.Getenv("AGENTS"))
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		host, port, err := net.SplitHostPort(strings.Trim(v, `"'`))
		if err != nil {
			continue
		}
		own := false
		for _, a := range agents {
			own = own || a == host
		}
		if !own {
			ts.Fatalf("endpoint %s is not at an agent's address (%v)", v, agents)
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 5*time.Second)
		if err != nil {
			ts.Fatalf("endpoint %s does not answer at its own agent: %v", v, err)
		}
		conn.Close()
		for _, a := range agents {
			if a == host {
				continue
			}
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(a, port), 5*time.Second)
			if err == nil {
				conn.Close()
				ts.Fatalf("endpoint %s also answers at agent %s", v, a)
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				ts.Fatalf("dial %s:%s (another agent): %v, want connection refused", a, port, err)
			}
		}
		checked++
	}
	if checked == 0 {
		ts.Fatalf("no HOST:PORT endpoint in %s", args[0])
	}
	ts.Logf("%d endpoints answer at their own agent only", checked)
}

package reachtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// apiOnly is setting 4 of issue 10: envctl in a network namespace of its own (unshare -n),
// where nothing but the engine's unix socket is reachable — not even loopback.
func apiOnly(t *testing.T) *runner {
	t.Helper()
	needRoot(t, "unshare")
	if h := os.Getenv("DOCKER_HOST"); h != "" && !strings.HasPrefix(h, "unix://") {
		testimage.SkipOrFail(t, "DOCKER_HOST=%s is not a unix socket; an empty namespace cannot reach it", h)
	}
	bin, dir := envctlBin(t), root(t)
	buildExamples(t, dir)
	return &runner{t: t, bin: bin, dir: dir, env: baseEnv(t.TempDir()), wrap: []string{"unshare", "-n"}}
}

// TestAPIOnly: up gets ready through the agent, status says so, and down from the same place
// removes everything.
func TestAPIOnly(t *testing.T) {
	r := apiOnly(t)
	name := uniqueName("reach-api")
	t.Cleanup(func() { sweep(t, r.bin, r.dir, name) })
	up := parseDoc(t, r.must("up", "-f", "examples/shop", "--name", name, "-o", "json").stdout)
	if !up.OK || up.Reach == nil || up.Reach.Way != "agent" || !strings.Contains(up.Reach.Why, "network is unreachable") {
		t.Fatalf("up: ok %v, reach %+v; want ready through the agent because the network is unreachable", up.OK, up.Reach)
	}
	st := parseDoc(t, r.must("status", name, "-o", "json").stdout)
	for _, s := range st.Services {
		if !s.Ready {
			t.Errorf("status: %s not ready: %+v", s.Name, s.Probe)
		}
	}
	// The published endpoints are the host's loopback, which this namespace lacks; from the
	// host they answer.
	getChain(t, dotenv(r.must("env", name).stdout)["WEB_HTTP"])
	r.must("down", name)
	noneLeft(t, name)
}

// TestAPIOnlyNoAgent: when the agent cannot run either (no linux binary for it), up fails
// quickly — not at the ready timeout — naming what it tried and how to fix it, and leaves
// nothing.
func TestAPIOnlyNoAgent(t *testing.T) {
	r := apiOnly(t)
	notBinary := filepath.Join(t.TempDir(), "envctl-linux-amd64")
	if err := os.WriteFile(notBinary, []byte("not a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.env = append(r.env, "ENVCTL_AGENT_BINARY="+notBinary)
	name := uniqueName("reach-noagent")
	t.Cleanup(func() { sweep(t, r.bin, r.dir, name) })
	res := r.run("up", "-f", "examples/shop", "--name", name, "--timeout", "2m")
	if res.code == 0 {
		t.Fatalf("up succeeded without any way to reach the services:\n%s", res.stderr)
	}
	for _, want := range []string{"no way reaches the services", "network is unreachable", "probe agent", "ENVCTL_AGENT_BINARY"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("the failure lacks %q:\n%s", want, res.stderr)
		}
	}
	// The bound is the 5 s from the first start, plus the start and the rollback on
	// a loaded machine; the point is that it is far from the 2 minutes of --timeout.
	t.Logf("up failed after %v (store's creation and the rollback included)", res.took.Round(time.Millisecond))
	if res.took > 30*time.Second {
		t.Errorf("up took %v to fail, want well under --timeout", res.took)
	}
	noneLeft(t, name)
}

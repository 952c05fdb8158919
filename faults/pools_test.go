package faults

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/envctl/envctl/internal/testimage"
)

// maxFillers bounds how many networks TestAddressPoolsUsedUp makes to use up the engine's
// pools: the defaults hold about 30.
const maxFillers = 80

// TestAddressPoolsUsedUp: once the engine's own address pools are used up (by filler networks
// made here), up still brings environments up, each in a subnet of its own from
// ENVCTL_SUBNET_POOL; when that range is used up too, up fails naming it, and leaves nothing.
// It runs in the fault suite because while it runs no other network can be created on the
// engine.
func TestAddressPoolsUsedUp(t *testing.T) {
	img := needDocker(t)
	var fillers []string
	t.Cleanup(func() {
		if len(fillers) > 0 {
			if out, err := exec.Command("docker", append([]string{"network", "rm"}, fillers...)...).CombinedOutput(); err != nil {
				t.Errorf("removing the filler networks: %v\n%s", err, out)
			}
		}
	})
	usedUp := false
	for i := 0; i < maxFillers && !usedUp; i++ {
		name := fmt.Sprintf("envctl-test-filler-%d-%d", os.Getpid(), i)
		out, err := exec.Command("docker", "network", "create", "--label", "io.envctl.test=filler", name).CombinedOutput()
		switch {
		case err == nil:
			fillers = append(fillers, name)
		case strings.Contains(string(out), "non-overlapping IPv4 address pool"):
			usedUp = true
		default:
			t.Fatalf("docker network create %s: %v\n%s", name, err, out)
		}
	}
	if !usedUp {
		testimage.SkipOrFail(t, "the engine's address pools hold more than %d networks (default-address-pools is set): nothing to use up", maxFillers)
	}
	t.Logf("the engine's pools were used up after %d filler networks", len(fillers))

	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", oneService)
	pool := []string{"ENVCTL_SUBNET_POOL=10.213.64.0/22"} // room for two /23s
	a, b, c := newEnvName(t, "pool"), newEnvName(t, "pool"), newEnvName(t, "pool")
	for _, env := range []string{a, b, c} {
		cleanupEnv(t, env)
	}
	subnets := map[string]bool{}
	for _, env := range []string{a, b} {
		r := envctl(t, dir, pool, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
		wantExit(t, r, 0)
		sub := strings.TrimSpace(docker(t, "network", "inspect", "envctl-"+env, "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}"))
		p, err := netip.ParsePrefix(sub)
		if err != nil || p.Bits() != 23 || !netip.MustParsePrefix("10.213.64.0/22").Contains(p.Addr()) || subnets[sub] {
			t.Errorf("network of %s: subnet %q, want a /23 of 10.213.64.0/22 of its own", env, sub)
		}
		subnets[sub] = true
	}

	r := envctl(t, dir, pool, append([]string{"up", "--name", c, "-f", file}, imgVar(img)...)...)
	t.Logf("up with both used up:\n%s", r.stderr)
	wantExit(t, r, 1)
	wantIn(t, "stderr", r.stderr, "address pools are used up", "ENVCTL_SUBNET_POOL (10.213.64.0/22) has no free /23 subnet left", "default-address-pools")
	wantNothingLeft(t, c)

	for _, env := range []string{a, b} {
		wantExit(t, envctl(t, dir, nil, "down", env), 0)
		wantNothingLeft(t, env)
	}
}

package docker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
)

// TestRemoveStaleAgentImages builds agent images from three envctl binaries (the static envctl
// with a marker of this run appended, so that their hashes and tags are this test's own): the
// current one, a stale one, and one a container was created from. gc removes the stale one
// only, and says why it kept the others. The sweep is limited to this test's images: the
// engine is shared, and the clock is set two hours ahead to make the images old enough.
// Using an image again marks it recent (its last tag time).
func TestRemoveStaleAgentImages(t *testing.T) {
	b := testBackend(t)
	static := staticEnvctl(t)
	data, err := os.ReadFile(static)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	marker := randomHex(6)
	refs := map[string]string{}
	// build builds (or finds) the agent image of binary name. Another envctl's gc on this
	// shared engine may remove a just-built image before this test uses it (a sweep without
	// gc's minimum age, in a test running beside this one): build is then simply called again.
	build := func(name string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append(append([]byte{}, data...), []byte("\nagentgc-test "+marker+" "+name+"\n")...), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv(EnvAgentBinary, p)
		ref, err := b.AgentImage(ctx)
		if err != nil {
			t.Fatalf("agent image of %s: %v", name, err)
		}
		if refs[name] == "" {
			t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
		}
		refs[name] = ref
	}
	exists := func(ref string) bool { return exec.CommandContext(ctx, "docker", "image", "inspect", ref).Run() == nil }
	ctrName := "agentgc-test-" + marker
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", ctrName).Run() })
	for try := 0; ; try++ {
		build("used")
		out, err := exec.CommandContext(ctx, "docker", "create", "--name", ctrName, refs["used"], "--version").CombinedOutput()
		if err == nil {
			break
		}
		if exists(refs["used"]) || try == 2 {
			t.Fatalf("docker create: %s %v", out, err)
		}
	}
	build("stale")
	build("current") // last: the current binary is $ENVCTL_AGENT_BINARY's
	if len(map[string]bool{refs["stale"]: true, refs["used"]: true, refs["current"]: true}) != 3 {
		t.Fatalf("the three binaries gave %v, want three images", refs)
	}
	// A use counts as recent: AgentImage finding its image again sets the engine's last tag
	// time (the engine's clock is this machine's; a second of skew is allowed).
	before := time.Now()
	if again, err := b.AgentImage(ctx); err != nil || again != refs["current"] {
		t.Fatalf("AgentImage again: %q, %v; want %q", again, err, refs["current"])
	}
	if info, err := b.api.ImageInspect(ctx, refs["current"]); err != nil {
		t.Fatal(err)
	} else if last := info.Metadata.LastTagTime; last.Before(before.Add(-time.Second)) {
		t.Errorf("last tag time %s, before the AgentImage call at %s: a use does not count", last, before)
	}

	ours := func(img image.Summary) bool {
		for _, tag := range img.RepoTags {
			for _, r := range refs {
				if tag == r {
					return true
				}
			}
		}
		return false
	}
	byRef := func(res []AgentImageGC) map[string]AgentImageGC {
		m := map[string]AgentImageGC{}
		for _, r := range res {
			m[r.Image] = r
		}
		return m
	}

	// Now: everything was just built, so nothing goes.
	res, err := b.RemoveStaleAgentImages(ctx, AgentGCOptions{only: ours})
	if err != nil {
		t.Fatal(err)
	}
	if got := byRef(res)[refs["stale"]]; got.Removed || !strings.Contains(got.Kept, "in the last") {
		t.Errorf("a just-built image: %+v, want kept as recently built", got)
	}

	later := time.Now().Add(2 * time.Hour)
	res, err = b.RemoveStaleAgentImages(ctx, AgentGCOptions{only: ours, Now: later, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := byRef(res)[refs["stale"]]; !got.Removed || !exists(refs["stale"]) {
		t.Errorf("dry run: %+v, exists %v; want reported as removed and still there", got, exists(refs["stale"]))
	}

	if !exists(refs["stale"]) || !exists(refs["current"]) {
		t.Log("another gc removed this test's images; building them again")
		build("stale")
		build("current")
	}
	res, err = b.RemoveStaleAgentImages(ctx, AgentGCOptions{only: ours, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("swept %d images, want this test's 3: %+v", len(res), res)
	}
	got := byRef(res)
	if r := got[refs["stale"]]; !r.Removed || r.Err != nil || exists(refs["stale"]) {
		t.Errorf("stale image: %+v, exists %v; want removed", r, exists(refs["stale"]))
	}
	if r := got[refs["used"]]; r.Removed || !strings.Contains(r.Kept, "in use by container "+ctrName) || !exists(refs["used"]) {
		t.Errorf("image of a container: %+v; want kept, naming the container", r)
	}
	if r := got[refs["current"]]; r.Removed || r.Kept != "the current envctl's" || !exists(refs["current"]) {
		t.Errorf("current image: %+v; want kept as the current envctl's", r)
	}
}

package realstack_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envctl/envctl/cli"
	"github.com/envctl/envctl/internal/realimage"
	"github.com/envctl/envctl/internal/testimage"
)

// needEngine skips without a Docker Engine, saying how to run the test; under CI=true it
// fails instead, so a CI that lost its engine cannot pass untested.
func needEngine(t *testing.T) {
	t.Helper()
	testimage.Need(t) // skips without an engine, fails with CI=true
	realimage.Need(t, "postgres", "redis", "rabbitmq")
}

// envctl runs the CLI in this process and returns its exit code, stdout and stderr.
func envctl(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := cli.Main(append([]string{"envctl"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// up brings dir up as name and takes it down (with its volumes) when the test ends.
func up(t *testing.T, dir, name string) string {
	t.Helper()
	t.Cleanup(func() {
		if code, _, stderr := envctl("down", name); code != 0 {
			t.Errorf("down %s: exit %d: %s", name, code, stderr)
		}
	})
	code, stdout, stderr := envctl("up", "-f", dir, "--name", name, "--timeout", "8m")
	if code != 0 {
		t.Fatalf("up %s: exit %d\n%s\n%s", name, code, stdout, stderr)
	}
	return stdout
}

func randomName(prefix string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// TestImportedStack: the compose file's pg_isready, redis-cli ping and rabbitmq-diagnostics
// checks import as envctl's protocol probes, and the import comes up: the app, which uses the
// three servers once without retries, exits 0.
func TestImportedStack(t *testing.T) {
	needEngine(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "envctl.hcl")
	if code, _, stderr := envctl("import", "compose", "--out", out, "compose.yaml"); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	hcl, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"postgres {", "redis {", "amqp {", "envctl's postgres probe", "envctl's redis probe", "envctl's amqp probe"} {
		if !bytes.Contains(hcl, []byte(want)) {
			t.Errorf("the import has no %q:\n%s", want, hcl)
		}
	}
	if bytes.Contains(hcl, []byte("\n    exec ")) { // a ready block's exec
		t.Errorf("the import kept an exec check:\n%s", hcl)
	}
	stdout := up(t, dir, randomName("rs-"))
	if !strings.Contains(stdout, "is ready") || !strings.Contains(stdout, "app ") {
		t.Errorf("up's summary: %s", stdout)
	}
}

// TestDatabaseURLLocal: a local built from service.db's address reaches the real database
// through two services' env and a job's command.
func TestDatabaseURLLocal(t *testing.T) {
	needEngine(t)
	name := randomName("rsu-")
	up(t, "urls", name)
	out, err := exec.Command("docker", "exec", name+"-db", "psql", "-U", "app", "-d", "app", "-tAc", "SELECT who FROM seen ORDER BY who").CombinedOutput()
	if err != nil {
		t.Fatalf("reading what the services wrote: %v: %s", err, out)
	}
	if got := strings.Fields(string(out)); strings.Join(got, ",") != "api,worker" {
		t.Errorf("rows written with DATABASE_URL: %q, want api and worker", got)
	}
}

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// TestExecTTY: with a terminal on stdin, the command in the container gets a terminal too
// (docker exec -it), in a FROM-scratch image; the exit status still passes through.
func TestExecTTY(t *testing.T) {
	if err := dockerReady(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	src := "service \"box\" {\n  image = \"" + imageRef + "\"\n  command = [\"--http\", \"80\"]\n  ports = { http = 80 }\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	name := newEnvName()
	var out, errOut bytes.Buffer
	if code := Main([]string{"envctl", "up", "-f", dir, "--name", name}, nil, &out, &errOut); code != 0 {
		t.Fatalf("up: exit %d\n%s", code, errOut.String())
	}
	defer func() {
		if code := Main([]string{"envctl", "down", name}, nil, &out, &errOut); code != 0 {
			t.Errorf("down: exit %d\n%s", code, errOut.String())
		}
	}()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer tty.Close()
	if err := pty.Setsize(master, &pty.Winsize{Rows: 33, Cols: 101}); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if code := Main([]string{"envctl", "exec", name, "box", "--", "/testsvc", "isatty"}, tty, &got, &errOut); code != 0 {
		t.Fatalf("exec isatty: exit %d\n%s", code, errOut.String())
	}
	if strings.TrimSpace(got.String()) != "true" {
		t.Errorf("exec with a terminal on stdin: isatty said %q, want true", got.String())
	}
	if code := Main([]string{"envctl", "exec", name, "box", "--", "/testsvc", "exit", "3"}, tty, &got, &errOut); code != 3 {
		t.Errorf("exec exit 3 with a terminal: exit %d, want 3", code)
	}
}

package gate

import (
	"strings"
	"testing"
)

// The gate's own failures: a bad call is a usage error (2); a command that is not in the PATH
// is 127 and one line on stderr, as a shell says it. (Holding, release and the exec itself
// are proven in real containers by provisioner/docker's gate tests.)
func TestGateFailures(t *testing.T) {
	var errb strings.Builder
	if code := run(nil, &errb); code != 2 || !strings.Contains(errb.String(), "usage") {
		t.Errorf("no arguments: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"x"}, &errb); code != 2 {
		t.Errorf("no --: %d %q", code, errb.String())
	}
	errb.Reset()
	t.Setenv("PATH", t.TempDir())
	if code := execute([]string{"no-such-command"}, &errb); code != 127 || !strings.Contains(errb.String(), `"no-such-command": executable file not found in $PATH`) {
		t.Errorf("missing command: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := execute([]string{"/no/such/file"}, &errb); code != 127 {
		t.Errorf("missing file: %d %q", code, errb.String())
	}
}

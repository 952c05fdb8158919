package envs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// writeFiles writes name => content under a new temporary directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadSrc loads one envctl.hcl with the given content.
func loadSrc(t *testing.T, src string, opts Options) (*Environment, map[string]*hcl.File, hcl.Diagnostics) {
	t.Helper()
	opts.Dir = writeFiles(t, map[string]string{"envctl.hcl": src})
	return Load(opts)
}

// mustLoad loads src and fails the test on any error diagnostic.
func mustLoad(t *testing.T, src string, opts Options) *Environment {
	t.Helper()
	env, _, diags := loadSrc(t, src, opts)
	if diags.HasErrors() {
		t.Fatalf("Load: unexpected errors:\n%s", diagsString(diags))
	}
	return env
}

// diagsString renders diagnostics one a line: "file:line: summary: detail".
func diagsString(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		if d.Subject != nil {
			b.WriteString(d.Subject.Filename + ":" + itoa(d.Subject.Start.Line) + ": ")
		} else {
			b.WriteString("-: ")
		}
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// wantDiag describes one expected diagnostic: its summary, a piece of its detail and the
// line of its subject (0: no subject).
type wantDiag struct {
	summary string
	detail  string
	line    int
}

// checkDiags asserts that diags are exactly want, in order.
func checkDiags(t *testing.T, diags hcl.Diagnostics, want []wantDiag) {
	t.Helper()
	ok := len(diags) == len(want)
	for i := 0; ok && i < len(want); i++ {
		d, w := diags[i], want[i]
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line
		}
		if d.Summary != w.summary || !strings.Contains(d.Detail, w.detail) || line != w.line {
			ok = false
		}
	}
	if !ok {
		var wb strings.Builder
		for _, w := range want {
			wb.WriteString(itoa(w.line) + ": " + w.summary + ": ..." + w.detail + "...\n")
		}
		t.Errorf("diagnostics:\ngot:\n%swant:\n%s", diagsString(diags), wb.String())
	}
}

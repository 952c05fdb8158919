package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/envctl/envctl/envs"
)

// TestManListsAttributes: the man page names every service attribute the loader accepts,
// and the commands of issue 11.
func TestManListsAttributes(t *testing.T) {
	var man bytes.Buffer
	if err := WriteDocs(&man, io.Discard, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	page := man.String()
	for _, a := range envs.ServiceAttributes() {
		if !strings.Contains(page, `\fB`+a) && !strings.Contains(page, " "+a+" ") && !strings.Contains(page, `\fB`+a+`\fP`) {
			t.Errorf("the man page does not name the service attribute %q", a)
		}
	}
	for _, w := range []string{"exec", "restart", "keep-volumes", "profile", "attempt_timeout"} {
		if !strings.Contains(page, w) {
			t.Errorf("the man page does not mention %q", w)
		}
	}
}

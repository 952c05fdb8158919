package mesostest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// StartTest starts a double for a test and closes it when the test ends: with opt.Ports unset,
// on DoubleTestPorts (never a real cluster's ports). The test fails if the double does not
// start, if Close fails, or if Close leaves a container of the double behind.
func StartTest(t testing.TB, opt Options) (*Master, string) {
	t.Helper()
	if opt.Ports == nil {
		opt.Ports = DoubleTestPorts
	}
	m := New(opt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, err := m.Start(ctx)
	if err != nil {
		m.Close()
		t.Fatalf("start the Mesos double: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close the Mesos double: %v", err)
		}
		out, err := exec.Command("docker", "ps", "-aq", "--filter", "label="+LabelInstance+"="+m.Instance()).Output()
		if err != nil {
			t.Errorf("docker ps after the double closed: %v", err)
		} else if left := strings.Fields(string(out)); len(left) > 0 {
			t.Errorf("containers left after the double closed: %v", left)
		}
	})
	return m, url
}

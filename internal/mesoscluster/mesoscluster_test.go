package mesoscluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestFind: shared/mesos is found beside the module root or beside a folder above it, and
// not at all when there is none.
func TestFind(t *testing.T) {
	base := t.TempDir()
	mod := filepath.Join(base, "src", "envctl")
	sub := filepath.Join(mod, "internal", "x")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	if got := Find(); got != "" {
		t.Errorf("Find() = %q with no shared/mesos, want \"\"", got)
	}
	shared := filepath.Join(base, "shared", "mesos") // beside src, a folder above the module
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shared, "start"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := Find(); got != shared {
		t.Errorf("Find() = %q, want %q", got, shared)
	}
}

// TestSkipWithoutMesos: with neither the variable nor shared/mesos, Master skips with the one
// line that says how to run the tests.
func TestSkipWithoutMesos(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv(EnvMaster, "")
	t.Setenv("CI", "") // a user's clone: with CI=true it fails instead (testimage.SkipOrFail)
	mu.Lock()
	savedTried, savedScripts := tried, scripts
	tried = false
	mu.Unlock()
	defer func() { mu.Lock(); tried, scripts = savedTried, savedScripts; mu.Unlock() }()
	ok := t.Run("inner", func(t *testing.T) {
		defer func() {
			if !t.Skipped() {
				t.Error("Master did not skip")
			}
		}()
		Master(t)
	})
	if !ok {
		t.Error("inner test failed")
	}
}

// TestClusterProcesses: a process whose command line names a folder under the cluster's
// MESOS_DIR is the cluster's (its executors get their sandbox there); one naming a sibling
// folder with a longer name is not.
func TestClusterProcesses(t *testing.T) {
	d := t.TempDir()
	// tail -f: one process that keeps the path on its command line. (sh -c "sleep 30" PATH
	// forks, and its child carries PATH for the moment before its exec: a second match, once.)
	mineFile, otherFile := filepath.Join(d, "agent1", "x"), d+"-other/agent1/x"
	for _, f := range []string{mineFile, otherFile} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.RemoveAll(d + "-other") })
	mine := exec.Command("tail", "-f", mineFile)
	other := exec.Command("tail", "-f", otherFile)
	for _, c := range []*exec.Cmd{mine, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { c.Process.Kill(); c.Wait() }()
	}
	got := clusterProcesses(d)
	if len(got) != 1 || got[0] != mine.Process.Pid {
		t.Errorf("clusterProcesses = %v, want [%d] (not %d)", got, mine.Process.Pid, other.Process.Pid)
	}
}

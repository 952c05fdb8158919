package mesoscluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReservePorts(t *testing.T) {
	for _, tc := range []struct {
		name, before, after, other string
		agents                     int
		want                       string // the file after reservePorts
		restored                   string // the file after unreservePorts
	}{
		{name: "empty", agents: 3, want: "31000-33999", restored: ""},
		{name: "kept", before: "8080", agents: 2, want: "8080,31000-32999", restored: "8080"},
		{name: "changed since", before: "8080", agents: 1, other: "9090", want: "8080,31000-31999", restored: "9090"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "reserved")
			if err := os.WriteFile(f, []byte(tc.before+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			old := reservedPortsFile
			reservedPortsFile = f
			t.Cleanup(func() { reservedPortsFile = old })
			d := t.TempDir()
			reservePorts(d, tc.agents)
			if got := read(t, f); got != tc.want {
				t.Fatalf("after reserve: %q, want %q", got, tc.want)
			}
			if tc.other != "" {
				os.WriteFile(f, []byte(tc.other+"\n"), 0o644)
			}
			unreservePorts(d)
			if got := read(t, f); got != tc.restored {
				t.Fatalf("after unreserve: %q, want %q", got, tc.restored)
			}
			if _, err := os.Stat(filepath.Join(d, "reserved-ports")); !os.IsNotExist(err) {
				t.Fatalf("the record is left: %v", err)
			}
		})
	}
}

func read(t *testing.T, f string) string {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Two starters must never get the same cluster folder: a claimed port is refused to a second
// claim (another process's, or this one's through another descriptor) until released.
func TestClaimPortIsExclusive(t *testing.T) {
	// The first port of the range nobody holds now (another test run may hold some).
	port := 15990
	for ; port < 16000 && !claimPort(port); port++ {
	}
	if port == 16000 {
		t.Fatal("every port from 15990 to 15999 is claimed: cannot test the claim")
	}
	if claimPort(port) {
		t.Fatal("a second claim of a claimed port succeeded")
	}
	releaseClaim(clusterDir(port))
	if !claimPort(port) {
		t.Fatal("a released port could not be claimed again")
	}
	releaseClaim(clusterDir(port))
}

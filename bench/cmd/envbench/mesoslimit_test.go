package main

import (
	"strings"
	"testing"
)

// TestLimitMarkdown: mesoslimit's lines become medians and issue 16's verdicts.
func TestLimitMarkdown(t *testing.T) {
	in := `start load="1.00 2.00 3.00" time=x
result target=real round=1 kind=floor n=1 ready=5 l2r=3 down=1 load="1 1 1"
result target=real round=1 kind=floor n=30 ready=30 l2r=10 down=6 idle_mesos=0.05 idle_engine=0.05 load="1 1 1"
result target=real round=1 kind=flat n=30 up=32 down=8 idle_mesos=0.02 idle_engine=0.05 load="1 1 1"
result target=real round=1 kind=layers n=30 up=50 down=7 load="1 1 1"
result target=real round=2 kind=flat n=30 up=34 down=6 idle_mesos=0.02 idle_engine=0.05 load="1 1 1"
fail target=real round=2 kind=layers err="boom"
end load="4.00 5.00 6.00" time=y
`
	lr, err := parseLimit(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(lr.Runs) != 5 || len(lr.Failures) != 1 || lr.LoadStart != "1.00 2.00 3.00" {
		t.Fatalf("parsed %+v", lr)
	}
	containsAll(t, limitMarkdown(lr, "x"), []string{
		"| real | envctl, N flat | 2 | 33.00 (32.00–34.00) | 7.00 (6.00–8.00) |",
		"up of 30 flat ≤ 1.1 × the bare scheduler's ready (30.00 s): 33.00 against 33.00 — met",
		"up of 30 in 5 layers ≤ that + 5 × one task's launch-to-ready (3.00 s): 50.00 against 45.00 — **not met**",
		"down of 30 ≤ 1.2 × the bare kill (6.00 s): 7.00 against 7.20 — met",
		"idle cores (Mesos + engine) ≤ 1.2 × the bare tasks' (0.100) + 0.05: 0.07 against 0.17 — met",
		"boom",
	})
}

// TestPairedRatiosAndContainerizers: a round's ratio is its own flat up over its own bare
// ready (rounds without both are left out), and the multi-host targets make the
// containerizers' comparison.
func TestPairedRatiosAndContainerizers(t *testing.T) {
	in := `result target=real round=1 kind=floor n=30 ready=10 l2r=5 down=2 load="1 1 1"
result target=real round=1 kind=flat n=30 up=11 down=2 load="1 1 1"
result target=real round=2 kind=flat n=30 up=30 down=2 load="1 1 1"
result target=real round=2 kind=floor n=30 ready=20 l2r=5 down=2 load="1 1 1"
result target=real round=3 kind=flat n=30 up=99 down=2 load="1 1 1"
result target=multihost-mesos round=1 kind=floor n=30 ready=10 l2r=9 down=0.2 load="1 1 1"
result target=multihost-mesos round=1 kind=flat n=30 up=12 down=0.3 load="1 1 1"
`
	lr, err := parseLimit(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got := lr.pairedRatios("real", 30)
	if len(got) != 2 || got[0] != 1.1 || got[1] != 1.5 {
		t.Errorf("pairedRatios: got %v, want [1.1 1.5]", got)
	}
	containsAll(t, limitMarkdown(lr, "x"), []string{
		"median 1.30x of 2 rounds (1.10, 1.50)",
		"| multihost-mesos | envctl, N flat | 1 | 12.00 |",
		"the mesos containerizer, 30 flat: envctl up 12.00 s against the bare scheduler's 10.00 s (1.20x), down 0.30 s against 0.20 s (1.50x)",
	})
	if md := limitMarkdown(lr, "x"); strings.Contains(md, "docker containerizer") {
		t.Errorf("a containerizer without figures is listed:\n%s", md)
	}
}

// containsAll reports each of wants that md lacks.
func containsAll(t *testing.T, md string, wants []string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in:\n%s", want, md)
		}
	}
}

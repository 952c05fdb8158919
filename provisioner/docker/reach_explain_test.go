package docker

import (
	"errors"
	"strings"
	"testing"
)

// A refusal that could not be checked from the environment's network says why: CI once saw
// 60 s of "connection refused" for a listening service behind a firewall, with nothing saying
// that the probe agent meant to check it never started.
func TestRefusalSaysWhyTheAgentDidNotCheck(t *testing.T) {
	refused := errors.New("dial tcp 172.19.0.3:7000: connect: connection refused")
	tn := &tentativeNet{r: &envReach{}}
	if got := tn.explain(refused); got != refused {
		t.Errorf("with no agent failure: got %v, want the refusal as it is", got)
	}
	tn.r.agentErr = errors.New("build the agent image: no space left on device")
	got := tn.explain(refused)
	if !errors.Is(got, refused) || !strings.Contains(got.Error(), "the probe agent did not start: build the agent image: no space left on device") {
		t.Errorf("got %v", got)
	}
	if other := errors.New("i/o timeout"); tn.explain(other) != other {
		t.Error("an error other than a refusal was changed")
	}
}

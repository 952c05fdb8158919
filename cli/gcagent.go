package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/docker"
)

// agentImageSweeper is a backend whose engine collects envctl's probe-agent images, one per
// envctl build (issue 10): gc removes the stale ones.
type agentImageSweeper interface {
	RemoveStaleAgentImages(ctx context.Context, opt docker.AgentGCOptions) ([]docker.AgentImageGC, error)
}

// agentImageDoc is one agent image in gc's JSON output.
type agentImageDoc struct {
	Image   string `json:"image"`
	ID      string `json:"id"`
	Bytes   int64  `json:"bytes"`
	Removed bool   `json:"removed"` // in a dry run: would be
	Kept    string `json:"kept,omitempty"`
	Error   string `json:"error,omitempty"`
}

// sweepAgentImages removes (or, dryRun, lists) the agent images no container uses that are not
// this envctl's and were not used in the last hour, saying on w what it removed. It returns
// every agent image with what became of it, and how many could not be removed.
func sweepAgentImages(ctx context.Context, b provisioner.Backend, dryRun bool, w io.Writer) ([]agentImageDoc, int) {
	docs := []agentImageDoc{}
	s, ok := b.(agentImageSweeper)
	if !ok || ctx.Err() != nil {
		return docs, 0
	}
	res, err := s.RemoveStaleAgentImages(ctx, docker.AgentGCOptions{DryRun: dryRun, Now: clockNow()})
	if err != nil {
		fmt.Fprintf(w, "envctl: agent images: %v\n", err)
		return docs, 1
	}
	failed := 0
	for _, r := range res {
		d := agentImageDoc{Image: r.Image, ID: r.ID, Bytes: r.Size, Removed: r.Removed, Kept: r.Kept}
		size := fmt.Sprintf("%.1f MB", float64(r.Size)/1e6)
		switch {
		case r.Err != nil:
			d.Error = r.Err.Error()
			failed++
			fmt.Fprintf(w, "envctl: agent image %s: %v\n", r.Image, r.Err)
		case r.Removed && dryRun:
			fmt.Fprintf(w, "Would remove the stale agent image %s (%s): no container uses it and it is not this envctl's.\n", r.Image, size)
		case r.Removed:
			fmt.Fprintf(w, "Removed the stale agent image %s (%s): no container used it and it was not this envctl's.\n", r.Image, size)
		}
		docs = append(docs, d)
	}
	return docs, failed
}

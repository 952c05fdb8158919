package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
)

// Agent images (AgentImage) are tagged by their binary's hash, so every envctl build that
// needs the probe agent leaves one more on the engine (issue 10). RemoveStaleAgentImages is
// envctl gc's sweep of them.

// DefaultAgentImageMinAge is how long an agent image is kept after it was built or last used
// (AgentImage re-tags the image it finds, which the engine records as its last tag time):
// another envctl build may be bringing up an environment on the same engine right now and be
// about to start a container from its image.
const DefaultAgentImageMinAge = time.Hour

// AgentGCOptions tunes RemoveStaleAgentImages.
type AgentGCOptions struct {
	DryRun bool
	Now    time.Time     // the clock (envctl's, ENVCTL_NOW); zero is time.Now()
	MinAge time.Duration // 0 is DefaultAgentImageMinAge

	// only, when set, limits the sweep to the images it accepts: tests on a shared engine
	// must not remove other runs' agent images.
	only func(image.Summary) bool
}

// AgentImageGC is what the sweep did with one agent image.
type AgentImageGC struct {
	Image   string // its tags, or its short ID when it has none
	ID      string
	Size    int64
	Removed bool   // removed (or, in a dry run, would be)
	Kept    string // why it was kept: the current envctl's, in use, recently used
	Err     error  // why removing it failed
}

// RemoveStaleAgentImages removes the agent images that no container uses (running or not:
// the engine would refuse a stopped container's image anyway) other than the current envctl
// binary's, and that were neither built nor used in the last MinAge. It reports every agent
// image with what it did; the error is for failing to look at all.
func (b *Backend) RemoveStaleAgentImages(ctx context.Context, opt AgentGCOptions) ([]AgentImageGC, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.MinAge <= 0 {
		opt.MinAge = DefaultAgentImageMinAge
	}
	current, err := b.currentAgentTag(ctx)
	if err != nil {
		return nil, err
	}
	var imgs []image.Summary
	err = call(ctx, func(ctx context.Context) (err error) {
		imgs, err = b.api.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelAgent+"=image"))})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the agent images: %w", err)
	}
	var ctrs []container.Summary
	err = call(ctx, func(ctx context.Context) (err error) {
		ctrs, err = b.api.ContainerList(ctx, container.ListOptions{All: true})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list the containers: %w", err)
	}
	usedBy := map[string]string{}
	for _, c := range ctrs {
		if _, seen := usedBy[c.ImageID]; !seen {
			usedBy[c.ImageID] = strings.TrimPrefix(firstOr(c.Names, c.ID), "/")
		}
	}

	var out []AgentImageGC
	for _, img := range imgs {
		if opt.only != nil && !opt.only(img) {
			continue
		}
		tags := agentTags(img.RepoTags)
		r := AgentImageGC{Image: strings.Join(tags, ", "), ID: img.ID, Size: img.Size}
		if r.Image == "" {
			r.Image = shortID(strings.TrimPrefix(img.ID, "sha256:"))
		}
		switch last, lerr := b.agentImageLastUsed(ctx, img); {
		case current != "" && slices.ContainsFunc(tags, func(t string) bool { return t == current || strings.HasPrefix(t, current+"-") }):
			r.Kept = "the current envctl's"
		case usedBy[img.ID] != "":
			r.Kept = "in use by container " + usedBy[img.ID]
		case lerr != nil:
			r.Err = lerr
		case opt.Now.Sub(last) < opt.MinAge:
			r.Kept = fmt.Sprintf("built or used in the last %s", opt.MinAge)
		case opt.DryRun:
			r.Removed = true
		default:
			r.Err = b.removeAgentImage(ctx, img, tags)
			r.Removed = r.Err == nil
		}
		out = append(out, r)
	}
	return out, nil
}

// currentAgentTag is the tag AgentImage gives the current envctl binary's image, without its
// layout suffix; "" when there is no agent binary for the engine (then no image is current).
func (b *Backend) currentAgentTag(ctx context.Context) (string, error) {
	_, sum, noBinary, err := b.agentBinarySum(ctx)
	switch {
	case noBinary:
		return "", nil
	case err != nil:
		return "", err
	}
	return AgentRepo + ":" + sum[:12], nil
}

// agentImageLastUsed is the later of the image's creation and its last tag time (AgentImage
// re-tags the image it uses: see touchAgentImage).
func (b *Backend) agentImageLastUsed(ctx context.Context, img image.Summary) (time.Time, error) {
	last := time.Unix(img.Created, 0)
	var info image.InspectResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		info, err = b.api.ImageInspect(ctx, img.ID)
		return err
	})
	if err != nil {
		return last, fmt.Errorf("inspect agent image %s: %w", shortID(strings.TrimPrefix(img.ID, "sha256:")), err)
	}
	if t := info.Metadata.LastTagTime; t.After(last) {
		last = t
	}
	return last, nil
}

// removeAgentImage removes an agent image by its agent tags (an image someone else also
// tagged keeps their tag), or by ID when it has none. Never forced: the engine refuses an
// image a container started from since the containers were listed, which is right.
func (b *Backend) removeAgentImage(ctx context.Context, img image.Summary, tags []string) error {
	refs := tags
	if len(refs) == 0 {
		refs = []string{img.ID}
	}
	for _, ref := range refs {
		err := call(ctx, func(ctx context.Context) error {
			_, err := b.api.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true})
			return err
		})
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove agent image %s: %w", ref, err)
		}
	}
	return nil
}

// touchAgentImage re-tags an agent image that AgentImage found, which sets the engine's last
// tag time of the image: how RemoveStaleAgentImages tells an image in use by another envctl
// build from a forgotten one. Best effort: gc's minimum age is what a failure costs.
func (b *Backend) touchAgentImage(ctx context.Context, ref string) {
	_ = call(ctx, func(ctx context.Context) error { return b.api.ImageTag(ctx, ref, ref) })
}

// agentTags are the tags of AgentRepo among tags.
func agentTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if strings.HasPrefix(t, AgentRepo+":") {
			out = append(out, t)
		}
	}
	return out
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

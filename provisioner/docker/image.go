package docker

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"

	"github.com/envctl/envctl/provisioner"
)

// PrepareImage makes spec's image available and returns its ID. With spec.Build it builds the
// image from the context directory with the engine's (classic) builder and tags it spec.Image;
// otherwise it uses the local image, pulling it only when it is missing. Build output and pull
// progress go to progress (nil: discarded). Streaming requests follow ctx only.
func (b *Backend) PrepareImage(ctx context.Context, spec provisioner.Spec, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	if spec.Image == "" {
		return "", fmt.Errorf("service %s: no image", spec.Service)
	}
	if spec.Build != nil {
		if err := b.build(ctx, spec, progress); err != nil {
			return "", err
		}
		id, found, err := b.imageID(ctx, spec.Image)
		if err != nil {
			return "", err
		}
		if !found {
			return "", fmt.Errorf("build %s: the engine reported success but has no image %q", spec.Service, spec.Image)
		}
		return id, nil
	}
	id, found, err := b.imageID(ctx, spec.Image)
	if err != nil || found {
		return id, err
	}
	if err := b.pull(ctx, spec.Image, progress); err != nil {
		return "", err
	}
	id, found, err = b.imageID(ctx, spec.Image)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("pull image %q: the engine reported success but has no such image", spec.Image)
	}
	return id, nil
}

// imageID returns the ID of the local image ref; found is false when there is none.
func (b *Backend) imageID(ctx context.Context, ref string) (id string, found bool, err error) {
	var img image.InspectResponse
	err = call(ctx, func(ctx context.Context) (err error) {
		img, err = b.api.ImageInspect(ctx, ref)
		return err
	})
	if cerrdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("inspect image %q: %w", ref, err)
	}
	return img.ID, true, nil
}

// streamMessage is one JSON message of the engine's build and pull streams. Only the fields
// envctl shows are decoded.
type streamMessage struct {
	Stream      string `json:"stream"`
	Status      string `json:"status"`
	ID          string `json:"id"`
	Progress    string `json:"progress"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// err is the message's error, if it reports one.
func (m streamMessage) err() string {
	if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
		return m.ErrorDetail.Message
	}
	return m.Error
}

// readStream copies the engine's JSON message stream r to progress as text and returns the
// error message the stream ended with ("" when it reported none). A build or pull fails by
// such a message in a 200 response, never by its HTTP status.
func readStream(r io.Reader, progress io.Writer) (string, error) {
	dec := json.NewDecoder(r)
	for {
		var m streamMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return "", nil
			}
			return "", err
		}
		if e := m.err(); e != "" {
			return e, nil
		}
		switch {
		case m.Stream != "":
			io.WriteString(progress, m.Stream)
		case m.Status != "":
			line := m.Status
			if m.ID != "" {
				line = m.ID + ": " + line
			}
			if m.Progress != "" {
				line += " " + m.Progress
			}
			io.WriteString(progress, line+"\n")
		}
	}
}

// pull pulls ref, following ctx only: a pull takes as long as the image is big.
func (b *Backend) pull(ctx context.Context, ref string, progress io.Writer) error {
	rc, err := b.api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("pull image %q: %w", ref, err)
	}
	defer rc.Close()
	msg, err := readStream(rc, progress)
	if err != nil {
		return fmt.Errorf("pull image %q: reading the engine's progress: %w", ref, err)
	}
	if msg != "" {
		return fmt.Errorf("pull image %q: %s", ref, msg)
	}
	return nil
}

// PushImage tags the local image source as target (REGISTRY/REPOSITORY:TAG) and pushes it
// through the engine, which does the registry's protocol; the engine treats 127.0.0.0/8
// registries as insecure (plain http) by default, any other needs its insecure-registries or
// TLS. An error names the registry's own message (an unreachable registry, a refused push).
func (b *Backend) PushImage(ctx context.Context, source, target string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	if err := call(ctx, func(ctx context.Context) error { return b.api.ImageTag(ctx, source, target) }); err != nil {
		return fmt.Errorf("tag %s as %s: %w", source, target, err)
	}
	// No credentials: the engine wants the header all the same (an empty JSON object).
	rc, err := b.api.ImagePush(ctx, target, image.PushOptions{RegistryAuth: "e30="})
	if err != nil {
		return fmt.Errorf("push image %q: %w", target, err)
	}
	defer rc.Close()
	msg, err := readStream(rc, progress)
	if err != nil {
		return fmt.Errorf("push image %q: reading the engine's progress: %w", target, err)
	}
	if msg != "" {
		return fmt.Errorf("push image %q: %s", target, msg)
	}
	return nil
}

// build builds spec.Build and tags it spec.Image, following ctx only.
func (b *Backend) build(ctx context.Context, spec provisioner.Spec, progress io.Writer) error {
	bs := spec.Build
	dockerfile := bs.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if _, err := os.Stat(filepath.Join(bs.Context, dockerfile)); err != nil {
		return fmt.Errorf("build %s: %w", spec.Service, err)
	}
	args := make(map[string]*string, len(bs.Args))
	for k, v := range bs.Args {
		args[k] = &v
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeContext(pw, bs.Context, dockerfile))
	}()
	defer pr.Close() // unblocks the writer when the engine stops reading early
	resp, err := b.api.ImageBuild(ctx, pr, build.ImageBuildOptions{
		Tags:        []string{spec.Image},
		Dockerfile:  filepath.ToSlash(dockerfile),
		BuildArgs:   args,
		Target:      spec.Build.Target,
		CacheFrom:   spec.Build.CacheFrom,
		Remove:      true, // no intermediate containers left behind, even on failure
		ForceRemove: true,
		Version:     build.BuilderV1, // BuildKit needs a session; the classic builder does not
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", spec.Service, err)
	}
	defer resp.Body.Close()
	msg, err := readStream(resp.Body, progress)
	if err != nil {
		return fmt.Errorf("build %s: reading the builder's output: %w", spec.Service, err)
	}
	if msg != "" {
		return fmt.Errorf("build %s: %s", spec.Service, strings.TrimSpace(msg))
	}
	return nil
}

// writeContext writes the build context dir as a tar stream to w, leaving out what
// .dockerignore excludes. The Dockerfile and .dockerignore themselves are always sent, as the
// docker CLI does, because the builder needs them.
func writeContext(w io.Writer, dir, dockerfile string) error {
	ignore, err := readDockerignore(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		return err
	}
	keep := map[string]bool{filepath.ToSlash(filepath.Clean(dockerfile)): true, ".dockerignore": true}
	tw := tar.NewWriter(w)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !keep[rel] && ignore.excluded(rel) {
			// A directory is still walked when a later "!" pattern may re-include something in it.
			if d.IsDir() && !ignore.hasExceptions() {
				return filepath.SkipDir
			}
			return nil
		}
		return addFile(tw, p, rel, d)
	})
	if err != nil {
		return fmt.Errorf("build context %s: %w", dir, err)
	}
	return tw.Close()
}

// addFile adds one file, directory or symlink to the context.
func addFile(tw *tar.Writer, p, rel string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return nil // sockets, devices: nothing a build can use
	}
	hdr.Name = rel
	if info.IsDir() {
		hdr.Name += "/"
	}
	// Owner and times do not belong in a reproducible context; the builder ignores them anyway.
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// ignorePattern is one line of a .dockerignore.
type ignorePattern struct {
	re     *regexp.Regexp
	negate bool
}

// ignoreList is a parsed .dockerignore. It implements the common subset of the docker CLI's
// rules: one pattern per line, # comments, "!" exceptions where the last matching line wins, *
// and ? within a path element, ** across elements, and a pattern that matches a directory
// excludes everything below it.
type ignoreList []ignorePattern

func readDockerignore(p string) (ignoreList, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out ignoreList
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		if neg {
			line = strings.TrimSpace(line[1:])
		}
		line = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(line)), "/")
		if line == "" {
			continue
		}
		out = append(out, ignorePattern{re: globRegexp(line), negate: neg})
	}
	return out, sc.Err()
}

// globRegexp compiles a .dockerignore pattern. The result also matches every path below a
// match, so that "node_modules" excludes node_modules/x/y.
func globRegexp(pattern string) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			i++
			if i+1 < len(pattern) && pattern[i+1] == '/' {
				i++
				sb.WriteString("(.*/)?") // "**/" matches zero or more directories
			} else {
				sb.WriteString(".*")
			}
		case c == '*':
			sb.WriteString("[^/]*")
		case c == '?':
			sb.WriteString("[^/]")
		case c == '\\' && i+1 < len(pattern):
			i++
			sb.WriteString(regexp.QuoteMeta(string(pattern[i])))
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("(/.*)?$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		// Only character classes could fail, and they are quoted above; match nothing rather
		// than panic on a user's file.
		return regexp.MustCompile(`^\b\B$`)
	}
	return re
}

// excluded tells whether the context-relative path rel is left out of the context.
func (l ignoreList) excluded(rel string) bool {
	out := false
	for _, p := range l {
		if p.re.MatchString(rel) {
			out = !p.negate
		}
	}
	return out
}

// hasExceptions tells whether any pattern is an exception ("!").
func (l ignoreList) hasExceptions() bool {
	for _, p := range l {
		if p.negate {
			return true
		}
	}
	return false
}

package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/envctl/envctl/provisioner"
)

// LabelVolume names, on a volume, the volume's name within its environment (the mount's
// source); the engine's name is <env>-<source>.
const LabelVolume = "io.envctl.volume"

// volumeName is the engine's name of env's volume called name.
func volumeName(env, name string) string { return env + "-" + name }

// ensureVolumes creates the named volumes spec mounts that do not exist yet, labelled with the
// environment (and its expiry, so gc can sweep volumes an environment left behind with
// --keep-volumes). A volume of that name that is not this environment's is refused, never
// reused: it may hold someone else's data.
func (b *Backend) ensureVolumes(ctx context.Context, spec provisioner.Spec) error {
	for _, m := range spec.Mounts {
		if m.Type != provisioner.MountVolume {
			continue
		}
		name := volumeName(spec.Env, m.Source)
		var v volume.Volume
		err := call(ctx, func(ctx context.Context) (err error) {
			v, err = b.api.VolumeInspect(ctx, name)
			return err
		})
		switch {
		case err == nil:
			if v.Labels[provisioner.LabelEnv] != spec.Env {
				return fmt.Errorf("start %s: a volume named %q exists and is not environment %q's (no %s=%s label); remove or rename it", spec.Service, name, spec.Env, provisioner.LabelEnv, spec.Env)
			}
			continue
		case !cerrdefs.IsNotFound(err):
			return fmt.Errorf("start %s: inspect volume %q: %w", spec.Service, name, err)
		}
		labels := map[string]string{provisioner.LabelEnv: spec.Env, LabelVolume: m.Source}
		for _, k := range []string{provisioner.LabelExpires, provisioner.LabelVersion, provisioner.LabelOwner} {
			if val, ok := spec.Labels[k]; ok {
				labels[k] = val
			}
		}
		// Two services of one environment may mount one volume and start at once; the engine
		// answers a create of an existing name with that volume, so the race is harmless.
		err = call(ctx, func(ctx context.Context) error {
			_, err := b.api.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: labels})
			return err
		})
		if err != nil {
			return fmt.Errorf("start %s: create volume %q: %w", spec.Service, name, err)
		}
		b.volMu.Lock()
		if b.createdVolumes == nil {
			b.createdVolumes = map[string]bool{}
		}
		b.createdVolumes[name] = true
		b.volMu.Unlock()
	}
	return nil
}

// RemoveVolumes removes env's volumes (see provisioner.VolumeManager). With onlyCreated, only
// those this Backend created: a rollback must not take the data of an earlier up with it.
func (b *Backend) RemoveVolumes(ctx context.Context, env string, onlyCreated bool) error {
	if env == "" {
		return fmt.Errorf("remove volumes: %w", errNoEnv)
	}
	var list volume.ListResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		list, err = b.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", provisioner.LabelEnv+"="+env))})
		return err
	})
	if err != nil {
		return fmt.Errorf("list volumes of %s: %w", env, err)
	}
	var errs []error
	for _, v := range list.Volumes {
		if v == nil || v.Labels[provisioner.LabelEnv] != env || !strings.HasPrefix(v.Name, env+"-") {
			continue
		}
		if onlyCreated {
			b.volMu.Lock()
			mine := b.createdVolumes[v.Name]
			b.volMu.Unlock()
			if !mine {
				continue
			}
		}
		err := call(ctx, func(ctx context.Context) error { return b.api.VolumeRemove(ctx, v.Name, false) })
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

// volumeEnvs lists the environments that have volumes, for Environments: an environment
// brought down with --keep-volumes is still listed, so `envctl down` (or gc) can remove them.
func (b *Backend) volumeEnvs(ctx context.Context) (map[string]map[string]string, error) {
	var list volume.ListResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		list, err = b.api.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", provisioner.LabelEnv))})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	out := map[string]map[string]string{}
	for _, v := range list.Volumes {
		if v == nil {
			continue
		}
		if env := v.Labels[provisioner.LabelEnv]; env != "" && v.Labels[LabelVolume] != "" {
			out[env] = v.Labels
		}
	}
	return out, nil
}

// copyIn puts spec's bind mounts and secrets into the created, not yet started, container id:
// one tar archive extracted at "/". Copying (not bind-mounting) works with a remote engine and
// when envctl itself runs in a container, and never lets the container write to the
// repository. The content is read now, so it is what the config hash saw at load unless the
// file changed in between, which the next up then sees as a change.
func (b *Backend) copyIn(ctx context.Context, id string, spec provisioner.Spec) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	uid, gid := numericOwner(spec.User)
	n := 0
	for _, m := range spec.Mounts {
		if m.Type != provisioner.MountBind {
			continue
		}
		if err := addTree(tw, m.Source, strings.TrimPrefix(m.Target, "/"), m.ReadOnly); err != nil {
			return fmt.Errorf("copy %s to %s: %w", m.Source, m.Target, err)
		}
		n++
	}
	for _, f := range spec.Files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(f.Target, "/"), Mode: int64(f.Mode), Size: int64(len(f.Data)), Uid: uid, Gid: gid}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return nil
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return call(ctx, func(ctx context.Context) error {
		return b.api.CopyToContainer(ctx, id, "/", bytes.NewReader(buf.Bytes()), container.CopyToContainerOptions{})
	})
}

// numericOwner reads "uid[:gid]" when both are numbers, so that a secret of mode 0400 is
// readable by the user the service runs as; a user name is left to root (the image's
// /etc/passwd is not read), and the secret's default mode 0444 lets it read anyway.
func numericOwner(user string) (int, int) {
	u, g, _ := strings.Cut(user, ":")
	uid, err := strconv.Atoi(u)
	if err != nil {
		return 0, 0
	}
	gid := uid
	if g != "" {
		if gid, err = strconv.Atoi(g); err != nil {
			gid = 0
		}
	}
	return uid, gid
}

// addTree writes the file or directory src into tw under name. readOnly takes the write bits
// off (the repository is never written either way: these are copies).
func addTree(tw *tar.Writer, src, name string, readOnly bool) error {
	return filepath.Walk(src, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := path.Join(name, filepath.ToSlash(rel))
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = target
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if readOnly {
			hdr.Mode &^= 0o222
		}
		if info.IsDir() {
			hdr.Name += "/"
		}
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
		_, err = io.CopyN(tw, f, info.Size())
		return err
	})
}

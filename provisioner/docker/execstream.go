package docker

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/envctl/envctl/provisioner"
)

var _ provisioner.InteractiveExecer = (*Backend)(nil)

// ExecStream runs argv in inst's container with the caller's streams (envctl exec): with a
// TTY the engine merges the output into one stream and the terminal's size follows Resize;
// without one, stdout and stderr stay apart. The command runs as the container's user, in
// its working directory, as `docker exec` does. It needs nothing in the image but the
// command itself, so it works in a FROM-scratch image.
func (b *Backend) ExecStream(ctx context.Context, inst provisioner.Instance, argv []string, s provisioner.ExecIO) (int, error) {
	ref := ref(inst)
	if len(argv) == 0 {
		return 0, fmt.Errorf("exec in container %s: no command", ref)
	}
	var created container.ExecCreateResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		created, err = b.api.ContainerExecCreate(ctx, ref, container.ExecOptions{
			Cmd: argv, Tty: s.TTY, AttachStdin: s.Stdin != nil, AttachStdout: true, AttachStderr: true,
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("exec %q in container %s: %w", argv[0], ref, err)
	}
	// The attachment lives as long as the command: no call timeout.
	resp, err := b.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: s.TTY})
	if err != nil {
		return 0, fmt.Errorf("exec %q in container %s: %w", argv[0], ref, err)
	}
	defer resp.Close()
	stop := context.AfterFunc(ctx, resp.Close)
	defer stop()

	if s.Resize != nil {
		go func() {
			for size := range s.Resize {
				_ = b.api.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Height: size[0], Width: size[1]})
			}
		}()
	}
	if s.Stdin != nil {
		go func() {
			_, _ = io.Copy(resp.Conn, s.Stdin)
			_ = resp.CloseWrite() // EOF for the command
		}()
	}
	stdout, stderr := s.Stdout, s.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if s.TTY {
		_, err = io.Copy(stdout, resp.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, resp.Reader)
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("exec %q in container %s: %w", argv[0], ref, err)
	}
	ins, err := b.execResult(ctx, created.ID)
	if err != nil {
		return 0, fmt.Errorf("exec %q in container %s: %w", argv[0], ref, err)
	}
	return ins.ExitCode, nil
}

package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/envctl/envctl/provisioner"
)

// An exec attempt that ctx cuts off goes on running in the container: the Engine API has no
// call that stops an exec, and closing the attach connection only stops the output (seen on
// 20.10: `sleep 100` run by an abandoned exec was still there a minute later, reparented to
// the container's runtime). A check that hangs, or boots a VM per attempt like
// rabbitmq-diagnostics, would then pile up one process per attempt. So:
//
//   - every exec carries a marker in its environment (execMarkerEnv=<random token>), which
//     its children inherit; when ctx cuts it off, a second exec `sh -c` kills every process
//     of the container whose environment holds the token (the whole tree, whatever the
//     command forked). That needs sh, kill and /proc in the image, as nearly every image
//     with a check tool has;
//   - when it cannot be killed (no sh; the kill failed), the exec is remembered, and the next
//     attempt of the same command in the same container does not start another while it runs:
//     at most one stray check per service and command, never a pile.
const execMarkerEnv = "ENVCTL_EXEC_ATTEMPT"

// killTimeout bounds the kill of a cut-off exec.
const killTimeout = 10 * time.Second

// hungExec is an exec cut off and not known to have ended.
type hungExec struct {
	id    string
	since time.Time
}

// execState holds the hung execs per container and command.
type execState struct {
	mu   sync.Mutex
	hung map[string]hungExec // container ref + "\x00" + argv joined by "\x00"
}

func (s *execState) get(key string) (hungExec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hung[key]
	return h, ok
}

func (s *execState) set(key string, h *hungExec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.hung, key)
		return
	}
	if s.hung == nil {
		s.hung = map[string]hungExec{}
	}
	s.hung[key] = *h
}

// ErrExecStillRunning is wrapped by Exec's error when an earlier run of the same command in
// the same container was cut off, could not be killed and still runs.
var ErrExecStillRunning = errors.New("the previous attempt still runs")

// Exec runs argv in inst's running container, without a shell, and returns its exit code and
// its stdout and stderr combined. err is about the engine (no such container, not running, no
// such executable is exit code 126 or 127 instead), never about the command's own failure,
// which is a non-zero exit code. Exec is meant for probes: besides ctx, callTimeout bounds it.
// When ctx ends first, the command is killed in the container (see execMarkerEnv) and the
// error wraps ctx's.
func (b *Backend) Exec(ctx context.Context, inst provisioner.Instance, argv []string) (int, []byte, error) {
	ref := ref(inst)
	if len(argv) == 0 {
		return 0, nil, fmt.Errorf("exec in container %s: no command", ref)
	}
	key := ref + "\x00" + strings.Join(argv, "\x00")
	if h, ok := b.execs.get(key); ok {
		var ins container.ExecInspect
		err := call(ctx, func(ctx context.Context) (err error) {
			ins, err = b.api.ContainerExecInspect(ctx, h.id)
			return err
		})
		if err == nil && ins.Running {
			return 0, nil, fmt.Errorf("exec %q in container %s: %w (started %s ago, cut off and not killable: the image has no sh); not starting another",
				argv[0], ref, ErrExecStillRunning, time.Since(h.since).Round(time.Second))
		}
		b.execs.set(key, nil)
	}
	token := randomToken()
	var created container.ExecCreateResponse
	err := call(ctx, func(ctx context.Context) (err error) {
		created, err = b.api.ContainerExecCreate(ctx, ref, container.ExecOptions{
			Cmd: argv, AttachStdout: true, AttachStderr: true, Env: []string{execMarkerEnv + "=" + token},
		})
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("exec %q in container %s: %w", argv[0], ref, err)
	}
	started := time.Now()
	var out bytes.Buffer
	err = call(ctx, func(cctx context.Context) error {
		// Attach starts the exec and streams it until the command exits.
		resp, err := b.api.ContainerExecAttach(cctx, created.ID, container.ExecAttachOptions{})
		if err != nil {
			return err
		}
		defer resp.Close()
		// The hijacked connection does not watch ctx; close it when ctx ends so the copy returns.
		stop := context.AfterFunc(cctx, resp.Close)
		defer stop()
		_, err = stdcopy.StdCopy(&out, &out, resp.Reader)
		if cctx.Err() != nil {
			return cctx.Err()
		}
		return err
	})
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			b.killExec(ctx, ref, key, created.ID, token, started)
		}
		return 0, out.Bytes(), fmt.Errorf("exec %q in container %s: %w", argv[0], ref, err)
	}
	ins, err := b.execResult(ctx, created.ID)
	if err != nil {
		return 0, out.Bytes(), fmt.Errorf("exec %q in container %s: %w", argv[0], ref, err)
	}
	return ins.ExitCode, out.Bytes(), nil
}

// killScript kills every process whose environment holds the marker $1, found in /proc: the
// cut-off command and all it started. Its own environment lacks the marker (it is only in its
// arguments). Written for any POSIX sh (dash, busybox ash).
const killScript = `for d in /proc/[0-9]*; do
  case "$(tr '\0' '\n' < "$d/environ" 2>/dev/null)" in
    *"$1"*) kill -9 "${d#/proc/}" 2>/dev/null ;;
  esac
done`

// killExec kills the cut-off exec id (see execMarkerEnv), and remembers it when it still runs
// afterwards. It outlives ctx, which has ended.
func (b *Backend) killExec(ctx context.Context, ref, key, id, token string, started time.Time) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), killTimeout)
	defer cancel()
	marker := execMarkerEnv + "=" + token
	var created container.ExecCreateResponse
	err := call(kctx, func(ctx context.Context) (err error) {
		created, err = b.api.ContainerExecCreate(ctx, ref, container.ExecOptions{
			Cmd: []string{"sh", "-c", killScript, "envctl-kill", marker}, AttachStdout: true, AttachStderr: true,
		})
		return err
	})
	if err == nil {
		err = call(kctx, func(ctx context.Context) error {
			resp, err := b.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
			if err != nil {
				return err
			}
			defer resp.Close()
			stop := context.AfterFunc(ctx, resp.Close)
			defer stop()
			var sink bytes.Buffer
			_, err = stdcopy.StdCopy(&sink, &sink, resp.Reader)
			return err
		})
	}
	// Whether the kill worked or not, what counts is whether the command still runs.
	ins, ierr := b.execResult(kctx, id)
	if ierr == nil && !ins.Running {
		b.execs.set(key, nil)
		return
	}
	b.execs.set(key, &hungExec{id: id, since: started})
}

func randomToken() string {
	var buf [8]byte
	_, _ = rand.Read(buf[:]) // crypto/rand does not fail on Linux
	return hex.EncodeToString(buf[:])
}

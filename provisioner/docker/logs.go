package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/envctl/envctl/provisioner"
)

// Logs writes inst's stdout and stderr to w as whole lines, in the order the engine returns
// them. With opt.Follow it keeps writing until the container stops or ctx ends (then it returns
// ctx's error); opt.Since and opt.Tail narrow what is returned. The stream follows ctx only.
func (b *Backend) Logs(ctx context.Context, inst provisioner.Instance, opt provisioner.LogOptions, w io.Writer) error {
	ref := ref(inst)
	lo := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: opt.Follow, Tail: "all"}
	if opt.Tail > 0 {
		lo.Tail = strconv.Itoa(opt.Tail)
	}
	if !opt.Since.IsZero() {
		// Seconds.nanoseconds is the engine's own precise form; RFC 3339 would be truncated.
		lo.Since = fmt.Sprintf("%d.%09d", opt.Since.Unix(), opt.Since.Nanosecond())
	}
	rc, err := b.api.ContainerLogs(ctx, ref, lo)
	if err != nil {
		return fmt.Errorf("logs of container %s: %w", ref, err)
	}
	defer rc.Close()
	// Containers envctl creates have no TTY, so the stream is always multiplexed.
	var mu sync.Mutex // serialises whole lines from the two streams onto w
	stdout := &lineWriter{mu: &mu, w: w}
	stderr := &lineWriter{mu: &mu, w: w}
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	stdout.flush()
	stderr.flush()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("logs of container %s: %w", ref, err)
	}
	return nil
}

// lineWriter passes whole lines to w and keeps a partial line until its newline arrives, so
// that a line split over two frames of one stream is not cut by a line of the other stream.
type lineWriter struct {
	mu      *sync.Mutex
	w       io.Writer
	partial []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	i := bytes.LastIndexByte(p, '\n')
	if i < 0 {
		l.partial = append(l.partial, p...)
		return n, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		if _, err := l.w.Write(l.partial); err != nil {
			return 0, err
		}
		l.partial = l.partial[:0]
	}
	if _, err := l.w.Write(p[:i+1]); err != nil {
		return 0, err
	}
	l.partial = append(l.partial, p[i+1:]...)
	return n, nil
}

// flush writes a last line that had no newline, with one.
func (l *lineWriter) flush() {
	if len(l.partial) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(append(l.partial, '\n'))
	l.partial = nil
}

// execResult inspects the finished exec id. The engine closes the output stream a moment
// before it records the exit code, so an inspect right after the stream ended can still say
// "running"; it is asked again, briefly, until it does not.
func (b *Backend) execResult(ctx context.Context, id string) (container.ExecInspect, error) {
	wait := 5 * time.Millisecond
	for {
		var ins container.ExecInspect
		err := call(ctx, func(ctx context.Context) (err error) {
			ins, err = b.api.ContainerExecInspect(ctx, id)
			return err
		})
		if err != nil || !ins.Running {
			return ins, err
		}
		if wait > time.Second {
			return ins, fmt.Errorf("output ended but the command still runs")
		}
		select {
		case <-ctx.Done():
			return ins, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

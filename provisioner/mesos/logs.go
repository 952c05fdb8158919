package mesos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/envctl/envctl/provisioner"
)

// filesPage is how much one /files/read asks for.
const filesPage = 64 << 10

// sandbox reads a task's stdout and stderr through its agent's files API, remembering how far
// it has read.
type sandbox struct {
	b       *Backend
	agent   string // base URL of the agent
	dir     string // the sandbox's virtual path, /frameworks/F/executors/E/runs/latest
	offset  map[string]int64
	partial map[string]string // an unfinished last line, per file
}

var sandboxFiles = []string{"stdout", "stderr"}

// executorLine matches the lines Mesos's own executors (Docker and command) write into the
// sandbox's stdout and stderr beside the task's output: glog lines from Mesos's C++ sources,
// "I1129 03:38:32.331364  9277 checker_process.cpp:1154] HTTP health check ... returned: 503".
// On a real agent they outnumber the service's own lines (a health check logs every attempt),
// so logs, log probes and failure reports leave them out. A service's own glog-style lines
// (klog, glog in Go: "file.go:12]") are kept: only .cpp sources are Mesos's.
var executorLine = regexp.MustCompile(`^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+ +\d+ [\w./-]+\.(cpp|hpp):\d+\] `)

func (b *Backend) sandboxOf(ctx context.Context, inst provisioner.Instance) (*sandbox, error) {
	snap, t, err := b.findTask(ctx, inst.Env, inst.ID)
	if err != nil {
		return nil, err
	}
	addr, ok := snap.agents[t.AgentID.Value]
	if !ok {
		return nil, fmt.Errorf("task %s: its agent %s is gone", inst.ID, t.AgentID.Value)
	}
	// The command and Docker executors take the task's ID as their own.
	exec := t.TaskID.Value
	if t.ExecutorID != nil && t.ExecutorID.Value != "" {
		exec = t.ExecutorID.Value
	}
	return &sandbox{b: b, agent: addr.url(),
		dir:    "/frameworks/" + t.FrameworkID.Value + "/executors/" + exec + "/runs/latest",
		offset: map[string]int64{}, partial: map[string]string{}}, nil
}

// read returns what file holds past the sandbox's offset, and advances it.
func (sb *sandbox) read(ctx context.Context, file string) (string, error) {
	var out strings.Builder
	for {
		q := url.Values{"path": {sb.dir + "/" + file}, "offset": {strconv.FormatInt(sb.offset[file], 10)}, "length": {strconv.Itoa(filesPage)}}
		rctx, cancel := context.WithTimeout(ctx, callTimeout)
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, sb.agent+"/files/read?"+q.Encode(), nil)
		if err != nil {
			cancel()
			return out.String(), err
		}
		if sb.b.opt.Principal != "" {
			req.SetBasicAuth(sb.b.opt.Principal, sb.b.opt.Secret)
		}
		resp, err := sb.b.cli.hc.Do(req)
		if err != nil {
			cancel()
			return out.String(), fmt.Errorf("agent %s: %w", sb.agent, err)
		}
		if resp.StatusCode == http.StatusNotFound {
			drain(resp)
			cancel()
			return out.String(), nil // not created yet
		}
		if resp.StatusCode != http.StatusOK {
			err := statusError("files/read "+file, resp)
			cancel()
			return out.String(), err
		}
		var page struct {
			Data   string `json:"data"`
			Offset int64  `json:"offset"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 4*filesPage)).Decode(&page)
		resp.Body.Close()
		cancel()
		if err != nil {
			return out.String(), fmt.Errorf("files/read %s: %w", file, err)
		}
		if page.Data == "" {
			return out.String(), nil
		}
		out.WriteString(page.Data)
		sb.offset[file] = page.Offset + int64(len(page.Data))
	}
}

// newLines returns the complete lines written since the last call, stdout's then stderr's.
func (sb *sandbox) newLines(ctx context.Context) ([]string, error) {
	var lines []string
	var errs []error
	for _, f := range sandboxFiles {
		data, err := sb.read(ctx, f)
		if err != nil {
			errs = append(errs, err)
		}
		data = sb.partial[f] + data
		parts := strings.Split(data, "\n")
		sb.partial[f] = parts[len(parts)-1]
		for _, l := range parts[:len(parts)-1] {
			if !executorLine.MatchString(l) {
				lines = append(lines, l)
			}
		}
	}
	return lines, errors.Join(errs...)
}

// flush returns the unfinished last lines.
func (sb *sandbox) flush() []string {
	var lines []string
	for _, f := range sandboxFiles {
		if p := sb.partial[f]; p != "" && !executorLine.MatchString(p) {
			lines = append(lines, p)
			sb.partial[f] = ""
		}
	}
	return lines
}

// Logs writes a task's output from its sandbox: stdout, then stderr (the files do not say how
// their lines interleave, nor when each was written, so Since is not honoured). With Follow it
// goes on until the task ends or ctx is done.
func (b *Backend) Logs(ctx context.Context, inst provisioner.Instance, opt provisioner.LogOptions, w io.Writer) error {
	sb, err := b.sandboxOf(ctx, inst)
	if err != nil {
		return err
	}
	lines, err := sb.newLines(ctx)
	if err != nil {
		return err
	}
	if !opt.Follow {
		lines = append(lines, sb.flush()...)
	}
	if opt.Tail > 0 && len(lines) > opt.Tail {
		lines = lines[len(lines)-opt.Tail:]
	}
	if err := writeLines(w, lines); err != nil || !opt.Follow {
		return err
	}
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pollInterval):
		}
		ended := false
		if i%5 == 0 { // the master is asked once a second, the agent five times
			if cur, err := b.Inspect(ctx, inst); err == nil && cur.State == provisioner.StateExited {
				ended = true
			}
		}
		lines, err := sb.newLines(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if ended {
			lines = append(lines, sb.flush()...)
		}
		if err := writeLines(w, lines); err != nil {
			return err
		}
		if ended {
			return nil
		}
	}
}

func writeLines(w io.Writer, lines []string) error {
	for _, l := range lines {
		if _, err := io.WriteString(w, l+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// tail is the last lines of a task's output for an error message; never nil, so the message
// can say there was none.
func (b *Backend) tail(ctx context.Context, inst provisioner.Instance) []string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	var buf strings.Builder
	if err := b.Logs(ctx, inst, provisioner.LogOptions{Tail: failureLogLines}, &buf); err != nil {
		return []string{"(could not read the sandbox: " + err.Error() + ")"}
	}
	s := strings.TrimRight(buf.String(), "\n")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// logEvent is one plain progress line of `envctl up` on stderr:
// "15:04:05.000 SERVICE PHASE DETAIL".
type logEvent struct {
	At      time.Time
	Service string
	Phase   string
	Detail  string
}

// parseEventLog reads envctl's plain progress lines. They carry only the time of day (to the
// millisecond), so each is put on the day of start, the moment the process was started, and
// moved a day on if that puts it well before start (a run across midnight). Other lines are
// ignored.
func parseEventLog(stderr string, start time.Time) []logEvent {
	var evs []logEvent
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		tod, err := time.ParseInLocation("15:04:05.000", f[0], start.Location())
		if err != nil {
			continue
		}
		y, mo, d := start.Date()
		at := time.Date(y, mo, d, tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), start.Location())
		if at.Before(start.Add(-time.Hour)) {
			at = at.AddDate(0, 0, 1)
		}
		evs = append(evs, logEvent{At: at, Service: f[1], Phase: f[2], Detail: strings.Join(f[3:], " ")})
	}
	return evs
}

// engineEvent is one event of the Docker Engine (`docker events`), for containers and
// networks.
type engineEvent struct {
	At      time.Time
	Type    string // container, network
	Action  string // create, start, kill, die, stop, destroy, connect, disconnect
	ID      string
	Attrs   map[string]string
	Service string // a container's io.envctl.service label
	Env     string // a container's io.envctl.env label
}

// parseEngineEvents reads `docker events --format '{{json .}}'` lines.
func parseEngineEvents(out string) []engineEvent {
	var evs []engineEvent
	for _, line := range strings.Split(out, "\n") {
		var raw struct {
			Type   string
			Action string
			Actor  struct {
				ID         string
				Attributes map[string]string
			}
			TimeNano int64 `json:"timeNano"`
		}
		if json.Unmarshal([]byte(line), &raw) != nil || raw.TimeNano == 0 {
			continue
		}
		// Actions of exec events carry the command after a colon ("exec_start: /x y").
		action, _, _ := strings.Cut(raw.Action, ":")
		evs = append(evs, engineEvent{
			At: time.Unix(0, raw.TimeNano), Type: raw.Type, Action: action, ID: raw.Actor.ID,
			Attrs: raw.Actor.Attributes, Service: raw.Actor.Attributes["io.envctl.service"],
			Env: raw.Actor.Attributes["io.envctl.env"],
		})
	}
	return evs
}

// eventWatch streams the engine's container and network events while a profiled command runs.
type eventWatch struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex // guards buf: the reader goroutine appends while stop may read
	buf    strings.Builder
}

// watchEvents starts `docker events` from now on. --since replays what the engine already
// logged from that moment, so nothing is lost while the subscription is being set up.
func watchEvents(ctx context.Context) (*eventWatch, error) {
	since := time.Now().Add(-50 * time.Millisecond)
	wctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(wctx, "docker", "events", "--format", "{{json .}}",
		"--filter", "type=container", "--filter", "type=network",
		"--since", strconv.FormatFloat(float64(since.UnixNano())/1e9, 'f', 3, 64))
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("docker events: %w", err)
	}
	w := &eventWatch{cmd: cmd, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(pipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20) // events with many labels are long lines
		for sc.Scan() {
			w.mu.Lock()
			w.buf.WriteString(sc.Text())
			w.buf.WriteByte('\n')
			w.mu.Unlock()
		}
	}()
	return w, nil
}

// eventSettle is how long stop waits for the engine to deliver the last events of a command
// that has just exited; the stream lags the actions by a few milliseconds.
const eventSettle = 500 * time.Millisecond

// stop ends the stream and returns the events seen.
func (w *eventWatch) stop() []engineEvent {
	time.Sleep(eventSettle)
	w.cancel()
	<-w.done
	_ = w.cmd.Wait() // killed by the cancel: its error says only that
	w.mu.Lock()
	defer w.mu.Unlock()
	return parseEngineEvents(w.buf.String())
}

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"

	"github.com/envctl/envctl/provisioner"
)

// t0 is the start of every scripted run; events and the fake clock count from it.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestLineText(t *testing.T) {
	ev := func(phase provisioner.Phase, detail string, offset time.Duration) provisioner.Event {
		return provisioner.Event{Service: "api", Phase: phase, Detail: detail, Time: at(offset)}
	}
	probe := func(attempt int, detail string, offset time.Duration) provisioner.Event {
		e := ev(provisioner.PhaseProbing, detail, offset)
		e.Attempt = attempt
		return e
	}
	done := func(phase provisioner.Phase, detail string, elapsed time.Duration) provisioner.Event {
		e := ev(phase, detail, 0)
		e.Elapsed = elapsed
		return e
	}
	tests := []struct {
		name    string
		events  []provisioner.Event
		waiting []string
		width   int
		now     time.Duration
		want    string
	}{
		{name: "no event, deps pending", waiting: []string{"db", "cache"}, width: 80,
			want: "· api     waiting for db, cache"},
		{name: "no event, no deps", width: 80, want: "· api     pending"},
		{name: "waiting, all deps ready", events: []provisioner.Event{ev(provisioner.PhaseWaiting, "db", 0)}, width: 80,
			want: "· api     waiting"},
		{name: "creating", events: []provisioner.Event{ev(provisioner.PhaseCreating, "not running", time.Second)}, now: 1250 * time.Millisecond, width: 80,
			want: "⠹ api     creating  0.2s"},
		{name: "recreating says why", events: []provisioner.Event{ev(provisioner.PhaseCreating, "configuration changed", 0)}, now: 0, width: 80,
			want: "⠋ api     creating (configuration changed)  0.0s"},
		{name: "starting", events: []provisioner.Event{ev(provisioner.PhaseCreating, "", 0), probe(0, "started", time.Second)}, now: 2 * time.Second, width: 80,
			want: "⠋ api     starting  2.0s"},
		{name: "probing keeps creating's clock", events: []provisioner.Event{ev(provisioner.PhaseCreating, "", 0), probe(0, "started", time.Second), probe(7, "connection refused", 3*time.Second)}, now: 3300 * time.Millisecond, width: 80,
			want: "⠸ api     probing (attempt 7: connection refused)  3.3s"},
		{name: "probing without detail", events: []provisioner.Event{probe(2, "", 0)}, now: 90 * time.Second, width: 80,
			want: "⠋ api     probing (attempt 2)  1m30s"},
		{name: "probe detail cut, time kept", events: []provisioner.Event{probe(12, "dial tcp 172.18.0.2:5432: connect: connection refused", 0)}, now: 1500 * time.Millisecond, width: 40,
			want: "⠴ api     probing (attempt 12: d…  1.5s"},
		{name: "probe detail of several lines and escapes", events: []provisioner.Event{probe(1, "HTTP 503\x1b[31m: down\nstack trace", 0)}, width: 80,
			want: "⠋ api     probing (attempt 1: HTTP 503[31m: down)  0.0s"},
		{name: "ready", events: []provisioner.Event{done(provisioner.PhaseReady, "", 1243*time.Millisecond)}, width: 80,
			want: "✔ api     ready 1.24s"},
		{name: "kept", events: []provisioner.Event{done(provisioner.PhaseKept, "up to date", 0)}, width: 80,
			want: "✔ api     kept (up to date)"},
		{name: "failed", events: []provisioner.Event{done(provisioner.PhaseFailed, "exited 1: panic: no config\ngoroutine 1", 0)}, width: 80,
			want: "✘ api     failed: exited 1: panic: no config"},
		{name: "failed, narrow", events: []provisioner.Event{done(provisioner.PhaseFailed, "exited 1: panic: no config", 0)}, width: 25,
			want: "✘ api     failed: exite…"},
		{name: "skipped by a failed dependency", events: []provisioner.Event{ev(provisioner.PhaseSkipped, "db", 0)}, width: 80,
			want: "- api     skipped (db failed)"},
		{name: "skipped by an interrupt", events: []provisioner.Event{ev(provisioner.PhaseSkipped, "stopped", 0)}, width: 80,
			want: "- api     skipped (stopped)"},
		{name: "removing (down)", events: []provisioner.Event{ev(provisioner.PhaseRemoving, "", 0)}, now: 400 * time.Millisecond, width: 80,
			want: "⠼ api     removing  0.4s"},
		{name: "removed (down)", events: []provisioner.Event{ev(provisioner.PhaseRemoving, "", 0), ev(provisioner.PhaseRemoved, "", 0)}, width: 80,
			want: "✔ api     removed"},
		{name: "orphan removed", events: []provisioner.Event{ev(provisioner.PhaseRemoving, "not in the environment file", 0), ev(provisioner.PhaseRemoved, "", 0)}, width: 80,
			want: "✔ api     removed"},
		{name: "rollback keeps the failure", events: []provisioner.Event{done(provisioner.PhaseFailed, "probe timed out", 0), ev(provisioner.PhaseRemoving, "rollback", time.Second)}, now: 1100 * time.Millisecond, width: 80,
			want: "✘ api     failed: probe timed out  → removing 0.1s"},
		{name: "rolled back ready service", events: []provisioner.Event{done(provisioner.PhaseReady, "", 2*time.Second), ev(provisioner.PhaseRemoving, "rollback", 0), ev(provisioner.PhaseRemoved, "", 0)}, width: 80,
			want: "✔ api     ready 2s  → removed"},
		{name: "too narrow for the layout", events: []provisioner.Event{done(provisioner.PhaseReady, "", time.Second)}, width: 8,
			want: "✔ api …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &liveLine{name: "api"}
			for _, e := range tt.events {
				l.apply(e)
			}
			got := lineText(l, tt.waiting, 6, tt.width, at(tt.now))
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if w := utf8.RuneCountInString(got); w > tt.width-1 {
				t.Errorf("got %d columns, want at most %d (width - 1)", w, tt.width-1)
			}
		})
	}
}

// screen is a small VT100 model: enough of a terminal to show what mpb's redraws leave
// visible. It knows printing with wrap at the last column, CR, LF, and the CSI sequences
// cursor up/down/forward/back, erase in display and erase in line; other sequences are
// consumed and ignored.
type screen struct {
	cols, rows int
	lines      [][]rune
	row, col   int
}

func newScreen(cols, rows int) *screen { return &screen{cols: cols, rows: rows, lines: [][]rune{nil}} }

func (s *screen) down() {
	s.row++
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, nil)
	}
}

func (s *screen) write(b []byte) {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == 0x1b:
			b = s.escape(b)
		case r == '\r':
			s.col = 0
		case r == '\n':
			s.down()
		case r == '\b':
			s.col = max(s.col-1, 0)
		case r < 0x20 || r == 0x7f:
		default:
			if s.col >= s.cols { // the terminal wraps a line that runs past the last column
				s.down()
				s.col = 0
			}
			line := s.lines[s.row]
			for len(line) <= s.col {
				line = append(line, ' ')
			}
			line[s.col] = r
			s.lines[s.row] = line
			s.col++
		}
	}
}

// escape handles the sequence after an ESC and returns the rest.
func (s *screen) escape(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	if b[0] != '[' {
		return b[1:] // a two-byte sequence (ESC 7, ESC 8, ...)
	}
	i := 1
	for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
		i++
	}
	if i == len(b) {
		return nil
	}
	params, final := string(b[1:i]), b[i]
	n := 1
	if v, err := strconv.Atoi(params); err == nil && v > 0 {
		n = v
	}
	// The cursor cannot leave the visible screen: its top is rows lines above the bottom.
	top := max(len(s.lines)-s.rows, 0)
	switch final {
	case 'A':
		s.row = max(s.row-n, top)
	case 'B':
		for range n {
			s.down()
		}
	case 'C':
		s.col = min(s.col+n, s.cols-1)
	case 'D':
		s.col = max(s.col-n, 0)
	case 'J':
		if params == "" || params == "0" {
			s.eraseLine()
			s.lines = s.lines[:s.row+1]
		}
	case 'K':
		if params == "" || params == "0" {
			s.eraseLine()
		}
	}
	return b[i+1:]
}

func (s *screen) eraseLine() {
	if len(s.lines[s.row]) > s.col {
		s.lines[s.row] = s.lines[s.row][:s.col]
	}
}

// text is the screen's lines, right-trimmed, without the empty ones at the bottom.
func (s *screen) text() []string {
	var out []string
	for _, l := range s.lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// ptyTerm is a pseudo-terminal: the display writes to tty, the test reads what a terminal
// would receive from the master side.
type ptyTerm struct {
	t          *testing.T
	tty        *os.File
	cols, rows int

	mu  sync.Mutex // guards out: the reader goroutine appends, the test reads
	out []byte
}

func openTerm(t *testing.T, cols, rows int) *ptyTerm {
	t.Helper()
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	if err := pty.Setsize(master, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		t.Fatalf("set the terminal size: %v", err)
	}
	tm := &ptyTerm{t: t, tty: tty, cols: cols, rows: rows}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			tm.mu.Lock()
			tm.out = append(tm.out, buf[:n]...)
			tm.mu.Unlock()
			if err != nil {
				return // EIO once the tty side is closed and everything was read
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		<-done
		master.Close()
	})
	return tm
}

func (tm *ptyTerm) bytes() []byte {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return bytes.Clone(tm.out)
}

func (tm *ptyTerm) screen() []string {
	s := newScreen(tm.cols, tm.rows)
	s.write(tm.bytes())
	return s.text()
}

// waitScreen polls until cond holds for the screen: the display redraws on its own timer,
// so what it shows is checked when it shows it, not after a fixed sleep.
func (tm *ptyTerm) waitScreen(what string, cond func([]string) bool) []string {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := tm.screen()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the screen never showed %s; it shows:\n%s", what, strings.Join(got, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lineOf is the screen line of a service: the one whose name follows the icon.
func lineOf(screen []string, service string) string {
	for _, l := range screen {
		f := strings.Fields(l)
		if len(f) > 1 && f[1] == service {
			return l
		}
	}
	return ""
}

func showsLine(service, want string) func([]string) bool {
	return func(s []string) bool { return strings.HasSuffix(lineOf(s, service), want) }
}

// fakeClock is the display's clock in tests, so that elapsed times and spinner frames on
// screen are fixed.
type fakeClock struct {
	mu  sync.Mutex // guards now: the test sets it, the render goroutine reads it
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// closeAndCheckQuiet closes the display and checks that the summary arrived and that nothing
// is written afterwards (several refresh periods later).
func closeAndCheckQuiet(t *testing.T, tm *ptyTerm, d progressView, summary string) {
	t.Helper()
	d.close(summary)
	tm.waitScreen("the summary", func(s []string) bool { return len(s) > 0 && s[len(s)-1] == summary })
	n := len(tm.bytes())
	time.Sleep(5 * refreshRate)
	if after := tm.bytes()[n:]; len(after) > 0 {
		t.Errorf("got %q written after close, want nothing", after)
	}
}

func TestLiveDisplayUp(t *testing.T) {
	tm := openTerm(t, 80, 30)
	clock := &fakeClock{now: t0}
	services := []string{"db", "cache", "api", "web", "worker"}
	deps := map[string][]string{"api": {"db", "cache"}, "web": {"api"}, "worker": {"db"}}
	d := newLiveProgress(tm.tty, services, deps, 80, clock.Now)
	send := func(evs ...provisioner.Event) {
		for _, e := range evs {
			d.event(e)
		}
	}
	ev := func(svc string, phase provisioner.Phase, detail string, offset time.Duration) provisioner.Event {
		return provisioner.Event{Service: svc, Phase: phase, Detail: detail, Time: at(offset)}
	}

	// Before any event, the lines are there with what each waits for.
	tm.waitScreen("every service waiting", func(s []string) bool {
		return len(s) == 5 && strings.HasSuffix(lineOf(s, "api"), "waiting for db, cache")
	})

	// An orphan from an earlier run goes first; it gets a line of its own at the bottom. The
	// executor names only the first dependency; the display names every one not ready.
	send(
		ev("old", provisioner.PhaseRemoving, "not in the environment file", 0),
		ev("old", provisioner.PhaseRemoved, "", 0),
		ev("api", provisioner.PhaseWaiting, "db", 0),
		ev("web", provisioner.PhaseWaiting, "api", 0),
		ev("worker", provisioner.PhaseWaiting, "db", 0),
		ev("db", provisioner.PhaseCreating, "not running", 0),
		ev("cache", provisioner.PhaseCreating, "not running", 0),
		provisioner.Event{Service: "db", Phase: provisioner.PhaseProbing, Detail: "started", Time: at(time.Second)},
		provisioner.Event{Service: "cache", Phase: provisioner.PhaseProbing, Attempt: 7, Detail: "connection refused", Time: at(time.Second)},
	)
	clock.set(at(1500 * time.Millisecond))
	got := tm.waitScreen("db starting and cache probing", func(s []string) bool {
		return showsLine("cache", "probing (attempt 7: connection refused)  1.5s")(s) && showsLine("db", "starting  1.5s")(s)
	})
	want := map[string]string{
		"api":    "waiting for db, cache",
		"web":    "waiting for api",
		"worker": "waiting for db",
		"old":    "removed",
	}
	for svc, w := range want {
		if l := lineOf(got, svc); !strings.HasSuffix(l, w) {
			t.Errorf("line of %s: got %q, want it to end in %q", svc, l, w)
		}
	}

	send(provisioner.Event{Service: "db", Phase: provisioner.PhaseReady, Elapsed: 1243 * time.Millisecond, Time: at(1243 * time.Millisecond)})
	got = tm.waitScreen("db ready", showsLine("db", "ready 1.24s"))
	if l := lineOf(got, "api"); !strings.HasSuffix(l, "waiting for cache") {
		t.Errorf("line of api once db is ready: got %q, want it to end in %q", l, "waiting for cache")
	}

	send(
		provisioner.Event{Service: "worker", Phase: provisioner.PhaseKept, Detail: "up to date", Time: at(2 * time.Second)},
		provisioner.Event{Service: "cache", Phase: provisioner.PhaseReady, Elapsed: 2500 * time.Millisecond, Time: at(2500 * time.Millisecond)},
		ev("api", provisioner.PhaseCreating, "configuration changed", 2500*time.Millisecond),
		provisioner.Event{Service: "api", Phase: provisioner.PhaseProbing, Detail: "started", Time: at(3 * time.Second)},
		provisioner.Event{Service: "api", Phase: provisioner.PhaseFailed, Detail: "exited 1: panic: no config\ngoroutine 1 [running]", Elapsed: time.Second, Time: at(3500 * time.Millisecond)},
		ev("web", provisioner.PhaseSkipped, "api", 3500*time.Millisecond),
		ev("db", provisioner.PhaseRemoving, "rollback", 3600*time.Millisecond),
		ev("db", provisioner.PhaseRemoved, "", 3700*time.Millisecond),
	)
	summary := `Environment "shop" failed after 3.7s: 1 failed (api), 1 skipped.`
	closeAndCheckQuiet(t, tm, d, summary)

	wantScreen := []string{
		"✔ db      ready 1.24s  → removed",
		"✔ cache   ready 2.5s",
		"✘ api     failed: exited 1: panic: no config",
		"- web     skipped (api failed)",
		"✔ worker  kept (up to date)",
		"✔ old     removed",
		summary,
	}
	if diff := cmp.Diff(wantScreen, tm.screen()); diff != "" {
		t.Errorf("final screen (-want +got):\n%s", diff)
	}
	d.event(ev("db", provisioner.PhaseCreating, "", 4*time.Second))
	time.Sleep(3 * refreshRate)
	if diff := cmp.Diff(wantScreen, tm.screen()); diff != "" {
		t.Errorf("screen after an event past close (-want +got):\n%s", diff)
	}
}

// TestLiveDisplayDown: down knows no services in advance; lines appear with their first
// event, and a line still under way at close keeps its spinner frame and time.
func TestLiveDisplayDown(t *testing.T) {
	tm := openTerm(t, 60, 20)
	clock := &fakeClock{now: t0}
	d := newLiveProgress(tm.tty, nil, nil, 60, clock.Now)
	for _, e := range []provisioner.Event{
		{Service: "web", Phase: provisioner.PhaseRemoving, Time: at(0)},
		{Service: "web", Phase: provisioner.PhaseRemoved, Time: at(300 * time.Millisecond)},
		{Service: "api", Phase: provisioner.PhaseRemoving, Time: at(300 * time.Millisecond)},
		{Service: "api", Phase: provisioner.PhaseRemoved, Time: at(600 * time.Millisecond)},
		{Service: "db", Phase: provisioner.PhaseRemoving, Time: at(600 * time.Millisecond)},
	} {
		d.event(e)
	}
	clock.set(at(2100 * time.Millisecond))
	d.note("Interrupted: stopping.")
	tm.waitScreen("the note above the lines", func(s []string) bool { return len(s) > 0 && s[0] == "Interrupted: stopping." })
	closeAndCheckQuiet(t, tm, d, `Removed environment "shop" (3 instances) in 2.1s.`)
	want := []string{
		"Interrupted: stopping.",
		"✔ web  removed",
		"✔ api  removed",
		"⠴ db   removing  1.5s",
		`Removed environment "shop" (3 instances) in 2.1s.`,
	}
	if diff := cmp.Diff(want, tm.screen()); diff != "" {
		t.Errorf("final screen (-want +got):\n%s", diff)
	}
}

// TestLiveDisplayNarrowTerminal: lines are cut to the terminal's own width, so none wraps and
// every redraw lands where the last one was.
func TestLiveDisplayNarrowTerminal(t *testing.T) {
	const cols = 36
	tm := openTerm(t, cols, 20)
	clock := &fakeClock{now: t0}
	// The caller's width is wider than the terminal: the terminal's own size wins.
	d := newLiveProgress(tm.tty, []string{"db", "api"}, map[string][]string{"api": {"db"}}, 120, clock.Now)
	long := "dial tcp 172.18.0.2:5432: connect: connection refused"
	for i := 1; i <= 30; i++ {
		d.event(provisioner.Event{Service: "db", Phase: provisioner.PhaseProbing, Attempt: i, Detail: long, Time: at(0)})
		clock.set(at(time.Duration(i) * 100 * time.Millisecond))
		time.Sleep(refreshRate / 4)
	}
	d.event(provisioner.Event{Service: "api", Phase: provisioner.PhaseSkipped, Detail: "stopped", Time: at(3 * time.Second)})
	closeAndCheckQuiet(t, tm, d, "done")
	want := []string{
		"⠋ db   probing (attempt 30: …  3.0s",
		"- api  skipped (stopped)",
		"done",
	}
	got := tm.screen()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("final screen (-want +got):\n%s", diff)
	}
	for _, l := range got {
		if n := utf8.RuneCountInString(l); n >= cols {
			t.Errorf("line %q: got %d columns, want fewer than %d", l, n, cols)
		}
	}
}

// TestLiveDisplayCondensed: more services than the terminal has rows. The display keeps to the
// screen (nothing scrolls off the top while it redraws), shows failures, work under way and
// waiting lines before finished ones, and counts the rest on its last row.
func TestLiveDisplayCondensed(t *testing.T) {
	tm := openTerm(t, 80, 8) // 7 rows: 6 lines and the count
	clock := &fakeClock{now: t0}
	var services []string
	for i := 1; i <= 12; i++ {
		services = append(services, fmt.Sprintf("s%02d", i))
	}
	d := newLiveProgress(tm.tty, services, nil, 80, clock.Now)
	tm.waitScreen("6 pending lines and the count", func(s []string) bool {
		return len(s) == 7 && lineOf(s, "s01") != "" && lineOf(s, "s06") != "" && s[6] == "… 6 more: 6 waiting"
	})
	for i := 1; i <= 9; i++ {
		d.event(provisioner.Event{Service: services[i-1], Phase: provisioner.PhaseReady, Elapsed: time.Second, Time: at(time.Second)})
	}
	d.event(provisioner.Event{Service: "s10", Phase: provisioner.PhaseProbing, Attempt: 3, Detail: "refused", Time: at(time.Second)})
	d.event(provisioner.Event{Service: "s11", Phase: provisioner.PhaseFailed, Detail: "exited 2", Time: at(time.Second)})
	clock.set(at(1500 * time.Millisecond))
	want := []string{
		"✔ s01  ready 1s",
		"✔ s02  ready 1s",
		"✔ s03  ready 1s",
		"⠴ s10  probing (attempt 3: refused)  0.5s",
		"✘ s11  failed: exited 2",
		"· s12  pending",
		"… 6 more: 6 ready",
	}
	tm.waitScreen("the failure, the probe and the waiting line first", func(s []string) bool { return cmp.Equal(s, want) })

	// A line under way takes the place of a finished one, in the services' order.
	d.event(provisioner.Event{Service: "s12", Phase: provisioner.PhaseCreating, Time: at(1500 * time.Millisecond)})
	d.event(provisioner.Event{Service: "s10", Phase: provisioner.PhaseReady, Elapsed: 2 * time.Second, Time: at(2 * time.Second)})
	closeAndCheckQuiet(t, tm, d, "done")
	want = []string{
		"✔ s01  ready 1s",
		"✔ s02  ready 1s",
		"✔ s03  ready 1s",
		"✔ s04  ready 1s",
		"✘ s11  failed: exited 2",
		"⠋ s12  creating  0.0s",
		"… 6 more: 6 ready",
		"done",
	}
	if diff := cmp.Diff(want, tm.screen()); diff != "" {
		t.Errorf("final screen (-want +got):\n%s", diff)
	}
}

// stalledWriter is a terminal that takes nothing (scrolled back, Ctrl-S, a stuck ssh link):
// every Write waits until release is closed, then fails.
type stalledWriter struct {
	once    sync.Once
	entered chan struct{} // closed when the first Write has begun
	release chan struct{}
}

func (w *stalledWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return 0, errors.New("terminal gone")
}

// TestLiveDisplayNeverBlocks: while the render is stuck in a Write, event() and note() still
// return at once, for known services and new ones alike.
func TestLiveDisplayNeverBlocks(t *testing.T) {
	w := &stalledWriter{entered: make(chan struct{}), release: make(chan struct{})}
	d := newProgress(w, []string{"db"}, nil, true, 80)
	select {
	case <-w.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the display never wrote")
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := range 20000 {
			d.event(provisioner.Event{Service: "svc" + strconv.Itoa(i%50), Phase: provisioner.PhaseProbing, Attempt: i, Detail: "refused", Time: at(0)})
			if i%1000 == 0 {
				d.note("note " + strconv.Itoa(i))
			}
		}
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		close(w.release) // let the display go, so that the test ends
		t.Fatal("event() or note() blocked while the terminal took nothing")
	}
	// Let the output fail; close must then return rather than wait for the terminal forever.
	close(w.release)
	closed := make(chan struct{})
	go func() {
		d.close("summary")
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("close did not return after the output failed")
	}
}

func TestPlainProgress(t *testing.T) {
	var buf bytes.Buffer
	d := newProgress(&buf, []string{"db", "api"}, map[string][]string{"api": {"db"}}, false, 0)
	for _, e := range []provisioner.Event{
		{Service: "api", Phase: provisioner.PhaseWaiting, Detail: "db", Time: at(0)},
		{Service: "db", Phase: provisioner.PhaseCreating, Time: at(10 * time.Millisecond)},
		{Service: "db", Phase: provisioner.PhaseProbing, Attempt: 1, Detail: "connection refused", Time: at(500 * time.Millisecond)},
		{Service: "db", Phase: provisioner.PhaseProbing, Attempt: 2, Detail: "connection refused", Time: at(600 * time.Millisecond)},
		{Service: "db", Phase: provisioner.PhaseReady, Elapsed: 1243 * time.Millisecond, Time: at(1253 * time.Millisecond)},
		{Service: "api", Phase: provisioner.PhaseFailed, Detail: "exited 1", Time: at(2 * time.Second)},
	} {
		d.event(e)
	}
	d.note("Interrupted: rolling back.")
	d.close("Environment failed.")
	d.event(provisioner.Event{Service: "db", Phase: provisioner.PhaseRemoving, Time: at(3 * time.Second)})
	d.close("twice")
	want := []string{
		"12:00:00.000 api     waiting   for db",
		"12:00:00.010 db      creating  ",
		"12:00:00.500 db      probing   attempt 1: connection refused",
		"12:00:01.253 db      ready     in 1.24s",
		"12:00:02.000 api     failed    exited 1",
		"Interrupted: rolling back.",
		"Environment failed.",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")); diff != "" {
		t.Errorf("plain output (-want +got):\n%s", diff)
	}
}

func TestTerminalWidth(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer master.Close()
	defer tty.Close()
	file, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()

	if w, ok := terminalWidth(tty); w != defaultTermWidth || !ok {
		t.Errorf("terminal of size 0: got (%d, %v), want (%d, true)", w, ok, defaultTermWidth)
	}
	if err := pty.Setsize(master, &pty.Winsize{Cols: 132, Rows: 40}); err != nil {
		t.Fatal(err)
	}
	if w, ok := terminalWidth(tty); w != 132 || !ok {
		t.Errorf("terminal of 132 columns: got (%d, %v), want (132, true)", w, ok)
	}
	if w, ok := terminalWidth(file); ok {
		t.Errorf("regular file: got (%d, %v), want (_, false)", w, ok)
	}
	if w, ok := terminalWidth(nil); ok {
		t.Errorf("nil file: got (%d, %v), want (_, false)", w, ok)
	}
	if v := newProgressFor(file, nil, nil); !isPlain(v) {
		t.Errorf("newProgressFor a regular file: got %T, want *plainView", v)
	}
	t.Setenv("TERM", "xterm")
	live := newProgressFor(tty, nil, nil)
	live.close("")
	if _, ok := live.(*liveProgress); !ok {
		t.Errorf("newProgressFor a terminal: got %T, want *liveProgress", live)
	}
	t.Setenv("TERM", "dumb")
	if v := newProgressFor(tty, nil, nil); !isPlain(v) {
		t.Errorf("newProgressFor a terminal with TERM=dumb: got %T, want *plainView", v)
	}
}

func isPlain(v progressView) bool {
	_, ok := v.(*plainView)
	return ok
}

func TestProgressSummary(t *testing.T) {
	svc := func(name string, phase provisioner.Phase) *provisioner.ServiceResult {
		return &provisioner.ServiceResult{Service: name, Phase: phase}
	}
	tests := []struct {
		name string
		res  *provisioner.Result
		want string
	}{
		{"ready", &provisioner.Result{Env: "shop", Duration: 3214 * time.Millisecond, Services: []*provisioner.ServiceResult{
			svc("db", provisioner.PhaseReady), svc("api", provisioner.PhaseReady), svc("web", provisioner.PhaseKept)}},
			`Environment "shop" ready in 3.21s: 2 ready, 1 kept.`},
		{"failed", &provisioner.Result{Env: "shop", Duration: 5 * time.Second, Err: errors.New("x"), Services: []*provisioner.ServiceResult{
			svc("db", provisioner.PhaseReady), svc("api", provisioner.PhaseFailed), svc("web", provisioner.PhaseSkipped), svc("job", "")}},
			`Environment "shop" failed after 5s: 1 failed (api), 1 skipped, 1 ready, 1 not started.`},
		{"empty", &provisioner.Result{Env: "e"}, `Environment "e" ready in 0s: no services.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressSummary(tt.res); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

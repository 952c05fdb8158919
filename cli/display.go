package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/mattn/go-runewidth"
	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

// progressView is what up and down feed events to: a live display on a terminal, plain
// timestamped lines elsewhere.
type progressView interface {
	// event records one phase change. It never blocks on the output: it is called on the
	// executor's path.
	event(provisioner.Event)
	// close stops the display, leaves the final state of every line on screen and prints
	// summary (if not empty) below it. Nothing is written after close returns; events that
	// arrive later are dropped.
	close(summary string)
	// note prints a line of its own (such as "Interrupted: rolling back...") above the live
	// lines, where it stays; anything else written to the display's output while it is live
	// would be overwritten by the next redraw. Like event, it never blocks on the output.
	note(line string)
}

// newProgress returns the live display when isTTY, else the plain printer. width is the
// terminal's width (terminalWidth), used when the output cannot be asked itself; services and
// deps give the lines and the "waiting for" names in advance (both may be empty, as for down:
// lines then appear as their first event arrives).
func newProgress(w io.Writer, services []string, deps map[string][]string, isTTY bool, width int) progressView {
	if !isTTY {
		return &plainView{p: newPlainProgress(w, services)}
	}
	return newLiveProgress(w, services, deps, width, time.Now)
}

// newProgressFor picks the display for w: live when w is a terminal (and TERM is not "dumb",
// which cannot move the cursor), plain otherwise.
func newProgressFor(w io.Writer, services []string, deps map[string][]string) progressView {
	// The CLI's streams are redacting wrappers; the terminal is what they wrap. The display
	// still writes through the wrapper, so it cannot show a sensitive value either.
	under := w
	if rw, ok := w.(redactingWriter); ok {
		under = rw.w
	}
	if f, ok := under.(*os.File); ok && os.Getenv("TERM") != "dumb" {
		if width, tty := terminalWidth(f); tty {
			return newProgress(w, services, deps, true, width)
		}
	}
	return newProgress(w, services, deps, false, 0)
}

// serviceDeps gives the service names of env in declaration order and, per service, the
// names of its dependencies: newProgress's services and deps.
func serviceDeps(env *envs.Environment) ([]string, map[string][]string) {
	names := make([]string, 0, len(env.Services))
	deps := make(map[string][]string, len(env.Services))
	for _, s := range env.Services {
		names = append(names, s.Name)
		for _, d := range s.Deps {
			deps[s.Name] = append(deps[s.Name], d.Name)
		}
	}
	return names, deps
}

// defaultTermWidth is assumed for a terminal that reports no size (some CI pseudo-terminals
// report 0 columns), as most tools do.
const defaultTermWidth = 80

// terminalWidth tells whether f is a terminal and, if so, how many columns it has.
func terminalWidth(f *os.File) (int, bool) {
	if f == nil {
		return 0, false
	}
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return 0, false
	}
	w, _, err := term.GetSize(fd)
	if err != nil || w <= 0 {
		return defaultTermWidth, true
	}
	return w, true
}

// progressSummary is the line a display ends with after up: how long it took and how many
// services ended in which state.
func progressSummary(res *provisioner.Result) string {
	count := map[provisioner.Phase]int{}
	var failed []string
	for _, s := range res.Services {
		count[s.Phase]++
		if s.Phase == provisioner.PhaseFailed {
			failed = append(failed, s.Service)
		}
	}
	var parts []string
	if n := count[provisioner.PhaseFailed]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed (%s)", n, strings.Join(failed, ", ")))
	}
	if n := count[provisioner.PhaseSkipped]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", n))
	}
	if n := count[provisioner.PhaseReady]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d ready", n))
	}
	if n := count[provisioner.PhaseKept]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d kept", n))
	}
	if n := count[""]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d not started", n))
	}
	what := "no services"
	if len(parts) > 0 {
		what = strings.Join(parts, ", ")
	}
	if res.Err != nil {
		return fmt.Sprintf("Environment %q failed after %s: %s.", res.Env, roundDuration(res.Duration), what)
	}
	return fmt.Sprintf("Environment %q ready in %s: %s.", res.Env, roundDuration(res.Duration), what)
}

// plainView adapts plainProgress to progressView.
type plainView struct {
	mu     sync.Mutex // guards closed: close may come from another goroutine than events
	p      *plainProgress
	closed bool
}

func (v *plainView) event(ev provisioner.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.p.event(ev)
	}
}

func (v *plainView) note(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintln(v.p.w, line)
}

func (v *plainView) close(summary string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.closed = true
	if summary != "" {
		fmt.Fprintln(v.p.w, summary)
	}
}

// refreshRate bounds redraws to ten a second: enough to look live, little enough that a
// slow terminal (or an ssh link) is not flooded.
const refreshRate = 100 * time.Millisecond

// liveProgress is the terminal display: one line per service, redrawn in place by mpb, which
// owns the cursor movement, the redraw timer and the terminal's current size. The lines'
// text comes from our own state, which event() updates under a short lock; mpb's render
// goroutine reads it. So event() never waits for the terminal: a stalled terminal stalls
// only the render goroutine.
type liveProgress struct {
	w    io.Writer
	deps map[string][]string
	now  func() time.Time
	p    *mpb.Progress

	mu     sync.Mutex // guards lines, byName, notes, closed, the view and every line's fields
	lines  []*liveLine
	byName map[string]*liveLine
	// nameWidth is the widest name of lines, kept as lines are added: every row's render
	// aligns to it, and measuring every line per row made each frame O(rows × services).
	nameWidth int
	notes     []string // waiting for the feeder to hand them to mpb
	closed    bool

	// maxRows is how many rows the display may take: the terminal's height, less one for the
	// cursor. More lines than that would scroll off the top while mpb redraws, so the display
	// then shows the lines that matter most and one row that counts the rest.
	maxRows int
	version int   // bumped by every change of a line's phase or of the lines
	view    []int // the lines shown, by index, when condensed; for version viewOf
	viewOf  int
	more    string // the row that counts the lines not shown

	// slots are mpb's bars: slot i draws row i of the view. Only the feeder touches them,
	// and close once the feeder has ended.
	slots []*mpb.Bar

	wake chan struct{} // capacity 1: new lines wait for a bar; a send never blocks
	stop chan struct{} // closed by close: the feeder ends
	fed  chan struct{} // closed by the feeder when it has ended
}

// liveLine is the state of one service's line.
type liveLine struct {
	name    string
	phase   provisioner.Phase // "" until its first event
	detail  string
	attempt int
	elapsed time.Duration // ready, kept: time to ready
	since   time.Time     // when the current activity (creating..probing, removing) began
	outcome string        // ready/kept/failed/skipped text, kept when a rollback removes it
	icon    string        // the outcome's icon
}

func newLiveProgress(w io.Writer, services []string, deps map[string][]string, width int, now func() time.Time) *liveProgress {
	if width <= 0 {
		width = defaultTermWidth
	}
	d := &liveProgress{
		w: w, deps: deps, now: now,
		byName: map[string]*liveLine{},
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		fed:    make(chan struct{}),
	}
	con := newConsole(w, width)
	_, height, _ := con.GetTermSize()
	d.maxRows = max(height-1, 2)
	d.p = mpb.New(
		mpb.WithConsoleWriter(con),
		mpb.WithRefreshRate(refreshRate),
		mpb.WithAutoRefresh(),
		mpb.WithWidth(width),
	)
	for _, s := range services {
		d.line(s)
	}
	d.addBars()
	go d.feed()
	return d
}

// console is mpb's console writer over cupwriter, with the width the caller measured as the
// fallback when the output cannot be asked (not an *os.File, or a terminal reporting 0 columns).
// It always counts as a terminal: the caller decided that.
type console struct {
	*cupwriter.Writer
	width int
}

func newConsole(w io.Writer, width int) console {
	return console{Writer: cupwriter.New(w, true), width: width}
}

func (c console) IsTerminal() bool { return true }

func (c console) GetTermSize() (int, int, error) {
	if c.Writer.IsTerminal() {
		if w, h, err := c.Writer.GetTermSize(); err == nil && w > 0 && h > 0 {
			return w, h, nil
		}
	}
	// No height known: lines beyond it would not be drawn; use mpb's own default.
	return c.width, c.width*3/2 + 1, nil
}

// line returns the line of a service, creating it (at the bottom) if new. d.mu must be held.
func (d *liveProgress) line(name string) *liveLine {
	l, ok := d.byName[name]
	if !ok {
		l = &liveLine{name: name}
		d.byName[name] = l
		d.lines = append(d.lines, l)
		d.nameWidth = max(d.nameWidth, runewidth.StringWidth(name))
		d.version++
	}
	return l
}

func (d *liveProgress) event(ev provisioner.Event) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	l, known := d.byName[ev.Service]
	if !known {
		l = d.line(ev.Service)
	}
	if l.phase != ev.Phase {
		d.version++
	}
	l.apply(ev)
	d.mu.Unlock()
	if !known {
		d.poke()
	}
}

// apply moves the line to the state ev reports.
func (l *liveLine) apply(ev provisioner.Event) {
	// The clock of a line's elapsed time starts when its work does: at creating (or, for a
	// kept service, its first probe) and again at removing; probing goes on creating's clock.
	starting := ev.Phase == provisioner.PhaseCreating || ev.Phase == provisioner.PhaseProbing
	if starting && l.phase != provisioner.PhaseCreating && l.phase != provisioner.PhaseProbing ||
		ev.Phase == provisioner.PhaseRemoving && l.phase != provisioner.PhaseRemoving {
		l.since = ev.Time
	}
	l.phase, l.detail, l.attempt = ev.Phase, sanitize(ev.Detail), ev.Attempt
	switch ev.Phase {
	case provisioner.PhaseReady:
		l.outcome, l.icon = "ready "+roundDuration(ev.Elapsed), "✔"
	case provisioner.PhaseKept:
		l.outcome, l.icon = withDetail("kept", l.detail), "✔"
	case provisioner.PhaseFailed:
		l.outcome, l.icon = "failed", "✘"
		if l.detail != "" {
			l.outcome += ": " + l.detail
		}
	case provisioner.PhaseSkipped:
		l.outcome, l.icon = "skipped", "-"
		switch l.detail {
		case "":
		case "stopped":
			l.outcome += " (stopped)"
		default:
			l.outcome += " (" + l.detail + " failed)"
		}
	}
}

func (d *liveProgress) note(line string) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		fmt.Fprintln(d.w, line) // the display is gone: the output is free
		return
	}
	d.notes = append(d.notes, sanitize(line))
	d.mu.Unlock()
	d.poke()
}

// poke tells the feeder there is work, without waiting.
func (d *liveProgress) poke() {
	select {
	case d.wake <- struct{}{}:
	default: // the feeder is already due to look
	}
}

// feed gives new lines their bars and notes to mpb. It runs apart from event() and note()
// because both wait for mpb's render goroutine, which may itself be waiting for a stalled
// terminal.
func (d *liveProgress) feed() {
	defer close(d.fed)
	for {
		select {
		case <-d.wake:
			d.addBars()
			d.writeNotes()
		case <-d.stop:
			return
		}
	}
}

// addBars adds the bars for new rows: one a line, up to maxRows (mpb draws bars in the order
// they were added).
func (d *liveProgress) addBars() {
	d.mu.Lock()
	want := min(len(d.lines), d.maxRows)
	d.mu.Unlock()
	for i := len(d.slots); i < want; i++ {
		b, err := d.p.Add(0, mpb.NopStyle().Build(), mpb.BarFillerTrim(),
			mpb.PrependDecorators(decor.Any(func(st decor.Statistics) string {
				return d.render(i, st.AvailableWidth)
			})))
		if err != nil {
			return // the display is shut down (its output failed): nothing more to draw
		}
		d.slots = append(d.slots, b)
	}
}

// writeNotes hands the pending notes to mpb, which prints them above the bars at its next
// redraw.
func (d *liveProgress) writeNotes() {
	d.mu.Lock()
	notes := d.notes
	d.notes = nil
	d.mu.Unlock()
	for _, n := range notes {
		if _, err := d.p.Write([]byte(n + "\n")); err != nil {
			return // the display is shut down (its output failed)
		}
	}
}

// render is the text of row i for the current state, fitted to width.
func (d *liveProgress) render(i, width int) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.lines) > d.maxRows {
		view, more := d.condensed()
		if i >= len(view) {
			return runewidth.Truncate(more, max(width-1, 0), "…")
		}
		i = view[i]
	}
	if i >= len(d.lines) {
		return ""
	}
	l := d.lines[i]
	return lineText(l, d.waitingFor(l), min(d.nameWidth, 24), width, d.now())
}

// condensed chooses, when the lines outnumber the rows, which lines to show (in their order)
// and the text of the row counting the others. What a person watches for comes first: failures,
// then the work under way, then what waits; finished lines fill the rest. d.mu must be held.
func (d *liveProgress) condensed() ([]int, string) {
	if d.view != nil && d.viewOf == d.version {
		return d.view, d.more
	}
	idx := make([]int, len(d.lines))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lineRank(d.lines[idx[a]]) < lineRank(d.lines[idx[b]]) })
	shown := append([]int(nil), idx[:d.maxRows-1]...)
	sort.Ints(shown)
	counts := map[string]int{}
	for _, i := range idx[d.maxRows-1:] {
		counts[lineGroup(d.lines[i])]++
	}
	var parts []string
	for _, g := range lineGroups {
		if n := counts[g]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, g))
		}
	}
	d.view, d.viewOf = shown, d.version
	d.more = fmt.Sprintf("… %d more: %s", len(idx)-len(shown), strings.Join(parts, ", "))
	return d.view, d.more
}

// lineGroups are the states the condensed row counts, in the order it names them.
var lineGroups = []string{"failed", "starting", "removing", "waiting", "ready", "skipped", "removed"}

// lineGroup is the state a line counts as in the condensed row.
func lineGroup(l *liveLine) string {
	switch l.phase {
	case provisioner.PhaseFailed:
		return "failed"
	case provisioner.PhaseCreating, provisioner.PhaseProbing:
		return "starting"
	case provisioner.PhaseRemoving:
		return "removing"
	case "", provisioner.PhaseWaiting:
		return "waiting"
	case provisioner.PhaseReady, provisioner.PhaseKept:
		return "ready"
	case provisioner.PhaseSkipped:
		return "skipped"
	case provisioner.PhaseRemoved:
		return "removed"
	}
	return "waiting"
}

// lineRank orders lines for the condensed view: lower is shown first.
func lineRank(l *liveLine) int {
	switch lineGroup(l) {
	case "failed":
		return 0
	case "starting", "removing":
		return 1
	case "waiting":
		return 2
	}
	return 3
}

// waitingFor names the dependencies of l that are not ready yet, in declaration order; with no
// deps known (down, or a service not in the list), the one the executor named. d.mu must be
// held.
func (d *liveProgress) waitingFor(l *liveLine) []string {
	deps, ok := d.deps[l.name]
	if !ok && l.phase == provisioner.PhaseWaiting && l.detail != "" {
		deps = []string{l.detail}
	}
	var out []string
	for _, dep := range deps {
		if o, ok := d.byName[dep]; ok && (o.phase == provisioner.PhaseReady || o.phase == provisioner.PhaseKept) {
			continue
		}
		out = append(out, dep)
	}
	return out
}

func (d *liveProgress) close(summary string) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	<-d.fed
	d.addBars() // lines and notes that came after the feeder's last look
	d.writeNotes()
	for _, b := range d.slots {
		// Aborted without drop: mpb draws the bar's last frame and keeps it on screen.
		b.Abort(false)
	}
	// Wait renders the final frame and ends every goroutine of mpb's: after it, the output
	// is ours alone.
	d.p.Wait()
	if summary != "" {
		fmt.Fprintln(d.w, summary)
	}
}

// spinner frames, one per refresh.
var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// lineText is the text of one line: an icon, the name, the status and, for work under way, the
// time it has taken. Past width the status is cut (with "…"), never the name or the time.
func lineText(l *liveLine, waiting []string, nameWidth, width int, now time.Time) string {
	icon, status, suffix := "·", "", ""
	running := func() {
		elapsed := now.Sub(l.since)
		icon = spinner[int(max(elapsed, 0)/refreshRate)%len(spinner)]
		suffix = shortElapsed(elapsed)
	}
	switch l.phase {
	case "", provisioner.PhaseWaiting:
		status = "waiting"
		if len(waiting) > 0 {
			status = "waiting for " + strings.Join(waiting, ", ")
		} else if l.phase == "" {
			status = "pending"
		}
	case provisioner.PhaseCreating:
		status = "creating"
		if l.detail != "" && l.detail != "not running" {
			status += " (" + l.detail + ")"
		}
		running()
	case provisioner.PhaseProbing:
		status = "starting"
		if l.attempt > 0 {
			status = fmt.Sprintf("probing (attempt %d)", l.attempt)
			if l.detail != "" {
				status = fmt.Sprintf("probing (attempt %d: %s)", l.attempt, l.detail)
			}
		}
		running()
	case provisioner.PhaseReady, provisioner.PhaseKept, provisioner.PhaseFailed, provisioner.PhaseSkipped:
		icon, status = l.icon, l.outcome
	case provisioner.PhaseRemoving:
		running()
		if l.outcome != "" {
			// A rollback: the outcome is what the user needs to read; the removal goes last.
			icon, status, suffix = l.icon, l.outcome, "→ removing "+suffix
		} else {
			status = withDetail("removing", l.detail)
		}
	case provisioner.PhaseRemoved:
		if l.outcome != "" {
			icon, status, suffix = l.icon, l.outcome, "→ removed"
		} else {
			icon, status = "✔", withDetail("removed", l.detail)
		}
	default:
		status = withDetail(string(l.phase), l.detail)
	}
	name := runewidth.Truncate(l.name, nameWidth, "…")
	head := icon + " " + name + strings.Repeat(" ", max(nameWidth-runewidth.StringWidth(name), 0)) + "  "
	if suffix != "" {
		suffix = "  " + suffix
	}
	// One column is kept free: a line that fills the last column makes some terminals wrap,
	// and a wrapped line would throw the redraw off by one row.
	room := width - 1 - runewidth.StringWidth(head) - runewidth.StringWidth(suffix)
	if room < 1 {
		return runewidth.Truncate(head+status+suffix, max(width-1, 0), "…")
	}
	return head + runewidth.Truncate(status, room, "…") + suffix
}

func withDetail(s, detail string) string {
	if detail == "" {
		return s
	}
	return s + " (" + detail + ")"
}

// shortElapsed prints time under way compactly: 0.4s, 12.3s, 2m05s.
func shortElapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", max(d, 0).Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// sanitize keeps a detail to one line of printable text: a newline or an escape sequence from
// a probe's output would break the redraw.
func sanitize(s string) string {
	s = firstLine(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) && r != ' ' {
			return -1
		}
		return r
	}, s)
}

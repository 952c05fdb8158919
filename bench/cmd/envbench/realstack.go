package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/envctl/envctl/internal/realimage"
)

// realstackResult is issue 18's benchmark: examples/realstack/compose.yaml (Postgres, Redis
// and RabbitMQ with pg_isready, redis-cli ping and rabbitmq-diagnostics healthchecks, an app
// that uses all three) imported by envctl, against the same import with every ready block
// removed (envctl's default: the ports accept TCP), quiet and with a compile running beside
// it; the variants alternate within each round.
type realstackResult struct {
	Imported, TCP         []time.Duration // quiet
	ImportedBusy, TCPBusy []time.Duration // with `go build -a std` in a loop beside
	Probes                string          // the ready blocks of the import, for the report
	Compiles              int             // builds finished beside the busy rounds
	Rounds                int
	Skipped               string
	Failures              []string
}

const realstackCompose = "examples/realstack/compose.yaml"

// measureRealstack runs runs rounds of each variant and condition.
func (b *bench) measureRealstack(ctx context.Context, runs int) *realstackResult {
	res := &realstackResult{Rounds: runs}
	if _, err := os.Stat(realstackCompose); err != nil {
		res.Skipped = "no " + realstackCompose + " (run from the repository's root)"
		return res
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	_, err := realimage.Ensure(ictx, logWriter{b}, "postgres", "redis", "rabbitmq")
	cancel()
	if err != nil {
		res.Skipped = "the real-server images: " + err.Error()
		return res
	}
	dir, err := os.MkdirTemp("", "envbench-realstack-")
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	defer os.RemoveAll(dir)
	imported, tcp := filepath.Join(dir, "imported"), filepath.Join(dir, "tcp")
	for _, d := range []string{imported, tcp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			res.Skipped = err.Error()
			return res
		}
	}
	hclFile := filepath.Join(imported, "envctl.hcl")
	if _, err := output(ctx, b.envctl, "import", "compose", "--out", hclFile, realstackCompose); err != nil {
		res.Skipped = "import: " + err.Error()
		return res
	}
	src, err := os.ReadFile(hclFile)
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	plain, kinds, err := withoutReady(src)
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	res.Probes = kinds
	if err := os.WriteFile(filepath.Join(tcp, "envctl.hcl"), plain, 0o644); err != nil {
		res.Skipped = err.Error()
		return res
	}

	up := func(d, variant string, r int) (time.Duration, error) {
		name := fmt.Sprintf("%srs-%s-%d", envPrefix, variant, r)
		cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		m, err := measure(cctx, d, b.envctl, "up", "-f", d, "--name", name, "--timeout", "8m")
		dctx, dcancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer dcancel()
		if _, derr := output(dctx, b.envctl, "down", name); derr != nil && err == nil {
			err = derr
		}
		return m.Wall, err
	}
	round := func(r int, busy bool) {
		order := []string{"imported", "tcp"}
		if r%2 == 1 {
			order = []string{"tcp", "imported"} // neither always goes first
		}
		for _, v := range order {
			d, into := imported, &res.Imported
			switch {
			case v == "tcp" && busy:
				d, into = tcp, &res.TCPBusy
			case v == "tcp":
				d, into = tcp, &res.TCP
			case busy:
				into = &res.ImportedBusy
			}
			wall, err := up(d, v, r)
			if err != nil {
				res.Failures = append(res.Failures, fmt.Sprintf("%s round %d (busy %v): %v", v, r+1, busy, err))
				continue
			}
			*into = append(*into, wall)
			b.logf("realstack: %s, busy %v, round %d: %s", v, busy, r+1, wall.Round(time.Millisecond))
		}
	}
	for r := 0; r < runs && ctx.Err() == nil; r++ {
		round(r, false)
	}
	stop, compiles := compileLoop(ctx)
	for r := 0; r < runs && ctx.Err() == nil; r++ {
		round(r, true)
	}
	stop()
	res.Compiles = *compiles
	return res
}

// compileLoop runs `go build -a std` again and again beside the measurement (bounded: at most
// 30 minutes), until stop is called; it counts the builds that finished.
func compileLoop(ctx context.Context) (stop func(), done *int) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	n := new(int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			cmd := exec.CommandContext(ctx, "go", "build", "-a", "std")
			cmd.Env = append(os.Environ(), "GOFLAGS=")
			if cmd.Run() == nil {
				*n++
			}
		}
	}()
	return func() { cancel(); wg.Wait() }, n
}

// withoutReady returns src with every service's protocol probe replaced by a TCP check of its
// port, keeping the ready timeout (other ready blocks are removed: envctl's default), and the
// probes those blocks named (like "db: postgres; cache: redis").
func withoutReady(src []byte) ([]byte, string, error) {
	f, diags := hclwrite.ParseConfig(src, "envctl.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, "", diags
	}
	var kinds []string
	for _, blk := range f.Body().Blocks() {
		if blk.Type() != "service" {
			continue
		}
		for _, rb := range blk.Body().Blocks() {
			if rb.Type() != "ready" {
				continue
			}
			var k []string
			var port *hclwrite.Attribute
			for _, pb := range rb.Body().Blocks() {
				k = append(k, pb.Type())
				if a := pb.Body().GetAttribute("port"); a != nil && port == nil {
					port = a
				}
			}
			for name := range rb.Body().Attributes() {
				if name == "exec" || name == "tcp" || name == "log" {
					k = append(k, name)
				}
			}
			kinds = append(kinds, blk.Labels()[0]+": "+strings.Join(k, ", "))
			if port == nil {
				blk.Body().RemoveBlock(rb)
				continue
			}
			// The same ready timeout, with a TCP check of the probe's port: only the check
			// differs between the two variants.
			for _, pb := range rb.Body().Blocks() {
				rb.Body().RemoveBlock(pb)
			}
			rb.Body().SetAttributeRaw("tcp", port.Expr().BuildTokens(nil))
		}
	}
	return f.Bytes(), strings.Join(kinds, "; "), nil
}

type logWriter struct{ b *bench }

func (w logWriter) Write(p []byte) (int, error) {
	w.b.logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

const realstackHeading = "## Real servers imported from Compose (issue 18)"

func (r *realstackResult) markdown() string {
	runs := r.Rounds
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("%s\n\n", realstackHeading)
	if r.Skipped != "" {
		w("Not measured: %s.\n\n", r.Skipped)
		return b.String()
	}
	w("`examples/realstack/compose.yaml`: Postgres 15, Redis 7 and RabbitMQ 3 (Debian's servers, ")
	w("`../shared/images`) with the healthchecks Compose users write (`pg_isready`, `redis-cli ping`, ")
	w("`rabbitmq-diagnostics -q check_port_connectivity`), and an app that waits for all three with ")
	w("`service_healthy` and then uses each once, without retries (a job; a last service waits for it). ")
	w("*Imported*: `envctl import compose` of it, whose ready blocks are (%s). ", r.Probes)
	w("*TCP*: the same file with `tcp = PORT` in place of each probe (the same ready timeout), so each server is ready when its port accepts TCP. ")
	w("Wall time of `envctl up` to \"ready\" (images present), median of %d rounds (range), the variants alternating; ", runs)
	if r.Compiles == 0 {
		w("*busy*: with `go build -a std` running in a loop beside it (one build ran throughout: none finished during those rounds).\n\n")
	} else {
		w("*busy*: with `go build -a std` running in a loop beside it (%d builds finished during those rounds).\n\n", r.Compiles)
	}
	w("| | imported | TCP | imported / TCP |\n|---|---|---|---|\n")
	row := func(label string, a, t []time.Duration) {
		sa, st := summarize(a), summarize(t)
		ratio := "n/a"
		if sa.N > 0 && st.N > 0 {
			ratio = fmt.Sprintf("%.2fx", float64(sa.Median)/float64(st.Median))
		}
		w("| %s | %s | %s | %s |\n", label, spread(sa), spread(st), ratio)
	}
	row("quiet", r.Imported, r.TCP)
	row("busy (a compile beside)", r.ImportedBusy, r.TCPBusy)
	w("\nGoal (issue 18, acceptance 2): imported ≤ 1.25x TCP, quiet and busy. Before the import made ")
	w("probes of these checks, the exec checks took 1.9x on a quiet machine, and never got ready on a loaded one.\n\n")
	for _, f := range r.Failures {
		// The first line names the run and how it ended; the output after it is the failed
		// service's log, too long for a table's footnote.
		first, _, _ := strings.Cut(strings.TrimSpace(f), "\n")
		w("- failed (not counted): %s\n", first)
	}
	if len(r.Failures) > 0 {
		w("\n")
	}
	return b.String()
}

// runOnlyRealstack measures the realstack section alone and replaces it in out, keeping the
// rest of the results (-only realstack).
func (b *bench) runOnlyRealstack(ctx context.Context, out string) error {
	var err error
	if b.envctl, err = filepath.Abs(b.cfg.envctl); err != nil {
		return err
	}
	if _, err := os.Stat(b.envctl); err != nil {
		return fmt.Errorf("%w (build it with make build)", err)
	}
	if _, err := sweep(ctx); err != nil {
		return err
	}
	start := time.Now()
	res := b.measureRealstack(ctx, max(b.cfg.realstack, 1))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	section := res.markdown() + fmt.Sprintf("Measured on its own (`envbench -only realstack`) on %s, load average before: %s, after: %s; it took %s.\n\n",
		start.UTC().Format("2006-01-02 15:04 MST"), b.loadBefore, loadavg(), time.Since(start).Round(time.Second))
	doc, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.WriteFile(out, spliceSection(doc, realstackHeading, section), 0o644); err != nil {
		return err
	}
	if len(res.Failures) > 0 || res.Skipped != "" {
		return fmt.Errorf("realstack: %d failures %s", len(res.Failures), res.Skipped)
	}
	return nil
}

// writeSection puts sec in place of heading's section of the results file out, keeping the
// rest. A file without that section gets it before the first line that starts with before
// (when before is set and there is one), else where spliceSection puts it.
func writeSection(out, heading, sec, before string) error {
	doc, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	s := string(doc)
	if before != "" && !strings.Contains(s, heading+"\n") {
		if i := strings.Index(s, "\n"+before); i >= 0 {
			return os.WriteFile(out, []byte(s[:i+1]+sec+s[i+1:]), 0o644)
		}
	}
	return os.WriteFile(out, spliceSection(doc, heading, sec), 0o644)
}

// spliceSection replaces the section that starts with heading in doc (up to the next "## "
// heading) by section, or inserts it before "## Profile" (else at the end).
func spliceSection(doc []byte, heading, section string) []byte {
	s := string(doc)
	if i := strings.Index(s, heading+"\n"); i >= 0 {
		rest := s[i+len(heading):]
		end := len(s)
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = i + len(heading) + j + 1
		}
		return []byte(s[:i] + section + s[end:])
	}
	if i := strings.Index(s, "\n## Profile\n"); i >= 0 {
		return []byte(s[:i+1] + section + s[i+1:])
	}
	return []byte(s + "\n" + section)
}

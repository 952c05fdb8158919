package cli

import (
	"bytes"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"

	"github.com/hashicorp/hcl/v2"
	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/envs"
)

// fileFlags select and parameterise the environment file (up, run, plan, validate, graph).
func fileFlags() []urfave.Flag {
	return []urfave.Flag{
		&urfave.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "environment file or directory of *.hcl (repeatable; default envctl.hcl)"},
		&urfave.StringFlag{Name: "name", Usage: "environment name (overrides environment.name)"},
		&urfave.StringSliceFlag{Name: "var", Usage: "set a variable, NAME=VALUE (repeatable)"},
		&urfave.StringSliceFlag{Name: "var-file", Usage: "a file of variable values (repeatable)"},
	}
}

// loadEnv loads the environment file the flags select. Diagnostics are printed to stderr, all
// of them; any error among them ends the command with exit code 2.
func loadEnv(c *urfave.Context) (*envs.Environment, error) {
	return loadEnvNamed(c, "")
}

// loadEnvNamed is loadEnv with a suffix for the environment's name (envs.Options.NameSuffix).
func loadEnvNamed(c *urfave.Context, nameSuffix string) (*envs.Environment, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	env, files, diags := envs.Load(envs.Options{
		Paths:      c.StringSlice("file"),
		Dir:        wd,
		Name:       c.String("name"),
		NameSuffix: nameSuffix,
		Vars:       c.StringSlice("var"),
		VarFiles:   c.StringSlice("var-file"),
		Environ:    os.Environ(),
	})
	if env != nil {
		redactorOf(c).add(env.Sensitive...)
	}
	if len(diags) > 0 {
		printDiagnostics(c.App.ErrWriter, files, diags)
	}
	if diags.HasErrors() {
		return nil, silentExit(ExitUsage)
	}
	return env, nil
}

// printDiagnostics renders diagnostics the way HCL does — file, line, a source snippet with the
// range marked, and the detail — errors after warnings, each file in order.
func printDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	sorted := make(hcl.Diagnostics, len(diags))
	copy(sorted, diags)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Severity != b.Severity {
			return a.Severity == hcl.DiagWarning
		}
		if (a.Subject == nil) != (b.Subject == nil) {
			return a.Subject == nil
		}
		if a.Subject == nil {
			return false
		}
		if a.Subject.Filename != b.Subject.Filename {
			return a.Subject.Filename < b.Subject.Filename
		}
		return a.Subject.Start.Byte < b.Subject.Start.Byte
	})
	// HCL's writer scans a file from its first line for every snippet it prints; past a few
	// hundred kilobytes (a generated or hostile file, never a hand-written one) that costs more
	// than the whole load, so such files are named by line without a snippet.
	small := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		if f != nil && len(f.Bytes) <= maxSnippetFile {
			small[name] = f
		}
	}
	// Width 0: no wrapping, so messages are stable for scripts and tests.
	wr := hcl.NewDiagnosticTextWriter(w, small, 0, false)
	for _, d := range sorted {
		_ = wr.WriteDiagnostic(d)
	}
	if n := len(sorted.Errs()); n > 1 {
		io.WriteString(w, plural(n, "error")+" in the environment file.\n")
	}
}

// maxSnippetFile is the largest file whose diagnostics show a source snippet.
const maxSnippetFile = 512 << 10

func plural(n int, word string) string {
	s := strconv.Itoa(n) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}

// redactor replaces every sensitive value in what envctl prints with "(sensitive)". It sits
// under both output streams, so no command, error path or diagnostic snippet can leak one.
type redactor struct {
	mu     sync.Mutex // values grow once the file is loaded, while writers may be in use
	values [][]byte
}

func (r *redactor) add(vals ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range vals {
		if v != "" {
			r.values = append(r.values, []byte(v))
		}
	}
	// Longest first, so a secret that contains another is replaced whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

func (r *redactor) apply(p []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		if bytes.Contains(p, v) {
			p = bytes.ReplaceAll(p, v, []byte("(sensitive)"))
		}
	}
	return p
}

type redactingWriter struct {
	w io.Writer
	r *redactor
}

func (rw redactingWriter) Write(p []byte) (int, error) {
	if _, err := rw.w.Write(rw.r.apply(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// redactorOf returns the app's redactor (see New).
func redactorOf(c *urfave.Context) *redactor {
	if r, ok := c.App.Metadata["redactor"].(*redactor); ok {
		return r
	}
	return &redactor{}
}

package cli

import (
	"bytes"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/mesos"
)

// fileFlags select and parameterise the environment file (up, run, plan, validate, graph).
func fileFlags() []urfave.Flag {
	return []urfave.Flag{
		&urfave.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "environment file or directory of *.hcl (repeatable; default envctl.hcl)"},
		&urfave.StringFlag{Name: "name", Usage: "environment name (overrides environment.name)"},
		&urfave.StringSliceFlag{Name: "var", Usage: "set a variable, NAME=VALUE (repeatable)"},
		&urfave.StringSliceFlag{Name: "var-file", Usage: "a file of variable values (repeatable)"},
		&urfave.StringSliceFlag{Name: "profile", Usage: "also bring up the services of this profile (repeatable; default $ENVCTL_PROFILES, comma-separated)"},
	}
}

// profiles are --profile's values, else ENVCTL_PROFILES's (comma-separated), as Compose takes
// --profile over COMPOSE_PROFILES.
func profiles(c *urfave.Context) []string {
	if p := c.StringSlice("profile"); len(p) > 0 {
		return p
	}
	var out []string
	for _, p := range strings.Split(os.Getenv("ENVCTL_PROFILES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// specCheckers refuse, right after loading, what a backend cannot carry (a bind mount on
// Mesos; a Docker setting with --mesos-containerizer mesos), so that nothing starts only to
// fail half-way. Keyed by --backend.
var specCheckers = map[string]func(c *urfave.Context) func(provisioner.Spec) error{
	"mesos": func(c *urfave.Context) func(provisioner.Spec) error {
		return mesos.SpecChecker(global(c, "mesos-containerizer"))
	},
}

// checkForBackend runs --backend's checker over every service: one error diagnostic each,
// at the service's header.
func checkForBackend(c *urfave.Context, env *envs.Environment) hcl.Diagnostics {
	checker := specCheckers[global(c, "backend")]
	if checker == nil {
		return nil
	}
	check := checker(c)
	var diags hcl.Diagnostics
	t := provisioner.NewTarget(env, 0, time.Now())
	for _, s := range env.Services {
		if err := check(t.StaticSpec(s)); err != nil {
			r := s.DeclRange
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Not supported on " + global(c, "backend"),
				Detail:   err.Error() + ".",
				Subject:  &r,
			})
		}
	}
	return diags
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
		Profiles:   profiles(c),
		Environ:    os.Environ(),
	})
	if env != nil {
		redactorOf(c).add(env.Sensitive...)
	}
	if env != nil && !diags.HasErrors() {
		diags = append(diags, checkForBackend(c, env)...)
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
//
// It must never corrupt what is not the secret (issue 11: a password "temporal" turned the
// environment "temporalio-docker-compose" into "(sensitive)io-docker-compose"). So a short
// secret is replaced only where it stands alone — not inside a longer word, name or host
// label (letters, digits, "_" and "-" around it) — while a long one (minLoneSecret bytes and
// more: a token, not a word) is replaced wherever it appears. And output that envctl knows
// to be public though it contains a secret's text (plan's POSTGRES_USER=temporal when the
// password is also "temporal") is registered with allow and left alone.
type redactor struct {
	mu     sync.Mutex // values grow once the file is loaded, while writers may be in use
	values [][]byte
	public [][]byte
}

// minLoneSecret is the length from which a secret is redacted even inside a word: such a
// string is a token that no name or word shares by chance.
const minLoneSecret = 16

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

// allow registers text that envctl prints knowing it is not secret, though it contains a
// secret's text.
func (r *redactor) allow(vals ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range vals {
		if v != "" {
			r.public = append(r.public, []byte(v))
		}
	}
}

func wordByte(c byte) bool {
	return c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func (r *redactor) apply(p []byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		if !bytes.Contains(p, v) {
			continue
		}
		var covered [][2]int // spans of public text
		for _, pub := range r.public {
			if !bytes.Contains(pub, v) {
				continue
			}
			for off := 0; ; {
				i := bytes.Index(p[off:], pub)
				if i < 0 {
					break
				}
				covered = append(covered, [2]int{off + i, off + i + len(pub)})
				off += i + 1
			}
		}
		var out []byte
		last := 0
		for off := 0; ; {
			i := bytes.Index(p[off:], v)
			if i < 0 {
				break
			}
			start, end := off+i, off+i+len(v)
			off = start + 1
			if start < last {
				continue
			}
			if len(v) < minLoneSecret && ((start > 0 && wordByte(v[0]) && wordByte(p[start-1])) ||
				(end < len(p) && wordByte(v[len(v)-1]) && wordByte(p[end]))) {
				continue // part of a longer word or name, not the secret
			}
			inPublic := false
			for _, c := range covered {
				inPublic = inPublic || (c[0] <= start && end <= c[1])
			}
			if inPublic {
				continue
			}
			out = append(append(out, p[last:start]...), "(sensitive)"...)
			last, off = end, end
		}
		if out != nil {
			p = append(out, p[last:]...)
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

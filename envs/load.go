package envs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// DefaultFile is the file Load reads when no path is given.
const DefaultFile = "envctl.hcl"

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "environment"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "service", LabelNames: []string{"name"}},
	},
}

// srcFile is one parsed environment file.
type srcFile struct {
	name  string // as the user gave it; also the Filename of every range in it
	dir   string // absolute directory, the base of file() and build contexts
	file  *hcl.File
	funcs map[string]function.Function
	ctx   *hcl.EvalContext // see loader.fileCtx
	rtCtx *hcl.EvalContext // ctx plus unknown service addresses, for load-time type checks
}

// loader carries the state of one Load through its stages.
type loader struct {
	opts Options
	base string // absolute Opts.Dir
	// parser parses every file, environment and variable files alike; its Files() map is
	// returned for rendering snippets.
	parser *hclparse.Parser
	diags  hcl.Diagnostics

	files    []*srcFile
	varFiles []*hcl.File

	env *Environment

	vars     map[string]*varDecl
	varOrder []*varDecl
	varVals  map[string]cty.Value

	locals    map[string]*localDecl
	localVals map[string]cty.Value
	localSeq  []*localDecl    // the locals not on a cycle, in evaluation order
	varObj    cty.Value       // the `var` object, settled before locals
	envObj    cty.Value       // the `environment` object
	refsSaid  map[string]bool // misplaced references reported in the expression under check

	envName string

	// services is filled by the first service pass (headers and ports) so that references in
	// the second pass can be checked against every service, declared before or after.
	services  map[string]*svcDecl
	svcOrder  []*svcDecl
	unknownSv cty.Value // the `service` object with unknown addresses, for type checks
	baseCtx   *hcl.EvalContext
	portNames map[string][]string // service => sorted port names; shared with every Service
}

// Load parses, evaluates and validates the environment files opts selects. It returns every
// diagnostic of every file at once. The file map holds every file parsed, for rendering
// snippets, even on error. When the diagnostics hold an error the Environment may be partial
// and must not be used to run anything.
//
// The pipeline, in Nomad's order: find and parse all files (and var files), stopping here on
// syntax errors; decode the top-level blocks; declare variables and set their values
// (default < ENVCTL_VAR_ < var files < --var); settle the environment's name; evaluate
// locals in dependency order; read every service header and its ports; decode every service
// against them; check the dependency graph for cycles.
func Load(opts Options) (*Environment, map[string]*hcl.File, hcl.Diagnostics) {
	l := &loader{
		opts:   opts,
		parser: hclparse.NewParser(),
		env:    &Environment{byName: map[string]*Service{}},
	}
	l.run()
	l.capDiags()
	return l.env, l.parser.Files(), l.diags
}

func (l *loader) run() {
	dir := l.opts.Dir
	if dir == "" {
		dir = "."
	}
	base, err := filepath.Abs(dir)
	if err != nil {
		l.errorf(nil, "Invalid directory", "Cannot resolve the directory %q: %v.", dir, err)
		return
	}
	l.base = base

	l.parseFiles()
	l.parseVarFiles()
	if l.diags.HasErrors() {
		return // evaluating broken files gives confusing knock-on errors
	}
	if len(l.files) > 0 {
		l.env.Dir = l.files[0].dir
	}

	var envBlocks, varBlocks, localBlocks, svcBlocks []blockIn
	for _, f := range l.files {
		content, diags := f.file.Body.Content(rootSchema)
		l.diags = append(l.diags, diags...)
		for _, b := range content.Blocks {
			bi := blockIn{b, f}
			switch b.Type {
			case "environment":
				envBlocks = append(envBlocks, bi)
			case "variable":
				varBlocks = append(varBlocks, bi)
			case "locals":
				localBlocks = append(localBlocks, bi)
			case "service":
				svcBlocks = append(svcBlocks, bi)
			}
		}
	}

	if n := len(envBlocks) + len(varBlocks) + len(localBlocks) + len(svcBlocks); len(svcBlocks) > MaxServices || n > MaxBlocks {
		// Checking them all would be slow and bury the one message that matters.
		l.errorf(nil, "Too many blocks",
			"The files declare %s and %s in all; an environment may have at most %d services and %d top-level blocks. Nothing else was checked.",
			plural(len(svcBlocks), "service"), plural(n, "block"), MaxServices, MaxBlocks)
		return
	}
	l.declareVariables(varBlocks)
	l.setVariables()
	l.environment(envBlocks)
	l.evalLocals(localBlocks)
	l.declareServices(svcBlocks)
	l.evalDeferredLocals()
	l.decodeServices()
	l.checkCycles()
	if !l.diags.HasErrors() {
		l.applyProfiles()
	}
	if !l.diags.HasErrors() && len(l.env.Services) == 0 {
		var names []string
		for _, f := range l.files {
			names = append(names, f.name)
		}
		l.errorf(nil, "No services", "%s declares no service block; an environment needs at least one service.", quotedList(names, false))
	}
	l.collectSensitive()
	l.redactDiags()
}

// capDiags keeps the first MaxDiagnostics errors (and every warning up to that count) and
// says how many more there were: past that many, more messages help no one, and rendering
// each with its snippet costs time.
func (l *loader) capDiags() {
	if len(l.diags) <= MaxDiagnostics {
		return
	}
	rest := len(l.diags) - MaxDiagnostics
	l.diags = l.diags[:MaxDiagnostics]
	l.errorf(nil, "Too many errors",
		"%s more not shown; at most %d are reported at once. Fix these and run again.", plural(rest, "diagnostic"), MaxDiagnostics)
}

// plural renders n and word, adding an "s" unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// redactDiags hides sensitive values that functions quote in their error messages (for
// example tonumber's `cannot convert "s3cret" to number`). hcl's own renderer already skips
// marked values when it lists the variables of an expression.
func (l *loader) redactDiags() {
	if len(l.env.Sensitive) == 0 {
		return
	}
	var pairs []string
	for _, s := range l.env.Sensitive {
		pairs = append(pairs, fmt.Sprintf("%q", s), "(sensitive)")
	}
	r := strings.NewReplacer(pairs...)
	for _, d := range l.diags {
		d.Summary = r.Replace(d.Summary)
		d.Detail = r.Replace(d.Detail)
	}
}

// blockIn is a block together with the file it is in.
type blockIn struct {
	*hcl.Block
	f *srcFile
}

// resolve makes p absolute against the base directory.
func (l *loader) resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.base, p)
}

// parseFiles finds the environment files (-f files, *.hcl of -f directories, or the default
// file) and parses them all, collecting every syntax error.
func (l *loader) parseFiles() {
	paths := l.opts.Paths
	def := len(paths) == 0
	if def {
		paths = []string{DefaultFile}
	}
	seen := map[string]bool{}
	for _, p := range paths {
		abs := l.resolve(p)
		st, err := os.Stat(abs)
		switch {
		case err != nil && def:
			l.errorf(nil, "No environment file",
				"There is no %s in %s. Use -f to select an environment file or a directory of *.hcl files.", DefaultFile, l.base)
			continue
		case err != nil && os.IsNotExist(err):
			l.errorf(nil, "No environment file",
				"There is no file or directory at %q (looked at %s). -f selects an environment file or a directory of *.hcl files.", p, abs)
			continue
		case err != nil:
			l.errorf(nil, "Cannot read environment file", "Reading %q failed: %v.", p, unwrapPathErr(err))
			continue
		}
		if !st.IsDir() {
			l.parseFile(p, abs, seen)
			continue
		}
		entries, err := os.ReadDir(abs)
		if err != nil {
			l.errorf(nil, "Cannot read environment file", "Reading the directory %q failed: %v.", p, err)
			continue
		}
		n := 0
		for _, e := range entries { // os.ReadDir sorts by name: lexical order
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
				continue
			}
			n++
			l.parseFile(filepath.Join(p, e.Name()), filepath.Join(abs, e.Name()), seen)
		}
		if n == 0 {
			l.errorf(nil, "No environment file",
				"The directory %q (%s) has no *.hcl files. -f selects an environment file or a directory of *.hcl files.", p, abs)
		}
	}
}

// parseFile parses one file under its display name; a file named twice is read once.
func (l *loader) parseFile(name, abs string, seen map[string]bool) {
	if seen[abs] {
		return
	}
	seen[abs] = true
	src, ok := l.readSource(name, abs, "environment file")
	if !ok {
		return
	}
	f, diags := l.parser.ParseHCL(src, name)
	l.diags = append(l.diags, diags...)
	if f == nil {
		return
	}
	dir := filepath.Dir(abs)
	l.files = append(l.files, &srcFile{name: name, dir: dir, file: f, funcs: functionsFor(dir)})
}

func (l *loader) parseVarFiles() {
	for _, p := range l.opts.VarFiles {
		abs := l.resolve(p)
		if _, err := os.Stat(abs); os.IsNotExist(err) {
			l.errorf(nil, "No variable file", "There is no file at %q (looked at %s), given by --var-file.", p, abs)
			continue
		}
		src, ok := l.readSource(p, abs, "variable file")
		if !ok {
			continue
		}
		f, diags := l.parser.ParseHCL(src, p)
		l.diags = append(l.diags, diags...)
		if f != nil {
			l.varFiles = append(l.varFiles, f)
		}
	}
}

// readSource reads a file to parse, within MaxFileSize, and refuses it when its nesting is
// deeper than MaxNesting; what is a word for messages ("environment file").
func (l *loader) readSource(name, abs, what string) ([]byte, bool) {
	src, err := readLimited(abs, MaxFileSize)
	var tl *tooLargeError
	switch {
	case errors.As(err, &tl):
		l.errorf(nil, "File too large", "The %s %q is too large: %v. Environment and variable files are read up to %s.", what, name, err, byteSize(MaxFileSize))
		return nil, false
	case errors.Is(err, errIsDir):
		l.errorf(nil, "Cannot read "+what, "%q is a directory, not a file.", name)
		return nil, false
	case err != nil:
		l.errorf(nil, "Cannot read "+what, "Reading %q failed: %v.", name, unwrapPathErr(err))
		return nil, false
	}
	if d := checkNesting(src, name); d != nil {
		l.diags = append(l.diags, d)
		// Unparsed, but known to the renderer, so that the diagnostic shows its line.
		l.parser.AddFile(name, &hcl.File{Body: hcl.EmptyBody(), Bytes: src})
		return nil, false
	}
	return src, true
}

// unwrapPathErr drops the path from an *os.PathError, which messages already name.
func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// errorf appends an error diagnostic; subject may be nil for errors with no place in a file.
func (l *loader) errorf(subject *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject,
	})
}

// warnf appends a warning diagnostic.
func (l *loader) warnf(subject *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject,
	})
}

// rangePtr returns a pointer to a copy of r, for Diagnostic.Subject.
func rangePtr(r hcl.Range) *hcl.Range { return &r }

// environment decodes the environment block and settles the name: --name, else
// environment.name, else the directory's name.
func (l *loader) environment(blocks []blockIn) {
	var nameAttr *hcl.Attribute
	var nameFile *srcFile
	for i, b := range blocks {
		if i > 0 {
			l.errorf(rangePtr(b.DefRange), "Duplicate environment block",
				"Only one environment block is allowed. The first was declared at %s.", blocks[0].DefRange)
			continue
		}
		content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "ttl"}}})
		l.diags = append(l.diags, diags...)
		ctx := l.varCtx(b.f)
		if a := content.Attributes["name"]; a != nil {
			nameAttr, nameFile = a, b.f
		}
		if a := content.Attributes["ttl"]; a != nil {
			v, ok := l.eval(a.Expr, ctx, scopeEnv, nil)
			if d, ok := l.durationVal(a, v, ok); ok {
				l.env.TTL = d
			}
		}
	}

	switch {
	case l.opts.Name != "":
		l.envName = l.opts.Name
		if !validDNSLabel(l.opts.Name) {
			l.errorf(nil, "Invalid environment name",
				"The name given by --name must be DNS-safe: %s; %q is not.", dnsRule, l.opts.Name)
		}
	case nameAttr != nil:
		v, ok := l.eval(nameAttr.Expr, l.varCtx(nameFile), scopeEnv, nil)
		if s, ok2 := l.stringVal(nameAttr, v, ok); ok2 {
			l.envName = s
			if !validDNSLabel(s) {
				l.errorf(rangePtr(nameAttr.Expr.Range()), "Invalid environment name",
					"Environment names must be DNS-safe: %s; %q is not.", dnsRule, s)
			}
		}
	}
	if l.envName == "" {
		dir := l.base
		if len(l.files) > 0 {
			dir = l.files[0].dir
		}
		l.envName = sanitizeName(filepath.Base(dir))
	}
	if sfx := l.opts.NameSuffix; sfx != "" && l.opts.Name == "" && validDNSLabel(l.envName) {
		// A short name gets the whole suffix added ("shop-0a1b2c"); a longer one is cut to make
		// room, so that the suffix never makes a container name (ENV-SERVICE) too long where
		// the name alone was not.
		n := len(l.envName)
		total := n + 1 + len(sfx)
		if total > suffixedNameRoom {
			total = max(n, suffixedNameRoom)
		}
		base := strings.TrimRight(l.envName[:max(total-1-len(sfx), 1)], "-")
		l.envName = base + "-" + sfx
	}
	l.env.Name = l.envName
}

// suffixedNameRoom is how long a name with a run's suffix may grow to: up to it, the suffix is
// added whole; beyond it, the name keeps its length.
const suffixedNameRoom = 20

// varCtx is the evaluation context of the environment block: variables and functions only,
// because locals may themselves use environment.name.
func (l *loader) varCtx(f *srcFile) *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": l.varObject()},
		Functions: f.funcs,
	}
}

// collectSensitive gathers the strings of every sensitive variable's value, longest first,
// so that a redactor replacing them in order never leaves half of a longer secret.
func (l *loader) collectSensitive() {
	seen := map[string]bool{}
	for _, d := range l.varOrder {
		if !d.sensitive {
			continue
		}
		v, ok := l.varVals[d.name]
		if !ok {
			continue
		}
		walkStrings(v, func(s string) {
			if s != "" && !seen[s] {
				seen[s] = true
				l.env.Sensitive = append(l.env.Sensitive, s)
			}
		})
	}
	// A secret's content is sensitive wherever it came from, a file included; so is an env
	// file's value whose name looks like a secret's.
	for _, s := range l.env.Services {
		for k := range s.envFileSecret {
			if v := s.envFileVars[k]; !seen[v] {
				seen[v] = true
				l.env.Sensitive = append(l.env.Sensitive, v)
			}
		}
		for _, sec := range s.Secrets {
			for _, v := range []string{sec.Value, strings.TrimSpace(sec.Value)} {
				if v != "" && !seen[v] {
					seen[v] = true
					l.env.Sensitive = append(l.env.Sensitive, v)
				}
			}
		}
	}
	sort.SliceStable(l.env.Sensitive, func(i, j int) bool { return len(l.env.Sensitive[i]) > len(l.env.Sensitive[j]) })
}

// walkStrings calls fn for every known string inside v.
func walkStrings(v cty.Value, fn func(string)) {
	v = unmark(v)
	if v.IsNull() || !v.IsKnown() {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		fn(v.AsString())
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			walkStrings(e, fn)
		}
	}
}

package compose

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// part is a piece of a converted string: literal text, or a Compose variable reference.
type part struct {
	lit string
	ref *vref
}

// vref is one ${...} (or a value-less environment key) of a Compose string. How it is written
// in HCL is decided only when the whole project has been read (see renderRef): a variable's
// default, and whether it is fixed, depend on all its uses and on the .env file.
type vref struct {
	name string
	op   string // "", ":-", "-", ":?", "?", ":+", "+"
	arg  tmpl   // the default (:- -) or the alternative (:+ +), itself interpolated
	bare bool   // a value-less environment key: Compose takes it from the shell (or .env)
}

// tmpl is a converted string: literal text and variable references.
type tmpl []part

// lit is a template of literal text only.
func lit(s string) tmpl { return tmpl{{lit: s}} }

// literal returns the text of a template without references, and whether it has none.
func (t tmpl) literal() (string, bool) {
	var b strings.Builder
	for _, p := range t {
		if p.ref != nil {
			return "", false
		}
		b.WriteString(p.lit)
	}
	return b.String(), true
}

// hcl returns the template as HCL expression source: a bare expression when it is nothing
// else (image = var.IMAGE), else a quoted template.
func (c *converter) hcl(t tmpl) string {
	type piece struct{ lit, expr string }
	var ps []piece
	for _, p := range t {
		if p.ref == nil {
			ps = append(ps, piece{lit: p.lit})
			continue
		}
		lit, expr := c.renderRef(p.ref)
		if expr != "" {
			ps = append(ps, piece{expr: expr})
		} else {
			ps = append(ps, piece{lit: lit})
		}
	}
	if len(ps) == 1 && ps[0].expr != "" {
		return ps[0].expr
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, p := range ps {
		if p.expr != "" {
			b.WriteString("${" + p.expr + "}")
		} else {
			b.WriteString(escapeTemplate(p.lit))
		}
	}
	b.WriteByte('"')
	return b.String()
}

// escapeTemplate escapes s for the inside of an HCL quoted template: backslash escapes, and
// "${" and "%{" doubled so that they stay literal.
func escapeTemplate(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '$', '%':
			b.WriteRune(r)
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteRune(r)
			}
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// ref is one ${...} of a Compose string.
type ref struct {
	name string
	op   string // "", ":-", "-", ":?", "?", ":+", "+"
	arg  string
}

// segment is a literal piece or a reference.
type segment struct {
	lit string
	ref *ref
}

var varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// splitInterp splits s by Compose's interpolation rules: $$ is a literal $, $NAME and
// ${NAME...} are references, any other $ is literal.
func splitInterp(s string) ([]segment, error) {
	var out []segment
	var litb strings.Builder
	flush := func() {
		if litb.Len() > 0 {
			out = append(out, segment{lit: litb.String()})
			litb.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 >= len(s) {
			litb.WriteByte(s[i])
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			litb.WriteByte('$')
			i += 2
		case next == '{':
			end := matchBrace(s, i+1)
			if end < 0 {
				return nil, fmt.Errorf("invalid interpolation %q: no closing }", s[i:])
			}
			inner := s[i+2 : end]
			name := varNameRe.FindString(inner)
			if name == "" {
				return nil, fmt.Errorf("invalid interpolation %q: want ${NAME}", s[i:end+1])
			}
			r := &ref{name: name}
			rest := inner[len(name):]
			if rest != "" {
				for _, op := range []string{":-", ":?", ":+", "-", "?", "+"} {
					if strings.HasPrefix(rest, op) {
						r.op, r.arg = op, rest[len(op):]
						break
					}
				}
				if r.op == "" {
					return nil, fmt.Errorf("invalid interpolation %q", s[i:end+1])
				}
			}
			flush()
			out = append(out, segment{ref: r})
			i = end + 1
		default:
			name := varNameRe.FindString(s[i+1:])
			if name == "" {
				litb.WriteByte('$')
				i++
				continue
			}
			flush()
			out = append(out, segment{ref: &ref{name: name}})
			i += 1 + len(name)
		}
	}
	flush()
	return out, nil
}

// matchBrace returns the index of the } that closes the { at open, allowing nested ${...}.
func matchBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// variable is one Compose variable: every use of it, and what the .env file says.
type variable struct {
	name        string
	description string
	sensitive   bool
	uses        []*vref
	dotenv      *string // its value in the .env file beside the compose file
	// fixed is set when some use needs a fixed value (a port, a path, a dependency): the
	// variable is then not declared, and every use of it is written as the value Compose would
	// give it, so that all of them stay consistent. fixedSet says whether the variable is set
	// (from .env) or unset (fixed to a default).
	fixed    *string
	fixedSet bool

	fixIndex int // the note saying it was fixed
	fixNote  *Note

	// Decided by settle.
	def     *string
	uniform bool // every use gives the same default as the variable's: write var.NAME
}

// sensitiveRe marks variables whose names look like secrets; they are written sensitive so
// that envctl never prints their values, and their .env values are not copied.
var sensitiveRe = regexp.MustCompile(`(?i)(passw|secret|token|api_?key|private_?key|credential|_pwd?$|^pwd?$|_pass$|^pass$)`)

// variable returns the variable name, declaring it on first use.
func (c *converter) variable(name string) *variable {
	v := c.vars[name]
	if v == nil {
		v = &variable{name: name, sensitive: sensitiveRe.MatchString(name)}
		if val, ok := c.dotenv[name]; ok {
			v.dotenv = &val
		}
		c.vars[name] = v
	}
	return v
}

// useVar records a runtime use of a variable.
func (c *converter) useVar(r *vref, description string) {
	v := c.variable(r.name)
	v.uses = append(v.uses, r)
	if v.description == "" {
		v.description = description
	}
}

// declared reports whether the variable gets a variable block.
func (v *variable) declared() bool { return v.fixed == nil && len(v.uses) > 0 }

// settle decides each variable's default once every use is known.
//   - A value in .env is the default, as Compose reads .env for interpolation; for a
//     sensitive variable it is not copied into the file (people commit it): the variable is
//     then required, and the import says where the value is.
//   - Otherwise, when every use gives the same default, that is the default.
//   - When uses differ (two defaults, or a default beside a use without one, such as a
//     value-less environment key), the default is "" and each use with a default says it
//     itself (var.X != "" ? var.X : "default"), so that no use takes another line's default.
//   - A variable only used without a default has none: envctl asks for a value.
func (c *converter) settle() {
	for _, name := range c.varNames() {
		v := c.vars[name]
		if v.fixNote != nil && len(v.uses) > 0 {
			c.notes[v.fixIndex].Warn = true
		}
		if !v.declared() {
			continue
		}
		if v.name == "COMPOSE_PROJECT_NAME" && v.dotenv == nil {
			// Compose sets it to the project's name for interpolation.
			p := c.project
			v.dotenv = &p
		}
		if v.dotenv != nil {
			if !v.sensitive {
				d := *v.dotenv
				v.def = &d
			}
			continue
		}
		defs := map[string]bool{}
		bare, complex := false, false
		for _, u := range v.uses {
			switch u.op {
			case ":-", "-":
				if d, ok := u.arg.literal(); ok {
					defs[d] = true
				} else {
					complex = true
				}
			case ":+", "+":
				complex = true
			default:
				bare = true
			}
		}
		switch {
		case len(defs) == 1 && !bare && !complex:
			for d := range defs {
				d := d
				v.def = &d
			}
			v.uniform = true
		case len(defs) > 0 || complex:
			empty := ""
			v.def = &empty
		}
	}
}

// fixNote records why a variable was fixed. It becomes a warning in settle when the variable
// is also used where envctl could have kept it a variable (an env value, the image): that
// knob is lost. A variable only used where a fixed value is needed loses nothing.
func (c *converter) fixNote(v *variable, n *yaml.Node, svc, text string) {
	c.addNote(n, svc, text, false)
	v.fixNote = &c.notes[len(c.notes)-1]
	v.fixIndex = len(c.notes) - 1
}

// renderRef writes one use: literal text (lit) when the variable is fixed, else an HCL
// expression (expr).
func (c *converter) renderRef(r *vref) (lit, expr string) {
	v := c.vars[r.name]
	if v.fixed != nil {
		return c.evalFixed(r, *v.fixed, v.fixedSet), ""
	}
	ref := "var." + r.name
	cond := func(then, els string) string { return fmt.Sprintf(`%s != "" ? %s : %s`, ref, then, els) }
	switch r.op {
	case ":-":
		if v.uniform || (v.dotenv != nil && *v.dotenv != "") {
			return "", ref
		}
		return "", cond(ref, c.hcl(r.arg))
	case "-":
		if v.uniform || v.dotenv != nil {
			return "", ref
		}
		return "", cond(ref, c.hcl(r.arg))
	case ":+", "+":
		return "", cond(c.hcl(r.arg), `""`)
	}
	return "", ref
}

// evalFixed is Compose's interpolation of one use when the variable's value is known.
func (c *converter) evalFixed(r *vref, val string, set bool) string {
	arg := func() string {
		var b strings.Builder
		for _, p := range r.arg {
			if p.ref == nil {
				b.WriteString(p.lit)
				continue
			}
			l, e := c.renderRef(p.ref)
			if e != "" {
				// A fixed variable whose default refers to a variable that is not fixed:
				// keep the reference as text; staticRef fixes nested variables too, so this
				// is only reached through runtime-only nesting.
				l = "${" + e + "}"
			}
			b.WriteString(l)
		}
		return b.String()
	}
	switch r.op {
	case ":-":
		if set && val != "" {
			return val
		}
		return arg()
	case "-":
		if set {
			return val
		}
		return arg()
	case ":+":
		if set && val != "" {
			return arg()
		}
		return ""
	case "+":
		if set {
			return arg()
		}
		return ""
	}
	return val
}

// parseRef turns one segment's reference into a vref, interpolating its argument.
func (c *converter) parseRef(n *yaml.Node, svc string, r *ref) (*vref, error) {
	vr := &vref{name: r.name, op: r.op}
	if r.op != "" && r.op != ":?" && r.op != "?" {
		arg, err := c.interpolate(n, svc, r.arg)
		if err != nil {
			return nil, err
		}
		vr.arg = arg
	}
	return vr, nil
}

// interpolate converts a Compose string that envctl evaluates (image, command, env values,
// labels, build args, healthcheck tests) into a template with variable references.
func (c *converter) interpolate(n *yaml.Node, svc, s string) (tmpl, error) {
	if err := c.enter(n); err != nil {
		return nil, err
	}
	defer func() { c.nesting-- }()
	segs, err := splitInterp(s)
	if err != nil {
		return nil, c.errAt(n, "%v", err)
	}
	var out tmpl
	for _, sg := range segs {
		if sg.ref == nil {
			out = append(out, part{lit: sg.lit})
			continue
		}
		vr, err := c.parseRef(n, svc, sg.ref)
		if err != nil {
			return nil, err
		}
		desc := ""
		if sg.ref.op == ":?" || sg.ref.op == "?" {
			desc = strings.TrimSpace(sg.ref.arg)
		}
		c.useVar(vr, desc)
		out = append(out, part{ref: vr})
	}
	if len(out) == 0 {
		out = lit("")
	}
	return out, nil
}

// static resolves a Compose string where envctl needs a fixed value (ports, sizes, durations,
// paths, names, dependencies). A variable used here is fixed, for the whole file, to its .env
// value or else to the default this use gives (with a warning): every other use of it is then
// written as that value too, so that the file stays consistent. A variable with neither is an
// error.
func (c *converter) static(n *yaml.Node, svc, what string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		return "", c.errAt(n, "%s: want a scalar, got %s", what, kindName(n))
	}
	s := n.Value
	if !strings.Contains(s, "$") {
		return s, nil
	}
	return c.staticString(n, svc, what, s)
}

func (c *converter) staticString(n *yaml.Node, svc, what, s string) (string, error) {
	if err := c.enter(n); err != nil {
		return "", err
	}
	defer func() { c.nesting-- }()
	segs, err := splitInterp(s)
	if err != nil {
		return "", c.errAt(n, "%s: %v", what, err)
	}
	var b strings.Builder
	for _, sg := range segs {
		if sg.ref == nil {
			b.WriteString(sg.lit)
			continue
		}
		r := sg.ref
		v := c.variable(r.name)
		if v.fixed == nil {
			switch {
			case v.dotenv != nil:
				val := *v.dotenv
				v.fixed, v.fixedSet = &val, true
				shown := fmt.Sprintf("%q", val)
				if v.sensitive {
					shown = "(sensitive)"
				}
				c.fixNote(v, n, svc, fmt.Sprintf("%s: variable %s is fixed to its .env value %s, since envctl needs a fixed value here", what, r.name, shown))
			case r.op == ":-" || r.op == "-":
				def, err := c.staticString(n, svc, what, r.arg)
				if err != nil {
					return "", err
				}
				v.fixed, v.fixedSet = &def, false
				c.fixNote(v, n, svc, fmt.Sprintf("%s: variable %s is fixed to its default %q, since envctl needs a fixed value here", what, r.name, def))
			case r.name == "PWD":
				// The shell's working directory: for `docker compose up` in the project
				// directory, that directory; relative to the environment file it is ".".
				dot := "."
				v.fixed, v.fixedSet = &dot, true
				c.note(n, svc, fmt.Sprintf("%s: ${PWD} is taken as the project directory", what))
			case r.op == ":+" || r.op == "+":
				return "", c.errAt(n, "%s: ${%s%s...} cannot be carried over; envctl needs a fixed value here", what, r.name, r.op)
			default:
				return "", c.errAt(n, "%s: ${%s} has no default and no value in .env, and envctl needs a fixed value here; write ${%s:-VALUE}", what, r.name, r.name)
			}
		}
		vr := &vref{name: r.name, op: r.op}
		if r.op != "" && r.op != ":?" && r.op != "?" {
			arg, err := c.staticString(n, svc, what, r.arg)
			if err != nil {
				return "", err
			}
			vr.arg = lit(arg)
		}
		b.WriteString(c.evalFixed(vr, *v.fixed, v.fixedSet))
	}
	return b.String(), nil
}

// maxNesting bounds ${A:-${B:-...}} defaults inside defaults; real files nest two or three.
const maxNesting = 16

// enter counts one level of nested interpolation.
func (c *converter) enter(n *yaml.Node) error {
	c.nesting++
	if c.nesting > maxNesting {
		c.nesting--
		return c.errAt(n, "interpolation: defaults nest more than %d deep", maxNesting)
	}
	return nil
}

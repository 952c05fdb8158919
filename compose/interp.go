package compose

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// part is a piece of a converted string: literal text, or an HCL expression (expr != "").
type part struct {
	lit  string
	expr string
}

// tmpl is a converted string: Compose's ${VAR} forms turned into HCL expressions.
type tmpl []part

// lit is a template of literal text only.
func lit(s string) tmpl { return tmpl{{lit: s}} }

// hcl returns the template as HCL expression source: a bare expression when it is nothing
// else (image = var.IMAGE), else a quoted template.
func (t tmpl) hcl() string {
	if len(t) == 1 && t[0].expr != "" {
		return t[0].expr
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, p := range t {
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

// variable is one variable block to write.
type variable struct {
	name        string
	def         *string
	description string
	sensitive   bool
}

// sensitiveRe marks variables whose names look like secrets; they are written sensitive so
// that envctl never prints their values.
var sensitiveRe = regexp.MustCompile(`(?i)(passw|secret|token|api_?key|private_?key|credential)`)

// useVar declares (or refines) the variable name. def is its default, when the use gives one.
func (c *converter) useVar(n *yaml.Node, svc, name string, def *string, description string) {
	v := c.vars[name]
	if v == nil {
		v = &variable{name: name, description: description, sensitive: sensitiveRe.MatchString(name)}
		c.vars[name] = v
	}
	if v.description == "" {
		v.description = description
	}
	if def == nil {
		return
	}
	switch {
	case v.def == nil:
		d := *def
		v.def = &d
	case *v.def != *def:
		key := name + "\x00" + *def
		if !c.seenConflict[key] {
			c.seenConflict[key] = true
			c.warn(n, svc, fmt.Sprintf("variable %s has another default here (%q); envctl keeps one default per variable, %q", name, *def, *v.def))
		}
	}
}

// interpolate converts a Compose string that envctl evaluates (image, command, env values,
// labels, build args, healthcheck tests) into a template with var.NAME references.
func (c *converter) interpolate(n *yaml.Node, svc, s string) (tmpl, error) {
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
		r := sg.ref
		vref := "var." + r.name
		switch r.op {
		case "":
			c.useVar(n, svc, r.name, nil, "")
			out = append(out, part{expr: vref})
		case ":-", "-":
			if !strings.Contains(r.arg, "$") {
				d := r.arg
				c.useVar(n, svc, r.name, &d, "")
				out = append(out, part{expr: vref})
				continue
			}
			// A default that is itself interpolated cannot be a variable's default; say it
			// as an expression instead.
			alt, err := c.interpolate(n, svc, r.arg)
			if err != nil {
				return nil, err
			}
			empty := ""
			c.useVar(n, svc, r.name, &empty, "")
			out = append(out, part{expr: fmt.Sprintf(`%s != "" ? %s : %s`, vref, vref, alt.hcl())})
		case ":?", "?":
			c.useVar(n, svc, r.name, nil, strings.TrimSpace(r.arg))
			out = append(out, part{expr: vref})
		case ":+", "+":
			alt, err := c.interpolate(n, svc, r.arg)
			if err != nil {
				return nil, err
			}
			empty := ""
			c.useVar(n, svc, r.name, &empty, "")
			out = append(out, part{expr: fmt.Sprintf(`%s != "" ? %s : ""`, vref, alt.hcl())})
		}
	}
	if len(out) == 0 {
		out = lit("")
	}
	return out, nil
}

// static resolves a Compose string where envctl needs a fixed value (ports, sizes, durations,
// paths, names): each ${VAR} is replaced by the default Compose gives it, with a note; a
// variable without a default is an error.
func (c *converter) static(n *yaml.Node, svc, what string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		return "", c.errAt(n, "%s: want a scalar, got %s", what, kindName(n))
	}
	s := n.Value
	if !strings.Contains(s, "$") {
		return s, nil
	}
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
		switch r.op {
		case ":-", "-":
			if strings.Contains(r.arg, "$") {
				return "", c.errAt(n, "%s: ${%s%s%s} needs a fixed default here", what, r.name, r.op, r.arg)
			}
			b.WriteString(r.arg)
			c.warn(n, svc, fmt.Sprintf("%s: ${%s} is replaced by its default %q, since envctl needs a fixed value here", what, r.name, r.arg))
		case ":+", "+":
			return "", c.errAt(n, "%s: ${%s%s...} cannot be carried over; envctl needs a fixed value here", what, r.name, r.op)
		default:
			return "", c.errAt(n, "%s: ${%s} has no default, and envctl needs a fixed value here; write ${%s:-VALUE}", what, r.name, r.name)
		}
	}
	return b.String(), nil
}

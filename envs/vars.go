package envs

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix prefixes the environment variables that set variables: ENVCTL_VAR_tag=v1.
const EnvVarPrefix = "ENVCTL_VAR_"

// sensitiveMark marks cty values derived from a sensitive variable; cty carries marks through
// expressions and functions, so Resolve can tell which results hold a secret.
type marker string

const sensitiveMark = marker("sensitive")

var varSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	},
}

// varDecl is one variable block.
type varDecl struct {
	name      string
	v         *Variable
	ty        cty.Type // cty.DynamicPseudoType for "any"
	sensitive bool
	def       *cty.Value // nil when there is no default
	decl      hcl.Range
	bad       bool // the declaration itself is broken: do not report a missing value too
}

// literal reports whether --var and ENVCTL_VAR_ values are taken as they are rather than
// parsed as HCL: for strings, and for untyped variables as Terraform does.
func (d *varDecl) literal() bool {
	return d.ty == cty.String || d.ty == cty.DynamicPseudoType
}

func (l *loader) declareVariables(blocks []blockIn) {
	l.vars = map[string]*varDecl{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.errorf(rangePtr(b.LabelRanges[0]), "Invalid variable name",
				"Variable names must be identifiers: a letter or \"_\" followed by letters, digits, \"_\" or \"-\"; %q is not.", name)
			continue
		}
		if prev := l.vars[name]; prev != nil {
			l.errorf(rangePtr(b.DefRange), "Duplicate variable",
				"A variable named %q was already declared at %s.", name, prev.decl)
			continue
		}
		d := &varDecl{name: name, ty: cty.DynamicPseudoType, decl: b.DefRange,
			v: &Variable{Name: name, Type: "any", DeclRange: b.DefRange}}
		l.vars[name] = d
		l.varOrder = append(l.varOrder, d)
		l.env.Variables = append(l.env.Variables, d.v)

		content, diags := b.Body.Content(varSchema)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			d.bad = true
		}
		if a := content.Attributes["type"]; a != nil {
			ty, diags := typeexpr.TypeConstraint(a.Expr)
			l.diags = append(l.diags, diags...)
			if diags.HasErrors() {
				d.bad = true
			} else {
				d.ty = ty
				d.v.Type = strings.TrimSpace(string(a.Expr.Range().SliceBytes(b.f.file.Bytes)))
			}
		}
		if a := content.Attributes["description"]; a != nil {
			v, ok := l.evalConst(a.Expr, b.f)
			if s, ok := l.stringVal(a, v, ok); ok {
				d.v.Description = s
			}
		}
		if a := content.Attributes["sensitive"]; a != nil {
			v, ok := l.evalConst(a.Expr, b.f)
			if ok {
				bv, err := convert.Convert(v, cty.Bool)
				if err != nil || bv.IsNull() {
					l.typeError(a, "true or false is required")
				} else {
					d.sensitive = bv.True()
					d.v.Sensitive = d.sensitive
				}
			}
		}
		if a := content.Attributes["default"]; a != nil {
			v, ok := l.evalConst(a.Expr, b.f)
			if !ok {
				d.bad = true
				continue
			}
			cv, err := convert.Convert(v, d.ty)
			if err != nil {
				d.bad = true
				l.errorf(rangePtr(a.Expr.Range()), "Invalid default value for variable",
					"The default of variable %q does not match its type %s: %s.", name, d.v.Type, errText(err))
				continue
			}
			d.def = &cv
		}
	}
}

// evalConst evaluates an expression that may use functions but no references (variable
// declarations and var files).
func (l *loader) evalConst(expr hcl.Expression, f *srcFile) (cty.Value, bool) {
	ctx := &hcl.EvalContext{}
	if f != nil {
		ctx.Functions = f.funcs
	}
	v, diags := expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	return v, !diags.HasErrors()
}

// setVariables applies the value sources in precedence order, lowest first, and reports
// required variables left without a value.
func (l *loader) setVariables() {
	vals := map[string]cty.Value{}
	for _, d := range l.varOrder {
		if d.def != nil {
			vals[d.name] = *d.def
		}
	}

	for _, kv := range l.opts.Environ {
		k, raw, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvVarPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, EnvVarPrefix)
		d := l.vars[name]
		if d == nil {
			continue // the environment may be shared with other files: ignore, do not fail
		}
		if v, ok := l.parseRaw(d, raw, "the environment variable "+k); ok {
			vals[name] = v
		}
	}

	for _, f := range l.varFiles {
		attrs, diags := f.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		for _, a := range sortedAttrs(attrs) {
			d := l.vars[a.Name]
			if d == nil {
				l.errorf(rangePtr(a.NameRange), "Undeclared variable",
					"The variable file sets %q, but no variable of that name is declared.%s",
					a.Name, didYouMean(a.Name, l.varNames()))
				continue
			}
			v, ok := l.evalConst(a.Expr, nil)
			if !ok {
				d.bad = true
				continue
			}
			cv, err := convert.Convert(v, d.ty)
			if err != nil {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid value for variable",
					"The value for variable %q does not match its type %s: %s.", a.Name, d.v.Type, errText(err))
				d.bad = true
				continue
			}
			vals[a.Name] = cv
		}
	}

	for _, kv := range l.opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			l.errorf(nil, "Invalid --var", "A --var value has the form NAME=VALUE, like --var tag=v2; %q is not.", kv)
			continue
		}
		d := l.vars[name]
		if d == nil {
			l.errorf(nil, "Undeclared variable",
				"--var sets %q, but no variable of that name is declared.%s", name, didYouMean(name, l.varNames()))
			continue
		}
		if v, ok := l.parseRaw(d, raw, "--var "+name); ok {
			vals[name] = v
		}
	}

	l.varVals = map[string]cty.Value{}
	for _, d := range l.varOrder {
		v, ok := vals[d.name]
		if !ok {
			if !d.bad {
				l.errorf(rangePtr(d.decl), "No value for required variable",
					"The variable %q has no default and no value. Set it with --var %s=..., in a --var-file, or with the environment variable %s%s.",
					d.name, d.name, EnvVarPrefix, d.name)
			}
			// Unknown, so that expressions using it evaluate without knock-on errors.
			l.varVals[d.name] = cty.DynamicVal
			continue
		}
		d.v.Value = renderValue(v)
		if d.sensitive {
			v = v.Mark(sensitiveMark)
		}
		l.varVals[d.name] = v
	}
}

// parseRaw turns a --var or ENVCTL_VAR_ value into the variable's type: literally for
// strings, as an HCL expression otherwise.
func (l *loader) parseRaw(d *varDecl, raw, source string) (cty.Value, bool) {
	if d.literal() {
		return cty.StringVal(raw), true
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if diags.HasErrors() {
		l.errorf(nil, "Invalid value for variable",
			"The value given by %s is not a valid %s: %s. Values of variables that are not strings are written in HCL syntax, like [\"a\", \"b\"] or {k = \"v\"}.",
			source, d.v.Type, diags[0].Summary)
		d.bad = true
		return cty.NilVal, false
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		d.bad = true
		l.errorf(nil, "Invalid value for variable",
			"The value given by %s is not a valid %s: %s. Strings inside it need quotes, like [\"a\", \"b\"].", source, d.v.Type, diagText(diags))
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, d.ty)
	if err != nil {
		l.errorf(nil, "Invalid value for variable", "The value given by %s is not a valid %s: %s.", source, d.v.Type, errText(err))
		d.bad = true
		return cty.NilVal, false
	}
	return cv, true
}

func (l *loader) varNames() []string {
	names := make([]string, len(l.varOrder))
	for i, d := range l.varOrder {
		names[i] = d.name
	}
	return names
}

// varObject is the value of `var` in expressions.
func (l *loader) varObject() cty.Value {
	if len(l.varVals) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(l.varVals)
}

// renderValue renders v as HCL for plan output.
func renderValue(v cty.Value) string {
	v = unmark(v)
	if !v.IsWhollyKnown() {
		return "(known after evaluation)"
	}
	return strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes()))
}

// sortedAttrs returns attributes in source order: JustAttributes gives a map.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sortByPos(out, func(a *hcl.Attribute) hcl.Range { return a.Range })
	return out
}

// errText renders a conversion error with the path of the offending element.
func errText(err error) string {
	if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
		return fmt.Sprintf("%s: %s", pathText(pe.Path), pe.Error())
	}
	return err.Error()
}

// pathText renders a cty path like `element "KEY"` or `element 2`.
func pathText(p cty.Path) string {
	var parts []string
	for _, s := range p {
		switch s := s.(type) {
		case cty.GetAttrStep:
			parts = append(parts, fmt.Sprintf("attribute %q", s.Name))
		case cty.IndexStep:
			k, _ := s.Key.Unmark()
			if k.Type() == cty.String && k.IsKnown() && !k.IsNull() {
				parts = append(parts, fmt.Sprintf("element %q", k.AsString()))
			} else if k.Type() == cty.Number && k.IsKnown() && !k.IsNull() {
				parts = append(parts, fmt.Sprintf("element %s", k.AsBigFloat().String()))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// diagText joins the summaries and details of error diagnostics into one sentence.
func diagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			parts = append(parts, strings.TrimSuffix(d.Summary+": "+d.Detail, "."))
		}
	}
	return strings.Join(parts, "; ")
}

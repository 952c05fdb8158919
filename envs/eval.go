package envs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// scope says which references an expression may use.
type scope int

const (
	scopeEnv     scope = iota // the environment block: var only (locals may use environment.name)
	scopeLocal                // locals: var, local, environment
	scopeStatic               // service attributes fixed at load: no service addresses
	scopeRuntime              // command, entrypoint, env: service addresses too
	// scopeLocalRuntime is a local that refers to services: var, local, environment and
	// service addresses, evaluated again at start.
	scopeLocalRuntime
)

const serviceRefHere = "Service addresses are known only at start; they may be used in command, entrypoint and env, and in locals used there."

// checkRefs checks every reference in expr against the declared names and the scope, and
// appends each service reference to deps. It reports false when any reference is wrong, so
// the caller skips evaluating expr rather than adding knock-on errors.
func (l *loader) checkRefs(expr hcl.Expression, sc scope, deps *[]Dep) bool {
	if literalOnly(expr) {
		return true // most attributes are constants: skip collecting their (no) references
	}
	ok := true
	// One mistake, one message: "${service.db.host}:${service.db.ports.pg}" in an image is
	// one misplaced address, not two; so is a misplaced local used twice.
	l.refsSaid = map[string]bool{}
	for _, t := range expr.Variables() {
		if !l.checkRef(t, sc, deps) {
			ok = false
		}
	}
	l.refsSaid = nil
	return ok
}

// sayOnce reports whether a misplaced-reference message keyed by key has not been given for
// the expression under check yet, and records it.
func (l *loader) sayOnce(key string) bool {
	if l.refsSaid == nil {
		return true
	}
	if l.refsSaid[key] {
		return false
	}
	l.refsSaid[key] = true
	return true
}

// stepName returns the attribute name of a traversal step: .name or ["name"].
func stepName(s hcl.Traverser) (string, bool) {
	switch s := s.(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		k, _ := s.Key.Unmark()
		if k.Type() == cty.String && k.IsKnown() && !k.IsNull() {
			return k.AsString(), true
		}
	}
	return "", false
}

func (l *loader) checkRef(t hcl.Traversal, sc scope, deps *[]Dep) bool {
	root := t.RootName()
	rng := t.SourceRange()
	switch root {
	case "var":
		name, ok := "", len(t) > 1
		if ok {
			name, ok = stepName(t[1])
		}
		if !ok {
			l.errorf(&rng, "Invalid reference", "A variable is referenced by its name, like var.tag.")
			return false
		}
		if l.vars[name] == nil {
			l.errorf(&rng, "Reference to undeclared variable",
				"No variable named %q is declared; add a variable %q block.%s", name, name, didYouMean(name, l.varNames()))
			return false
		}
		return true
	case "local":
		if sc == scopeEnv {
			l.errorf(&rng, "Invalid reference", "The environment block may use variables (var.NAME) and functions, not local values.")
			return false
		}
		name, ok := "", len(t) > 1
		if ok {
			name, ok = stepName(t[1])
		}
		if !ok {
			l.errorf(&rng, "Invalid reference", "A local value is referenced by its name, like local.db_user.")
			return false
		}
		d := l.locals[name]
		if d == nil {
			l.errorf(&rng, "Reference to undeclared local value",
				"No local value named %q is declared in a locals block.%s", name, didYouMean(name, l.localNames()))
			return false
		}
		if !d.deferred {
			return true
		}
		switch sc {
		case scopeRuntime:
			if d.bad {
				return false // its own mistake is reported where it is written
			}
			// The edge is made here, where this service uses the local, as a direct
			// reference would be: plan, graph and cycle reports point at this use.
			if deps != nil {
				for _, sd := range d.svcDeps {
					*deps = append(*deps, Dep{Name: sd.Name, Range: rng, Via: "local." + name})
				}
			}
			return true
		case scopeLocalRuntime:
			return !d.bad
		}
		if l.sayOnce("local." + name) {
			l.errorf(&rng, "Local value known only at start",
				"local.%s uses service addresses (%s at %s), which are known only when the services start: it may be used in command, entrypoint and env, not here. Write the value here without service addresses.",
				name, l.firstServiceRef(d), shortRange(l.firstServiceRange(d)))
		}
		return false
	case "environment":
		if sc == scopeEnv {
			l.errorf(&rng, "Invalid reference", "The environment block cannot refer to itself; it may use variables (var.NAME) and functions.")
			return false
		}
		name, ok := "", len(t) > 1
		if ok {
			name, ok = stepName(t[1])
		}
		if !ok || name != "name" {
			l.errorf(&rng, "Invalid reference", "The environment has one attribute to refer to: environment.name.")
			return false
		}
		return true
	case "service":
		if sc != scopeRuntime && sc != scopeLocalRuntime {
			if l.sayOnce("service") {
				l.errorf(&rng, "Invalid reference to a service", "%s", serviceRefHere)
			}
			return false
		}
		return l.checkServiceRef(t, deps)
	}
	l.errorf(&rng, "Invalid reference",
		"%q is not something an expression can refer to. References start with var., local., environment. or service.", root)
	return false
}

// checkServiceRef checks service.N.host and service.N.ports.P and records the edge to N.
func (l *loader) checkServiceRef(t hcl.Traversal, deps *[]Dep) bool {
	rng := t.SourceRange()
	name, ok := "", len(t) > 1
	if ok {
		name, ok = stepName(t[1])
	}
	if !ok {
		l.errorf(&rng, "Invalid reference to a service", "A service is referenced by its name, like service.db.host or service.db.ports.pg.")
		return false
	}
	sv := l.services[name]
	if sv == nil {
		l.errorf(&rng, "Reference to undeclared service",
			"No service named %q is declared.%s", name, didYouMean(name, l.serviceNames()))
		return false
	}
	attr := ""
	if len(t) > 2 {
		attr, _ = stepName(t[2])
	}
	switch attr {
	case "host":
	case "ports":
		port := ""
		if len(t) > 3 {
			port, _ = stepName(t[3])
		}
		if port == "" {
			l.errorf(&rng, "Invalid reference to a service",
				"A port is referenced by its name, like service.%s.ports.%s.", name, firstOr(sv.portNames, "http"))
			return false
		}
		if !sv.hasPort(port) {
			l.errorf(&rng, "Unknown port", "%s", unknownPortDetail(name, port, sv.portNames))
			return false
		}
	case "":
		l.errorf(&rng, "Invalid reference to a service",
			"A reference to a service names one of its attributes: host (service.%s.host) or ports (service.%s.ports.NAME).", name, name)
		return false
	default:
		l.errorf(&rng, "Invalid reference to a service",
			"%q is not an attribute of a service. A service has: host (service.%s.host) and ports (service.%s.ports.NAME).",
			attr, name, name)
		return false
	}
	if deps != nil {
		*deps = append(*deps, Dep{Name: name, Range: rng})
	}
	return true
}

// firstServiceRange is the first service reference, in source order, of d or of the locals
// it uses.
func (l *loader) firstServiceRange(d *localDecl) hcl.Range {
	var best *hcl.Range
	seen := map[string]bool{}
	var walk func(d *localDecl)
	walk = func(d *localDecl) {
		if d == nil || !d.deferred || seen[d.name] {
			return
		}
		seen[d.name] = true
		if r := d.direct; r != nil && (best == nil || r.Filename < best.Filename ||
			r.Filename == best.Filename && r.Start.Byte < best.Start.Byte) {
			best = r
		}
		for _, n := range d.deps {
			walk(l.locals[n])
		}
	}
	walk(d)
	if best == nil {
		return hcl.Range{}
	}
	return *best
}

// firstServiceRef is the source text of firstServiceRange, like "service.db.host".
func (l *loader) firstServiceRef(d *localDecl) string {
	r := l.firstServiceRange(d)
	for _, f := range l.files {
		if f.name == r.Filename {
			return strings.TrimSpace(string(r.SliceBytes(f.file.Bytes)))
		}
	}
	return "service"
}

// shortRange is "file:line", for pointing at a second place in a message.
func shortRange(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

func firstOr(names []string, def string) string {
	if len(names) > 0 {
		return names[0]
	}
	return def
}

// unknownPortDetail explains which ports a service has, with a suggestion.
func unknownPortDetail(svc, port string, ports []string) string {
	if len(ports) == 0 {
		return fmt.Sprintf("Service %q declares no ports; declare one with ports = { %s = 8080 }.", svc, port)
	}
	return fmt.Sprintf("Service %q has no port named %q; its ports are %s.%s",
		svc, port, quotedList(ports, false), didYouMean(port, ports))
}

// eval checks expr's references for the scope and evaluates it. It reports false, without a
// further error, when the value is not usable: a wrong reference, an evaluation error, or
// (outside run-time attributes) a value left unknown by a variable that has no value.
func (l *loader) eval(expr hcl.Expression, ctx *hcl.EvalContext, sc scope, deps *[]Dep) (cty.Value, bool) {
	if !l.checkRefs(expr, sc, deps) || !l.checkDupKeys(expr) {
		return cty.NilVal, false
	}
	if c := costOf(expr, ctx); c > MaxEvalCost {
		l.errorf(rangePtr(expr.Range()), "Expression too costly",
			"Evaluating this expression could build about %s, more than the limit of %s: its for expressions multiply what they repeat. Make the collections smaller.",
			byteSize(int64(min(c, 1<<62))), byteSize(MaxEvalCost))
		return cty.NilVal, false
	}
	v, diags := expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if sc != scopeRuntime && sc != scopeLocalRuntime && !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	// Bounding every value stops a growth that compounds across locals (each doubling the
	// last) at its first step over the limit.
	if valueSize(v, MaxValueSize) > MaxValueSize {
		l.errorf(rangePtr(expr.Range()), "Value too large",
			"This expression's value is larger than %s, the limit on any one value.", byteSize(MaxValueSize))
		return cty.NilVal, false
	}
	return v, true
}

// typeError reports a value of the wrong type for attribute a.
func (l *loader) typeError(a *hcl.Attribute, expected string) {
	l.errorf(rangePtr(a.Expr.Range()), "Incorrect attribute value type",
		"Inappropriate value for attribute %q: %s.", a.Name, expected)
}

// stringVal converts an evaluated attribute to a string. A null counts as unset (false, no
// error); a value of another kind is a type error.
func (l *loader) stringVal(a *hcl.Attribute, v cty.Value, ok bool) (string, bool) {
	if !ok || v.IsNull() {
		return "", false
	}
	v = unmark(v)
	if !v.IsKnown() {
		return "", false
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil || sv.IsNull() {
		l.typeError(a, "a string is required, got "+friendlyType(v.Type()))
		return "", false
	}
	return sv.AsString(), true
}

// numberVal converts an evaluated attribute to a float64.
func (l *loader) numberVal(a *hcl.Attribute, v cty.Value, ok bool) (float64, bool) {
	if !ok || v.IsNull() {
		return 0, false
	}
	v = unmark(v)
	if !v.IsKnown() {
		return 0, false
	}
	nv, err := convert.Convert(v, cty.Number)
	if err != nil || nv.IsNull() {
		l.typeError(a, "a number is required, got "+friendlyType(v.Type()))
		return 0, false
	}
	f, _ := nv.AsBigFloat().Float64()
	return f, true
}

// stringList converts a value to a list of strings. hint is added to the error when a plain
// string was given where a list is expected.
func (l *loader) stringList(a *hcl.Attribute, v cty.Value, hint string) ([]string, bool) {
	if v.IsNull() {
		return nil, false
	}
	v = unmark(v)
	ty := v.Type()
	if ty == cty.String {
		l.typeError(a, "a list of strings is required, not a single string. "+hint)
		return nil, false
	}
	if !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		l.typeError(a, "a list of strings is required, got "+friendlyType(ty))
		return nil, false
	}
	if !v.IsWhollyKnown() {
		return nil, false
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			l.typeError(a, fmt.Sprintf("element %s is null; a list of strings is required", k.AsBigFloat().String()))
			return nil, false
		}
		s, err := convert.Convert(e, cty.String)
		if err != nil {
			l.typeError(a, fmt.Sprintf("element %s is %s; a list of strings is required", k.AsBigFloat().String(), friendlyType(e.Type())))
			return nil, false
		}
		out = append(out, s.AsString())
	}
	return out, true
}

// stringMap converts a value to a map of strings; numbers and bools convert.
func (l *loader) stringMap(a *hcl.Attribute, v cty.Value) (map[string]string, bool) {
	if v.IsNull() {
		return nil, false
	}
	v = unmark(v)
	ty := v.Type()
	if !(ty.IsMapType() || ty.IsObjectType()) {
		l.typeError(a, "a map of strings is required, like { KEY = \"value\" }, got "+friendlyType(ty))
		return nil, false
	}
	if !v.IsWhollyKnown() {
		return nil, false
	}
	out := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		key := k.AsString()
		if e.IsNull() {
			l.typeError(a, fmt.Sprintf("element %q is null; a map of strings is required", key))
			return nil, false
		}
		s, err := convert.Convert(e, cty.String)
		if err != nil {
			l.typeError(a, fmt.Sprintf("element %q is %s; a map of strings is required", key, friendlyType(e.Type())))
			return nil, false
		}
		out[key] = s.AsString()
	}
	return out, true
}

// friendlyType names a cty type the way the file's author thinks of it.
func friendlyType(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "a bool"
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		return "a list"
	case ty.IsMapType() || ty.IsObjectType():
		return "a map"
	case ty == cty.DynamicPseudoType:
		return "null"
	}
	return ty.FriendlyName()
}

// itemRange returns the range of the value of key inside an object constructor expression,
// for pointing at one entry of a map; else the whole expression's range.
func itemRange(expr hcl.Expression, key string) hcl.Range {
	if oc, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range oc.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || k.Type() != cty.String || !k.IsKnown() || k.IsNull() {
				continue
			}
			if k.AsString() == key {
				return item.ValueExpr.Range()
			}
		}
	}
	return expr.Range()
}

// sortByPos sorts items by the start of their range: file order first is kept by the caller,
// so this only orders within one file.
func sortByPos[T any](items []T, rng func(T) hcl.Range) {
	sort.SliceStable(items, func(i, j int) bool {
		ri, rj := rng(items[i]), rng(items[j])
		if ri.Filename != rj.Filename {
			return ri.Filename < rj.Filename
		}
		return ri.Start.Byte < rj.Start.Byte
	})
}

// unmark removes every mark from v. Most values carry none, and checking first avoids the
// copy UnmarkDeep makes of every collection.
func unmark(v cty.Value) cty.Value {
	if v.IsMarked() {
		v, _ = v.Unmark()
	}
	if v.Type().IsPrimitiveType() || !v.ContainsMarked() {
		return v
	}
	v, _ = v.UnmarkDeep()
	return v
}

// literalOnly reports whether expr is built from literals alone (strings, numbers, lists and
// maps of them), so it has no references. It errs towards false: false means "walk it".
func literalOnly(expr hcl.Expression) bool {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return true
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if _, ok := p.(*hclsyntax.LiteralValueExpr); !ok {
				return false
			}
		}
		return true
	case *hclsyntax.TupleConsExpr:
		for _, el := range e.Exprs {
			if !literalOnly(el) {
				return false
			}
		}
		return true
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			k, ok := item.KeyExpr.(*hclsyntax.ObjectConsKeyExpr)
			if !ok || k.ForceNonLiteral || !(hcl.ExprAsKeyword(k.Wrapped) != "" || literalOnly(k.Wrapped)) {
				return false
			}
			if !literalOnly(item.ValueExpr) {
				return false
			}
		}
		return true
	}
	return false
}

// checkDupKeys reports a key written twice in one object constructor ({ http = 80, http = 81 }):
// HCL keeps the last silently, which hides a mistake. It also refuses list and object
// constructors longer than MaxElements.
func (l *loader) checkDupKeys(expr hcl.Expression) bool {
	e, ok := expr.(hclsyntax.Expression)
	if !ok {
		return true
	}
	good := true
	_ = hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if tup, ok := n.(*hclsyntax.TupleConsExpr); ok && len(tup.Exprs) > MaxElements {
			l.errorf(rangePtr(tup.OpenRange), "Too many elements",
				"This list has %d elements; at most %d are allowed.", len(tup.Exprs), MaxElements)
			good = false
			return nil
		}
		obj, ok := n.(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil
		}
		if len(obj.Items) > MaxElements {
			l.errorf(rangePtr(obj.OpenRange), "Too many elements",
				"This object has %d elements; at most %d are allowed.", len(obj.Items), MaxElements)
			good = false
			return nil
		}
		seen := map[string]hcl.Range{}
		for _, item := range obj.Items {
			key := hcl.ExprAsKeyword(item.KeyExpr)
			if key == "" {
				if tmpl, ok := item.KeyExpr.(*hclsyntax.ObjectConsKeyExpr); ok {
					if w, ok := tmpl.Wrapped.(*hclsyntax.TemplateExpr); ok && w.IsStringLiteral() {
						v, _ := w.Value(nil)
						key = v.AsString()
					}
				}
			}
			if key == "" {
				continue
			}
			if prev, dup := seen[key]; dup {
				l.errorf(rangePtr(item.KeyExpr.Range()), "Duplicate key",
					"The key %q is already set in this object at %s; each key may be given once.", key, prev)
				good = false
				continue
			}
			seen[key] = item.KeyExpr.Range()
		}
		return nil
	})
	return good
}

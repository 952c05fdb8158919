package envs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// runtimeExprs are a service's run-time attributes, kept unevaluated until its dependencies'
// addresses are known.
type runtimeExprs struct {
	command, entrypoint, env hcl.Expression      // nil when absent
	ctx                      *hcl.EvalContext    // var, local, environment and the file's functions
	src                      []byte              // the file's bytes, for Template's source text
	bad                      bool                // Load reported errors in them
	portNames                map[string][]string // every service's port names, for Template; shared, read-only

	// locals are the locals built from service addresses that these attributes use, in
	// evaluation order; localVals every local's load-time value, shared and read-only.
	locals    []*deferredLocal
	localVals map[string]cty.Value
	varObj    cty.Value
	envObj    cty.Value
}

// deferredLocal is a local that refers to service addresses, kept as an expression like
// command and env.
type deferredLocal struct {
	name  string
	expr  hcl.Expression
	funcs map[string]function.Function // its own file's
	deps  []string                     // the locals it refers to
}

// withLocals adds to ctx (which holds `service`) the `local` object with the deferred locals
// evaluated against ctx's service addresses. With template set, a local that does not
// evaluate stands as its reference text, like "${local.database_url}".
func (rt *runtimeExprs) withLocals(ctx *hcl.EvalContext, template bool) hcl.Diagnostics {
	if len(rt.locals) == 0 {
		return nil
	}
	svc := ctx.Variables["service"]
	vals := make(map[string]cty.Value, len(rt.localVals))
	for k, v := range rt.localVals {
		vals[k] = v
	}
	var diags hcl.Diagnostics
	for _, d := range rt.locals {
		refs := make(map[string]cty.Value, len(d.deps))
		for _, n := range d.deps {
			refs[n] = vals[n]
		}
		localObj := cty.EmptyObjectVal
		if len(refs) > 0 {
			localObj = cty.ObjectVal(refs)
		}
		lctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": rt.varObj, "local": localObj, "environment": rt.envObj, "service": svc},
			Functions: d.funcs,
		}
		v, d2 := d.expr.Value(lctx)
		if d2.HasErrors() {
			if template {
				v = cty.StringVal("${local." + d.name + "}")
			} else {
				diags = append(diags, d2...)
				v = cty.DynamicVal
			}
		}
		vals[d.name] = v
	}
	ctx.Variables["local"] = cty.ObjectVal(vals)
	return diags
}

func (rt *runtimeExprs) setList(name string, e hcl.Expression) {
	if name == "command" {
		rt.command = e
	} else {
		rt.entrypoint = e
	}
}

// Resolve evaluates the service's command, entrypoint and env with the real endpoints of its
// dependencies, keyed by service name. Values derived from sensitive variables are returned
// as they are, and the Runtime says where they are. Resolve and Template only read the
// loaded Environment, so they are safe to call from several goroutines at once.
func (s *Service) Resolve(deps map[string]Endpoint) (*Runtime, hcl.Diagnostics) {
	if s == nil || s.rt == nil {
		return &Runtime{}, nil
	}
	var diags hcl.Diagnostics
	for _, d := range s.Deps {
		if _, ok := deps[d.Name]; !ok {
			r := d.Range
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing endpoint",
				Detail:   fmt.Sprintf("Service %q needs the address of %q, which is not known yet.", s.Name, d.Name),
				Subject:  &r,
			})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	objs := make(map[string]cty.Value, len(deps))
	for name, ep := range deps {
		ports := make(map[string]cty.Value, len(ep.Ports))
		for p, n := range ep.Ports {
			ports[p] = cty.NumberIntVal(int64(n))
		}
		objs[name] = cty.ObjectVal(map[string]cty.Value{"host": cty.StringVal(ep.Host), "ports": cty.ObjectVal(ports)})
	}
	ctx := s.rt.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"service": cty.ObjectVal(objs)}
	if diags := s.rt.withLocals(ctx, false); diags.HasErrors() {
		return nil, diags
	}
	rt, diags := s.rt.evaluate(ctx, false)
	if rt != nil {
		s.mergeEnvFiles(rt)
	}
	return rt, diags
}

// mergeEnvFiles puts the env_file variables under rt.Env: env wins.
func (s *Service) mergeEnvFiles(rt *Runtime) {
	if len(s.envFileVars) == 0 {
		return
	}
	if rt.Env == nil {
		rt.Env = make(map[string]string, len(s.envFileVars))
	}
	for k, v := range s.envFileVars {
		if _, set := rt.Env[k]; !set {
			rt.Env[k] = v
			rt.FromEnvFile = append(rt.FromEnvFile, k)
			if s.envFileSecret[k] {
				rt.SensitiveEnv = append(rt.SensitiveEnv, k)
			}
		}
	}
	sort.Strings(rt.FromEnvFile)
	sort.Strings(rt.SensitiveEnv)
	rt.SensitiveEnv = compactStrings(rt.SensitiveEnv)
}

// Template is Resolve without addresses: every service reference is rendered as its source
// text, like "postgres://${service.db.host}:${service.db.ports.pg}/shop". It serves the config
// hash and plan output; sensitive values are included (the hash needs them), callers redact.
func (s *Service) Template() *Runtime {
	if s == nil || s.rt == nil {
		return &Runtime{}
	}
	objs := make(map[string]cty.Value, len(s.Deps))
	for _, d := range s.Deps {
		objs[d.Name] = placeholderService(d.Name, s.rt.portNames[d.Name])
	}
	ctx := s.rt.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"service": cty.ObjectVal(objs)}
	s.rt.withLocals(ctx, true)
	rt, _ := s.rt.evaluate(ctx, true)
	s.mergeEnvFiles(rt)
	return rt
}

// placeholderService stands for a service whose address is not known: its host and each of
// its declared ports are their own reference text.
func placeholderService(name string, ports []string) cty.Value {
	pm := make(map[string]cty.Value, len(ports))
	for _, p := range ports {
		pm[p] = cty.StringVal("${service." + name + ".ports." + p + "}")
	}
	return cty.ObjectVal(map[string]cty.Value{
		"host":  cty.StringVal("${service." + name + ".host}"),
		"ports": cty.ObjectVal(pm),
	})
}

// evaluate computes the Runtime in ctx. With template set, errors are not returned: any
// attribute (or entry) that does not evaluate is rendered as its source text instead.
func (rt *runtimeExprs) evaluate(ctx *hcl.EvalContext, template bool) (*Runtime, hcl.Diagnostics) {
	out := &Runtime{}
	var diags hcl.Diagnostics
	list := func(e hcl.Expression, name string) ([]string, bool) {
		if e == nil {
			return nil, false
		}
		v, d := e.Value(ctx)
		if d.HasErrors() {
			if template {
				return rt.listFallback(e, ctx)
			}
			diags = append(diags, d...)
			return nil, false
		}
		if v.IsNull() {
			return nil, false
		}
		sensitive := v.ContainsMarked()
		v = unmark(v)
		lv, err := convert.Convert(v, cty.List(cty.String))
		if err != nil || !lv.IsWhollyKnown() {
			if template {
				return []string{rt.text(e)}, sensitive
			}
			diags = append(diags, typeDiag(e, name, "a list of strings is required"))
			return nil, false
		}
		res := make([]string, 0, lv.LengthInt())
		for it := lv.ElementIterator(); it.Next(); {
			_, el := it.Element()
			if el.IsNull() {
				res = append(res, "")
				continue
			}
			res = append(res, el.AsString())
		}
		return res, sensitive
	}
	var sc, se bool
	out.Command, sc = list(rt.command, "command")
	out.Entrypoint, se = list(rt.entrypoint, "entrypoint")
	out.SensitiveArgs = sc || se

	if rt.env != nil {
		v, d := rt.env.Value(ctx)
		switch {
		case d.HasErrors() && template:
			out.Env, out.SensitiveEnv = rt.mapFallback(rt.env, ctx)
		case d.HasErrors():
			diags = append(diags, d...)
		case v.IsNull():
		case !v.IsKnown(): // only from a variable without a value, which Load reported
			if template {
				out.Env = map[string]string{"": rt.text(rt.env)}
			} else {
				diags = append(diags, typeDiag(rt.env, "env", "a known map of strings is required"))
			}
		default:
			out.Env, out.SensitiveEnv = map[string]string{}, nil
			if v.IsMarked() { // the whole map is sensitive
				v, _ = v.Unmark()
				for it := v.ElementIterator(); it.Next(); {
					k, _ := it.Element()
					out.SensitiveEnv = append(out.SensitiveEnv, k.AsString())
				}
			}
			mv, err := convert.Convert(v, cty.Map(cty.String))
			if err != nil || !mv.IsKnown() {
				if !template {
					diags = append(diags, typeDiag(rt.env, "env", "a map of strings is required"))
				}
				break
			}
			for it := mv.ElementIterator(); it.Next(); {
				k, el := it.Element()
				key := k.AsString()
				if el.ContainsMarked() {
					out.SensitiveEnv = append(out.SensitiveEnv, key)
				}
				el = unmark(el)
				switch {
				case el.IsNull():
					out.Env[key] = ""
				case !el.IsKnown():
					out.Env[key] = rt.text(itemExpr(rt.env, key))
				default:
					out.Env[key] = el.AsString()
				}
			}
		}
	}
	sort.Strings(out.SensitiveEnv)
	out.SensitiveEnv = compactStrings(out.SensitiveEnv)
	if diags.HasErrors() {
		return nil, diags
	}
	return out, diags
}

// text is e's source text as a template placeholder.
func (rt *runtimeExprs) text(e hcl.Expression) string {
	return "${" + strings.TrimSpace(string(e.Range().SliceBytes(rt.src))) + "}"
}

// listFallback evaluates a tuple constructor element by element, rendering the elements that
// fail as source text; any other expression becomes one element of source text.
func (rt *runtimeExprs) listFallback(e hcl.Expression, ctx *hcl.EvalContext) ([]string, bool) {
	tc, ok := e.(*hclsyntax.TupleConsExpr)
	if !ok {
		return []string{rt.text(e)}, false
	}
	out := make([]string, 0, len(tc.Exprs))
	sensitive := false
	for _, el := range tc.Exprs {
		out = append(out, rt.elemText(el, ctx, &sensitive))
	}
	return out, sensitive
}

// mapFallback is listFallback for object constructors.
func (rt *runtimeExprs) mapFallback(e hcl.Expression, ctx *hcl.EvalContext) (map[string]string, []string) {
	oc, ok := e.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return map[string]string{"": rt.text(e)}, nil
	}
	out := map[string]string{}
	var sens []string
	for _, item := range oc.Items {
		k, d := item.KeyExpr.Value(ctx)
		key := ""
		if !d.HasErrors() && k.Type() == cty.String && k.IsWhollyKnown() && !k.IsNull() {
			k, _ = k.Unmark()
			key = k.AsString()
		} else {
			key = rt.text(item.KeyExpr)
		}
		sensitive := false
		out[key] = rt.elemText(item.ValueExpr, ctx, &sensitive)
		if sensitive {
			sens = append(sens, key)
		}
	}
	sort.Strings(sens)
	return out, sens
}

func (rt *runtimeExprs) elemText(e hcl.Expression, ctx *hcl.EvalContext, sensitive *bool) string {
	v, d := e.Value(ctx)
	if d.HasErrors() {
		return rt.text(e)
	}
	if v.ContainsMarked() {
		*sensitive = true
	}
	v = unmark(v)
	sv, err := convert.Convert(v, cty.String)
	if err != nil || !sv.IsKnown() || sv.IsNull() {
		return rt.text(e)
	}
	return sv.AsString()
}

// itemExpr returns the value expression of key in an object constructor, else e.
func itemExpr(e hcl.Expression, key string) hcl.Expression {
	if oc, ok := e.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range oc.Items {
			k, d := item.KeyExpr.Value(nil)
			if !d.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() && k.AsString() == key {
				return item.ValueExpr
			}
		}
	}
	return e
}

func typeDiag(e hcl.Expression, name, expected string) *hcl.Diagnostic {
	r := e.Range()
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Incorrect attribute value type",
		Detail:   fmt.Sprintf("Inappropriate value for attribute %q: %s.", name, expected),
		Subject:  &r,
	}
}

// compactStrings removes adjacent duplicates from a sorted slice.
func compactStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

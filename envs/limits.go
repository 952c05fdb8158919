package envs

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Limits on what a file may make Load do. A real environment file is a few kilobytes with a
// handful of levels of nesting; these bounds sit orders of magnitude above that, and far below
// what would let a broken or hostile file exhaust memory, the stack or the user's patience.
// Each one is reported by a diagnostic that states it.

// MaxFileSize is the largest environment or variable file Load reads: 8 MiB, a thousand times
// a large real one, and room for a generated environment of 10,000 services (about 4 MiB). A
// larger file is refused before it is read (and a device or pipe is read no further than
// this). A hostile file just under the limit costs a couple of seconds of parsing, which is
// the price of loading the generated ones.
const MaxFileSize = 8 << 20

// MaxNesting is the deepest nesting of brackets, braces, parentheses, blocks, quotes and
// template interpolations a file may have: 256. HCL's parser and evaluator recurse once per
// level, so a cheap token pre-scan refuses deeper files before the parser sees them.
const MaxNesting = 256

// MaxValueSize is the most bytes of string data, plus one per element, that any single value
// may hold: a local, an attribute, a function's arguments or its result. It is 1 MiB. Without
// it a few lines (a string doubled by 40 locals, setproduct of three ranges) ask for terabytes.
const MaxValueSize = 1 << 20

// MaxFileFuncSize is the largest file file() reads: the same 1 MiB as MaxValueSize, whose
// result it is.
const MaxFileFuncSize = MaxValueSize

// MaxArgSize is the longest single string of command, entrypoint or env: 128 KiB. Linux
// refuses a longer argument or environment string (MAX_ARG_STRLEN), so the container could
// never start; saying so at validate time is kinder.
const MaxArgSize = 128 << 10

// MaxServices is the most services one environment may declare: 10,000, so that a cycle
// through ten thousand services is still reported as a cycle. Each service is a container or
// task; a file with more is refused before anything in it is checked.
const MaxServices = 10000

// MaxBlocks is the most top-level blocks (services, variables, locals, environment) the files
// of one environment may hold together: 12,000. A file with more is refused by a token
// pre-scan, before HCL parses a hundred thousand blocks.
const MaxBlocks = 12000

// MaxDiagnostics is the most diagnostics Load returns: 100. The rest are counted in a last
// one: past that many, more messages help no one, and each costs time to render.
const MaxDiagnostics = 100

// readLimited reads at most limit bytes of path. It refuses a regular file that is
// larger before reading it, and stops reading anything else (a device, a pipe) at the limit.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errIsDir
	}
	if st.Mode().IsRegular() && st.Size() > limit {
		return nil, &tooLargeError{size: st.Size(), limit: limit}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &tooLargeError{size: -1, limit: limit}
	}
	return b, nil
}

var errIsDir = errors.New("it is a directory")

// tooLargeError is a file over a size limit; size is -1 when the file has no size (a device).
type tooLargeError struct{ size, limit int64 }

func (e *tooLargeError) Error() string {
	if e.size < 0 {
		return fmt.Sprintf("it yields more than %s (the limit), without end", byteSize(e.limit))
	}
	return fmt.Sprintf("it is %s, larger than the limit of %s", byteSize(e.size), byteSize(e.limit))
}

// byteSize renders n bytes for people: "50.0 MiB", "8 MiB", "512 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkNesting scans src's tokens and reports, with its place, the first opening token that
// goes deeper than MaxNesting, the first list past MaxElements or the first top-level block
// past MaxBlocks. The scanner is a flat state machine, so this costs one linear pass however
// deep the file goes; HCL's parser, which recurses, runs only if it passes.
func checkNesting(src []byte, filename string) *hcl.Diagnostic {
	// The byte-level pass settles every UTF-8 file without a heredoc (it counts what the token
	// scan counts; FuzzQuickLimits holds the two together): only a file past a limit pays for
	// the tokens, and only for those up to the place, to name it.
	if !hasHeredoc(src) && utf8.Valid(src) {
		q := quickLimits(src)
		if q.over < 0 && q.ops < MaxOperators {
			return nil
		}
		if q.over >= 0 {
			src = src[:min(len(src), q.over+256)] // a margin: a token may end a little past "over"
		}
		// Past the operator count the quick pass can only suspect (it counts every "-", also
		// those in names): the exact scan reads the whole file.
	}
	toks, _ := hclsyntax.LexConfig(src, filename, hcl.Pos{Line: 1, Column: 1, Byte: 0})
	depth, blocks := 0, 0
	var items []int // per open bracket, brace or parenthesis: the commas seen in it so far
	ops := []int{0} // per open bracket and the top level: the operators seen in it so far
	for _, t := range toks {
		if operatorTokens[t.Type] {
			// A chain of binary operators is a tree as deep as it is long, which HCL's parser
			// and evaluator walk recursively: 100,000 of them took half a second.
			if ops[len(ops)-1]++; ops[len(ops)-1] >= MaxOperators {
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Expression too long",
					Detail:   fmt.Sprintf("An expression here chains more than %d operators (the limit). Split it, for example with locals.", MaxOperators),
					Subject:  rangePtr(t.Range),
				}
			}
		}
		if t.Type == hclsyntax.TokenComma && len(items) > 0 {
			// Counted before parsing: HCL's parser is slow on a list of a hundred thousand.
			if items[len(items)-1]++; items[len(items)-1] >= MaxElements {
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Too many elements",
					Detail:   fmt.Sprintf("A list, object or call here has more than %d elements (the limit).", MaxElements),
					Subject:  rangePtr(t.Range),
				}
			}
		}
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen:
			items = append(items, 0)
			ops = append(ops, 0)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen:
			if len(items) > 0 {
				items = items[:len(items)-1]
				ops = ops[:len(ops)-1]
			}
		}
		if t.Type == hclsyntax.TokenOBrace && depth == 0 {
			// A top-level block: counted here, because parsing a hundred thousand of them
			// is what would be slow.
			if blocks++; blocks > MaxBlocks {
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Too many blocks",
					Detail:   fmt.Sprintf("The file has more than %d top-level blocks (the limit); this is block %d.", MaxBlocks, blocks),
					Subject:  rangePtr(t.Range),
				}
			}
		}
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			if depth > MaxNesting {
				return &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Nesting too deep",
					Detail: fmt.Sprintf("The file nests brackets, braces, parentheses, blocks, strings or templates more than %d levels deep (the limit); this is level %d. Flatten the expression, for example with locals.",
						MaxNesting, depth),
					Subject: rangePtr(t.Range),
				}
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

// valueSize is the size of v that MaxValueSize bounds: the bytes of its strings plus one per
// element, nested. It stops counting once over limit, so a huge value costs no more than a
// value just over the limit.
func valueSize(v cty.Value, limit int) int {
	n := 0
	var walk func(v cty.Value)
	walk = func(v cty.Value) {
		if n > limit {
			return
		}
		v, _ = v.Unmark()
		if v.IsNull() || !v.IsKnown() {
			n++
			return
		}
		ty := v.Type()
		switch {
		case ty == cty.String:
			n += len(v.AsString())
		case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
			n++
			for it := v.ElementIterator(); it.Next() && n <= limit; {
				k, e := it.Element()
				if kk, _ := k.Unmark(); kk.Type() == cty.String && kk.IsKnown() && !kk.IsNull() {
					n += len(kk.AsString())
				}
				walk(e)
			}
		default:
			n++
		}
	}
	walk(v)
	return n
}

// tooBig is the error of a value over MaxValueSize.
func tooBig(what string) error {
	return fmt.Errorf("%s would be larger than %s, the limit on any one value", what, byteSize(MaxValueSize))
}

// guardAll wraps every function of fns with guard.
func guardAll(fns map[string]function.Function) map[string]function.Function {
	out := make(map[string]function.Function, len(fns))
	for name, f := range fns {
		out[name] = guard(name, f)
	}
	return out
}

// guard wraps fn so that its arguments and its result stay within MaxValueSize, and refuses
// before the call the arguments of the few functions whose result can be far larger than
// their arguments (format widths, replace of "", indent, setproduct). try and can are left
// alone: they evaluate expressions, whose function calls are guarded themselves.
func guard(name string, fn function.Function) function.Function {
	if name == "try" || name == "can" {
		return fn
	}
	spec := &function.Spec{
		Description: fn.Description(),
		Params:      fn.Params(),
		VarParam:    fn.VarParam(),
		Type: func(args []cty.Value) (cty.Type, error) {
			return fn.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			total := 0
			for _, a := range args {
				total += valueSize(a, MaxValueSize)
				if total > MaxValueSize {
					return cty.NilVal, fmt.Errorf("the arguments of %s are larger than %s, the limit on any one value", name, byteSize(MaxValueSize))
				}
			}
			if err := preCheck(name, args); err != nil {
				return cty.NilVal, err
			}
			v, err := fn.Call(args)
			if err != nil {
				return v, err
			}
			if valueSize(v, MaxValueSize) > MaxValueSize {
				return cty.NilVal, tooBig("the result of " + name)
			}
			return v, nil
		},
	}
	return function.New(spec)
}

// preCheck bounds, from the arguments alone, the results of functions that can grow far
// beyond their arguments, so that the result is never built.
func preCheck(name string, args []cty.Value) error {
	known := func(i int) bool {
		if i >= len(args) {
			return false
		}
		v, _ := args[i].Unmark()
		return v.IsKnown() && !v.IsNull()
	}
	str := func(i int) string { v, _ := args[i].Unmark(); return v.AsString() }
	switch name {
	case "format", "formatlist":
		if known(0) && args[0].Type() == cty.String {
			if w := largestWidth(str(0)); w > MaxValueSize {
				return fmt.Errorf("the format string asks for a width or precision of %d; more than %d is refused (the limit on any one value)", w, MaxValueSize)
			}
		}
	case "replace", "regex_replace", "regexreplace":
		if known(0) && known(1) && known(2) && args[2].Type() == cty.String {
			s, sub, rep := str(0), str(1), str(2)
			per := len(sub)
			if per == 0 || strings.HasPrefix(sub, "/") || name != "replace" {
				per = 1 // a pattern may match anywhere, also the empty string
			}
			if bound := int64(len(s)) + (int64(len(s))/int64(per)+1)*int64(len(rep)); bound > MaxValueSize && len(rep) > len(sub) {
				return tooBig("the result of " + name)
			}
		}
	case "indent":
		if known(0) && known(1) && args[0].Type() == cty.Number && args[1].Type() == cty.String {
			spaces, _ := args[0].AsBigFloat().Int64()
			lines := int64(strings.Count(str(1), "\n"))
			if spaces > MaxValueSize || spaces*lines > MaxValueSize {
				return tooBig("the result of indent")
			}
		}
	case "jsondecode":
		if known(0) && args[0].Type() == cty.String {
			if d := jsonDepth(str(0)); d > MaxNesting {
				return fmt.Errorf("the JSON nests %d levels deep; more than %d is refused", d, MaxNesting)
			}
		}
	case "setproduct":
		n := big.NewInt(1)
		for i := range args {
			v, _ := args[i].Unmark()
			if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
				return nil
			}
			n.Mul(n, big.NewInt(int64(v.LengthInt())))
			if n.Cmp(big.NewInt(MaxValueSize)) > 0 {
				return tooBig("the result of setproduct")
			}
		}
	}
	return nil
}

// largestWidth returns the largest width or precision asked for by the verbs of a format
// string ("%-10s", "%.3f", "%[2]*d"), or 0.
func largestWidth(f string) int {
	largest := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue // a literal percent sign
		}
		cur := 0
		for ; i < len(f) && strings.IndexByte("-+# 0123456789.[]*", f[i]) >= 0; i++ {
			c := f[i]
			if c < '0' || c > '9' {
				cur = 0
				continue
			}
			if cur < 1<<40 { // stops growing long before int overflows; the limit is far below
				cur = cur*10 + int(c-'0')
			}
			largest = max(largest, cur)
		}
	}
	return largest
}

// MaxEvalCost bounds the bytes one expression may build while it is evaluated, as estimated
// before evaluation by exprCost: 64 MiB. MaxValueSize bounds each finished value, but nested
// for expressions multiply (three nested fors over range(1024) make a billion elements)
// before any value is finished.
const MaxEvalCost = 64 << 20

// costOf estimates, without evaluating it, an upper bound on the bytes expr builds: each
// literal and reference counts its size once for every iteration of the for expressions
// around it. Collections of for expressions are measured by evaluating them when they do not
// depend on an enclosing for (and are themselves cheap), else bounded by the collection they
// come from.
func costOf(expr hcl.Expression, ctx *hcl.EvalContext) float64 {
	e, ok := expr.(hclsyntax.Expression)
	if !ok {
		return 0
	}
	c := &coster{ctx: ctx, iter: map[string]float64{}}
	hclsyntax.Walk(e, c)
	return c.total
}

// coster is the hclsyntax.Walker behind costOf.
type coster struct {
	ctx   *hcl.EvalContext
	total float64
	stack []costFrame
	iter  map[string]float64 // iteration variable => bound on its value's size
}

type costFrame struct {
	node hclsyntax.Node
	mult float64 // how many times this node is evaluated
	n    float64 // for a ForExpr: its number of iterations
	vars []string
	old  []float64
}

func (c *coster) Enter(node hclsyntax.Node) hcl.Diagnostics {
	mult := 1.0
	if len(c.stack) > 0 {
		top := c.stack[len(c.stack)-1]
		mult = top.mult
		if f, ok := top.node.(*hclsyntax.ForExpr); ok && node != hclsyntax.Node(f.CollExpr) {
			mult *= top.n
		}
	}
	fr := costFrame{node: node, mult: mult}
	switch n := node.(type) {
	case *hclsyntax.LiteralValueExpr:
		c.total += mult * float64(valueSize(n.Val, MaxValueSize))
	case *hclsyntax.ScopeTraversalExpr:
		if b, ok := c.iter[n.Traversal.RootName()]; ok {
			c.total += mult * b
		} else if v, diags := n.Traversal.TraverseAbs(c.ctx); !diags.HasErrors() {
			c.total += mult * float64(valueSize(v, MaxValueSize))
		}
	case *hclsyntax.FunctionCallExpr:
		switch n.Name {
		case "format", "formatlist":
			w := MaxValueSize
			if len(n.Args) > 0 {
				if lit, ok := n.Args[0].(*hclsyntax.TemplateExpr); ok && lit.IsStringLiteral() {
					v, _ := lit.Value(nil)
					w = largestWidth(v.AsString())
				}
			}
			c.total += mult * float64(w)
		case "replace", "regex_replace", "regexreplace", "indent", "setproduct", "file":
			c.total += mult * MaxValueSize
		}
	case *hclsyntax.ForExpr:
		fr.n, fr.vars = c.forBound(n)
		// Each element of the collection is at most the whole collection's size.
		for _, v := range fr.vars {
			old, had := c.iter[v]
			if !had {
				old = -1
			}
			fr.old = append(fr.old, old)
			c.iter[v] = fr.n
		}
	}
	c.stack = append(c.stack, fr)
	return nil
}

func (c *coster) Exit(node hclsyntax.Node) hcl.Diagnostics {
	fr := c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
	for i, v := range fr.vars {
		if fr.old[i] < 0 {
			delete(c.iter, v)
		} else {
			c.iter[v] = fr.old[i]
		}
	}
	return nil
}

// forBound bounds the number of iterations of f (and the size of each element).
func (c *coster) forBound(f *hclsyntax.ForExpr) (float64, []string) {
	vars := []string{f.ValVar}
	if f.KeyVar != "" {
		vars = append(vars, f.KeyVar)
	}
	dependent := false
	for _, t := range f.CollExpr.Variables() {
		if _, ok := c.iter[t.RootName()]; ok {
			dependent = true
		}
	}
	if dependent {
		// A collection made from an enclosing for's element is bounded by that element's size,
		// unless a function (which may build up to MaxValueSize) makes it.
		if _, ok := f.CollExpr.(*hclsyntax.ScopeTraversalExpr); ok {
			return c.iter[f.CollExpr.Variables()[0].RootName()], vars
		}
		return MaxValueSize, vars
	}
	if costOf(f.CollExpr, c.ctx) > MaxEvalCost {
		return MaxValueSize, vars // reported on its own as the collection is evaluated
	}
	v, diags := f.CollExpr.Value(c.ctx)
	if diags.HasErrors() {
		return 1, vars // the evaluation reports it
	}
	return float64(valueSize(v, MaxValueSize)), vars
}

// jsonDepth returns the deepest nesting of arrays and objects in a JSON text, skipping strings.
func jsonDepth(s string) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr && c == '\\':
			i++
		case inStr && c == '"':
			inStr = false
		case inStr:
		case c == '"':
			inStr = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// MaxElements is the most items one list or object constructor may write out: 10,000.
// Converting a long tuple to a list of strings costs far more than linear time in cty.
const MaxElements = 10000

// MaxOperators is the most binary operators one list, object, call, block body or file top
// level may chain: 10,000. HCL builds a chain as a tree as deep as it is long.
const MaxOperators = 10000

// operatorTokens are the binary operators MaxOperators counts.
var operatorTokens = map[hclsyntax.TokenType]bool{
	hclsyntax.TokenPlus: true, hclsyntax.TokenMinus: true, hclsyntax.TokenStar: true,
	hclsyntax.TokenSlash: true, hclsyntax.TokenPercent: true, hclsyntax.TokenAnd: true,
	hclsyntax.TokenOr: true, hclsyntax.TokenEqualOp: true, hclsyntax.TokenNotEqual: true,
	hclsyntax.TokenLessThan: true, hclsyntax.TokenLessThanEq: true,
	hclsyntax.TokenGreaterThan: true, hclsyntax.TokenGreaterThanEq: true,
}

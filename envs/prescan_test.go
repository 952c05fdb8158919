package envs

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exactLimits is what checkNesting's token scan measures, for comparison.
func exactLimits(src []byte) (depth int) {
	depth, _, _, _ = exactCounts(src)
	return depth
}

// exactCounts is checkNesting's token scan: depth, most items in one bracket, top-level blocks.
func exactCounts(src []byte) (depth, items, blocks, ops int) {
	toks, _ := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	d := 0
	var open []int
	opsAt := []int{0}
	for _, t := range toks {
		if operatorTokens[t.Type] {
			opsAt[len(opsAt)-1]++
			ops = max(ops, opsAt[len(opsAt)-1])
		}
		switch t.Type {
		case hclsyntax.TokenComma:
			if len(open) > 0 {
				open[len(open)-1]++
				items = max(items, open[len(open)-1])
			}
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen:
			if t.Type == hclsyntax.TokenOBrace && d == 0 {
				blocks++
			}
			open = append(open, 0)
			opsAt = append(opsAt, 0)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen:
			if len(open) > 0 {
				open = open[:len(open)-1]
				opsAt = opsAt[:len(opsAt)-1]
			}
		}
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			d++
			depth = max(depth, d)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenTemplateSeqEnd:
			if d > 0 {
				d--
			}
		}
	}
	return depth, items, blocks, ops
}

// TestQuickLimitsMatchesTokens: the byte-level pass must never see less nesting than the
// token scan, or a deep file would slip past the cheap check to HCL's recursive parser.
func TestQuickLimitsMatchesTokens(t *testing.T) {
	for name, src := range map[string]string{
		"block":              "service \"a\" {\n  image = \"x\"\n}\n",
		"brackets in string": "service \"a\" {\n  image = \"(((([[[{{{\"\n}\n",
		"closers in string":  "locals {\n  x = [\")\", [\")\", [\")\", [\")\"]]]]\n}\n",
		"template":           "locals {\n  x = \"a${upper(\"b${lower(\"c\")}\")}\"\n}\n",
		"escaped template":   "locals {\n  x = \"$${not} %%{this}\"\n}\n",
		"comments":           "# ((((\n// [[[[\n/* {{{{ */\nlocals {\n  x = 1 # }}}}\n}\n",
		"escaped quote":      "locals {\n  x = \"a\\\"(\" \n}\n",
		"deep":               "locals {\n  x = " + strings.Repeat("[", 50) + strings.Repeat("]", 50) + "\n}\n",
		"deep templates":     "locals {\n  x = " + strings.Repeat("\"${", 20) + "1" + strings.Repeat("}\"", 20) + "\n}\n",
		"deep in string":     "locals {\n  x = \"${" + strings.Repeat("[\")\",", 30) + strings.Repeat("]", 30) + "}\"\n}\n",
	} {
		depth := quickLimits([]byte(src)).depth
		if want := exactLimits([]byte(src)); depth < want {
			t.Errorf("%s: quick depth %d, token depth %d: the quick pass undercounts", name, depth, want)
		}
	}
}

func TestQuickLimitsCounts(t *testing.T) {
	src := "a {\n}\nb \"x\" {\n  l = [1, 2, 3, \"4,5\"]\n}\n# c {\n"
	q := quickLimits([]byte(src))
	depth, items, blocks, over := q.depth, q.items, q.blocks, q.over
	if over != -1 {
		t.Errorf("over = %d for a file within every limit, want -1", over)
	}
	if depth != 3 || items != 3 || blocks != 2 {
		t.Errorf("got depth %d, items %d, blocks %d; want 3, 3, 2", depth, items, blocks)
	}
}

func FuzzQuickLimits(f *testing.F) {
	f.Add([]byte("locals {\n  x = \"a${[\")\"]}\"\n}\n"))
	f.Add([]byte("x = \"${\"${\"${1}\"}\"}\""))
	f.Fuzz(func(t *testing.T, src []byte) {
		if hasHeredoc(src) || !utf8.Valid(src) {
			return // checkNesting sends these to the exact scan
		}
		q := quickLimits(src)
		wd, wi, wb, wo := exactCounts(src)
		if q.depth < wd || q.items < wi || q.blocks < wb || q.ops < wo {
			t.Errorf("quick (depth %d, items %d, blocks %d, ops %d) < tokens (%d, %d, %d, %d) for %q", q.depth, q.items, q.blocks, q.ops, wd, wi, wb, wo, src)
		}
	})
}

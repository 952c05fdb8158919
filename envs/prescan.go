package envs

import "bytes"

// quickLimits is a byte-level pass over an environment file that measures what checkNesting
// measures — nesting depth, items in one bracket, top-level blocks — without building HCL's
// tokens, which cost about as much as the parse itself (a third of a large file's load time).
// It follows strings, their template interpolations (which may hold strings again) and
// comments, so brackets inside strings and comments are not counted, and its depth is the
// token scan's: one level per bracket, string and interpolation. Heredocs it does not follow:
// hasHeredoc sends such files to the exact token scan.
//
// over is the offset of the first byte where a limit is passed, or -1: the exact scan then
// needs to lex only the file up to there to name the place.
//
// ops is the most operator characters met in one bracket (or the top level): at least the
// token scan's operator count, and more where "-" or "*" stand in names or "=" assigns.
func quickLimits(src []byte) quick {
	type entry struct{ kind, items, ops int }
	var q quick
	q.over = -1
	rootOps := 0
	var stack []entry
	countOp := func() {
		n := &rootOps
		if len(stack) > 0 {
			n = &stack[len(stack)-1].ops
		}
		*n++
		q.ops = max(q.ops, *n)
	}
	n := len(src)
	for i := 0; i < n; i++ {
		c := src[i]
		if len(stack) > 0 && stack[len(stack)-1].kind == kindString {
			switch {
			case c == '\\':
				i++
			case c == '"':
				stack = stack[:len(stack)-1]
			case (c == '$' || c == '%') && i+1 < n && src[i+1] == '{':
				if i > 0 && src[i-1] == c {
					continue // "$${" and "%%{" are escapes for a literal "${" and "%{"
				}
				stack = append(stack, entry{kind: kindTemplate})
				q.depth = max(q.depth, len(stack))
				if q.over < 0 && q.depth > MaxNesting {
					q.over = i
				}
				i++
			}
			continue
		}
		switch c {
		case '"':
			stack = append(stack, entry{kind: kindString})
		case '#':
			i = lineEnd(src, i)
		case '/':
			if i+1 < n && src[i+1] == '/' {
				i = lineEnd(src, i)
			} else if i+1 < n && src[i+1] == '*' {
				if j := bytes.Index(src[i+2:], []byte("*/")); j >= 0 {
					i += j + 3
				} else {
					countOp() // no end: HCL lexes "/" and what follows as tokens
				}
			} else {
				countOp()
			}
		case '{', '[', '(':
			if c == '{' && len(stack) == 0 {
				q.blocks++
			}
			stack = append(stack, entry{kind: kindBracket})
		case '}', ']', ')':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if len(stack) > 0 && stack[len(stack)-1].kind == kindBracket {
				stack[len(stack)-1].items++
				q.items = max(q.items, stack[len(stack)-1].items)
				if q.over < 0 && q.items >= MaxElements {
					q.over = i
				}
			}
		case '+', '-', '*', '%', '&', '|', '=', '!', '<', '>':
			countOp()
		}
		q.depth = max(q.depth, len(stack))
		if q.over < 0 && (q.depth > MaxNesting || q.blocks > MaxBlocks) {
			q.over = i
		}
	}
	return q
}

// The kinds of what quickLimits has open.
const (
	kindBracket = iota
	kindString
	kindTemplate
)

// quick is what quickLimits measures.
type quick struct {
	depth, items, blocks, ops int
	over                      int // the offset where depth, items or blocks pass a limit, or -1
}

func lineEnd(src []byte, i int) int {
	if j := bytes.IndexByte(src[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(src)
}

// hasHeredoc tells whether src may hold a heredoc ("<<" outside a string is its only use).
func hasHeredoc(src []byte) bool { return bytes.Contains(src, []byte("<<")) }

package compose

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a compose file that cannot be imported: YAML that does not parse, or a document
// that is not a compose file. Line and Column are 1-based; 0 when unknown.
type Error struct {
	File         string
	Line, Column int
	Message      string
}

// Error formats e as FILE:LINE:COLUMN: MESSAGE, the form editors jump to.
func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

// yamlLineRe finds the line in yaml.v3's messages ("yaml: line 4: did not find expected key").
var yamlLineRe = regexp.MustCompile(`line (\d+): `)

// parseError turns a yaml.v3 error into an Error with the line of the problem.
func parseError(file string, src []byte, err error) *Error {
	msg, line := splitYAMLError(err)
	if l := problemLine(src, msg, line); l > 0 {
		line = l
	}
	return &Error{File: file, Line: line, Message: "YAML does not parse: " + msg}
}

// splitYAMLError separates yaml.v3's message from the line it names.
func splitYAMLError(err error) (string, int) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRe.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[:m[0]] + msg[m[1]:]
	}
	return msg, line
}

// maxProbeLines and maxProbeBytes bound problemLine's quadratic search; compose files are
// far smaller, and a file past them gets yaml.v3's own line.
const (
	maxProbeLines = 3000
	maxProbeBytes = 8 << 20
)

// problemLine finds the first line at which the document fails with msg, by parsing ever
// longer prefixes. yaml.v3 reports some errors at the line where the enclosing mapping or
// list starts ("line 1: did not find expected key" for a bad indent on line 40), which sends
// the user to the wrong place. The search starts at the line yaml.v3 named, since the problem
// is never before it. 0 when not found.
func problemLine(src []byte, msg string, from int) int {
	lines := strings.SplitAfter(string(src), "\n")
	if len(lines) > maxProbeLines {
		return 0
	}
	var prefix strings.Builder
	parsed := 0
	for i, l := range lines {
		prefix.WriteString(l)
		if i+1 < from {
			continue
		}
		if parsed += prefix.Len(); parsed > maxProbeBytes {
			return 0
		}
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(prefix.String()), &n); err != nil {
			if m, _ := splitYAMLError(err); m == msg {
				return i + 1
			}
		}
	}
	return 0
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	// The depth bound stops a (malformed) alias loop; yaml.v3 rejects real ones already.
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// pair is one key and value of a mapping, aliases resolved.
type pair struct {
	key string
	k   *yaml.Node
	v   *yaml.Node
}

// isNull reports whether n is YAML null (null, ~, or nothing).
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// kindName names a node's kind for error messages.
func kindName(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil || isNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	return "a scalar"
}

// pairs returns the entries of the mapping n in file order, with merge keys (<<) applied as
// YAML 1.1 does: keys written in the mapping win over merged ones, and an earlier merge
// source wins over a later one. Merged keys take the place of the << key.
func (c *converter) pairs(n *yaml.Node) ([]pair, error) {
	return c.pairsDepth(n, 0)
}

func (c *converter) pairsDepth(n *yaml.Node, depth int) ([]pair, error) {
	n = resolve(n)
	// Merge sources are shared through aliases: without the cache, a chain of mappings each
	// merging the previous one three times costs 3^depth (a "billion laughs" file).
	if ps, ok := c.pairCache[n]; ok {
		return ps, nil
	}
	ps, err := c.pairsUncached(n, depth)
	if err == nil {
		if c.pairCache == nil {
			c.pairCache = map[*yaml.Node][]pair{}
		}
		c.pairCache[n] = ps
	}
	return ps, err
}

func (c *converter) pairsUncached(n *yaml.Node, depth int) ([]pair, error) {
	if depth > 20 {
		return nil, c.errAt(n, "merge keys nest too deeply")
	}
	if n.Kind != yaml.MappingNode {
		return nil, c.errAt(n, "want a mapping, got %s", kindName(n))
	}
	explicit := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !isMerge(k) {
			explicit[k.Value] = true
		}
	}
	var out []pair
	seen := map[string]bool{}
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if !isMerge(k) {
			// YAML forbids repeated keys and Compose rejects them; yaml.v3 does not check
			// when decoding into a Node.
			if prev := first[k.Value]; prev != nil {
				return nil, c.errAt(k, "%s is repeated; it was first given on line %d", k.Value, prev.Line)
			}
			first[k.Value] = k
			out = append(out, pair{k.Value, k, v})
			seen[k.Value] = true
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, src := range sources {
			merged, err := c.pairsDepth(src, depth+1)
			if err != nil {
				return nil, err
			}
			for _, p := range merged {
				if !explicit[p.key] && !seen[p.key] {
					out = append(out, p)
					seen[p.key] = true
				}
			}
		}
	}
	return out, nil
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && (k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0))
}

// errAt is an Error at n's position.
func (c *converter) errAt(n *yaml.Node, format string, args ...any) error {
	e := &Error{File: c.fileOf(n), Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// scalar returns n's text, or an error naming what was wanted.
func (c *converter) scalar(n *yaml.Node, what string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", c.errAt(n, "%s: want a string, got %s", what, kindName(n))
	}
	return n.Value, nil
}

// list returns the items of a sequence node.
func (c *converter) list(n *yaml.Node, what string) ([]*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, c.errAt(n, "%s: want a list, got %s", what, kindName(n))
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = resolve(item)
	}
	return out, nil
}

// stringOrList is the "string or list of strings" shape (command, entrypoint, healthcheck
// test): a string comes back as one item with isString set.
func (c *converter) stringOrList(n *yaml.Node, what string) (items []*yaml.Node, isString bool, err error) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []*yaml.Node{n}, true, nil
	}
	items, err = c.list(n, what)
	if err != nil {
		return nil, false, c.errAt(n, "%s: want a string or a list of strings, got %s", what, kindName(n))
	}
	for _, it := range items {
		if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
			return nil, false, c.errAt(it, "%s: want a list of strings, got %s in it", what, kindName(it))
		}
	}
	return items, false, nil
}

// dictOrList reads the two shapes of environment, labels and build args: a mapping, or a
// list of "KEY=VALUE" (or "KEY" alone). value is nil for a key without a value.
type entry struct {
	key   string
	value *string
	node  *yaml.Node
}

func (c *converter) dictOrList(n *yaml.Node, what string) ([]entry, error) {
	n = resolve(n)
	var out []entry
	switch n.Kind {
	case yaml.MappingNode:
		ps, err := c.pairs(n)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			e := entry{key: p.key, node: p.v}
			if !isNull(p.v) {
				if p.v.Kind != yaml.ScalarNode {
					return nil, c.errAt(p.v, "%s %s: want a string, number or boolean, got %s", what, p.key, kindName(p.v))
				}
				v := p.v.Value
				e.value = &v
			}
			out = append(out, e)
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			it = resolve(it)
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				return nil, c.errAt(it, "%s: want \"KEY=VALUE\" items, got %s", what, kindName(it))
			}
			k, v, ok := strings.Cut(it.Value, "=")
			e := entry{key: k, node: it}
			if ok {
				e.value = &v
			}
			out = append(out, e)
		}
	default:
		if isNull(n) {
			return nil, nil
		}
		return nil, c.errAt(n, "%s: want a mapping or a list of \"KEY=VALUE\", got %s", what, kindName(n))
	}
	for _, e := range out {
		if e.key == "" {
			return nil, c.errAt(e.node, "%s: an entry has an empty key", what)
		}
	}
	return out, nil
}

package compose

import (
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file puts a project together the way Compose does before anything is converted:
// several -f files merged in order, and extends (from the same file or another one)
// resolved. It works on yaml.Node trees so that every value keeps its line, and it records
// the file (and so the directory) each node came from: relative paths are relative to the
// first file's directory for -f files, and to their own file's directory for extends.

// origin is where a node was read.
type origin struct {
	file string // as given, for messages
	dir  string // the absolute directory relative paths in it are resolved against
	rank int    // the order files were read in, so that notes list in file order
}

// parseFile parses one compose file and records the origin of all its nodes.
func (c *converter) parseFile(name string, src []byte, dir string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, parseError(name, src, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Message: "not a compose file: it is empty"}
	}
	c.nfiles++
	o := &origin{file: name, dir: dir, rank: c.nfiles}
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 200 || c.origins[n] != nil {
			return
		}
		c.origins[n] = o
		for _, k := range n.Content {
			walk(k, depth+1)
		}
	}
	walk(&doc, 0)
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Column: root.Column,
			Message: fmt.Sprintf("not a compose file: the top level is %s, want a mapping with services", kindName(root))}
	}
	return root, nil
}

// dirOf is the directory relative paths in n are resolved against.
func (c *converter) dirOf(n *yaml.Node) string {
	if o := c.origins[resolve(n)]; o != nil {
		return o.dir
	}
	if o := c.origins[n]; o != nil {
		return o.dir
	}
	return c.dir
}

// fileOf names the file n was read from.
func (c *converter) fileOf(n *yaml.Node) string {
	if n != nil {
		if o := c.origins[n]; o != nil {
			return o.file
		}
	}
	return c.file
}

// newMap is a mapping node made by a merge; it takes the position (and origin) of like.
func (c *converter) newMap(like *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: like.Line, Column: like.Column}
	c.origins[n] = c.origins[like]
	return n
}

func (c *converter) newSeq(like *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: like.Line, Column: like.Column}
	c.origins[n] = c.origins[like]
	return n
}

func (c *converter) newScalar(like *yaml.Node, value string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Line: like.Line, Column: like.Column}
	c.origins[n] = c.origins[like]
	return n
}

func (c *converter) nullNode(like *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: like.Line, Column: like.Column}
	c.origins[n] = c.origins[like]
	return n
}

// mergeTop merges a later -f file's top level into the earlier ones'.
func (c *converter) mergeTop(base, over *yaml.Node) (*yaml.Node, error) {
	return c.mergeMapping(base, over, "", func(key string, b, o *yaml.Node) (*yaml.Node, error) {
		switch key {
		case "services":
			return c.mergeMapping(b, o, "services", func(_ string, bs, os *yaml.Node) (*yaml.Node, error) {
				return c.mergeService(bs, os)
			})
		case "volumes", "networks", "secrets", "configs":
			return c.mergeMapping(b, o, key, nil)
		}
		return o, nil
	})
}

// mergeMapping merges two mappings key by key: keys of base in their order, then new keys of
// over. Where both have a key, sub decides (nil: a deep merge); a value tagged !reset removes
// the key and one tagged !override replaces it whole.
func (c *converter) mergeMapping(base, over *yaml.Node, path string, sub func(key string, b, o *yaml.Node) (*yaml.Node, error)) (*yaml.Node, error) {
	base, over = resolve(base), resolve(over)
	if isNull(base) {
		return over, nil
	}
	if isNull(over) && over.Tag != "!reset" {
		return base, nil
	}
	if base.Kind != yaml.MappingNode || over.Kind != yaml.MappingNode {
		return over, nil
	}
	bp, err := c.pairs(base)
	if err != nil {
		return nil, err
	}
	op, err := c.pairs(over)
	if err != nil {
		return nil, err
	}
	overBy := map[string]pair{}
	for _, p := range op {
		overBy[p.key] = p
	}
	out := c.newMap(base)
	done := map[string]bool{}
	for _, p := range bp {
		v := p.v
		if o, ok := overBy[p.key]; ok {
			done[p.key] = true
			switch o.v.Tag {
			case "!reset":
				continue
			case "!override":
				v = o.v
			default:
				if sub != nil {
					v, err = sub(p.key, p.v, o.v)
				} else {
					v, err = c.mergeValue(path+"."+p.key, p.v, o.v)
				}
				if err != nil {
					return nil, err
				}
			}
		}
		out.Content = append(out.Content, p.k, v)
	}
	for _, p := range op {
		if done[p.key] || p.v.Tag == "!reset" {
			continue
		}
		out.Content = append(out.Content, p.k, p.v)
	}
	return out, nil
}

// mergeValue merges two values of the same key by kind: mappings deeply, sequences appended,
// scalars replaced.
func (c *converter) mergeValue(path string, b, o *yaml.Node) (*yaml.Node, error) {
	b, o = resolve(b), resolve(o)
	switch {
	case b.Kind == yaml.MappingNode && o.Kind == yaml.MappingNode:
		return c.mergeMapping(b, o, path, nil)
	case b.Kind == yaml.SequenceNode && o.Kind == yaml.SequenceNode:
		out := c.newSeq(b)
		seen := map[string]bool{}
		for _, it := range append(append([]*yaml.Node{}, b.Content...), o.Content...) {
			it = resolve(it)
			if it.Kind == yaml.ScalarNode {
				if seen[it.Value] {
					continue
				}
				seen[it.Value] = true
			}
			out.Content = append(out.Content, it)
		}
		return out, nil
	}
	return o, nil
}

// replaced are service keys whose value an override replaces whole.
var replaced = map[string]bool{"command": true, "entrypoint": true, "image": true}

// mergeService merges two definitions of one service as Compose does: environment, labels,
// build args and extra_hosts by key (the list and mapping forms alike); depends_on by
// service; volumes, secrets and configs by target path; ports, expose, dns and the like
// appended; command, entrypoint and healthcheck.test replaced; mappings merged deeply.
func (c *converter) mergeService(b, o *yaml.Node) (*yaml.Node, error) {
	b, o = resolve(b), resolve(o)
	if isNull(o) {
		return b, nil
	}
	if isNull(b) {
		return o, nil
	}
	return c.mergeMapping(b, o, "service", func(key string, bv, ov *yaml.Node) (*yaml.Node, error) {
		switch {
		case replaced[key]:
			return ov, nil
		case key == "environment" || key == "labels" || key == "extra_hosts" || key == "annotations" || key == "sysctls":
			bm, err := c.dictNode(bv, key)
			if err != nil {
				return nil, err
			}
			om, err := c.dictNode(ov, key)
			if err != nil {
				return nil, err
			}
			return c.mergeMapping(bm, om, key, func(_ string, _, x *yaml.Node) (*yaml.Node, error) { return x, nil })
		case key == "build":
			bm, om := c.buildNode(bv), c.buildNode(ov)
			return c.mergeMapping(bm, om, "build", func(k string, x, y *yaml.Node) (*yaml.Node, error) {
				if k == "args" || k == "labels" {
					xm, err := c.dictNode(x, "build."+k)
					if err != nil {
						return nil, err
					}
					ym, err := c.dictNode(y, "build."+k)
					if err != nil {
						return nil, err
					}
					return c.mergeMapping(xm, ym, k, func(_ string, _, z *yaml.Node) (*yaml.Node, error) { return z, nil })
				}
				return c.mergeValue("build."+k, x, y)
			})
		case key == "depends_on":
			bm, err := c.dependsNode(bv)
			if err != nil {
				return nil, err
			}
			om, err := c.dependsNode(ov)
			if err != nil {
				return nil, err
			}
			return c.mergeMapping(bm, om, key, nil)
		case key == "healthcheck":
			return c.mergeMapping(bv, ov, key, func(k string, x, y *yaml.Node) (*yaml.Node, error) { return y, nil })
		case key == "volumes" || key == "secrets" || key == "configs" || key == "tmpfs":
			return c.mergeByTarget(key, bv, ov), nil
		case key == "env_file":
			return c.mergeValue(key, c.listNode(bv), c.listNode(ov))
		}
		return c.mergeValue(key, bv, ov)
	})
}

// listNode makes a scalar a one-item list (env_file, tmpfs, dns... take both forms).
func (c *converter) listNode(n *yaml.Node) *yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return n
	}
	l := c.newSeq(n)
	l.Content = []*yaml.Node{n}
	return l
}

// buildNode makes the string form of build a mapping with context.
func (c *converter) buildNode(n *yaml.Node) *yaml.Node {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		return n
	}
	m := c.newMap(n)
	m.Content = []*yaml.Node{c.newScalar(n, "context"), n}
	return m
}

// dictNode makes the "KEY=VALUE" list form a mapping (a key alone maps to null).
func (c *converter) dictNode(n *yaml.Node, what string) (*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return n, nil
	}
	m := c.newMap(n)
	for _, it := range n.Content {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode {
			return nil, c.errAt(it, "%s: want \"KEY=VALUE\" items, got %s", what, kindName(it))
		}
		sep := "="
		if what == "extra_hosts" && !strings.Contains(it.Value, "=") {
			sep = ":"
		}
		k, v, ok := strings.Cut(it.Value, sep)
		val := c.nullNode(it)
		if ok {
			val = c.newScalar(it, v)
		}
		m.Content = append(m.Content, c.newScalar(it, k), val)
	}
	return m, nil
}

// dependsNode makes the list form of depends_on a mapping of service to null.
func (c *converter) dependsNode(n *yaml.Node) (*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return n, nil
	}
	m := c.newMap(n)
	for _, it := range n.Content {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode {
			return nil, c.errAt(it, "depends_on: want service names, got %s", kindName(it))
		}
		m.Content = append(m.Content, it, c.nullNode(it))
	}
	return m, nil
}

// mergeByTarget appends the override's volumes (secrets, configs, tmpfs) to the base's; one
// with the same target path replaces the base's.
func (c *converter) mergeByTarget(key string, b, o *yaml.Node) *yaml.Node {
	b, o = resolve(c.listNode(b)), resolve(c.listNode(o))
	if b.Kind != yaml.SequenceNode || o.Kind != yaml.SequenceNode {
		return o
	}
	target := func(n *yaml.Node) string {
		n = resolve(n)
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "target" {
					return resolve(n.Content[i+1]).Value
				}
				if key != "volumes" && n.Content[i].Value == "source" && len(n.Content) == 2 {
					return resolve(n.Content[i+1]).Value
				}
			}
			return ""
		}
		parts := strings.Split(n.Value, ":")
		switch {
		case key == "tmpfs":
			return parts[0]
		case key != "volumes":
			return n.Value
		case len(parts) >= 2:
			return parts[1]
		}
		return parts[0]
	}
	over := map[string]bool{}
	for _, it := range o.Content {
		over[target(it)] = true
	}
	out := c.newSeq(b)
	for _, it := range b.Content {
		if t := target(it); t == "" || !over[t] {
			out.Content = append(out.Content, it)
		}
	}
	out.Content = append(out.Content, o.Content...)
	return out
}

// maxExtends bounds a chain of extends.
const maxExtends = 20

// extendService resolves the service's extends (recursively): the service it names, from
// this file or another, is merged under it. services is the mapping the service is in.
func (c *converter) extendService(name string, def *yaml.Node, services *yaml.Node, depth int) (*yaml.Node, error) {
	def = resolve(def)
	if isNull(def) || def.Kind != yaml.MappingNode {
		return def, nil
	}
	ps, err := c.pairs(def)
	if err != nil {
		return nil, err
	}
	var ext *pair
	for i := range ps {
		if ps[i].key == "extends" {
			ext = &ps[i]
		}
	}
	if ext == nil {
		return def, nil
	}
	if depth >= maxExtends {
		return nil, c.errAt(ext.k, "service %s: extends goes deeper than %d services (a loop?)", name, maxExtends)
	}
	var baseName, file string
	var fileNode *yaml.Node
	if v := resolve(ext.v); v.Kind == yaml.ScalarNode {
		baseName = v.Value
	} else {
		eps, err := c.pairs(v)
		if err != nil {
			return nil, err
		}
		for _, p := range eps {
			switch p.key {
			case "service":
				if baseName, err = c.static(p.v, name, "extends.service"); err != nil {
					return nil, err
				}
			case "file":
				if file, err = c.static(p.v, name, "extends.file"); err != nil {
					return nil, err
				}
				fileNode = p.v
			default:
				return nil, c.errAt(p.k, "service %s: extends.%s is not a key of extends (service, file)", name, p.key)
			}
		}
	}
	if baseName == "" {
		return nil, c.errAt(ext.k, "service %s: extends names no service", name)
	}
	baseServices := services
	if file != "" {
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(c.dirOf(fileNode), file)
		}
		root, err := c.loadFile(fileNode, "service "+name+": extends", path, filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		baseServices = nil
		rps, err := c.pairs(root)
		if err != nil {
			return nil, err
		}
		for _, p := range rps {
			if p.key == "services" {
				baseServices = p.v
			}
		}
		if baseServices == nil {
			return nil, c.errAt(fileNode, "service %s: extends file %s has no services", name, file)
		}
	}
	var base *yaml.Node
	sps, err := c.pairs(baseServices)
	if err != nil {
		return nil, err
	}
	for _, p := range sps {
		if p.key == baseName {
			base = p.v
		}
	}
	if base == nil {
		where := "this file"
		if file != "" {
			where = file
		}
		return nil, c.errAt(ext.v, "service %s extends %s, which is not a service of %s", name, baseName, where)
	}
	base, err = c.extendService(baseName, base, baseServices, depth+1)
	if err != nil {
		return nil, err
	}
	// The service without its extends key, merged over its base.
	own := c.newMap(def)
	for _, p := range ps {
		if p.key != "extends" {
			own.Content = append(own.Content, p.k, p.v)
		}
	}
	return c.mergeService(base, own)
}

// applyIncludes resolves the top-level include of root: each included file (a path, or
// {path, project_directory, env_file}) is read with its own directory as the base of its
// relative paths, its own includes resolved, and its services, volumes, networks, secrets and
// configs added to the project. A service both define is an error, as in Compose.
func (c *converter) applyIncludes(root *yaml.Node, depth int) (*yaml.Node, error) {
	top, err := c.pairs(root)
	if err != nil {
		return nil, err
	}
	var inc *pair
	for i := range top {
		if top[i].key == "include" {
			inc = &top[i]
		}
	}
	if inc == nil {
		return root, nil
	}
	if depth >= maxExtends {
		return nil, c.errAt(inc.k, "include nests deeper than %d files (a loop?)", maxExtends)
	}
	out := c.newMap(root)
	for _, p := range top {
		if p.key != "include" {
			out.Content = append(out.Content, p.k, p.v)
		}
	}
	items, err := c.list(c.listNode(inc.v), "include")
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		var paths []*yaml.Node
		dirNode := (*yaml.Node)(nil)
		if it.Kind == yaml.MappingNode {
			ps, err := c.pairs(it)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				switch p.key {
				case "path":
					l, err := c.list(c.listNode(p.v), "include.path")
					if err != nil {
						return nil, err
					}
					paths = append(paths, l...)
				case "project_directory":
					dirNode = p.v
				case "env_file":
					c.warn(p.k, "", "include.env_file is not supported; the included files are interpolated with the project's .env")
				default:
					c.warn(p.k, "", unsupported("include."+p.key))
				}
			}
		} else {
			paths = []*yaml.Node{it}
		}
		for i, pn := range paths {
			rel, err := c.static(pn, "", "include")
			if err != nil {
				return nil, err
			}
			path := rel
			if !filepath.IsAbs(path) {
				path = filepath.Join(c.dirOf(pn), rel)
			}
			dir := filepath.Dir(path)
			if dirNode != nil {
				d, err := c.static(dirNode, "", "include.project_directory")
				if err != nil {
					return nil, err
				}
				if !filepath.IsAbs(d) {
					d = filepath.Join(c.dirOf(dirNode), d)
				}
				dir = d
			}
			sub, err := c.loadFile(pn, "include", path, dir)
			if err != nil {
				return nil, err
			}
			if sub, err = c.applyIncludes(sub, depth+1); err != nil {
				return nil, err
			}
			if i > 0 {
				// Several paths of one entry merge like -f files: later ones override.
				if out, err = c.mergeTop(out, sub); err != nil {
					return nil, err
				}
				continue
			}
			if out, err = c.addIncluded(out, sub, rel); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// addIncluded adds an included file's top-level resources to the project.
func (c *converter) addIncluded(root, sub *yaml.Node, name string) (*yaml.Node, error) {
	return c.mergeMapping(root, sub, "", func(key string, b, o *yaml.Node) (*yaml.Node, error) {
		switch key {
		case "services", "volumes", "networks", "secrets", "configs":
		default:
			return b, nil
		}
		bps, err := c.pairs(b)
		if err != nil {
			return nil, err
		}
		have := map[string]bool{}
		for _, p := range bps {
			have[p.key] = true
		}
		merged := c.newMap(b)
		merged.Content = append(merged.Content, resolve(b).Content...)
		ops, err := c.pairs(o)
		if err != nil {
			return nil, err
		}
		for _, p := range ops {
			if have[p.key] {
				if key == "services" {
					return nil, c.errAt(p.k, "service %s of the included %s is also defined by the including file; Compose refuses that too", p.key, name)
				}
				continue
			}
			merged.Content = append(merged.Content, p.k, p.v)
		}
		return merged, nil
	})
}

// loadFile reads and parses a file another one names (include, extends), once; dir is the
// base of its relative paths.
func (c *converter) loadFile(n *yaml.Node, what, path, dir string) (*yaml.Node, error) {
	if root, ok := c.extFiles[path]; ok {
		return root, nil
	}
	if c.opts.ReadFile == nil {
		return nil, c.errAt(n, "%s file %s cannot be read here", what, path)
	}
	src, err := c.opts.ReadFile(path)
	if err != nil {
		return nil, c.errAt(n, "%s: %v", what, err)
	}
	name := path
	if rel, err := filepath.Rel(c.dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		name = rel
	}
	root, err := c.parseFile(name, src, dir)
	if err != nil {
		return nil, err
	}
	c.extFiles[path] = root
	return root, nil
}

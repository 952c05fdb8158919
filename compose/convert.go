package compose

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/envctl/envctl/envs"
)

// Options adjusts the conversion.
type Options struct {
	// OutDir is the directory the environment file will be written to. Relative build
	// contexts are rewritten relative to it, because envctl resolves them relative to the
	// environment file. "" keeps them as written (relative to the compose file's directory).
	OutDir string
}

// Note is something the import could not carry over, or carried over differently.
type Note struct {
	// Service is the service's name as the compose file writes it; "" for the project.
	Service string
	// Line is the compose file's line the note is about; 0 when there is none.
	Line int
	Text string
	// Warn is set for what was dropped or changed (printed on stderr as a warning); notes
	// without it (ignored extension fields, the obsolete version) are only comments.
	Warn bool
}

// String formats n as "service db: volumes are not supported; dropped".
func (n Note) String() string {
	if n.Service != "" {
		return "service " + n.Service + ": " + n.Text
	}
	return n.Text
}

// Result is a converted compose file.
type Result struct {
	// HCL is the environment file, formatted.
	HCL []byte
	// Notes are in file order of the things they are about, project-level ones first.
	Notes []Note
	// Required lists, sorted, the variables that have no default: `envctl up` needs a value
	// for each (--var NAME=VALUE or ENVCTL_VAR_NAME).
	Required []string
	// Variables lists, sorted, every variable the file declares.
	Variables []string
}

// Warnings returns the notes with Warn set.
func (r *Result) Warnings() []Note {
	var out []Note
	for _, n := range r.Notes {
		if n.Warn {
			out = append(out, n)
		}
	}
	return out
}

// Convert converts the compose file src, read from filename, into an envctl environment
// file. filename names the file in errors and comments, and its directory is the project
// directory (the default project name, the base of build contexts). An *Error is returned
// for YAML that does not parse or is not a compose file.
func Convert(filename string, src []byte, opts Options) (*Result, error) {
	abs, err := filepath.Abs(filename)
	if err != nil {
		return nil, err
	}
	c := &converter{
		file:         filename,
		dir:          filepath.Dir(abs),
		opts:         opts,
		vars:         map[string]*variable{},
		seenConflict: map[string]bool{},
		byOrig:       map[string]*service{},
	}
	if err := c.convert(src); err != nil {
		return nil, err
	}
	out, err := c.write()
	if err != nil {
		return nil, err
	}
	res := &Result{HCL: out, Notes: c.orderedNotes()}
	res.Variables = c.varNames()
	for _, name := range res.Variables {
		if c.vars[name].def == nil {
			res.Required = append(res.Required, name)
		}
	}
	return res, nil
}

// converter holds one conversion's state.
type converter struct {
	file string // as given, for messages
	dir  string // the compose file's absolute directory
	opts Options

	project      string
	projectNode  *yaml.Node
	vars         map[string]*variable
	seenConflict map[string]bool
	notes        []Note
	services     []*service
	byOrig       map[string]*service
}

// service is one converted service.
type service struct {
	orig, name string
	node       *yaml.Node

	image       tmpl
	build       *build
	command     []tmpl
	hasCommand  bool
	entrypoint  []tmpl
	hasEntry    bool
	env         map[string]tmpl
	ports       []port
	deps        []dep
	once        bool
	health      *health
	healthNode  *yaml.Node
	cpus        float64
	memory      int64
	labels      map[string]tmpl
	needsHealth bool // some dependent waits for service_healthy
}

type build struct {
	context    string
	dockerfile string
	args       map[string]tmpl
}

type port struct {
	name string // from the long syntax; may be ""
	port int
}

type dep struct {
	name      string // as the compose file writes it
	condition string
	required  bool
	node      *yaml.Node
}

type health struct {
	exec     []tmpl
	interval time.Duration // 0: not set
	timeout  time.Duration
}

func (c *converter) warn(n *yaml.Node, svc, text string) { c.addNote(n, svc, text, true) }
func (c *converter) note(n *yaml.Node, svc, text string) { c.addNote(n, svc, text, false) }

func (c *converter) addNote(n *yaml.Node, svc, text string, warn bool) {
	line := 0
	if n != nil {
		line = n.Line
	}
	c.notes = append(c.notes, Note{Service: svc, Line: line, Text: text, Warn: warn})
}

// orderedNotes returns project notes first, then each service's, in file order.
func (c *converter) orderedNotes() []Note {
	var out []Note
	for _, n := range c.notes {
		if n.Service == "" {
			out = append(out, n)
		}
	}
	for _, s := range c.services {
		out = append(out, c.notesOf(s.orig)...)
	}
	return out
}

// notesOf returns the notes of one service, by line.
func (c *converter) notesOf(svc string) []Note {
	var out []Note
	for _, n := range c.notes {
		if n.Service == svc {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

func (c *converter) varNames() []string {
	names := make([]string, 0, len(c.vars))
	for n := range c.vars {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// plural are keys whose "is not supported" reads "are".
var plural = map[string]bool{
	"volumes": true, "secrets": true, "configs": true, "networks": true, "profiles": true,
	"ulimits": true, "extra_hosts": true, "devices": true, "sysctls": true, "volumes_from": true,
	"security_opt": true, "dns_search": true,
}

func unsupported(key string) string {
	if plural[key] {
		return key + " are not supported; dropped"
	}
	return key + " is not supported; dropped"
}

func (c *converter) convert(src []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return parseError(c.file, src, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return &Error{File: c.file, Line: 1, Message: "not a compose file: it is empty"}
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return c.errAt(root, "not a compose file: the top level is %s, want a mapping with services", kindName(root))
	}
	top, err := c.pairs(root)
	if err != nil {
		return err
	}
	var services *yaml.Node
	for _, p := range top {
		switch {
		case p.key == "services":
			services = p.v
		case p.key == "name":
			s, err := c.static(p.v, "", "name")
			if err != nil {
				return err
			}
			c.project, c.projectNode = s, p.k
		case p.key == "version":
			c.note(p.k, "", "version is obsolete in Compose and ignored")
		case strings.HasPrefix(p.key, "x-"):
			c.note(p.k, "", p.key+" is an extension field; ignored")
		case p.key == "volumes" || p.key == "networks" || p.key == "secrets" || p.key == "configs":
			if isNull(p.v) {
				continue
			}
			names := c.keys(p.v)
			if len(names) == 0 {
				continue
			}
			c.warn(p.k, "", fmt.Sprintf("top-level %s are not supported; dropped (%s)", p.key, strings.Join(names, ", ")))
		default:
			c.warn(p.k, "", "top-level "+unsupported(p.key))
		}
	}
	if services == nil {
		return c.errAt(root, "not a compose file: it has no services")
	}
	if resolve(services).Kind != yaml.MappingNode {
		return c.errAt(services, "services: want a mapping of service names to services, got %s", kindName(services))
	}
	svcPairs, err := c.pairs(services)
	if err != nil {
		return err
	}
	if len(svcPairs) == 0 {
		return c.errAt(services, "not a compose file: services is empty")
	}
	c.setProjectName()

	taken := map[string]string{}
	for _, p := range svcPairs {
		name := envs.DNSName(p.key)
		if name == "" {
			return c.errAt(p.k, "service %q: no DNS-safe name can be made of it", p.key)
		}
		if prev, ok := taken[name]; ok {
			return c.errAt(p.k, "service %q becomes %q, as does service %q; rename one of them", p.key, name, prev)
		}
		taken[name] = p.key
		s := &service{orig: p.key, name: name, node: p.k}
		if name != p.key {
			c.warn(p.k, p.key, fmt.Sprintf("renamed to %s: envctl service names are DNS-safe (lowercase letters, digits, \"-\"); services that reach it by the host name %s must use %s", name, p.key, name))
		}
		c.services = append(c.services, s)
		c.byOrig[p.key] = s
	}
	for i, p := range svcPairs {
		if err := c.service(c.services[i], p.v); err != nil {
			return err
		}
	}
	return c.linkDeps()
}

// keys returns the keys of a mapping node, or nil.
func (c *converter) keys(n *yaml.Node) []string {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	ps, err := c.pairs(n)
	if err != nil {
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.key
	}
	return out
}

// setProjectName settles environment.name: name:, else the directory, made DNS-safe.
func (c *converter) setProjectName() {
	if c.project != "" {
		if n := envs.DNSName(c.project); n != c.project {
			c.warn(c.projectNode, "", fmt.Sprintf("project name %s becomes %s: envctl environment names are DNS-safe", c.project, n))
			c.project = n
		}
	} else {
		c.project = envs.DNSName(filepath.Base(c.dir))
	}
	if c.project == "" {
		c.project = "compose"
	}
}

// service converts one service's keys.
func (c *converter) service(s *service, n *yaml.Node) error {
	if isNull(n) {
		return c.errAt(s.node, "service %s has neither image nor build", s.orig)
	}
	ps, err := c.pairs(n)
	if err != nil {
		return err
	}
	svc := s.orig
	for _, p := range ps {
		var err error
		switch k := p.key; {
		case k == "image":
			var v string
			if v, err = c.scalar(p.v, "image"); err == nil {
				if strings.TrimSpace(v) == "" {
					return c.errAt(p.v, "service %s: image is empty", svc)
				}
				s.image, err = c.interpolate(p.v, svc, v)
			}
		case k == "build":
			s.build, err = c.build(svc, p.v)
		case k == "command":
			s.command, err = c.argv(svc, "command", p.v)
			s.hasCommand = !isNull(p.v)
		case k == "entrypoint":
			s.entrypoint, err = c.argv(svc, "entrypoint", p.v)
			s.hasEntry = !isNull(p.v)
		case k == "environment":
			s.env, err = c.env(svc, p.v)
		case k == "labels":
			s.labels, err = c.labels(svc, p.v)
		case k == "ports":
			err = c.ports(s, p.v)
		case k == "expose":
			err = c.expose(s, p.v)
		case k == "depends_on":
			err = c.dependsOn(s, p.v)
		case k == "links":
			err = c.links(s, p.v)
		case k == "healthcheck":
			s.healthNode = p.k
			s.health, err = c.healthcheck(svc, p.k, p.v)
		case k == "deploy":
			err = c.deploy(s, p.v)
		case k == "cpus":
			s.cpus, err = c.cpus(svc, p.v)
		case k == "mem_limit":
			s.memory, err = c.memory(svc, "mem_limit", p.v)
		case k == "container_name":
			c.warn(p.k, svc, "container_name is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE)")
		case k == "env_file":
			c.warn(p.k, svc, "env_file is not supported; dropped (copy its variables into environment)")
		case k == "restart":
			c.warn(p.k, svc, "restart is not supported; dropped (envctl does not restart services)")
		case strings.HasPrefix(k, "x-"):
			c.note(p.k, svc, k+" is an extension field; ignored")
		default:
			c.warn(p.k, svc, unsupported(k))
		}
		if err != nil {
			return err
		}
	}
	if s.image == nil && s.build == nil {
		return c.errAt(s.node, "service %s has neither image nor build", svc)
	}
	return nil
}

// build reads the string and the mapping form of build.
func (c *converter) build(svc string, n *yaml.Node) (*build, error) {
	n = resolve(n)
	b := &build{}
	ctxNode := n
	ctxPath := "."
	if n.Kind == yaml.ScalarNode {
		p, err := c.static(n, svc, "build")
		if err != nil {
			return nil, err
		}
		ctxPath = p
	} else {
		ps, err := c.pairs(n)
		if err != nil {
			return nil, c.errAt(n, "service %s: build: want a path or a mapping, got %s", svc, kindName(n))
		}
		for _, p := range ps {
			switch p.key {
			case "context":
				if ctxPath, err = c.static(p.v, svc, "build.context"); err != nil {
					return nil, err
				}
				ctxNode = p.v
			case "dockerfile":
				if b.dockerfile, err = c.static(p.v, svc, "build.dockerfile"); err != nil {
					return nil, err
				}
			case "args":
				if b.args, err = c.kvTemplates(svc, "build.args", p.v, true); err != nil {
					return nil, err
				}
			default:
				c.warn(p.k, svc, unsupported("build."+p.key))
			}
		}
	}
	if strings.Contains(ctxPath, "://") || strings.HasPrefix(ctxPath, "git@") {
		return nil, c.errAt(ctxNode, "service %s: build context %s is remote; envctl builds from local directories only", svc, ctxPath)
	}
	b.context = c.rebase(ctxPath)
	return b, nil
}

// rebase makes a path relative to the compose file relative to Options.OutDir, written
// "./web" rather than "web" so that it reads as a path.
func (c *converter) rebase(p string) string {
	out := c.rebaseRaw(p)
	if !filepath.IsAbs(out) && out != "." && !strings.HasPrefix(out, "../") {
		out = "./" + out
	}
	return out
}

func (c *converter) rebaseRaw(p string) string {
	if filepath.IsAbs(p) || c.opts.OutDir == "" {
		return filepath.ToSlash(filepath.Clean(p))
	}
	out, err := filepath.Abs(c.opts.OutDir)
	if err != nil {
		return filepath.ToSlash(filepath.Clean(p))
	}
	rel, err := filepath.Rel(out, filepath.Join(c.dir, p))
	if err != nil {
		return filepath.ToSlash(filepath.Join(c.dir, p))
	}
	return filepath.ToSlash(rel)
}

// argv reads command or entrypoint.
func (c *converter) argv(svc, what string, n *yaml.Node) ([]tmpl, error) {
	if isNull(n) {
		return nil, nil
	}
	items, isString, err := c.stringOrList(n, what)
	if err != nil {
		return nil, err
	}
	words := make([]string, 0, len(items))
	if isString {
		words, err = splitWords(items[0].Value)
		if err != nil {
			return nil, c.errAt(items[0], "service %s: %s: %v", svc, what, err)
		}
	} else {
		for _, it := range items {
			words = append(words, it.Value)
		}
	}
	out := make([]tmpl, 0, len(words))
	for i, w := range words {
		node := n
		if !isString {
			node = items[i]
		}
		t, err := c.interpolate(node, svc, w)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// env reads environment; a key without a value becomes a variable.
func (c *converter) env(svc string, n *yaml.Node) (map[string]tmpl, error) {
	return c.kvTemplates(svc, "environment", n, true)
}

// kvTemplates reads a mapping or KEY=VALUE list into templates. With fromShell, a key
// without a value is what Compose takes from the shell: it becomes a variable.
func (c *converter) kvTemplates(svc, what string, n *yaml.Node, fromShell bool) (map[string]tmpl, error) {
	entries, err := c.dictOrList(n, what)
	if err != nil {
		return nil, err
	}
	out := map[string]tmpl{}
	for _, e := range entries {
		if e.value == nil {
			if !fromShell {
				out[e.key] = lit("")
				continue
			}
			v := varName(e.key)
			c.useVar(e.node, svc, v, nil, fmt.Sprintf("%s of service %s: Compose takes it from the shell's environment", e.key, svc))
			c.warn(e.node, svc, fmt.Sprintf("%s %s has no value (Compose takes it from the shell); it is now variable %s: set it with --var %s=VALUE or ENVCTL_VAR_%s", what, e.key, v, v, v))
			out[e.key] = tmpl{{expr: "var." + v}}
			continue
		}
		t, err := c.interpolate(e.node, svc, *e.value)
		if err != nil {
			return nil, err
		}
		out[e.key] = t
	}
	return out, nil
}

// varName makes an environment key a valid variable name.
func varName(key string) string {
	var b strings.Builder
	for i, r := range key {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func (c *converter) labels(svc string, n *yaml.Node) (map[string]tmpl, error) {
	return c.kvTemplates(svc, "labels", n, false)
}

// maxRange bounds a port range, so that a typo like 1-65535 is an error, not 65535 ports.
const maxRange = 100

// ports reads the short ("[HOST_IP:][HOST:]CONTAINER[/PROTO]") and long syntax of ports.
func (c *converter) ports(s *service, n *yaml.Node) error {
	items, err := c.list(n, "ports")
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Kind == yaml.MappingNode {
			if err := c.longPort(s, it); err != nil {
				return err
			}
			continue
		}
		spec, err := c.static(it, s.orig, "ports")
		if err != nil {
			return err
		}
		rest, proto, _ := strings.Cut(spec, "/")
		if proto != "" && proto != "tcp" {
			c.warn(it, s.orig, fmt.Sprintf("ports: %s is %s; envctl ports are TCP; dropped", spec, proto))
			continue
		}
		host, target := "", rest
		if i := strings.LastIndex(rest, ":"); i >= 0 {
			host, target = rest[:i], rest[i+1:]
		}
		nums, err := portRange(target)
		if err != nil {
			return c.errAt(it, "service %s: ports: %q: %v", s.orig, spec, err)
		}
		if host != "" {
			what := "container port " + target + " on an ephemeral host port"
			if len(nums) > 1 {
				what = "container ports " + target + " on ephemeral host ports"
			}
			c.warn(it, s.orig, fmt.Sprintf("ports: host side of %s dropped; envctl publishes %s (envctl env shows them)", spec, what))
		}
		for _, p := range nums {
			s.addPort(port{port: p})
		}
	}
	return nil
}

func (c *converter) longPort(s *service, n *yaml.Node) error {
	ps, err := c.pairs(n)
	if err != nil {
		return err
	}
	var p port
	for _, kv := range ps {
		switch kv.key {
		case "target":
			v, err := c.static(kv.v, s.orig, "ports.target")
			if err != nil {
				return err
			}
			if p.port, err = portNum(v); err != nil {
				return c.errAt(kv.v, "service %s: ports.target: %v", s.orig, err)
			}
		case "published", "host_ip":
			c.warn(kv.k, s.orig, fmt.Sprintf("ports: %s %s dropped; envctl publishes on an ephemeral host port (envctl env shows it)", kv.key, resolve(kv.v).Value))
		case "protocol":
			if v := resolve(kv.v).Value; v != "tcp" {
				c.warn(kv.k, s.orig, fmt.Sprintf("ports: protocol %s; envctl ports are TCP; dropped", v))
				return nil
			}
		case "name":
			p.name = resolve(kv.v).Value
		case "mode", "app_protocol":
			c.warn(kv.k, s.orig, unsupported("ports."+kv.key))
		default:
			c.warn(kv.k, s.orig, unsupported("ports."+kv.key))
		}
	}
	if p.port == 0 {
		return c.errAt(n, "service %s: ports: the long syntax needs target", s.orig)
	}
	s.addPort(p)
	return nil
}

func (c *converter) expose(s *service, n *yaml.Node) error {
	items, err := c.list(n, "expose")
	if err != nil {
		return err
	}
	for _, it := range items {
		spec, err := c.static(it, s.orig, "expose")
		if err != nil {
			return err
		}
		target, proto, _ := strings.Cut(spec, "/")
		if proto != "" && proto != "tcp" {
			c.warn(it, s.orig, fmt.Sprintf("expose: %s is %s; envctl ports are TCP; dropped", spec, proto))
			continue
		}
		nums, err := portRange(target)
		if err != nil {
			return c.errAt(it, "service %s: expose: %q: %v", s.orig, spec, err)
		}
		for _, p := range nums {
			s.addPort(port{port: p})
		}
	}
	return nil
}

// addPort adds p unless the container port is there already (ports and expose often repeat).
func (s *service) addPort(p port) {
	for i, q := range s.ports {
		if q.port == p.port {
			if q.name == "" {
				s.ports[i].name = p.name
			}
			return
		}
	}
	s.ports = append(s.ports, p)
}

func portNum(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1 to 65535)", s)
	}
	return n, nil
}

// portRange parses "8080" or "8000-8002".
func portRange(s string) ([]int, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := portNum(lo)
	if err != nil {
		return nil, err
	}
	if !isRange {
		return []int{a}, nil
	}
	b, err := portNum(hi)
	if err != nil {
		return nil, err
	}
	if b < a || b-a >= maxRange {
		return nil, fmt.Errorf("the range %s is backwards or longer than %d ports", s, maxRange)
	}
	out := make([]int, 0, b-a+1)
	for p := a; p <= b; p++ {
		out = append(out, p)
	}
	return out, nil
}

// dependsOn reads the list and the mapping form.
func (c *converter) dependsOn(s *service, n *yaml.Node) error {
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		for _, it := range n.Content {
			name, err := c.static(it, s.orig, "depends_on")
			if err != nil {
				return err
			}
			s.deps = append(s.deps, dep{name: name, condition: "service_started", required: true, node: resolve(it)})
		}
		return nil
	}
	ps, err := c.pairs(n)
	if err != nil {
		return c.errAt(n, "service %s: depends_on: want a list or a mapping, got %s", s.orig, kindName(n))
	}
	for _, p := range ps {
		d := dep{name: p.key, condition: "service_started", required: true, node: p.k}
		if !isNull(p.v) {
			opts, err := c.pairs(p.v)
			if err != nil {
				return err
			}
			for _, o := range opts {
				switch o.key {
				case "condition":
					if d.condition, err = c.static(o.v, s.orig, "depends_on.condition"); err != nil {
						return err
					}
					switch d.condition {
					case "service_started", "service_healthy", "service_completed_successfully":
					default:
						return c.errAt(o.v, "service %s: depends_on %s: unknown condition %q (want service_started, service_healthy or service_completed_successfully)", s.orig, p.key, d.condition)
					}
				case "required":
					d.required = resolve(o.v).Value != "false"
				case "restart":
					c.warn(o.k, s.orig, fmt.Sprintf("depends_on %s: restart is not supported; dropped", p.key))
				default:
					c.warn(o.k, s.orig, fmt.Sprintf("depends_on %s: %s is not supported; dropped", p.key, o.key))
				}
			}
		}
		s.deps = append(s.deps, d)
	}
	return nil
}

// links are dependencies in Compose; their aliases cannot be carried over.
func (c *converter) links(s *service, n *yaml.Node) error {
	items, err := c.list(n, "links")
	if err != nil {
		return err
	}
	for _, it := range items {
		v, err := c.static(it, s.orig, "links")
		if err != nil {
			return err
		}
		name, alias, hasAlias := strings.Cut(v, ":")
		if hasAlias && alias != name {
			c.warn(it, s.orig, fmt.Sprintf("links: alias %s of %s is not supported; dropped (kept as a dependency)", alias, name))
		}
		s.deps = append(s.deps, dep{name: name, condition: "service_started", required: true, node: it})
	}
	return nil
}

// Compose's healthcheck defaults, used for what a healthcheck leaves unset.
const (
	defaultInterval = 30 * time.Second
	defaultRetries  = 3
)

func (c *converter) healthcheck(svc string, key, n *yaml.Node) (*health, error) {
	if isNull(n) {
		return nil, nil
	}
	ps, err := c.pairs(n)
	if err != nil {
		return nil, err
	}
	h := &health{}
	var interval, startPeriod time.Duration
	retries := 0
	hasTest, disabled := false, false
	for _, p := range ps {
		switch p.key {
		case "test":
			hasTest = true
			items, isString, err := c.stringOrList(p.v, "healthcheck.test")
			if err != nil {
				return nil, err
			}
			var argv []string
			if isString {
				argv = []string{"/bin/sh", "-c", items[0].Value}
			} else {
				if len(items) == 0 {
					return nil, c.errAt(p.v, "service %s: healthcheck.test is empty", svc)
				}
				switch items[0].Value {
				case "NONE":
					disabled = true
				case "CMD":
					for _, it := range items[1:] {
						argv = append(argv, it.Value)
					}
					if len(argv) == 0 {
						return nil, c.errAt(p.v, "service %s: healthcheck.test CMD names no command", svc)
					}
				case "CMD-SHELL":
					var words []string
					for _, it := range items[1:] {
						words = append(words, it.Value)
					}
					argv = []string{"/bin/sh", "-c", strings.Join(words, " ")}
				default:
					return nil, c.errAt(items[0], "service %s: healthcheck.test starts with %q; want CMD, CMD-SHELL or NONE", svc, items[0].Value)
				}
			}
			for _, a := range argv {
				t, err := c.interpolate(p.v, svc, a)
				if err != nil {
					return nil, err
				}
				h.exec = append(h.exec, t)
			}
		case "disable":
			disabled = resolve(p.v).Value == "true"
		case "interval":
			if interval, err = c.duration(svc, "healthcheck.interval", p.v); err != nil {
				return nil, err
			}
		case "start_period":
			if startPeriod, err = c.duration(svc, "healthcheck.start_period", p.v); err != nil {
				return nil, err
			}
		case "retries":
			v, err := c.static(p.v, svc, "healthcheck.retries")
			if err != nil {
				return nil, err
			}
			if retries, err = strconv.Atoi(v); err != nil || retries < 0 {
				return nil, c.errAt(p.v, "service %s: healthcheck.retries: %q is not a count", svc, v)
			}
		case "timeout", "start_interval":
			// Validated, but with no counterpart: each envctl probe attempt has its own limit,
			// and the interval is adaptive from the start.
			if _, err := c.duration(svc, "healthcheck."+p.key, p.v); err != nil {
				return nil, err
			}
		default:
			c.warn(p.k, svc, unsupported("healthcheck."+p.key))
		}
	}
	if disabled {
		c.note(key, svc, "healthcheck disabled; no ready block")
		return nil, nil
	}
	if !hasTest {
		c.warn(key, svc, "healthcheck without test (the image's HEALTHCHECK is not read); dropped")
		return nil, nil
	}
	h.interval = interval
	if interval == 0 {
		interval = defaultInterval
	}
	if retries == 0 {
		retries = defaultRetries
	}
	h.timeout = startPeriod + interval*time.Duration(retries)
	return h, nil
}

func (c *converter) duration(svc, what string, n *yaml.Node) (time.Duration, error) {
	v, err := c.static(n, svc, what)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		return 0, c.errAt(n, "service %s: %s: %q is not a duration, like 10s or 1m30s", svc, what, v)
	}
	return d, nil
}

func (c *converter) deploy(s *service, n *yaml.Node) error {
	ps, err := c.pairs(n)
	if err != nil {
		return err
	}
	for _, p := range ps {
		switch p.key {
		case "resources":
			rs, err := c.pairs(p.v)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.key != "limits" {
					c.warn(r.k, s.orig, fmt.Sprintf("deploy.resources.%s are not supported; dropped", r.key))
					continue
				}
				ls, err := c.pairs(r.v)
				if err != nil {
					return err
				}
				for _, l := range ls {
					switch l.key {
					case "cpus":
						if s.cpus, err = c.cpus(s.orig, l.v); err != nil {
							return err
						}
					case "memory":
						if s.memory, err = c.memory(s.orig, "deploy.resources.limits.memory", l.v); err != nil {
							return err
						}
					default:
						c.warn(l.k, s.orig, unsupported("deploy.resources.limits."+l.key))
					}
				}
			}
		case "replicas":
			if v := resolve(p.v).Value; v != "1" {
				c.warn(p.k, s.orig, fmt.Sprintf("deploy.replicas %s: envctl runs one instance of a service; dropped", v))
			}
		default:
			c.warn(p.k, s.orig, unsupported("deploy."+p.key))
		}
	}
	return nil
}

func (c *converter) cpus(svc string, n *yaml.Node) (float64, error) {
	v, err := c.static(n, svc, "cpus")
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f <= 0 || f > 1024 {
		return 0, c.errAt(n, "service %s: cpus: %q is not a positive number of CPUs", svc, v)
	}
	return f, nil
}

func (c *converter) memory(svc, what string, n *yaml.Node) (int64, error) {
	v, err := c.static(n, svc, what)
	if err != nil {
		return 0, err
	}
	b, err := parseDockerSize(v)
	if err != nil {
		return 0, c.errAt(n, "service %s: %s: %v", svc, what, err)
	}
	return b, nil
}

// parseDockerSize parses Docker's memory sizes: a number with an optional unit b, k, m, g, t
// (optionally followed by "b"), case-insensitive, in powers of 1024.
func parseDockerSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			t = strings.TrimSpace(t[:len(t)-1])
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q is not a memory size, like 512m or 1g", s)
	}
	return int64(f * float64(mult)), nil
}

// linkDeps resolves depends_on names and applies the conditions to the dependencies.
func (c *converter) linkDeps() error {
	for _, s := range c.services {
		var kept []dep
		for _, d := range s.deps {
			target := c.byOrig[d.name]
			if target == nil {
				if !d.required {
					c.warn(d.node, s.orig, fmt.Sprintf("depends_on %s: no such service, and required is false; dropped", d.name))
					continue
				}
				return c.errAt(d.node, "service %s depends on %s, which is not a service of this file", s.orig, d.name)
			}
			if target == s {
				return c.errAt(d.node, "service %s depends on itself", s.orig)
			}
			switch d.condition {
			case "service_healthy":
				target.needsHealth = true
			case "service_completed_successfully":
				target.once = true
			}
			kept = append(kept, d)
		}
		s.deps = kept
	}
	for _, s := range c.services {
		if s.once && s.health != nil {
			c.note(s.healthNode, s.orig, "healthcheck not used: a service others wait on with service_completed_successfully runs once (run = \"once\") and is ready when it has exited 0")
			s.health = nil
		}
		if s.needsHealth && s.health == nil && !s.once {
			c.warn(s.node, s.orig, "a dependent waits for service_healthy, but it has no healthcheck in the file (the image's HEALTHCHECK is not read); envctl's default readiness applies: its ports accept TCP, or it runs")
		}
	}
	return nil
}

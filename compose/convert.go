package compose

import (
	"errors"
	"fmt"
	"io/fs"
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
	// OutDir is the directory the environment file will be written to. Relative paths (build
	// contexts, mounted files, env files, secret files) are rewritten relative to it, because
	// envctl resolves them relative to the environment file. "" keeps them as written
	// (relative to the compose file's directory).
	OutDir string
	// ReadFile reads the other files a project names: the .env beside the first compose file
	// (for interpolation, as Compose reads it) and the files of extends. nil reads nothing,
	// which keeps Convert free of I/O: no .env, and extends of another file is an error.
	ReadFile func(path string) ([]byte, error)
}

// File is one compose file: its name (as given, for messages) and its content.
type File struct {
	Name string
	Src  []byte
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

	rank int // the file's place in the order files were read (-f files first)
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
	// FromDotenv lists, sorted, the required variables whose value is in the .env file but
	// was not copied into the environment file because the variable is sensitive.
	FromDotenv []string
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
// directory (the default project name, the base of relative paths). An *Error is returned
// for YAML that does not parse or is not a compose file.
func Convert(filename string, src []byte, opts Options) (*Result, error) {
	return ConvertFiles([]File{{Name: filename, Src: src}}, opts)
}

// ConvertFiles converts a project of several compose files, merged in order as
// `docker compose -f a.yml -f b.yml` merges them: a later file adds services and keys and
// overrides values of an earlier one. Relative paths in every file are relative to the first
// file's directory, as in Compose.
func ConvertFiles(files []File, opts Options) (*Result, error) {
	if len(files) == 0 {
		return nil, errors.New("compose: no compose file")
	}
	abs, err := filepath.Abs(files[0].Name)
	if err != nil {
		return nil, err
	}
	c := &converter{
		file:     files[0].Name,
		dir:      filepath.Dir(abs),
		opts:     opts,
		vars:     map[string]*variable{},
		byOrig:   map[string]*service{},
		origins:  map[*yaml.Node]*origin{},
		extFiles: map[string]*yaml.Node{},
		dotenv:   map[string]string{},
	}
	if err := c.readDotenv(); err != nil {
		return nil, err
	}
	var root *yaml.Node
	for i, f := range files {
		r, err := c.parseFile(f.Name, f.Src, c.dir)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			root = r
			continue
		}
		if root, err = c.mergeTop(root, r); err != nil {
			return nil, err
		}
	}
	if len(files) > 1 {
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f.Name))
		}
		c.fileNames = strings.Join(names, " + ")
	}
	if root, err = c.applyIncludes(root, 0); err != nil {
		return nil, err
	}
	if err := c.convert(root); err != nil {
		return nil, err
	}
	c.settle()
	out, err := c.write()
	if err != nil {
		return nil, err
	}
	res := &Result{HCL: out, Notes: c.orderedNotes()}
	for _, name := range c.varNames() {
		v := c.vars[name]
		if !v.declared() {
			continue
		}
		res.Variables = append(res.Variables, name)
		if v.def == nil {
			res.Required = append(res.Required, name)
			if v.dotenv != nil {
				res.FromDotenv = append(res.FromDotenv, name)
			}
		}
	}
	return res, nil
}

// readDotenv reads the .env file beside the first compose file, when there is one.
func (c *converter) readDotenv() error {
	if c.opts.ReadFile == nil {
		return nil
	}
	path := filepath.Join(c.dir, ".env")
	src, err := c.opts.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return &Error{File: path, Message: err.Error()}
	}
	name := filepath.Join(filepath.Dir(c.file), ".env")
	vals, _, err := parseDotenv(name, src)
	if err != nil {
		return err
	}
	c.dotenv = vals
	c.hasDotenv = true
	return nil
}

// converter holds one conversion's state.
type converter struct {
	file      string // the first file, as given, for messages
	fileNames string // "a.yml + b.yml" when several files are merged
	dir       string // the first compose file's absolute directory: the project directory
	opts      Options

	origins   map[*yaml.Node]*origin
	nfiles    int
	pairCache map[*yaml.Node][]pair
	nesting   int // of ${...:-${...}} being interpolated
	extFiles  map[string]*yaml.Node
	dotenv    map[string]string
	hasDotenv bool

	project     string
	projectNode *yaml.Node
	vars        map[string]*variable
	notes       []Note
	services    []*service
	byOrig      map[string]*service

	secrets    map[string]*topSecret // top-level secrets by name
	configs    map[string]*topSecret // top-level configs by name
	topVolumes map[string]*yaml.Node // top-level volumes by name (the definition; may be null)
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
	envFiles    []string
	ports       []port
	deps        []dep
	once        bool
	onceReason  string
	restart     string
	restartNode *yaml.Node
	health      *health
	healthNode  *yaml.Node
	cpus        float64
	memory      int64
	labels      map[string]tmpl
	needsHealth bool // some dependent waits for service_healthy

	user, workingDir, hostname tmpl
	profiles                   []string
	aliases                    []string
	init, readOnly             *bool
	shmSize                    int64
	capAdd, capDrop            []string
	extraHosts                 map[string]string
	ulimits                    map[string]string
	stopSignal, stopGrace      string
	mounts                     []mount
	secrets                    []secretUse
}

type build struct {
	context    string
	dockerfile string
	args       map[string]tmpl
	target     string
	cacheFrom  []string
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
	exec []tmpl
	// What the check was written as, for mapping it to a probe (probes.go): its words before
	// interpolation (one word, the script, for CMD-SHELL and the string form), and where.
	words    []string
	shell    bool
	node     *yaml.Node
	probe    *probe        // set by mapProbes when the command is one envctl checks itself
	interval time.Duration // 0: not set
	timeout  time.Duration
	attempt  time.Duration // healthcheck.timeout, ready's attempt_timeout; 0: not set
}

func (c *converter) warn(n *yaml.Node, svc, text string) { c.addNote(n, svc, text, true) }
func (c *converter) note(n *yaml.Node, svc, text string) { c.addNote(n, svc, text, false) }

func (c *converter) addNote(n *yaml.Node, svc, text string, warn bool) {
	line, rank := 0, 0
	if n != nil {
		line = n.Line
		if o := c.origins[n]; o != nil {
			rank = o.rank
		}
	}
	c.notes = append(c.notes, Note{Service: svc, Line: line, Text: text, Warn: warn, rank: rank})
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
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].rank != out[j].rank {
			return out[i].rank < out[j].rank
		}
		return out[i].Line < out[j].Line
	})
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
	"security_opt": true, "dns_search": true, "external_links": true, "device_cgroup_rules": true,
	"gpus": true, "annotations": true, "dns": true, "dns_opt": true,
}

func unsupported(key string) string {
	if plural[key] {
		return key + " are not supported; dropped"
	}
	return key + " is not supported; dropped"
}

// why says, for the Compose keys envctl has no counterpart for, why they are dropped.
var why = map[string]string{
	"container_name":  "envctl names containers ENVIRONMENT-SERVICE, so that environments never collide",
	"restart":         "envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer",
	"platform":        "envctl runs the engine's own platform",
	"tty":             "services run without a terminal; envctl exec ENV SERVICE -- CMD gives one",
	"stdin_open":      "services run without stdin; envctl exec ENV SERVICE -- CMD gives one",
	"logging":         "the engine's default log driver is kept so that envctl logs can read the output",
	"network_mode":    "every service is on the environment's own network",
	"privileged":      "envctl does not run privileged containers; cap_add gives single capabilities",
	"security_opt":    "envctl does not set security options",
	"devices":         "envctl does not pass host devices into test environments",
	"sysctls":         "envctl does not set kernel parameters",
	"dns":             "services resolve each other through the environment's network",
	"dns_search":      "services resolve each other through the environment's network",
	"dns_opt":         "services resolve each other through the environment's network",
	"pull_policy":     "envctl pulls an image only when the engine does not have it",
	"volumes_from":    "mount the same named volume in both services instead",
	"external_links":  "services outside the environment are not reachable by name",
	"pid":             "every service has its own PID namespace",
	"ipc":             "every service has its own IPC namespace",
	"scale":           "envctl runs one instance of a service",
	"labels_file":     "write the labels into the file",
	"label_file":      "write the labels into the file",
	"develop":         "envctl does not watch files; re-run envctl up after a change",
	"mem_reservation": "envctl sets limits, not reservations",
	"cpu_shares":      "envctl sets a cpus limit only",
	"cpuset":          "envctl sets a cpus limit only",
	"oom_score_adj":   "envctl does not tune the OOM killer",
	"mac_address":     "addresses come from the environment's network",
	"domainname":      "use hostname",
	"userns_mode":     "the engine's user namespace setting is kept",
	"cgroup_parent":   "the engine's cgroup setting is kept",
	"runtime":         "the engine's default runtime is used",
	"gpus":            "envctl does not pass GPUs into test environments",
	"group_add":       "envctl does not add supplementary groups; use user",
	"annotations":     "envctl does not set annotations; use labels",
	"attach":          "envctl logs reads every service's output",
	"post_start":      "envctl has no lifecycle hooks",
	"pre_stop":        "envctl has no lifecycle hooks",
	"provider":        "envctl runs containers only",
	"use_api_socket":  "envctl does not pass the engine's socket into services",
}

func unsupportedWhy(key string) string {
	if w := why[key]; w != "" {
		return unsupported(key) + " (" + w + ")"
	}
	return unsupported(key)
}

func (c *converter) convert(root *yaml.Node) error {
	top, err := c.pairs(root)
	if err != nil {
		return err
	}
	var services *yaml.Node
	var secrets, configs, volumes, networks *pair
	for i, p := range top {
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
		case p.key == "secrets":
			secrets = &top[i]
		case p.key == "configs":
			configs = &top[i]
		case p.key == "volumes":
			volumes = &top[i]
		case p.key == "networks":
			networks = &top[i]
		case p.key == "include":
			// Resolved before (applyIncludes).
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
	if err := c.topLevel(secrets, configs, volumes, networks); err != nil {
		return err
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
	longest := ""
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
		if len(name) > maxContainerName-2 {
			return c.errAt(p.k, "service %s: its name is %d characters; envctl names its container ENVIRONMENT-%s, which must fit %d characters: rename the service", p.key, len(name), name, maxContainerName)
		}
		if len(name) > len(longest) {
			longest = name
		}
		c.services = append(c.services, s)
		c.byOrig[p.key] = s
	}
	if n := len(c.project) + 1 + len(longest); n > maxContainerName {
		short := strings.TrimRight(c.project[:maxContainerName-1-len(longest)], "-")
		c.warn(c.projectNode, "", fmt.Sprintf("environment name %s is cut to %s: envctl names containers ENVIRONMENT-SERVICE, at most %d characters, and service %s is %d characters long", c.project, short, maxContainerName, longest, len(longest)))
		c.project = short
	}
	for i, p := range svcPairs {
		def, err := c.extendService(p.key, p.v, services, 0)
		if err != nil {
			return err
		}
		if err := c.service(c.services[i], def); err != nil {
			return err
		}
	}
	return c.linkDeps()
}

// maxContainerName is Docker's (and DNS's) limit for the container name ENVIRONMENT-SERVICE.
const maxContainerName = 63

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

// setProjectName settles environment.name: name:, else COMPOSE_PROJECT_NAME from .env, else
// the directory, made DNS-safe.
func (c *converter) setProjectName() {
	if c.project == "" {
		if p := c.dotenv["COMPOSE_PROJECT_NAME"]; p != "" {
			c.project = p
		}
	}
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
		case k == "env_file":
			err = c.envFile(s, p.v)
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
			err = c.containerName(s, p)
		case k == "restart":
			s.restartNode = p.k
			s.restart, err = c.static(p.v, svc, "restart")
		case k == "volumes":
			err = c.volumes(s, p.v)
		case k == "tmpfs":
			err = c.tmpfs(s, p.v)
		case k == "secrets":
			err = c.serviceSecrets(s, p.v, false)
		case k == "configs":
			err = c.serviceSecrets(s, p.v, true)
		case k == "networks":
			err = c.networks(s, p)
		case k == "extends":
			// Resolved before (extendService); only a malformed one gets here.
		case isSetting(k):
			err = c.setting(s, p)
		case strings.HasPrefix(k, "x-"):
			c.note(p.k, svc, k+" is an extension field; ignored")
		default:
			c.warn(p.k, svc, unsupportedWhy(k))
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
			case "target":
				if b.target, err = c.static(p.v, svc, "build.target"); err != nil {
					return nil, err
				}
			case "cache_from":
				if b.cacheFrom, err = c.staticList(p.v, svc, "build.cache_from"); err != nil {
					return nil, err
				}
			default:
				c.warn(p.k, svc, unsupported("build."+p.key)+" (envctl builds with context, dockerfile, args, target and cache_from)")
			}
		}
	}
	if strings.Contains(ctxPath, "://") || strings.HasPrefix(ctxPath, "git@") {
		return nil, c.errAt(ctxNode, "service %s: build context %s is remote; envctl builds from local directories only", svc, ctxPath)
	}
	b.context = c.rebaseFrom(ctxNode, ctxPath)
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
			r := &vref{name: v, bare: true}
			c.useVar(r, fmt.Sprintf("%s of service %s: Compose takes it from the shell's environment", e.key, svc))
			if c.vars[v].dotenv == nil {
				c.warn(e.node, svc, fmt.Sprintf("%s %s has no value (Compose takes it from the shell); it is now variable %s: set it with --var %s=VALUE or ENVCTL_VAR_%s", what, e.key, v, v, v))
			}
			out[e.key] = tmpl{{ref: r}}
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
		// Only the container side is interpolated: the host side (address and port) is
		// dropped, so a variable there without a default must not fail the import.
		spec := resolve(it).Value
		if resolve(it).Kind != yaml.ScalarNode {
			return c.errAt(it, "ports: want a string or a mapping, got %s", kindName(it))
		}
		hostRaw, containerRaw := "", spec
		if i := lastOutsideBraces(spec, ':'); i >= 0 {
			hostRaw, containerRaw = spec[:i], spec[i+1:]
		}
		container, err := c.staticString(it, s.orig, "ports", containerRaw)
		if err != nil {
			return err
		}
		target, proto, _ := strings.Cut(container, "/")
		if proto != "" && proto != "tcp" {
			c.warn(it, s.orig, fmt.Sprintf("ports: %s is %s; envctl ports are TCP; dropped", spec, proto))
			continue
		}
		host := hostRaw
		if i := strings.LastIndex(target, ":"); i >= 0 {
			// A variable held the host side too (${PORTS:-8080:80}).
			host, target = host+target[:i], target[i+1:]
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
			c.note(it, s.orig, fmt.Sprintf("ports: host side of %s dropped; envctl publishes %s (envctl env shows them)", spec, what))
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
			c.note(kv.k, s.orig, fmt.Sprintf("ports: %s %s dropped; envctl publishes on an ephemeral host port (envctl env shows it)", kv.key, resolve(kv.v).Value))
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
			h.node = p.v
			if isString {
				argv = []string{"/bin/sh", "-c", items[0].Value}
				h.words, h.shell = []string{items[0].Value}, true
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
					h.words = argv
					if len(argv) == 0 {
						return nil, c.errAt(p.v, "service %s: healthcheck.test CMD names no command", svc)
					}
				case "CMD-SHELL":
					var words []string
					for _, it := range items[1:] {
						words = append(words, it.Value)
					}
					argv = []string{"/bin/sh", "-c", strings.Join(words, " ")}
					h.words, h.shell = []string{strings.Join(words, " ")}, true
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
		case "timeout":
			// The limit of one check: ready's attempt_timeout.
			d, err := c.duration(svc, "healthcheck.timeout", p.v)
			if err != nil {
				return nil, err
			}
			h.attempt = d
		case "start_interval":
			if _, err := c.duration(svc, "healthcheck.start_interval", p.v); err != nil {
				return nil, err
			}
			c.note(p.k, svc, "healthcheck.start_interval: envctl probes fast at first by itself")
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
	// The time after which Compose calls the service unhealthy: start_period and the retries'
	// intervals. The check's own limit is attempt_timeout now, not folded in; the total is at
	// least one attempt, which envctl requires (a lone slow check must be able to finish).
	h.timeout = max(startPeriod+interval*time.Duration(retries), h.attempt)
	return h, nil
}

func (c *converter) duration(svc, what string, n *yaml.Node) (time.Duration, error) {
	v, err := c.static(n, svc, what)
	if err != nil {
		return 0, err
	}
	d, err := composeDuration(v)
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
					c.warn(r.k, s.orig, fmt.Sprintf("deploy.resources.%s are not supported; dropped (envctl sets limits, not reservations)", r.key))
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
			reason := "a Swarm setting; envctl runs one container per service"
			if p.key == "restart_policy" {
				reason = why["restart"]
			}
			c.warn(p.k, s.orig, unsupported("deploy."+p.key)+" ("+reason+")")
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
	waited := map[*service]bool{}
	for _, s := range c.services {
		var kept []dep
		for _, d := range s.deps {
			target := c.byOrig[d.name]
			if target == nil {
				// Compose names are case-sensitive, but a file that depends on "backend" for
				// its service "Backend" means it; envctl names both "backend".
				for _, o := range c.services {
					if o.name == envs.DNSName(d.name) {
						target = o
						c.warn(d.node, s.orig, fmt.Sprintf("depends_on %s: there is no such service; taken as %s, whose envctl name is the same (Compose would refuse the file)", d.name, o.orig))
						d.name = o.orig
					}
				}
			}
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
			if d.condition != "service_completed_successfully" {
				waited[target] = true
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
	c.oneShots(waited)
	for _, s := range c.services {
		if s.readOnly == nil || !*s.readOnly {
			continue
		}
		for _, m := range s.mounts {
			if m.typ == "bind" {
				c.warn(s.node, s.orig, fmt.Sprintf("read_only dropped: envctl copies mounted project files (%s) into the container before it starts, which a read-only filesystem refuses", m.source))
				s.readOnly = nil
				break
			}
		}
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

// lastOutsideBraces returns the index of the last sep that is not inside ${...}, or -1.
func lastOutsideBraces(s string, sep byte) int {
	depth, last := 0, -1
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '{':
			depth++
		case s[i] == '}' && depth > 0:
			depth--
		case s[i] == sep && depth == 0:
			last = i
		}
	}
	return last
}

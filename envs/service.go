package envs

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image"}, {Name: "command"}, {Name: "entrypoint"}, {Name: "env"}, {Name: "ports"},
		{Name: "depends_on"}, {Name: "run"}, {Name: "labels"}, {Name: "publish_ip"},
		{Name: "user"}, {Name: "working_dir"}, {Name: "hostname"}, {Name: "aliases"}, {Name: "env_file"},
		{Name: "profiles"}, {Name: "init"}, {Name: "read_only"}, {Name: "shm_size"}, {Name: "cap_add"},
		{Name: "cap_drop"}, {Name: "extra_hosts"}, {Name: "ulimits"}, {Name: "stop_signal"},
		{Name: "stop_grace_period"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "build"}, {Type: "ready"}, {Type: "resources"}, {Type: "mount"},
		{Type: "secret", LabelNames: []string{"name"}},
	},
}

var buildSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "context", Required: true}, {Name: "dockerfile"}, {Name: "args"}, {Name: "target"}, {Name: "cache_from"}},
}

var readySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "tcp"}, {Name: "exec"}, {Name: "log"}, {Name: "timeout"}, {Name: "interval"},
		{Name: "attempt_timeout"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "http"}, {Type: "postgres"}, {Type: "mysql"}, {Type: "redis"}, {Type: "amqp"},
		{Type: "memcached"}, {Type: "grpc"}, {Type: "kafka"}, {Type: "mongodb"},
	},
}

// protocolSchemas are the bodies of the protocol probes' blocks: each takes the port (optional
// when the service declares exactly one) and what its handshake needs.
var protocolSchemas = map[string]*hcl.BodySchema{
	"postgres":  {Attributes: []hcl.AttributeSchema{{Name: "port"}, {Name: "user"}, {Name: "database"}}},
	"mysql":     {Attributes: []hcl.AttributeSchema{{Name: "port"}}},
	"redis":     {Attributes: []hcl.AttributeSchema{{Name: "port"}, {Name: "password"}}},
	"amqp":      {Attributes: []hcl.AttributeSchema{{Name: "port"}}},
	"memcached": {Attributes: []hcl.AttributeSchema{{Name: "port"}}},
	"grpc":      {Attributes: []hcl.AttributeSchema{{Name: "port"}, {Name: "service"}}},
	"kafka":     {Attributes: []hcl.AttributeSchema{{Name: "port"}}},
	"mongodb":   {Attributes: []hcl.AttributeSchema{{Name: "port"}}},
}

// probeNames lists every probe a ready block may hold, for the "exactly one probe" errors.
const probeNames = "http, tcp, exec, log, postgres, mysql, redis, amqp, memcached, grpc, kafka or mongodb"

var httpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "port", Required: true}, {Name: "path"}, {Name: "status"}},
}

var resourcesSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "cpus"}, {Name: "memory"}},
}

// svcDecl is one service block between the two service passes.
type svcDecl struct {
	name      string
	b         blockIn
	content   *hcl.BodyContent
	ports     map[string]int
	portNames []string // sorted
	portsBad  bool     // ports did not evaluate: do not report port references as unknown
	svc       *Service
}

func (d *svcDecl) hasPort(p string) bool {
	if d.portsBad {
		return true
	}
	_, ok := d.ports[p]
	return ok
}

func (l *loader) serviceNames() []string {
	names := make([]string, len(l.svcOrder))
	for i, d := range l.svcOrder {
		names[i] = d.name
	}
	return names
}

// fileCtx is the context of service expressions in f: var, local, environment and f's
// functions. It is shared by all services of f and by their Resolve calls, never changed.
func (l *loader) fileCtx(f *srcFile) *hcl.EvalContext {
	if f.ctx == nil {
		if l.baseCtx == nil {
			l.baseCtx = &hcl.EvalContext{Variables: map[string]cty.Value{
				"var":         l.varObject(),
				"local":       l.localObject(),
				"environment": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(l.envName)}),
			}}
		}
		f.ctx = l.baseCtx.NewChild()
		f.ctx.Functions = f.funcs
	}
	return f.ctx
}

// declareServices is the first service pass: names, duplicates and ports, which references
// in any service may need.
func (l *loader) declareServices(blocks []blockIn) {
	l.services = map[string]*svcDecl{}
	l.portNames = map[string][]string{}
	for _, b := range blocks {
		name := b.Labels[0]
		nameRange := rangePtr(b.LabelRanges[0])
		if prev := l.services[name]; prev != nil {
			l.errorf(rangePtr(b.DefRange), "Duplicate service",
				"A service named %q was already declared at %s.", name, prev.b.DefRange)
			continue
		}
		if !validDNSLabel(name) {
			l.errorf(nameRange, "Invalid service name",
				"Service names must be DNS-safe: %s; %q is not.", dnsRule, name)
		} else if n := len(l.envName) + 1 + len(name); validDNSLabel(l.envName) && n > maxDNSLabel {
			l.errorf(nameRange, "Invalid service name",
				"The container name %q would be %d characters long; the limit is %d. Shorten the service name or the environment name.",
				l.envName+"-"+name, n, maxDNSLabel)
		}
		d := &svcDecl{name: name, b: b}
		l.services[name] = d
		l.svcOrder = append(l.svcOrder, d)

		content, diags := b.Body.Content(serviceSchema)
		l.diags = append(l.diags, diags...)
		d.content = content
		if a := content.Attributes["ports"]; a != nil {
			l.decodePorts(d, a)
		}
	}

	// The `service` object for load-time type checks: every address unknown, typed as at run
	// time (host a string, ports numbers). Built once: it is shared by every service.
	objs := make(map[string]cty.Value, len(l.svcOrder))
	for _, d := range l.svcOrder {
		ports := cty.DynamicVal
		if !d.portsBad {
			pm := make(map[string]cty.Value, len(d.ports))
			for p := range d.ports {
				pm[p] = cty.UnknownVal(cty.Number)
			}
			ports = cty.ObjectVal(pm)
		}
		objs[d.name] = cty.ObjectVal(map[string]cty.Value{"host": cty.UnknownVal(cty.String), "ports": ports})
	}
	l.unknownSv = cty.ObjectVal(objs)
}

func (l *loader) decodePorts(d *svcDecl, a *hcl.Attribute) {
	d.ports = map[string]int{}
	v, ok := l.eval(a.Expr, l.fileCtx(d.b.f), scopeStatic, nil)
	if !ok || v.IsNull() {
		d.portsBad = !ok
		return
	}
	v = unmark(v)
	if ty := v.Type(); !(ty.IsMapType() || ty.IsObjectType()) {
		l.typeError(a, "a map of port names to numbers is required, like { http = 8080 }, got "+friendlyType(ty))
		d.portsBad = true
		return
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		name := k.AsString()
		rng := rangePtr(itemRange(a.Expr, name))
		if !portNameRe.MatchString(name) {
			l.errorf(rng, "Invalid port",
				"Port names start with a lowercase letter followed by lowercase letters, digits, \"_\" or \"-\"; %q is not.", name)
			d.portsBad = true
			continue
		}
		n, err := convert.Convert(e, cty.Number)
		if err != nil || n.IsNull() {
			l.errorf(rng, "Invalid port", "Port %q must be a number from 1 to 65535, got %s.", name, friendlyType(e.Type()))
			d.portsBad = true
			continue
		}
		f, _ := n.AsBigFloat().Float64()
		if f != math.Trunc(f) || f < 1 || f > 65535 {
			l.errorf(rng, "Invalid port", "Port %q must be a whole number from 1 to 65535, got %s.", name, n.AsBigFloat().Text('g', -1))
			d.portsBad = true
			continue
		}
		d.ports[name] = int(f)
		d.portNames = append(d.portNames, name)
	}
	sort.Strings(d.portNames)
	l.portNames[d.name] = d.portNames
}

// decodeServices is the second service pass: every attribute and block of every service.
func (l *loader) decodeServices() {
	for _, d := range l.svcOrder {
		s := l.decodeService(d)
		d.svc = s
		l.env.Services = append(l.env.Services, s)
		l.env.byName[s.Name] = s
	}
}

func (l *loader) decodeService(d *svcDecl) *Service {
	f := d.b.f
	ctx := l.fileCtx(f)
	c := d.content
	s := &Service{
		Name:      d.name,
		DeclRange: d.b.DefRange,
		PublishIP: DefaultPublishIP,
		Ready:     Ready{Timeout: DefaultReadyTimeout, DeclRange: d.b.DefRange},
	}
	for _, p := range d.portNames {
		s.Ports = append(s.Ports, Port{Name: p, Port: d.ports[p]})
	}
	static := func(name string) (*hcl.Attribute, cty.Value, bool) {
		a := c.Attributes[name]
		if a == nil {
			return nil, cty.NilVal, false
		}
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if ok && name != "publish_ip" && name != "run" && containsSensitive(v) {
			// An image name and labels are shown by `docker ps`, `docker inspect` and the Mesos
			// UI to anyone who can list containers; a secret must never end up there.
			l.sensitiveIn(a, d.name, name)
			return a, v, false
		}
		return a, v, ok
	}

	// imageDone: the image is set, or already reported; "Missing image" is for the rest.
	imageDone := false
	if a, v, evalOK := static("image"); a != nil {
		// Set, or reported already: an evaluation or type error. Only null counts as missing.
		imageDone = !evalOK || !v.IsNull()
		if img, ok := l.stringVal(a, v, evalOK); ok {
			s.Image = img
			if strings.TrimSpace(img) == "" {
				l.errorf(rangePtr(a.Expr.Range()), "Missing image", "The image of service %q is empty; name an image, like \"postgres:16\".", d.name)
			}
		}
	}
	if a, v, ok := static("run"); a != nil {
		if r, ok := l.stringVal(a, v, ok); ok {
			switch r {
			case "service":
				s.Run = RunService
			case "once":
				s.Run = RunOnce
			default:
				l.errorf(rangePtr(a.Expr.Range()), "Invalid run mode",
					"run must be \"service\" (long-running, the default) or \"once\" (a job that must exit 0); %q is neither.", r)
			}
		}
	}
	if a, v, ok := static("publish_ip"); a != nil {
		if ip, ok := l.stringVal(a, v, ok); ok {
			if net.ParseIP(ip) == nil {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid publish address",
					"publish_ip must be an IP address, like \"127.0.0.1\" (the default) or \"0.0.0.0\" for every interface; %q is not.", ip)
			} else {
				s.PublishIP = ip
			}
		}
	}
	if a, v, ok := static("labels"); a != nil && ok {
		if m, ok := l.stringMap(a, v); ok {
			s.Labels = m
		}
	}

	l.decodeContainer(d, s, static)

	var deps []Dep
	if a := c.Attributes["depends_on"]; a != nil {
		l.decodeDependsOn(a, &deps)
	}
	l.decodeRuntime(d, s, &deps)
	s.Deps = uniqueDeps(deps)

	builds, readies, resources := 0, 0, 0
	for _, b := range c.Blocks {
		bi := blockIn{b, f}
		switch b.Type {
		case "build":
			if builds++; builds > 1 {
				l.errorf(rangePtr(b.DefRange), "Duplicate build block", "A service has at most one build block; service %q already has one at %s.", d.name, s.buildRange)
				continue
			}
			s.buildRange = b.DefRange
			s.Build = l.decodeBuild(bi, ctx, d.name)
		case "ready":
			if readies++; readies > 1 {
				l.errorf(rangePtr(b.DefRange), "Duplicate ready block", "A service has at most one ready block; service %q already has one at %s.", d.name, s.Ready.DeclRange)
				continue
			}
			l.decodeReady(bi, ctx, d, s)
		case "resources":
			if resources++; resources > 1 {
				l.errorf(rangePtr(b.DefRange), "Duplicate resources block", "A service has at most one resources block.")
				continue
			}
			l.decodeResources(bi, ctx, s)
		case "mount":
			l.decodeMount(bi, ctx, s)
		case "secret":
			l.decodeSecret(bi, ctx, s)
		}
	}

	if s.ReadOnly {
		for _, m := range s.Mounts {
			if m.Type == MountBind {
				l.errorf(rangePtr(d.b.DefRange), "Read-only service with copied files",
					"Service %q has read_only = true and a bind mount at %s: envctl copies bind mounts into the container's filesystem before it starts, which a read-only one refuses. Drop read_only, or build the file into the image.", d.name, m.Target)
				break
			}
		}
		if len(s.Secrets) > 0 {
			l.errorf(rangePtr(d.b.DefRange), "Read-only service with copied files",
				"Service %q has read_only = true and secret %q: envctl copies secrets into the container's filesystem before it starts, which a read-only one refuses. Drop read_only, or pass the secret in env.", d.name, s.Secrets[0].Name)
		}
	}
	if !imageDone && builds == 0 {
		l.errorf(rangePtr(d.b.DefRange), "Missing image",
			"Service %q needs an image (image = \"postgres:16\") or a build block (build { context = \"./%s\" }).", d.name, d.name)
	}
	if s.Run == RunOnce && readies > 0 {
		l.warnf(rangePtr(s.Ready.DeclRange), "Ready block not used",
			"Service %q is a job (run = \"once\"): it is ready when it has exited 0, so its ready block is not used.", d.name)
	}
	return s
}

// uniqueDeps keeps the first reference to each service, in source order.
func uniqueDeps(deps []Dep) []Dep {
	sort.SliceStable(deps, func(i, j int) bool { return deps[i].Range.Start.Byte < deps[j].Range.Start.Byte })
	seen := make(map[string]bool, len(deps))
	out := deps[:0]
	for _, d := range deps {
		if !seen[d.Name] {
			seen[d.Name] = true
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// decodeDependsOn reads depends_on statically: a list of service.X references, each keeping
// its range so that errors and cycles can point at it.
func (l *loader) decodeDependsOn(a *hcl.Attribute, deps *[]Dep) {
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		l.errorf(rangePtr(a.Expr.Range()), "Invalid depends_on",
			"depends_on is a list of services, like depends_on = [service.db, service.cache].")
		return
	}
	for _, e := range exprs {
		t, diags := hcl.AbsTraversalForExpr(e)
		if diags.HasErrors() || t.RootName() != "service" || len(t) != 2 {
			l.errorf(rangePtr(e.Range()), "Invalid depends_on entry",
				"depends_on lists services, like depends_on = [service.db]; each entry is service.NAME with nothing after it.")
			continue
		}
		name, ok := stepName(t[1])
		if !ok {
			l.errorf(rangePtr(e.Range()), "Invalid depends_on entry", "depends_on lists services by name, like service.db.")
			continue
		}
		if l.services[name] == nil {
			l.errorf(rangePtr(t.SourceRange()), "Reference to undeclared service",
				"No service named %q is declared.%s", name, didYouMean(name, l.serviceNames()))
			continue
		}
		*deps = append(*deps, Dep{Name: name, Range: t.SourceRange()})
	}
}

const argvHint = `Write the arguments as a list, like ["migrate", "--db", "x"]; envctl runs no shell, so a string is never split into arguments.`

// decodeRuntime keeps command, entrypoint and env as expressions for Resolve, records their
// service references as edges, and type-checks them now with unknown addresses.
func (l *loader) decodeRuntime(d *svcDecl, s *Service, deps *[]Dep) {
	f := d.b.f
	rt := &runtimeExprs{ctx: l.fileCtx(f), src: f.file.Bytes}
	if f.rtCtx == nil {
		f.rtCtx = rt.ctx.NewChild()
		// local too: the locals built from service addresses have their typed unknown
		// values now, which the file context may have been made before.
		f.rtCtx.Variables = map[string]cty.Value{"service": l.unknownSv, "local": l.localObject()}
	}
	for _, name := range []string{"command", "entrypoint", "env"} {
		a := d.content.Attributes[name]
		if a == nil {
			continue
		}
		var refs []Dep
		v, ok := l.eval(a.Expr, f.rtCtx, scopeRuntime, &refs)
		*deps = append(*deps, refs...)
		if !ok {
			rt.bad = true
			continue
		}
		switch name {
		case "command", "entrypoint":
			rt.setList(name, a.Expr)
			if !l.checkList(a, v) || !l.checkArgSize(a, v) {
				rt.bad = true
				continue
			}
			if len(refs) == 0 {
				list, _ := l.stringList(a, v, argvHint)
				if name == "command" {
					s.Command = list
				} else {
					s.Entrypoint = list
				}
			}
		case "env":
			rt.env = a.Expr
			if !l.checkMap(a, v) || !l.checkArgSize(a, v) {
				rt.bad = true
				continue
			}
			if len(refs) == 0 {
				s.Env, _ = l.stringMap(a, v)
			}
		}
	}
	rt.portNames = l.portNames
	var exprs []hcl.Expression
	for _, name := range []string{"command", "entrypoint", "env"} {
		if a := d.content.Attributes[name]; a != nil {
			exprs = append(exprs, a.Expr)
		}
	}
	if rt.locals = l.deferredUsedBy(exprs...); rt.locals != nil {
		rt.localVals, rt.varObj, rt.envObj = l.localVals, l.varObj, l.envObj
	}
	s.rt = rt
}

// checkArgSize reports a string of a that is longer than MaxArgSize: the kernel would refuse
// to start the container with it.
func (l *loader) checkArgSize(a *hcl.Attribute, v cty.Value) bool {
	longest := 0
	walkStrings(v, func(s string) { longest = max(longest, len(s)) })
	if longest > MaxArgSize {
		l.errorf(rangePtr(a.Expr.Range()), "String too long",
			"A string in %q is %s long; Linux refuses to start a program with an argument or environment string longer than %s.",
			a.Name, byteSize(int64(longest)), byteSize(MaxArgSize))
		return false
	}
	return true
}

// checkList type-checks a possibly partly unknown list of strings.
func (l *loader) checkList(a *hcl.Attribute, v cty.Value) bool {
	v = unmark(v)
	if v.IsNull() {
		return true
	}
	ty := v.Type()
	if ty == cty.String {
		l.typeError(a, "a list of strings is required, not a single string. "+argvHint)
		return false
	}
	if ty == cty.DynamicPseudoType {
		return true // unknown type (from a variable without a value): reported elsewhere
	}
	if !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		l.typeError(a, "a list of strings is required, got "+friendlyType(ty))
		return false
	}
	if _, err := convert.Convert(v, cty.List(cty.String)); err != nil {
		l.typeError(a, "a list of strings is required ("+errText(err)+")")
		return false
	}
	if v.IsKnown() {
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if e.IsNull() {
				l.typeError(a, fmt.Sprintf("element %s is null; a list of strings is required", k.AsBigFloat().String()))
				return false
			}
		}
	}
	return true
}

// checkMap type-checks a possibly partly unknown map of strings.
func (l *loader) checkMap(a *hcl.Attribute, v cty.Value) bool {
	v = unmark(v)
	if v.IsNull() {
		return true
	}
	ty := v.Type()
	if ty == cty.DynamicPseudoType {
		return true
	}
	if !(ty.IsMapType() || ty.IsObjectType()) {
		l.typeError(a, "a map of strings is required, like { KEY = \"value\" }, got "+friendlyType(ty))
		return false
	}
	if _, err := convert.Convert(v, cty.Map(cty.String)); err != nil {
		l.typeError(a, "a map of strings is required ("+errText(err)+")")
		return false
	}
	if v.IsKnown() {
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if e.IsNull() {
				l.typeError(a, fmt.Sprintf("element %q is null; a map of strings is required", k.AsString()))
				return false
			}
		}
	}
	return true
}

func (l *loader) decodeBuild(b blockIn, ctx *hcl.EvalContext, name string) *Build {
	content, diags := b.Body.Content(buildSchema)
	l.diags = append(l.diags, diags...)
	bd := &Build{Dockerfile: "Dockerfile"}
	if a := content.Attributes["context"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if p, ok := l.stringVal(a, v, ok); ok {
			if !filepath.IsAbs(p) {
				p = filepath.Join(b.f.dir, p)
			}
			bd.Context = filepath.Clean(p)
			if st, err := os.Stat(bd.Context); err != nil || !st.IsDir() {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid build context",
					"The build context must be a directory, relative to the file that names it; there is no directory at %s.", bd.Context)
			}
		}
	}
	if a := content.Attributes["dockerfile"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if p, ok := l.stringVal(a, v, ok); ok {
			bd.Dockerfile = p
		}
	}
	if a := content.Attributes["args"]; a != nil {
		if v, ok := l.eval(a.Expr, ctx, scopeStatic, nil); ok {
			if containsSensitive(v) {
				// Build arguments stay readable in the image's history.
				l.sensitiveIn(a, name, "build args")
			} else {
				bd.Args, _ = l.stringMap(a, v)
			}
		}
	}
	if a := content.Attributes["target"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if t, ok := l.stringVal(a, v, ok); ok {
			bd.Target = t
		}
	}
	if a := content.Attributes["cache_from"]; a != nil {
		if v, ok := l.eval(a.Expr, ctx, scopeStatic, nil); ok {
			bd.CacheFrom, _ = l.stringList(a, v, `Write a list of images, like ["shop/api:cache"].`)
		}
	}
	return bd
}

func (l *loader) decodeResources(b blockIn, ctx *hcl.EvalContext, s *Service) {
	content, diags := b.Body.Content(resourcesSchema)
	l.diags = append(l.diags, diags...)
	if a := content.Attributes["cpus"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if n, ok := l.numberVal(a, v, ok); ok {
			if n <= 0 || n > 1024 {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid cpus",
					"cpus is a positive number of CPUs, like 0.5 or 2; %v is not.", n)
			} else {
				s.Resources.CPUs = n
			}
		}
	}
	if a := content.Attributes["memory"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if ok && !v.IsNull() {
			v = unmark(v)
			switch v.Type() {
			case cty.Number:
				f, _ := v.AsBigFloat().Float64()
				if f < 1 || f != math.Trunc(f) || f > math.MaxInt64/2 {
					l.errorf(rangePtr(a.Expr.Range()), "Invalid size", "%v is not a whole, positive number of bytes. %s", f, sizeHelp)
				} else {
					s.Resources.Memory = int64(f)
				}
			case cty.String:
				n, err := parseSize(v.AsString())
				if err != nil {
					l.errorf(rangePtr(a.Expr.Range()), "Invalid size", "%s", err.Error())
				} else {
					s.Resources.Memory = n
				}
			default:
				l.typeError(a, "a size is required, like \"256MiB\", got "+friendlyType(v.Type()))
			}
		}
	}
}

// durationVal converts an attribute to a duration; a number is a type error, because a bare
// number has no unit and guessing seconds hides mistakes.
func (l *loader) durationVal(a *hcl.Attribute, v cty.Value, ok bool) (time.Duration, bool) {
	if !ok || v.IsNull() {
		return 0, false
	}
	v = unmark(v)
	if v.Type() != cty.String {
		l.typeError(a, "a duration string is required, like \"60s\" or \"1m30s\", got "+friendlyType(v.Type()))
		return 0, false
	}
	d, err := parseDuration(v.AsString())
	if err != nil {
		l.errorf(rangePtr(a.Expr.Range()), "Invalid duration", "%s", err.Error())
		return 0, false
	}
	return d, true
}

func (l *loader) decodeReady(b blockIn, ctx *hcl.EvalContext, d *svcDecl, s *Service) {
	content, diags := b.Body.Content(readySchema)
	l.diags = append(l.diags, diags...)
	r := &s.Ready
	r.DeclRange = b.DefRange

	var kinds []string
	attr := func(name string) (*hcl.Attribute, cty.Value, bool) {
		a := content.Attributes[name]
		if a == nil {
			return nil, cty.NilVal, false
		}
		kinds = append(kinds, name)
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		return a, v, ok
	}
	checkPort := func(rng hcl.Range, port string) bool {
		if d.hasPort(port) {
			return true
		}
		l.errorf(&rng, "Unknown port", "The ready probe uses port %q. %s", port, unknownPortDetail(d.name, port, d.portNames))
		return false
	}

	seen := map[string]bool{}
	for _, hb := range content.Blocks {
		if seen[hb.Type] {
			l.errorf(rangePtr(hb.DefRange), "Invalid ready block", "A ready block has at most one %s block.", hb.Type)
			continue
		}
		seen[hb.Type] = true
		if hb.Type != "http" {
			kinds = append(kinds, hb.Type)
			l.decodeProtocolProbe(hb, ctx, d, r, checkPort)
			continue
		}
		kinds = append(kinds, "http")
		r.Kind, r.Path, r.Status = ProbeHTTP, "/", 200
		hc, diags := hb.Body.Content(httpSchema)
		l.diags = append(l.diags, diags...)
		if a := hc.Attributes["port"]; a != nil {
			v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
			if p, ok := l.stringVal(a, v, ok); ok && checkPort(a.Expr.Range(), p) {
				r.Port = p
			}
		}
		if a := hc.Attributes["path"]; a != nil {
			v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
			if p, ok := l.stringVal(a, v, ok); ok {
				if !strings.HasPrefix(p, "/") {
					l.errorf(rangePtr(a.Expr.Range()), "Invalid ready block", "The http path must start with \"/\", like \"/healthz\"; %q does not.", p)
				} else {
					r.Path = p
				}
			}
		}
		if a := hc.Attributes["status"]; a != nil {
			v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
			if n, ok := l.numberVal(a, v, ok); ok {
				if n != math.Trunc(n) || n < 100 || n > 599 {
					l.errorf(rangePtr(a.Expr.Range()), "Invalid HTTP status", "status is an HTTP status code from 100 to 599; %v is not.", n)
				} else {
					r.Status = int(n)
				}
			}
		}
	}
	if a, v, ok := attr("tcp"); a != nil {
		r.Kind = ProbeTCP
		if p, ok := l.stringVal(a, v, ok); ok && checkPort(a.Expr.Range(), p) {
			r.Port = p
		}
	}
	if a, v, ok := attr("exec"); a != nil {
		r.Kind = ProbeExec
		if ok {
			if list, ok := l.stringList(a, v, argvHint); ok {
				if len(list) == 0 {
					l.errorf(rangePtr(a.Expr.Range()), "Invalid ready block", "exec needs a command to run, like [\"pg_isready\"].")
				}
				r.Exec = list
			}
		}
	}
	if a, v, ok := attr("log"); a != nil {
		r.Kind = ProbeLog
		if re, ok := l.stringVal(a, v, ok); ok {
			if _, err := regexp.Compile(re); err != nil {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid regular expression",
					"log is a regular expression (Go RE2 syntax) matched against each log line; %q does not compile: %v.", re, err)
			} else {
				r.Log = re
			}
		}
	}
	if a := content.Attributes["timeout"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if t, ok := l.durationVal(a, v, ok); ok {
			r.Timeout = t
		}
	}
	if a := content.Attributes["interval"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if t, ok := l.durationVal(a, v, ok); ok {
			r.Interval = t
		}
	}
	if a := content.Attributes["attempt_timeout"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if t, ok := l.durationVal(a, v, ok); ok {
			// durationVal already refuses zero and negative durations.
			if t > r.Timeout {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid ready block",
					"attempt_timeout (%s) is longer than the ready timeout (%s): one attempt could never finish in time. Raise timeout or lower attempt_timeout.", t, r.Timeout)
			} else {
				r.AttemptTimeout = t
			}
		}
	}

	switch len(kinds) {
	case 0:
		l.errorf(rangePtr(b.DefRange), "Invalid ready block", "A ready block needs exactly one probe: "+probeNames+".")
	case 1:
	case 2:
		l.errorf(rangePtr(b.DefRange), "Invalid ready block",
			"A ready block needs exactly one probe: %s; this one has both %s and %s.", probeNames, kinds[0], kinds[1])
	default:
		l.errorf(rangePtr(b.DefRange), "Invalid ready block",
			"A ready block needs exactly one probe: %s; this one has %s and %s.", probeNames,
			strings.Join(kinds[:len(kinds)-1], ", "), kinds[len(kinds)-1])
	}
}

// decodeProtocolProbe decodes one protocol probe's block (postgres { port = "pg" }) into r.
func (l *loader) decodeProtocolProbe(hb *hcl.Block, ctx *hcl.EvalContext, d *svcDecl, r *Ready, checkPort func(hcl.Range, string) bool) {
	for _, p := range protocolKinds {
		if p.name == hb.Type {
			r.Kind = p.kind
		}
	}
	c, diags := hb.Body.Content(protocolSchemas[hb.Type])
	l.diags = append(l.diags, diags...)
	str := func(name string) (string, *hcl.Attribute, bool) {
		a := c.Attributes[name]
		if a == nil {
			return "", nil, false
		}
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		s, ok := l.stringVal(a, v, ok)
		return s, a, ok
	}
	if p, a, ok := str("port"); a != nil {
		if ok && checkPort(a.Expr.Range(), p) {
			r.Port = p
		}
	} else if !d.portsBad {
		// One port is the service's only address: naming it again would be noise.
		switch len(d.portNames) {
		case 1:
			r.Port = d.portNames[0]
		case 0:
			l.errorf(rangePtr(hb.DefRange), "Missing port",
				"The %s probe of service %q needs a port to connect to, and the service declares none. Add ports = { NAME = PORT } to the service.", hb.Type, d.name)
		default:
			l.errorf(rangePtr(hb.DefRange), "Missing port",
				"Service %q declares %d ports (%s): say which one the %s probe connects to, like port = %q.", d.name, len(d.portNames), strings.Join(d.portNames, ", "), hb.Type, d.portNames[0])
		}
	}
	if v, a, ok := str("user"); a != nil && ok {
		if v == "" {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid ready block", "The postgres user must not be empty; leave user out for \"postgres\".")
		}
		r.User = v
	}
	if v, a, ok := str("database"); a != nil && ok {
		if v == "" {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid ready block", "The postgres database must not be empty; leave database out for \"postgres\".")
		}
		r.Database = v
	}
	if v, a, ok := str("service"); a != nil && ok {
		r.GRPCService = v
	}
	if v, a, ok := str("password"); a != nil && ok {
		// A sensitive variable is expected here: the value never reaches a label, the plan
		// or any output, so it needs no check like sensitiveIn's.
		if v == "" {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid ready block", "The redis password must not be empty; leave password out for a server without one.")
		}
		r.Password = v
	}
}

// sensitiveIn reports a sensitive value where everyone who can list containers sees it.
func (l *loader) sensitiveIn(a *hcl.Attribute, service, what string) {
	l.errorf(rangePtr(a.Expr.Range()), "Sensitive value in "+what,
		"Service %q puts a sensitive value in its %s, which anyone who can list containers or tasks can read. Pass secrets through env instead.", service, what)
}

// containsSensitive tells whether v or anything inside it carries the sensitive mark.
func containsSensitive(v cty.Value) bool {
	_, pvm := v.UnmarkDeepWithPaths()
	for _, pm := range pvm {
		if _, ok := pm.Marks[sensitiveMark]; ok {
			return true
		}
	}
	return false
}

package compose

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// write renders the converted project as a formatted environment file.
func (c *converter) write() ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	from := filepath.Base(c.file)
	if c.fileNames != "" {
		from = c.fileNames
	}
	comment(body, "Imported from "+from+" by envctl import compose.")
	for _, n := range c.notes {
		if n.Service == "" {
			comment(body, "envctl: "+n.Text)
		}
	}
	body.AppendNewline()
	env := body.AppendNewBlock("environment", nil)
	env.Body().SetAttributeValue("name", cty.StringVal(c.project))

	for _, name := range c.varNames() {
		v := c.vars[name]
		if !v.declared() {
			continue
		}
		body.AppendNewline()
		vb := body.AppendNewBlock("variable", []string{name}).Body()
		vb.SetAttributeRaw("type", hclwrite.TokensForIdentifier("string"))
		if v.def != nil {
			vb.SetAttributeValue("default", cty.StringVal(*v.def))
		}
		desc := "Compose variable " + name + " of " + filepath.Base(c.file)
		if v.description != "" {
			if strings.Contains(v.description, " of service ") {
				desc = v.description
			} else {
				desc += ": " + v.description
			}
		}
		if v.dotenv != nil && v.def == nil {
			desc += "; its value is in .env, not copied here because it is sensitive"
		}
		vb.SetAttributeValue("description", cty.StringVal(desc))
		if v.sensitive {
			vb.SetAttributeValue("sensitive", cty.True)
		}
	}

	c.mapProbes()
	for _, s := range c.services {
		body.AppendNewline()
		if err := c.writeService(body, s); err != nil {
			return nil, err
		}
	}
	return f.Bytes(), nil
}

// comment appends "# text" as a line of its own.
func comment(body *hclwrite.Body, text string) {
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + text + "\n")}})
}

// httpPorts and httpsPorts are the container ports conventionally serving HTTP(S); the first
// of them a service declares is named "http" (or "https").
var (
	httpPorts  = map[int]bool{80: true, 3000: true, 5000: true, 8000: true, 8008: true, 8080: true, 8081: true, 8888: true}
	httpsPorts = map[int]bool{443: true, 8443: true}
)

// portNameOK is envctl's rule for port names.
func portNameOK(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z') && !(r >= '0' && r <= '9') && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// portNames names each port: the long syntax's name when valid, http/https by convention,
// else p<N>.
func portNames(ports []port) []string {
	names := make([]string, len(ports))
	used := map[string]bool{}
	for i, p := range ports {
		if portNameOK(p.name) && !used[p.name] {
			names[i] = p.name
			used[p.name] = true
		}
	}
	for i, p := range ports {
		if names[i] != "" {
			continue
		}
		n := "p" + strconv.Itoa(p.port)
		switch {
		case httpPorts[p.port] && !used["http"]:
			n = "http"
		case httpsPorts[p.port] && !used["https"]:
			n = "https"
		}
		names[i] = n
		used[n] = true
	}
	return names
}

func (c *converter) writeService(body *hclwrite.Body, s *service) error {
	sb := body.AppendNewBlock("service", []string{s.name}).Body()
	for _, n := range c.notesOf(s.orig) {
		comment(sb, "envctl: "+n.Text)
	}
	if s.image != nil {
		if err := setExpr(sb, "image", c.hcl(s.image)); err != nil {
			return err
		}
	}
	if s.build != nil {
		bb := sb.AppendNewBlock("build", nil).Body()
		bb.SetAttributeValue("context", cty.StringVal(s.build.context))
		if s.build.dockerfile != "" {
			bb.SetAttributeValue("dockerfile", cty.StringVal(s.build.dockerfile))
		}
		if len(s.build.args) > 0 {
			toks, err := c.mapTokens(s.build.args)
			if err != nil {
				return err
			}
			bb.SetAttributeRaw("args", toks)
		}
		if s.build.target != "" {
			bb.SetAttributeValue("target", cty.StringVal(s.build.target))
		}
		if len(s.build.cacheFrom) > 0 {
			bb.SetAttributeValue("cache_from", stringList(s.build.cacheFrom))
		}
	}
	if s.once {
		sb.SetAttributeValue("run", cty.StringVal("once"))
	}
	if len(s.profiles) > 0 {
		sb.SetAttributeValue("profiles", stringList(s.profiles))
	}
	for _, a := range []struct {
		name string
		t    tmpl
	}{{"user", s.user}, {"working_dir", s.workingDir}, {"hostname", s.hostname}} {
		if a.t != nil {
			if err := setExpr(sb, a.name, c.hcl(a.t)); err != nil {
				return err
			}
		}
	}
	if s.hasEntry {
		toks, err := c.listTokens(s.entrypoint)
		if err != nil {
			return err
		}
		sb.SetAttributeRaw("entrypoint", toks)
	}
	if s.hasCommand {
		toks, err := c.listTokens(s.command)
		if err != nil {
			return err
		}
		sb.SetAttributeRaw("command", toks)
	}
	if len(s.deps) > 0 {
		var items []hclwrite.Tokens
		seen := map[string]bool{}
		for _, d := range s.deps {
			name := c.byOrig[d.name].name
			if seen[name] {
				continue
			}
			seen[name] = true
			items = append(items, hclwrite.TokensForTraversal(hcl.Traversal{
				hcl.TraverseRoot{Name: "service"}, hcl.TraverseAttr{Name: name},
			}))
		}
		sb.SetAttributeRaw("depends_on", hclwrite.TokensForTuple(items))
	}
	if len(s.envFiles) > 0 {
		sb.SetAttributeValue("env_file", stringList(s.envFiles))
	}
	if len(s.env) > 0 {
		toks, err := c.mapTokens(s.env)
		if err != nil {
			return err
		}
		sb.SetAttributeRaw("env", toks)
	}
	if len(s.ports) > 0 {
		names := portNames(s.ports)
		attrs := make([]hclwrite.ObjectAttrTokens, len(s.ports))
		for i, p := range s.ports {
			attrs[i] = hclwrite.ObjectAttrTokens{
				Name:  keyTokens(names[i]),
				Value: hclwrite.TokensForValue(cty.NumberIntVal(int64(p.port))),
			}
		}
		sb.SetAttributeRaw("ports", hclwrite.TokensForObject(attrs))
	}
	if len(s.aliases) > 0 {
		sb.SetAttributeValue("aliases", stringList(s.aliases))
	}
	if len(s.labels) > 0 {
		toks, err := c.mapTokens(s.labels)
		if err != nil {
			return err
		}
		sb.SetAttributeRaw("labels", toks)
	}
	if s.init != nil {
		sb.SetAttributeValue("init", cty.BoolVal(*s.init))
	}
	if s.readOnly != nil {
		sb.SetAttributeValue("read_only", cty.BoolVal(*s.readOnly))
	}
	if s.shmSize > 0 {
		sb.SetAttributeRaw("shm_size", hclwrite.TokensForValue(sizeValue(s.shmSize)))
	}
	if len(s.capAdd) > 0 {
		sb.SetAttributeValue("cap_add", stringList(s.capAdd))
	}
	if len(s.capDrop) > 0 {
		sb.SetAttributeValue("cap_drop", stringList(s.capDrop))
	}
	if len(s.extraHosts) > 0 {
		sb.SetAttributeRaw("extra_hosts", stringMapTokens(s.extraHosts))
	}
	if len(s.ulimits) > 0 {
		sb.SetAttributeRaw("ulimits", stringMapTokens(s.ulimits))
	}
	if s.stopSignal != "" {
		sb.SetAttributeValue("stop_signal", cty.StringVal(s.stopSignal))
	}
	if s.stopGrace != "" {
		sb.SetAttributeValue("stop_grace_period", cty.StringVal(s.stopGrace))
	}
	for _, m := range s.mounts {
		mb := sb.AppendNewBlock("mount", nil).Body()
		mb.SetAttributeValue("type", cty.StringVal(m.typ))
		if m.source != "" {
			mb.SetAttributeValue("source", cty.StringVal(m.source))
		}
		mb.SetAttributeValue("target", cty.StringVal(m.target))
		switch {
		case m.typ == "bind" && !m.readOnly:
			// envctl mounts repository files read-only unless asked; Compose binds are
			// writable unless :ro.
			mb.SetAttributeValue("read_only", cty.False)
		case m.typ != "bind" && m.readOnly:
			mb.SetAttributeValue("read_only", cty.True)
		}
		if m.size > 0 {
			mb.SetAttributeRaw("size", hclwrite.TokensForValue(sizeValue(m.size)))
		}
	}
	for _, sec := range s.secrets {
		secb := sb.AppendNewBlock("secret", []string{sec.name}).Body()
		if sec.file != "" {
			secb.SetAttributeValue("file", cty.StringVal(sec.file))
		} else if err := setExpr(secb, "value", c.hcl(sec.value)); err != nil {
			return err
		}
		if sec.target != "" {
			secb.SetAttributeValue("target", cty.StringVal(sec.target))
		}
		if sec.mode != "" {
			secb.SetAttributeValue("mode", cty.StringVal(sec.mode))
		}
	}
	if s.health != nil && s.health.probe != nil {
		if err := c.writeProbe(sb, s.health); err != nil {
			return err
		}
	} else if s.health != nil {
		rb := sb.AppendNewBlock("ready", nil).Body()
		toks, err := c.listTokens(s.health.exec)
		if err != nil {
			return err
		}
		rb.SetAttributeRaw("exec", toks)
		if s.health.interval > 0 {
			rb.SetAttributeValue("interval", cty.StringVal(formatDuration(s.health.interval)))
		}
		rb.SetAttributeValue("timeout", cty.StringVal(formatDuration(s.health.timeout)))
		// Without healthcheck.timeout, envctl's default for an exec check is Compose's 30 s.
		if s.health.attempt > 0 {
			rb.SetAttributeValue("attempt_timeout", cty.StringVal(formatDuration(s.health.attempt)))
		}
	}
	if s.cpus > 0 || s.memory > 0 {
		rb := sb.AppendNewBlock("resources", nil).Body()
		if s.cpus > 0 {
			rb.SetAttributeValue("cpus", cty.NumberFloatVal(s.cpus))
		}
		if s.memory > 0 {
			rb.SetAttributeRaw("memory", hclwrite.TokensForValue(sizeValue(s.memory)))
		}
	}
	return nil
}

// writeProbe writes the ready block of a healthcheck that a probe checks. The probe is cheap,
// so envctl's own fast-then-backing-off schedule replaces the check's interval, and its
// attempts keep the probes' 2 s: healthcheck.timeout was the command's limit. The timeout is
// what Compose waited before calling the service unhealthy, as for exec checks.
func (c *converter) writeProbe(sb *hclwrite.Body, h *health) error {
	pr := h.probe
	rb := sb.AppendNewBlock("ready", nil).Body()
	if pr.kind == "tcp" {
		rb.SetAttributeValue("tcp", cty.StringVal(pr.portName))
	} else {
		pb := rb.AppendNewBlock(pr.kind, nil).Body()
		pb.SetAttributeValue("port", cty.StringVal(pr.portName))
		set := func(name string, t tmpl) error {
			if len(t) == 0 {
				return nil
			}
			return setExpr(pb, name, c.hcl(t))
		}
		switch pr.kind {
		case "postgres":
			if err := set("user", pr.user); err != nil {
				return err
			}
			if err := set("database", pr.database); err != nil {
				return err
			}
		case "redis":
			if err := set("password", pr.password); err != nil {
				return err
			}
		case "grpc":
			if pr.hasSvc {
				if len(pr.service) == 0 {
					pb.SetAttributeValue("service", cty.StringVal(""))
				} else if err := set("service", pr.service); err != nil {
					return err
				}
			}
		case "http":
			pb.SetAttributeValue("path", cty.StringVal(pr.path))
		}
	}
	rb.SetAttributeValue("timeout", cty.StringVal(formatDuration(h.timeout)))
	return nil
}

// exprTokens turns HCL expression source into tokens, by letting hclwrite parse it.
func exprTokens(src string) (hclwrite.Tokens, error) {
	f, diags := hclwrite.ParseConfig([]byte("x = "+src+"\n"), "", hcl.InitialPos)
	if diags.HasErrors() {
		// A bug in this package, not in the user's file: every template is escaped.
		return nil, fmt.Errorf("compose: internal error: generated expression %s does not parse: %s", src, diags.Error())
	}
	return f.Body().GetAttribute("x").Expr().BuildTokens(nil), nil
}

func setExpr(body *hclwrite.Body, name, src string) error {
	toks, err := exprTokens(src)
	if err != nil {
		return err
	}
	body.SetAttributeRaw(name, toks)
	return nil
}

func (c *converter) listTokens(items []tmpl) (hclwrite.Tokens, error) {
	elems := make([]hclwrite.Tokens, len(items))
	for i, t := range items {
		toks, err := exprTokens(c.hcl(t))
		if err != nil {
			return nil, err
		}
		elems[i] = toks
	}
	return hclwrite.TokensForTuple(elems), nil
}

// mapTokens writes a map with sorted keys, one per line.
func (c *converter) mapTokens(m map[string]tmpl) (hclwrite.Tokens, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]hclwrite.ObjectAttrTokens, len(keys))
	for i, k := range keys {
		v, err := exprTokens(c.hcl(m[k]))
		if err != nil {
			return nil, err
		}
		attrs[i] = hclwrite.ObjectAttrTokens{Name: keyTokens(k), Value: v}
	}
	return hclwrite.TokensForObject(attrs), nil
}

// keyTokens writes an object key bare when it is an identifier, else quoted.
func keyTokens(k string) hclwrite.Tokens {
	if hclsyntax.ValidIdentifier(k) {
		return hclwrite.TokensForIdentifier(k)
	}
	return hclwrite.TokensForValue(cty.StringVal(k))
}

// formatDuration writes d as envctl reads it, without Go's zero units ("1h", not "1h0m0s").
func formatDuration(d time.Duration) string {
	if d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

// sizeValue writes bytes in the largest binary unit that divides them exactly.
func sizeValue(n int64) cty.Value {
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.size == 0 {
			return cty.StringVal(strconv.FormatInt(n/u.size, 10) + u.name)
		}
	}
	return cty.NumberIntVal(n)
}

// stringList is a list of strings as a cty value.
func stringList(items []string) cty.Value {
	vals := make([]cty.Value, len(items))
	for i, s := range items {
		vals[i] = cty.StringVal(s)
	}
	return cty.TupleVal(vals)
}

// stringMapTokens writes a map of fixed strings with sorted keys.
func stringMapTokens(m map[string]string) hclwrite.Tokens {
	keys := sortedKeys(m)
	attrs := make([]hclwrite.ObjectAttrTokens, len(keys))
	for i, k := range keys {
		attrs[i] = hclwrite.ObjectAttrTokens{Name: keyTokens(k), Value: hclwrite.TokensForValue(cty.StringVal(m[k]))}
	}
	return hclwrite.TokensForObject(attrs)
}

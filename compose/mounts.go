package compose

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/envctl/envctl/envs"
)

// mount is one mount block: a file or directory of the repository (bind), a named volume of
// the environment (volume), or a tmpfs.
type mount struct {
	typ      string
	source   string
	target   string
	readOnly bool
	size     int64
	what     string // how the compose file wrote it, for messages
}

// secretUse is one secret block: the content of a file, or of a variable.
type secretUse struct {
	name   string
	file   string
	value  tmpl
	target string
	mode   string
}

// topSecret is a top-level secret or config.
type topSecret struct {
	file    string // rebased; "" when the content comes from elsewhere
	value   tmpl   // environment: VAR
	dropped string // why uses of it cannot carry over; "" when they can
}

var volumeNameRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// topLevel reads the top-level secrets, configs, volumes and networks that services refer to.
func (c *converter) topLevel(secrets, configs, volumes, networks *pair) error {
	c.secrets, c.configs, c.topVolumes = map[string]*topSecret{}, map[string]*topSecret{}, map[string]*yaml.Node{}
	for _, tp := range []struct {
		p     *pair
		into  map[string]*topSecret
		kind  string
		plain string
	}{{secrets, c.secrets, "secret", "secrets"}, {configs, c.configs, "config", "configs"}} {
		if tp.p == nil || isNull(tp.p.v) {
			continue
		}
		ps, err := c.pairs(tp.p.v)
		if err != nil {
			return err
		}
		for _, p := range ps {
			ts := &topSecret{}
			tp.into[p.key] = ts
			if isNull(p.v) {
				ts.dropped = "it has no file"
				continue
			}
			opts, err := c.pairs(p.v)
			if err != nil {
				return err
			}
			for _, o := range opts {
				switch o.key {
				case "file":
					f, err := c.static(o.v, "", tp.plain+"."+p.key+".file")
					if err != nil {
						return err
					}
					ts.file = c.rebaseFrom(o.v, f)
				case "environment":
					name, err := c.static(o.v, "", tp.plain+"."+p.key+".environment")
					if err != nil {
						return err
					}
					r := &vref{name: varName(name)}
					c.useVar(r, fmt.Sprintf("the content of %s %s", tp.kind, p.key))
					c.variable(r.name).sensitive = tp.kind == "secret"
					ts.value = tmpl{{ref: r}}
				case "content":
					if tp.kind == "config" {
						v, err := c.scalar(o.v, "configs."+p.key+".content")
						if err != nil {
							return err
						}
						if ts.value, err = c.interpolate(o.v, "", v); err != nil {
							return err
						}
						continue
					}
					c.warn(o.k, "", unsupported(tp.plain+"."+p.key+".content"))
				case "external":
					if resolve(o.v).Value == "true" {
						ts.dropped = "it is external (managed outside the project)"
						c.warn(o.k, "", fmt.Sprintf("%s %s is external: envctl can only carry %ss from a file or a variable; services lose it", tp.kind, p.key, tp.kind))
					}
				case "name":
					c.note(o.k, "", fmt.Sprintf("%s %s: name is the engine's name for it; envctl names it %s", tp.kind, p.key, p.key))
				default:
					c.warn(o.k, "", unsupported(tp.plain+"."+p.key+"."+o.key))
				}
			}
			if ts.file == "" && ts.value == nil && ts.dropped == "" {
				ts.dropped = "it has neither file nor environment"
				c.warn(p.k, "", fmt.Sprintf("%s %s has neither file nor environment; services lose it", tp.kind, p.key))
			}
		}
	}
	if volumes != nil && !isNull(volumes.v) {
		ps, err := c.pairs(volumes.v)
		if err != nil {
			return err
		}
		for _, p := range ps {
			c.topVolumes[p.key] = p.v
			if isNull(p.v) {
				continue
			}
			opts, err := c.pairs(p.v)
			if err != nil {
				return err
			}
			for _, o := range opts {
				switch o.key {
				case "driver":
					if v := resolve(o.v).Value; v != "local" {
						c.warn(o.k, "", fmt.Sprintf("volume %s: driver %s is not supported; envctl makes a local volume of the environment", p.key, v))
					}
				case "driver_opts":
					if tmpfsVolume(c, p.v) {
						c.note(o.k, "", fmt.Sprintf("volume %s is a tmpfs (driver_opts type: tmpfs): its mounts are tmpfs mounts", p.key))
						continue
					}
					c.warn(o.k, "", fmt.Sprintf("volume %s: driver_opts are not supported; envctl makes a plain local volume of the environment", p.key))
				case "external":
					if resolve(o.v).Value == "true" {
						c.warn(o.k, "", fmt.Sprintf("volume %s is external: envctl makes a volume of the environment instead (ENVIRONMENT-%s), empty at first and removed by down", p.key, p.key))
					}
				case "name":
					c.note(o.k, "", fmt.Sprintf("volume %s: name is the engine's name for it; envctl names it ENVIRONMENT-%s", p.key, p.key))
				case "labels":
					c.note(o.k, "", fmt.Sprintf("volume %s: labels are not carried; envctl labels its volumes with the environment", p.key))
				default:
					c.warn(o.k, "", unsupported("volumes."+p.key+"."+o.key))
				}
			}
		}
	}
	if networks != nil && !isNull(networks.v) {
		if names := c.keys(networks.v); len(names) > 0 {
			c.warn(networks.k, "", fmt.Sprintf("top-level networks are not supported; dropped (%s): every service is on the environment's own network, where all of them reach each other by name", strings.Join(names, ", ")))
		}
	}
	return nil
}

// tmpfsVolume reports whether a top-level volume is a tmpfs by its driver_opts.
func tmpfsVolume(c *converter, def *yaml.Node) bool {
	if isNull(def) {
		return false
	}
	ps, err := c.pairs(def)
	if err != nil {
		return false
	}
	for _, p := range ps {
		if p.key != "driver_opts" || isNull(p.v) {
			continue
		}
		opts, err := c.pairs(p.v)
		if err != nil {
			return false
		}
		for _, o := range opts {
			if o.key == "type" && resolve(o.v).Value == "tmpfs" {
				return true
			}
		}
	}
	return false
}

// rebaseFrom rewrites a path relative to the file n was read from (its project directory)
// relative to Options.OutDir.
func (c *converter) rebaseFrom(n *yaml.Node, p string) string {
	dir := c.dirOf(n)
	if dir == c.dir || filepath.IsAbs(p) {
		return c.rebase(p)
	}
	rel, err := filepath.Rel(c.dir, filepath.Join(dir, p))
	if err != nil {
		return c.rebase(filepath.Join(dir, p))
	}
	return c.rebase(rel)
}

// volumes reads the short ("[SOURCE:]TARGET[:MODE]") and long syntax of volumes.
func (c *converter) volumes(s *service, n *yaml.Node) error {
	items, err := c.list(n, "volumes")
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.Kind == yaml.MappingNode {
			if err := c.longVolume(s, it); err != nil {
				return err
			}
			continue
		}
		spec, err := c.static(it, s.orig, "volumes")
		if err != nil {
			return err
		}
		parts := strings.Split(spec, ":")
		var source, target, mode string
		switch len(parts) {
		case 1:
			target = parts[0]
		case 2:
			source, target = parts[0], parts[1]
		case 3:
			source, target, mode = parts[0], parts[1], parts[2]
		default:
			return c.errAt(it, "service %s: volumes: %q is not SOURCE:TARGET[:MODE]", s.orig, spec)
		}
		ro := false
		for _, m := range strings.Split(mode, ",") {
			switch m {
			case "ro":
				ro = true
			case "", "rw", "z", "Z", "cached", "delegated", "consistent", "nocopy":
			default:
				c.warn(it, s.orig, fmt.Sprintf("volumes: mode %s of %s is not supported; dropped", m, spec))
			}
		}
		if err := c.addVolume(s, it, spec, source, target, ro, ""); err != nil {
			return err
		}
	}
	return nil
}

func (c *converter) longVolume(s *service, n *yaml.Node) error {
	ps, err := c.pairs(n)
	if err != nil {
		return err
	}
	var typ, source, target string
	ro := false
	var size int64
	for _, p := range ps {
		var err error
		switch p.key {
		case "type":
			typ, err = c.static(p.v, s.orig, "volumes.type")
		case "source":
			source, err = c.static(p.v, s.orig, "volumes.source")
		case "target":
			target, err = c.static(p.v, s.orig, "volumes.target")
		case "read_only":
			ro, err = c.boolean(p.v, s.orig, "volumes.read_only")
		case "tmpfs":
			opts, err := c.pairs(p.v)
			if err != nil {
				return err
			}
			for _, o := range opts {
				if o.key == "size" {
					if size, err = c.memory(s.orig, "volumes.tmpfs.size", o.v); err != nil {
						return err
					}
					continue
				}
				c.warn(o.k, s.orig, unsupported("volumes.tmpfs."+o.key))
			}
		case "bind", "volume":
			opts, err := c.pairs(p.v)
			if err != nil {
				return err
			}
			for _, o := range opts {
				switch p.key + "." + o.key {
				case "bind.create_host_path", "volume.nocopy", "bind.selinux":
					// Nothing to create: a repository path must exist; a new volume is filled
					// from the image as Docker does; relabelling is the engine's business.
				default:
					c.warn(o.k, s.orig, unsupported("volumes."+p.key+"."+o.key))
				}
			}
		case "consistency":
		default:
			c.warn(p.k, s.orig, unsupported("volumes."+p.key))
		}
		if err != nil {
			return err
		}
	}
	if target == "" {
		return c.errAt(n, "service %s: volumes: the long syntax needs target", s.orig)
	}
	what := source + ":" + target
	switch typ {
	case "tmpfs":
		s.addMount(c, n, mount{typ: "tmpfs", target: target, size: size, what: "tmpfs " + target})
		return nil
	case "bind", "volume", "":
		if typ == "bind" && !isPath(source) {
			source = "./" + source
		}
		return c.addVolume(s, n, what, source, target, ro, typ)
	}
	c.warn(n, s.orig, fmt.Sprintf("volumes: type %s is not supported; dropped (%s)", typ, what))
	return nil
}

// isPath reports whether a volume source is a host path rather than a volume name, by
// Compose's rule.
func isPath(src string) bool {
	return strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~")
}

// addVolume adds one bind mount or named volume.
func (c *converter) addVolume(s *service, n *yaml.Node, spec, source, target string, ro bool, typ string) error {
	if !strings.HasPrefix(target, "/") {
		return c.errAt(n, "service %s: volumes: target %q of %s is not an absolute path", s.orig, target, spec)
	}
	target = cleanTarget(target)
	switch {
	case source == "":
		// An anonymous volume: Compose keeps it across recreation of the container, like a
		// named volume of the environment.
		name := anonVolumeName(s.name, target)
		c.note(n, s.orig, fmt.Sprintf("anonymous volume %s is volume %s of the environment", target, name))
		s.addMount(c, n, mount{typ: "volume", source: name, target: target, readOnly: ro, what: target})
	case strings.HasPrefix(source, "~"):
		c.warn(n, s.orig, fmt.Sprintf("volumes: %s mounts a path of the home directory; dropped (envctl mounts files and directories of the repository, relative to the environment file)", spec))
	case isPath(source) || typ == "bind":
		abs := source
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(c.dirOf(n), source)
		}
		if rel, err := filepath.Rel(c.dir, abs); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			c.warn(n, s.orig, fmt.Sprintf("volumes: %s mounts the host path %s, outside the project; dropped (envctl mounts files and directories of the repository, relative to the environment file, copied in so that they work on any engine)", spec, source))
			return nil
		}
		s.addMount(c, n, mount{typ: "bind", source: c.rebaseFrom(n, source), target: target, readOnly: ro, what: spec})
	default:
		if !volumeNameRe.MatchString(source) || len(source) > 64 {
			return c.errAt(n, "service %s: volumes: %q is not a volume name", s.orig, source)
		}
		if def, ok := c.topVolumes[source]; ok && tmpfsVolume(c, def) {
			s.addMount(c, n, mount{typ: "tmpfs", target: target, what: spec})
			return nil
		}
		if _, ok := c.topVolumes[source]; !ok {
			return c.errAt(n, "service %s: volumes: volume %s is not declared in the top-level volumes", s.orig, source)
		}
		s.addMount(c, n, mount{typ: "volume", source: source, target: target, readOnly: ro, what: spec})
	}
	return nil
}

// cleanTarget cleans a container path, keeping it absolute.
func cleanTarget(t string) string {
	if t == "/" {
		return t
	}
	return strings.TrimRight(filepath.ToSlash(filepath.Clean(t)), "/")
}

// anonVolumeName names the volume an anonymous volume becomes: SERVICE-TARGET, DNS-safe.
func anonVolumeName(svc, target string) string {
	name := envs.DNSName(svc + "-" + target)
	if len(name) > 64 {
		name = strings.Trim(name[:64], "-")
	}
	return name
}

// addMount adds m; a second mount at the same target replaces the first, with a warning:
// the engine refuses two mounts at one path.
func (s *service) addMount(c *converter, n *yaml.Node, m mount) {
	for i, x := range s.mounts {
		if x.target == m.target {
			c.warn(n, s.orig, fmt.Sprintf("volumes: %s and %s both mount at %s, which the engine refuses; kept %s", x.what, m.what, m.target, m.what))
			s.mounts[i] = m
			return
		}
	}
	for _, x := range s.secrets {
		if x.target == m.target {
			c.warn(n, s.orig, fmt.Sprintf("volumes: %s mounts at %s, where secret %s is; dropped", m.what, m.target, x.name))
			return
		}
	}
	s.mounts = append(s.mounts, m)
}

// tmpfs reads the tmpfs key: a path or a list of "PATH[:OPTIONS]".
func (c *converter) tmpfs(s *service, n *yaml.Node) error {
	items, err := c.list(c.listNode(n), "tmpfs")
	if err != nil {
		return err
	}
	for _, it := range items {
		spec, err := c.static(it, s.orig, "tmpfs")
		if err != nil {
			return err
		}
		target, opts, _ := strings.Cut(spec, ":")
		if !strings.HasPrefix(target, "/") {
			return c.errAt(it, "service %s: tmpfs: %q is not an absolute path", s.orig, target)
		}
		m := mount{typ: "tmpfs", target: cleanTarget(target), what: "tmpfs " + target}
		for _, o := range strings.Split(opts, ",") {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "":
			case "size":
				b, err := parseDockerSize(v)
				if err != nil {
					return c.errAt(it, "service %s: tmpfs %s: size: %v", s.orig, target, err)
				}
				m.size = b
			default:
				c.warn(it, s.orig, fmt.Sprintf("tmpfs %s: option %s is not supported; dropped", target, k))
			}
		}
		s.addMount(c, it, m)
	}
	return nil
}

// serviceSecrets reads a service's secrets (or configs): "NAME" or {source, target, mode, ...}.
func (c *converter) serviceSecrets(s *service, n *yaml.Node, configs bool) error {
	what, top := "secrets", c.secrets
	if configs {
		what, top = "configs", c.configs
	}
	items, err := c.list(n, what)
	if err != nil {
		return err
	}
	for _, it := range items {
		var source, target, mode string
		if it.Kind == yaml.MappingNode {
			ps, err := c.pairs(it)
			if err != nil {
				return err
			}
			for _, p := range ps {
				var err error
				switch p.key {
				case "source":
					source, err = c.static(p.v, s.orig, what+".source")
				case "target":
					target, err = c.static(p.v, s.orig, what+".target")
				case "mode":
					mode, err = c.static(p.v, s.orig, what+".mode")
					if err == nil && !strings.HasPrefix(mode, "0") {
						mode = "0" + mode
					}
				case "uid", "gid":
					c.warn(p.k, s.orig, fmt.Sprintf("%s.%s is not supported; dropped (the file belongs to root; mode sets who can read it)", what, p.key))
				default:
					c.warn(p.k, s.orig, unsupported(what+"."+p.key))
				}
				if err != nil {
					return err
				}
			}
		} else {
			if source, err = c.static(it, s.orig, what); err != nil {
				return err
			}
		}
		if source == "" {
			return c.errAt(it, "service %s: %s: an entry has no source", s.orig, what)
		}
		ts := top[source]
		if ts == nil {
			return c.errAt(it, "service %s: %s: %s is not declared in the top-level %s", s.orig, what, source, what)
		}
		if ts.dropped != "" {
			c.warn(it, s.orig, fmt.Sprintf("%s: %s dropped: %s", what, source, ts.dropped))
			continue
		}
		if configs {
			if target == "" {
				target = "/" + source
			}
			if ts.file != "" {
				if mode != "" {
					c.warn(it, s.orig, fmt.Sprintf("configs: mode %s of %s is not supported; the file is mounted read-only", mode, source))
				}
				s.addMount(c, it, mount{typ: "bind", source: ts.file, target: cleanTarget(target), readOnly: true, what: "config " + source})
				continue
			}
			// A config from a variable or inline content is a file too: a secret block
			// mounts a value at a path.
			s.secrets = append(s.secrets, secretUse{name: source, value: ts.value, target: target, mode: mode})
			continue
		}
		if target != "" && !strings.HasPrefix(target, "/") {
			// A relative target is under /run/secrets, as in Compose; none is envctl's
			// default, /run/secrets/NAME.
			target = "/run/secrets/" + target
		}
		s.secrets = append(s.secrets, secretUse{name: source, file: ts.file, value: ts.value, target: target, mode: mode})
	}
	return nil
}

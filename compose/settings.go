package compose

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/envctl/envctl/envs"
)

// settings are the container settings carried one to one into the service block.
var settings = map[string]bool{
	"user": true, "working_dir": true, "hostname": true, "profiles": true, "init": true,
	"read_only": true, "shm_size": true, "cap_add": true, "cap_drop": true, "extra_hosts": true,
	"ulimits": true, "stop_signal": true, "stop_grace_period": true,
}

func isSetting(key string) bool { return settings[key] }

// setting converts one of settings.
func (c *converter) setting(s *service, p pair) error {
	svc := s.orig
	var err error
	switch p.key {
	case "user", "working_dir", "hostname":
		var v string
		if v, err = c.scalar(p.v, p.key); err != nil {
			return err
		}
		t, err := c.interpolate(p.v, svc, v)
		if err != nil {
			return err
		}
		switch p.key {
		case "user":
			s.user = t
		case "working_dir":
			s.workingDir = t
		default:
			s.hostname = t
		}
	case "profiles":
		s.profiles, err = c.staticList(p.v, svc, "profiles")
	case "cap_add":
		s.capAdd, err = c.staticList(p.v, svc, "cap_add")
	case "cap_drop":
		s.capDrop, err = c.staticList(p.v, svc, "cap_drop")
	case "init", "read_only":
		v, err := c.boolean(p.v, svc, p.key)
		if err != nil {
			return err
		}
		if p.key == "init" {
			s.init = &v
		} else {
			s.readOnly = &v
		}
	case "shm_size":
		s.shmSize, err = c.memory(svc, "shm_size", p.v)
	case "stop_signal":
		s.stopSignal, err = c.static(p.v, svc, "stop_signal")
	case "stop_grace_period":
		d, err := c.duration(svc, "stop_grace_period", p.v)
		if err != nil {
			return err
		}
		s.stopGrace = formatDuration(d)
	case "extra_hosts":
		err = c.extraHosts(s, p.v)
	case "ulimits":
		err = c.ulimits(s, p.v)
	}
	return err
}

// staticList reads a list of fixed strings (a single string is a list of one).
func (c *converter) staticList(n *yaml.Node, svc, what string) ([]string, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	items := []*yaml.Node{n}
	if n.Kind != yaml.ScalarNode {
		var err error
		if items, err = c.list(n, what); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		v, err := c.static(it, svc, what)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (c *converter) boolean(n *yaml.Node, svc, what string) (bool, error) {
	v, err := c.static(n, svc, what)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, c.errAt(n, "service %s: %s: want true or false, got %q", svc, what, v)
	}
	return b, nil
}

// extraHosts reads the list ("host:ip" or "host=ip") and the mapping form.
func (c *converter) extraHosts(s *service, n *yaml.Node) error {
	m, err := c.dictNode(n, "extra_hosts")
	if err != nil {
		return err
	}
	ps, err := c.pairs(m)
	if err != nil {
		return err
	}
	if s.extraHosts == nil {
		s.extraHosts = map[string]string{}
	}
	for _, p := range ps {
		host, err := c.staticString(p.k, s.orig, "extra_hosts", p.key)
		if err != nil {
			return err
		}
		if isNull(p.v) {
			return c.errAt(p.k, "service %s: extra_hosts %s: no address", s.orig, host)
		}
		ip, err := c.static(p.v, s.orig, "extra_hosts")
		if err != nil {
			return err
		}
		// Compose accepts IPv6 addresses in brackets in the "=" form.
		s.extraHosts[host] = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	}
	return nil
}

// ulimits reads "name: N" and "name: {soft: N, hard: M}" into "soft:hard" strings.
func (c *converter) ulimits(s *service, n *yaml.Node) error {
	ps, err := c.pairs(n)
	if err != nil {
		return err
	}
	if s.ulimits == nil {
		s.ulimits = map[string]string{}
	}
	for _, p := range ps {
		v := resolve(p.v)
		if v.Kind == yaml.MappingNode {
			lim, err := c.pairs(v)
			if err != nil {
				return err
			}
			var soft, hard string
			for _, l := range lim {
				x, err := c.static(l.v, s.orig, "ulimits."+p.key+"."+l.key)
				if err != nil {
					return err
				}
				switch l.key {
				case "soft":
					soft = x
				case "hard":
					hard = x
				default:
					return c.errAt(l.k, "service %s: ulimits.%s: %s is not soft or hard", s.orig, p.key, l.key)
				}
			}
			if soft == "" || hard == "" {
				return c.errAt(p.k, "service %s: ulimits.%s: want both soft and hard", s.orig, p.key)
			}
			s.ulimits[p.key] = soft + ":" + hard
			continue
		}
		x, err := c.static(v, s.orig, "ulimits."+p.key)
		if err != nil {
			return err
		}
		s.ulimits[p.key] = x
	}
	return nil
}

// oneShots settles restart. "no" is envctl's own behaviour. A service that only runs in a
// profile, publishes no port, is waited on by nobody (or only for its completion) and
// restarts on failure (or never) is the one-shot task Compose users start with
// `docker compose run` or a profile (migrations, seeders): it runs once, and up waits for it
// to exit 0. Other restart policies are warned.
func (c *converter) oneShots(waited map[*service]bool) {
	for _, s := range c.services {
		if s.restart == "" || s.restart == "no" && len(s.profiles) == 0 {
			continue
		}
		job := s.restart == "no" || s.restart == "on-failure" || strings.HasPrefix(s.restart, "on-failure:")
		if job && len(s.profiles) > 0 && len(s.ports) == 0 && !waited[s] && !s.once {
			s.once = true
			c.note(s.restartNode, s.orig, fmt.Sprintf("run = \"once\": a profile-only service that restarts %s and that nothing waits on is a one-shot task; up waits for it to exit 0", s.restart))
			continue
		}
		if s.restart != "no" {
			c.warn(s.restartNode, s.orig, fmt.Sprintf("restart %s is not supported; dropped (%s)", s.restart, why["restart"]))
		}
	}
}

// envFile reads env_file: a path, a list of paths, or a list of {path, required, format}.
func (c *converter) envFile(s *service, n *yaml.Node) error {
	n = c.listNode(n)
	if isNull(n) {
		return nil
	}
	items, err := c.list(n, "env_file")
	if err != nil {
		return err
	}
	for _, it := range items {
		pathNode := it
		if it.Kind == yaml.MappingNode {
			ps, err := c.pairs(it)
			if err != nil {
				return err
			}
			pathNode = nil
			for _, p := range ps {
				switch p.key {
				case "path":
					pathNode = p.v
				case "required":
					if resolve(p.v).Value == "false" {
						c.warn(p.k, s.orig, "env_file required: false is not supported: envctl reads every env file it is given; the file must exist")
					}
				case "format":
					if v := resolve(p.v).Value; v != "" && v != "raw" {
						c.warn(p.k, s.orig, fmt.Sprintf("env_file format %s is not supported; read as dotenv", v))
					}
				default:
					c.warn(p.k, s.orig, unsupported("env_file."+p.key))
				}
			}
			if pathNode == nil {
				return c.errAt(it, "service %s: env_file: an entry has no path", s.orig)
			}
		}
		path, err := c.static(pathNode, s.orig, "env_file")
		if err != nil {
			return err
		}
		s.envFiles = append(s.envFiles, c.rebaseFrom(pathNode, path))
	}
	return nil
}

// networks: every envctl service is on the environment's one network, so the names are
// dropped (said once at the top); aliases carry over.
func (c *converter) networks(s *service, p pair) error {
	n := resolve(p.v)
	if n.Kind == yaml.SequenceNode {
		return nil
	}
	ps, err := c.pairs(n)
	if err != nil {
		return c.errAt(n, "service %s: networks: want a list or a mapping, got %s", s.orig, kindName(n))
	}
	for _, net := range ps {
		if isNull(net.v) {
			continue
		}
		opts, err := c.pairs(net.v)
		if err != nil {
			return err
		}
		for _, o := range opts {
			switch o.key {
			case "aliases":
				as, err := c.staticList(o.v, s.orig, "networks."+net.key+".aliases")
				if err != nil {
					return err
				}
				for _, a := range as {
					if !contains(s.aliases, a) && a != s.name {
						s.aliases = append(s.aliases, a)
					}
				}
			case "ipv4_address", "ipv6_address", "link_local_ips", "mac_address", "priority", "gw_priority", "driver_opts", "interface_name":
				c.warn(o.k, s.orig, fmt.Sprintf("networks.%s.%s is not supported; dropped (addresses come from the environment's network, and services reach each other by name)", net.key, o.key))
			default:
				c.warn(o.k, s.orig, unsupported("networks."+net.key+"."+o.key))
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// composeDuration is Compose's duration syntax: Go's, plus a bare number of seconds.
func composeDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// containerName: envctl names containers ENVIRONMENT-SERVICE, but Compose's container_name is
// also a host name other services use; it becomes a network alias when it can be one.
func (c *converter) containerName(s *service, p pair) error {
	v, err := c.static(p.v, s.orig, "container_name")
	if err != nil {
		return err
	}
	switch {
	case v == s.orig || v == s.name:
	case envs.DNSName(v) == v && c.byOrig[v] == nil:
		if !contains(s.aliases, v) {
			s.aliases = append(s.aliases, v)
		}
		c.note(p.k, s.orig, fmt.Sprintf("container_name %s is a network alias: envctl names the container ENVIRONMENT-%s, and other services reach it as %s or %s", v, s.name, s.name, v))
	default:
		c.warn(p.k, s.orig, fmt.Sprintf("container_name %s is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE, and %s cannot be a network alias: aliases are DNS-safe and not another service's name); other services reach it as %s", v, v, s.name))
	}
	return nil
}

package envs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/envctl/envctl/internal/dotenv"
)

// The container settings of a service (attrs.md, issue 11): what real Compose stacks use
// beyond image, command and env.

var mountSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type", Required: true}, {Name: "source"}, {Name: "target", Required: true}, {Name: "read_only"}, {Name: "size"}},
}

var secretSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "value"}, {Name: "file"}, {Name: "target"}, {Name: "mode"}},
}

// MaxCopySize bounds what bind mounts and secret files copy into one container: the content is
// read at every load to hash it, and sent to the engine at every create. A directory larger
// than this (a node_modules, a data dump) is better built into the image.
const MaxCopySize = 64 << 20

// MaxCopyEntries bounds the files and directories one bind mount copies: walking and hashing
// a huge tree at every load would make every command slow.
const MaxCopyEntries = 10000

// MaxEnvFileSize bounds one env file.
const MaxEnvFileSize = 1 << 20

var (
	profileRe    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	volumeNameRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
	hostnameRe   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)
)

// capabilities are Linux's (capabilities(7)), without the "CAP_" prefix.
var capabilities = map[string]bool{
	"ALL": true, "AUDIT_CONTROL": true, "AUDIT_READ": true, "AUDIT_WRITE": true, "BLOCK_SUSPEND": true,
	"BPF": true, "CHECKPOINT_RESTORE": true, "CHOWN": true, "DAC_OVERRIDE": true, "DAC_READ_SEARCH": true,
	"FOWNER": true, "FSETID": true, "IPC_LOCK": true, "IPC_OWNER": true, "KILL": true, "LEASE": true,
	"LINUX_IMMUTABLE": true, "MAC_ADMIN": true, "MAC_OVERRIDE": true, "MKNOD": true, "NET_ADMIN": true,
	"NET_BIND_SERVICE": true, "NET_BROADCAST": true, "NET_RAW": true, "PERFMON": true, "SETFCAP": true,
	"SETGID": true, "SETPCAP": true, "SETUID": true, "SYS_ADMIN": true, "SYS_BOOT": true, "SYS_CHROOT": true,
	"SYS_MODULE": true, "SYS_NICE": true, "SYS_PACCT": true, "SYS_PTRACE": true, "SYS_RAWIO": true,
	"SYS_RESOURCE": true, "SYS_TIME": true, "SYS_TTY_CONFIG": true, "SYSLOG": true, "WAKE_ALARM": true,
}

// ulimitNames are the limits the engine knows (setrlimit(2) without "RLIMIT_", lower case).
var ulimitNames = map[string]bool{
	"core": true, "cpu": true, "data": true, "fsize": true, "locks": true, "memlock": true, "msgqueue": true,
	"nice": true, "nofile": true, "nproc": true, "rss": true, "rtprio": true, "rttime": true,
	"sigpending": true, "stack": true,
}

// signals are the names stop_signal accepts (signal(7)), with their numbers.
var signals = map[string]int{
	"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGBUS": 7,
	"SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13,
	"SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17, "SIGCONT": 18, "SIGSTOP": 19,
	"SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22, "SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25,
	"SIGVTALRM": 26, "SIGPROF": 27, "SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30, "SIGSYS": 31,
}

// decodeContainer reads the container settings of attrs.md into s.
func (l *loader) decodeContainer(d *svcDecl, s *Service, static func(string) (*hcl.Attribute, cty.Value, bool)) {
	str := func(name string) (*hcl.Attribute, string, bool) {
		a, v, ok := static(name)
		if a == nil {
			return nil, "", false
		}
		sv, ok := l.stringVal(a, v, ok)
		return a, sv, ok
	}
	list := func(name string) (*hcl.Attribute, []string, bool) {
		a, v, ok := static(name)
		if a == nil || !ok {
			return a, nil, false
		}
		out, ok := l.stringList(a, v, `Write a list, like ["a", "b"].`)
		return a, out, ok
	}
	boolean := func(name string) bool {
		a, v, ok := static(name)
		if a == nil || !ok || v.IsNull() {
			return false
		}
		v = unmark(v)
		if v.Type() != cty.Bool {
			l.typeError(a, "true or false is required, got "+friendlyType(v.Type()))
			return false
		}
		return v.True()
	}

	if a, u, ok := str("user"); ok {
		if strings.TrimSpace(u) == "" || strings.ContainsAny(u, " \t\n") {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid user", "user is a user name or ID, optionally with a group, like \"1000:1000\" or \"postgres\"; %q is not.", u)
		} else {
			s.User = u
		}
	}
	if a, w, ok := str("working_dir"); ok {
		if !path.IsAbs(w) {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid working_dir", "working_dir is an absolute path in the container, like \"/app\"; %q is not.", w)
		} else {
			s.WorkingDir = w
		}
	}
	if a, h, ok := str("hostname"); ok {
		if len(h) > 253 || !hostnameRe.MatchString(h) {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid hostname", "hostname is a host name: letters, digits and \"-\" in labels separated by \".\"; %q is not.", h)
		} else {
			s.Hostname = h
		}
	}
	if a, al, ok := list("aliases"); ok {
		for _, x := range al {
			switch {
			case !validDNSLabel(x):
				l.errorf(rangePtr(a.Expr.Range()), "Invalid alias", "Network aliases must be DNS-safe: %s; %q is not.", dnsRule, x)
			case x != d.name && l.services[x] != nil:
				l.errorf(rangePtr(a.Expr.Range()), "Invalid alias", "The alias %q of service %q is the name of another service; the two would share one DNS name.", x, d.name)
			default:
				if x != d.name && !contains(s.Aliases, x) {
					s.Aliases = append(s.Aliases, x)
				}
			}
		}
	}
	if a, ps, ok := list("profiles"); ok {
		for _, p := range ps {
			if !profileRe.MatchString(p) {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid profile", "Profile names are letters, digits, \"_\", \".\" and \"-\", starting with a letter or digit; %q is not.", p)
				continue
			}
			if !contains(s.Profiles, p) {
				s.Profiles = append(s.Profiles, p)
			}
		}
	}
	s.Init = boolean("init")
	s.ReadOnly = boolean("read_only")
	if a, v, ok := static("shm_size"); a != nil && ok {
		if n, ok := l.sizeVal(a, v); ok {
			s.ShmSize = n
		}
	}
	for _, name := range []string{"cap_add", "cap_drop"} {
		a, cs, ok := list(name)
		if !ok {
			continue
		}
		var out []string
		for _, c := range cs {
			n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
			if !capabilities[n] {
				l.errorf(rangePtr(a.Expr.Range()), "Unknown capability", "%q is not a Linux capability (capabilities(7)), like \"NET_ADMIN\" or \"ALL\".%s", c, didYouMean(n, sortedKeys(capabilities)))
				continue
			}
			if !contains(out, n) {
				out = append(out, n)
			}
		}
		if name == "cap_add" {
			s.CapAdd = out
		} else {
			s.CapDrop = out
		}
	}
	if a, v, ok := static("extra_hosts"); a != nil && ok {
		if m, ok := l.stringMap(a, v); ok {
			for h, ip := range m {
				rng := rangePtr(itemRange(a.Expr, h))
				switch {
				case !hostnameRe.MatchString(h):
					l.errorf(rng, "Invalid extra host", "%q is not a host name.", h)
				case net.ParseIP(ip) == nil:
					l.errorf(rng, "Invalid extra host", "extra_hosts maps host names to IP addresses, like { \"db.example\" = \"10.0.0.1\" }; %q is not an IP address.", ip)
				default:
					if s.ExtraHosts == nil {
						s.ExtraHosts = map[string]string{}
					}
					s.ExtraHosts[h] = ip
				}
			}
		}
	}
	if a, v, ok := static("ulimits"); a != nil && ok {
		if m, ok := l.stringMap(a, v); ok {
			for name, val := range m {
				rng := rangePtr(itemRange(a.Expr, name))
				if !ulimitNames[name] {
					l.errorf(rng, "Unknown ulimit", "%q is not a limit the engine knows; the limits are %s.%s", name, quotedList(sortedKeys(ulimitNames), true), didYouMean(name, sortedKeys(ulimitNames)))
					continue
				}
				u, err := parseUlimit(val)
				if err != nil {
					l.errorf(rng, "Invalid ulimit", "%s %s", name, err)
					continue
				}
				u.Name = name
				s.Ulimits = append(s.Ulimits, u)
			}
			sort.Slice(s.Ulimits, func(i, j int) bool { return s.Ulimits[i].Name < s.Ulimits[j].Name })
		}
	}
	if a, sig, ok := str("stop_signal"); ok {
		n := strings.ToUpper(strings.TrimSpace(sig))
		if !strings.HasPrefix(n, "SIG") {
			n = "SIG" + n
		}
		if _, known := signals[n]; !known {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid stop_signal", "stop_signal is a signal name, like \"SIGINT\" or \"SIGQUIT\"; %q is not.", sig)
		} else {
			s.StopSignal = n
		}
	}
	if a, v, ok := static("stop_grace_period"); a != nil {
		if t, ok := l.durationVal(a, v, ok); ok {
			s.StopGrace = t
		}
	}
	if a := d.content.Attributes["env_file"]; a != nil {
		l.decodeEnvFiles(d, s, a)
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sizeVal reads a size: a whole number of bytes or a string with a unit.
func (l *loader) sizeVal(a *hcl.Attribute, v cty.Value) (int64, bool) {
	if v.IsNull() {
		return 0, false
	}
	v = unmark(v)
	switch v.Type() {
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if f < 1 || f != math.Trunc(f) || f > math.MaxInt64/2 {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid size", "%v is not a whole, positive number of bytes. %s", f, sizeHelp)
			return 0, false
		}
		return int64(f), true
	case cty.String:
		n, err := parseSize(v.AsString())
		if err != nil {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid size", "%s", err.Error())
			return 0, false
		}
		return n, true
	}
	l.typeError(a, "a size is required, like \"256MiB\", got "+friendlyType(v.Type()))
	return 0, false
}

// parseUlimit reads "soft[:hard]"; a single number sets both; "unlimited" or -1 is no limit.
func parseUlimit(s string) (Ulimit, error) {
	num := func(x string) (int64, error) {
		x = strings.TrimSpace(x)
		if x == "unlimited" || x == "-1" {
			return -1, nil
		}
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("is \"soft[:hard]\", whole numbers or \"unlimited\", like \"65536:65536\"; %q is not", s)
		}
		return n, nil
	}
	softS, hardS, both := strings.Cut(s, ":")
	soft, err := num(softS)
	if err != nil {
		return Ulimit{}, err
	}
	hard := soft
	if both {
		if hard, err = num(hardS); err != nil {
			return Ulimit{}, err
		}
	}
	if hard != -1 && (soft == -1 || soft > hard) {
		return Ulimit{}, fmt.Errorf("%q has a soft limit above its hard limit", s)
	}
	return Ulimit{Soft: soft, Hard: hard}, nil
}

// secretKeyRe is the rule by which a variable of an env file counts as sensitive: its name
// looks like a secret's (the same rule as the compose importer's for variables). An env file
// has no `sensitive` flag, and .env files are where passwords live.
var secretKeyRe = regexp.MustCompile(`(?i)(passw|secret|token|api_?key|private_?key|credential|_pwd?$|^pwd?$|_pass$|^pass$)`)

// decodeEnvFiles reads env_file: a list of dotenv files relative to the environment file,
// merged in order (a later file wins) under env.
func (l *loader) decodeEnvFiles(d *svcDecl, s *Service, a *hcl.Attribute) {
	v, ok := l.eval(a.Expr, l.fileCtx(d.b.f), scopeStatic, nil)
	if !ok || v.IsNull() {
		return
	}
	if unmark(v).Type() == cty.String {
		v = cty.TupleVal([]cty.Value{v})
	}
	paths, ok := l.stringList(a, v, "")
	if !ok {
		return
	}
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(d.b.f.dir, p)
		}
		abs = filepath.Clean(abs)
		src, err := readLimited(abs, MaxEnvFileSize)
		if err != nil {
			l.errorf(rangePtr(a.Expr.Range()), "Cannot read env_file",
				"Service %q reads the env file %q (%s), relative to the file that names it: %v.", d.name, p, abs, unwrapPathErr(err))
			continue
		}
		pairs, err := dotenv.Parse(src)
		if err != nil {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid env_file", "%s, %v.", p, err)
			continue
		}
		if s.envFileVars == nil {
			s.envFileVars = map[string]string{}
		}
		for _, kv := range pairs {
			s.envFileVars[kv.Key] = kv.Value
			if secretKeyRe.MatchString(kv.Key) && kv.Value != "" {
				if s.envFileSecret == nil {
					s.envFileSecret = map[string]bool{}
				}
				s.envFileSecret[kv.Key] = true
			}
		}
		s.EnvFiles = append(s.EnvFiles, abs)
	}
}

// decodeMount reads one mount block.
func (l *loader) decodeMount(b blockIn, ctx *hcl.EvalContext, s *Service) {
	content, diags := b.Body.Content(mountSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	get := func(name string) (*hcl.Attribute, string, bool) {
		a := content.Attributes[name]
		if a == nil {
			return nil, "", false
		}
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if ok && containsSensitive(v) {
			l.sensitiveIn(a, s.Name, "mount "+name)
			return a, "", false
		}
		sv, ok := l.stringVal(a, v, ok)
		return a, sv, ok
	}
	m := Mount{}
	ta, typ, ok := get("type")
	if !ok {
		return
	}
	m.Type = MountType(typ)
	switch m.Type {
	case MountBind, MountVolume, MountTmpfs:
	default:
		l.errorf(rangePtr(ta.Expr.Range()), "Invalid mount type",
			"A mount's type is \"bind\" (a file or directory of the repository), \"volume\" (a named volume of the environment) or \"tmpfs\"; %q is none of them.", typ)
		return
	}
	tga, target, ok := get("target")
	if !ok {
		return
	}
	if !path.IsAbs(target) || path.Clean(target) == "/" {
		l.errorf(rangePtr(tga.Expr.Range()), "Invalid mount target", "A mount's target is an absolute path in the container other than \"/\", like \"/data\"; %q is not.", target)
		return
	}
	m.Target = path.Clean(target)
	for _, other := range s.Mounts {
		if other.Target == m.Target {
			l.errorf(rangePtr(tga.Expr.Range()), "Duplicate mount target", "Service %q mounts two things at %s.", s.Name, m.Target)
			return
		}
	}
	before := len(l.diags)
	sa, source, hasSource := get("source")
	if !hasSource && len(l.diags) > before {
		return // a wrong source is reported already; "missing" would say it twice
	}
	switch m.Type {
	case MountBind:
		if !hasSource {
			l.errorf(rangePtr(b.DefRange), "Missing mount source", "A bind mount needs a source: a file or directory relative to the environment file, like source = \"./init/schema.sql\".")
			return
		}
		abs := source
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(b.f.dir, source)
		}
		m.Source = filepath.Clean(abs)
		digest, err := digestTree(m.Source, MaxCopySize)
		if err != nil {
			l.errorf(rangePtr(sa.Expr.Range()), "Invalid mount source", "Service %q mounts %q (%s), relative to the file that names it: %v.", s.Name, source, m.Source, err)
			return
		}
		m.Digest = digest
		m.ReadOnly = true
	case MountVolume:
		if !hasSource {
			l.errorf(rangePtr(b.DefRange), "Missing mount source", "A volume mount needs a source: the volume's name, like source = \"db-data\".")
			return
		}
		if !volumeNameRe.MatchString(source) || len(source) > 64 {
			l.errorf(rangePtr(sa.Expr.Range()), "Invalid volume name", "Volume names are letters, digits, \"_\", \".\" and \"-\", starting with a letter or digit, at most 64 characters; %q is not.", source)
			return
		}
		m.Source = source
	case MountTmpfs:
		if sa != nil {
			l.errorf(rangePtr(sa.Expr.Range()), "Invalid mount source", "A tmpfs mount has no source.")
			return
		}
	}
	if a := content.Attributes["read_only"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if ok && !v.IsNull() {
			if v = unmark(v); v.Type() != cty.Bool {
				l.typeError(a, "true or false is required, got "+friendlyType(v.Type()))
			} else {
				m.ReadOnly = v.True()
			}
		}
	}
	if a := content.Attributes["size"]; a != nil {
		if m.Type != MountTmpfs {
			l.errorf(rangePtr(a.Expr.Range()), "Invalid mount size", "Only a tmpfs mount has a size.")
			return
		}
		if v, ok := l.eval(a.Expr, ctx, scopeStatic, nil); ok {
			if n, ok := l.sizeVal(a, v); ok {
				m.Size = n
			}
		}
	}
	s.Mounts = append(s.Mounts, m)
}

// decodeSecret reads one secret block.
func (l *loader) decodeSecret(b blockIn, ctx *hcl.EvalContext, s *Service) {
	content, diags := b.Body.Content(secretSchema)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	name := b.Labels[0]
	nameRng := rangePtr(b.LabelRanges[0])
	if !volumeNameRe.MatchString(name) {
		l.errorf(nameRng, "Invalid secret name", "Secret names are letters, digits, \"_\", \".\" and \"-\", starting with a letter or digit; %q is not.", name)
		return
	}
	for _, other := range s.Secrets {
		if other.Name == name {
			l.errorf(nameRng, "Duplicate secret", "Service %q already has a secret %q.", s.Name, name)
			return
		}
	}
	sec := Secret{Name: name, Target: "/run/secrets/" + name, Mode: 0o444}
	va, fa := content.Attributes["value"], content.Attributes["file"]
	switch {
	case va != nil && fa != nil:
		l.errorf(rangePtr(b.DefRange), "Invalid secret", "Secret %q has both value and file; give exactly one.", name)
		return
	case va == nil && fa == nil:
		l.errorf(rangePtr(b.DefRange), "Invalid secret", "Secret %q needs value = var.NAME (a sensitive variable) or file = \"./path\".", name)
		return
	case va != nil:
		v, ok := l.eval(va.Expr, ctx, scopeStatic, nil)
		val, ok := l.stringVal(va, v, ok)
		if !ok {
			return
		}
		sec.Value = val
	default:
		v, ok := l.eval(fa.Expr, ctx, scopeStatic, nil)
		p, ok := l.stringVal(fa, v, ok)
		if !ok {
			return
		}
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(b.f.dir, p)
		}
		abs = filepath.Clean(abs)
		data, err := readLimited(abs, MaxValueSize)
		if err != nil {
			l.errorf(rangePtr(fa.Expr.Range()), "Cannot read secret file", "Secret %q of service %q reads %q (%s), relative to the file that names it: %v.", name, s.Name, p, abs, unwrapPathErr(err))
			return
		}
		sec.Value, sec.File = string(data), abs
	}
	if a := content.Attributes["target"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if t, ok := l.stringVal(a, v, ok); ok {
			if !path.IsAbs(t) || strings.HasSuffix(t, "/") {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid secret target", "A secret's target is the absolute path of a file in the container, like \"/run/secrets/db_password\"; %q is not.", t)
				return
			}
			sec.Target = path.Clean(t)
		}
	}
	if a := content.Attributes["mode"]; a != nil {
		v, ok := l.eval(a.Expr, ctx, scopeStatic, nil)
		if m, ok := l.stringVal(a, v, ok); ok {
			n, err := strconv.ParseUint(m, 8, 32)
			if err != nil || n > 0o777 {
				l.errorf(rangePtr(a.Expr.Range()), "Invalid secret mode", "mode is an octal file mode as a string, like \"0400\"; %q is not.", m)
				return
			}
			sec.Mode = uint32(n)
		}
	}
	for _, m := range s.Mounts {
		if m.Target == sec.Target {
			l.errorf(nameRng, "Duplicate mount target", "Service %q mounts something at %s already; secret %q cannot go there too.", s.Name, sec.Target, name)
			return
		}
	}
	s.Secrets = append(s.Secrets, sec)
}

// digestTree hashes a file or a directory tree: every entry's relative path, type, mode and
// content, in lexical order. It fails on what cannot be copied into a container (sockets,
// devices) and when the content passes limit bytes.
func digestTree(root string, limit int64) (string, error) {
	st, err := os.Stat(root)
	if err != nil {
		return "", unwrapPathErr(err)
	}
	h := sha256.New()
	var total int64
	entries := 0
	add := func(p string, info fs.FileInfo) error {
		if entries++; entries > MaxCopyEntries {
			return fmt.Errorf("more than %d files and directories to copy; mount a smaller directory or build it into the image", MaxCopyEntries)
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(h, "%s\x00%o\x00", filepath.ToSlash(rel), info.Mode())
		switch {
		case info.Mode().IsRegular():
			total += info.Size()
			if total > limit {
				return fmt.Errorf("more than %s to copy; mount a smaller directory or build it into the image", byteSize(limit))
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(h, f)
			return err
		case info.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			io.WriteString(h, t)
		case info.IsDir():
		default:
			return fmt.Errorf("%s is neither a file, a directory nor a symbolic link", p)
		}
		io.WriteString(h, "\x00")
		return nil
	}
	if !st.IsDir() {
		if err := add(root, st); err != nil {
			return "", err
		}
	} else {
		err = filepath.Walk(root, func(p string, info fs.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return add(p, info)
		})
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return "", fmt.Errorf("%s: %v", pe.Path, pe.Err)
			}
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

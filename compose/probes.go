package compose

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// probe is a healthcheck that envctl checks itself, from outside the container, instead of
// running the command in it: the common server checks (pg_isready, redis-cli ping, ...) ask
// exactly what envctl's protocol probes ask, without a process per attempt in the container.
type probe struct {
	kind     string // postgres, mysql, redis, amqp, memcached, grpc, mongodb, http, tcp
	port     int    // the container port
	portName string // set by mapProbes
	user     tmpl   // postgres
	database tmpl   // postgres
	password tmpl   // redis
	service  tmpl   // grpc
	hasSvc   bool
	path     string // http
	from     string // the command, for the note
}

// mapProbes replaces the healthchecks whose command a probe checks as well by that probe, with
// a note saying so; the others stay exec checks. It runs once every variable is settled, so a
// password can be told apart from a literal secret.
func (c *converter) mapProbes() {
	for _, s := range c.services {
		h := s.health
		if h == nil || len(h.words) == 0 {
			continue
		}
		pr := c.probeOf(s, h)
		if pr == nil {
			continue
		}
		pr.portName = ensurePort(s, pr.port, defaultPortName[pr.kind])
		h.probe = pr
		text := fmt.Sprintf("healthcheck %q is checked by envctl's %s probe, from outside the container (the same question; no process per attempt in it)", pr.from, pr.kind)
		if pr.kind == "http" {
			text += "; the probe wants HTTP 200 where the command took any success: set status if the answer is another"
		}
		c.note(h.node, s.orig, text)
	}
}

// defaultPortName names a port that a probe needs and the file does not publish.
var defaultPortName = map[string]string{
	"postgres": "pg", "mysql": "mysql", "redis": "redis", "amqp": "amqp", "memcached": "memcached",
	"grpc": "grpc", "mongodb": "mongodb", "http": "http",
}

// ensurePort returns the name of s's container port n, declaring it (named name, or p<N>
// when that name is taken) when s has none.
func ensurePort(s *service, n int, name string) string {
	names := portNames(s.ports)
	for i, p := range s.ports {
		if p.port == n {
			return names[i]
		}
	}
	used := map[string]bool{}
	for _, nm := range names {
		used[nm] = true
	}
	if name == "" || used[name] {
		name = "p" + strconv.Itoa(n)
	}
	s.ports = append(s.ports, port{name: name, port: n})
	return portNames(s.ports)[len(s.ports)-1]
}

// probeOf returns the probe for h's command, or nil when it stays an exec check.
func (c *converter) probeOf(s *service, h *health) *probe {
	words := h.words
	shell := h.shell
	if !shell && len(words) == 3 && isShellName(words[0]) && words[1] == "-c" {
		words, shell = words[2:], true
	}
	var feed []string // what is piped into the command: echo stats | nc ...
	if shell {
		var ok bool
		if words, feed, ok = simpleShell(words[0]); !ok {
			return nil
		}
	}
	if len(words) == 0 || hasSubstitution(words[0]) {
		return nil
	}
	m := &argMatcher{c: c, s: s, h: h}
	var pr *probe
	switch path.Base(words[0]) {
	case "pg_isready":
		pr = m.pgIsReady(words[1:])
	case "mysqladmin", "mariadb-admin":
		pr = m.mysqlAdmin(words[1:])
	case "healthcheck.sh":
		pr = m.mariadbHealthcheck(words[1:])
	case "redis-cli", "valkey-cli":
		pr = m.redisCLI(words[1:])
	case "rabbitmq-diagnostics", "rabbitmqctl":
		pr = m.rabbitmq(path.Base(words[0]), words[1:])
	case "grpc_health_probe":
		pr = m.grpcHealthProbe(words[1:])
	case "curl":
		pr = m.curl(words[1:])
	case "wget":
		pr = m.wget(words[1:])
	case "nc", "netcat", "ncat":
		pr = m.nc(words[1:], feed)
	case "mongo", "mongosh":
		pr = m.mongo(words[1:], feed)
	}
	if pr == nil {
		return nil
	}
	if feed != nil && pr.kind != "memcached" && pr.kind != "mongodb" {
		return nil
	}
	pr.from = strings.Join(h.words, " ")
	if shell && len(h.words) == 1 {
		pr.from = strings.TrimSpace(h.words[0])
	}
	return pr
}

func isShellName(s string) bool {
	switch path.Base(s) {
	case "sh", "bash", "ash", "dash":
		return true
	}
	return false
}

// hasSubstitution tells whether a raw word runs a command when the shell expands it.
func hasSubstitution(w string) bool {
	return strings.Contains(w, "$$(") || strings.Contains(w, "`")
}

// simpleShell splits a CMD-SHELL script into the words of its one command, when the script
// is that command alone, optionally followed by "|| exit 1" (or "|| exit", "|| false"), and
// optionally fed by "echo WORDS |" or followed by "| grep [-q] PONG" (redis-cli). Any other
// shell construct (;, &&, redirections, command substitution in the command's name, ...)
// makes it not simple: the check stays an exec check.
func simpleShell(script string) (words, feed []string, ok bool) {
	toks, ok := shellWords(script)
	if !ok {
		return nil, nil, false
	}
	// Drop the "|| exit 1" suffix: a failing check fails either way.
	if n := len(toks); n >= 2 && toks[n-2] == "||" && (toks[n-1] == "exit" || toks[n-1] == "false") {
		toks = toks[:n-2]
	} else if n >= 3 && toks[n-3] == "||" && toks[n-2] == "exit" && toks[n-1] != "0" {
		toks = toks[:n-3]
	}
	var segs [][]string
	cur := []string{}
	for _, t := range toks {
		switch t {
		case "|":
			segs = append(segs, cur)
			cur = []string{}
		case "||", "&&", ";", "&", ">", "<", ">>", "2>", "2>&1", "&>":
			return nil, nil, false
		default:
			cur = append(cur, t)
		}
	}
	segs = append(segs, cur)
	switch len(segs) {
	case 1:
		return segs[0], nil, len(segs[0]) > 0
	case 2:
		a, b := segs[0], segs[1]
		if len(a) >= 2 && a[0] == "echo" && len(b) > 0 {
			return b, a[1:], true
		}
		// redis-cli ping | grep PONG: the probe wants PONG too.
		if len(b) >= 2 && b[0] == "grep" && b[len(b)-1] == "PONG" && len(a) > 0 && (path.Base(a[0]) == "redis-cli" || path.Base(a[0]) == "valkey-cli") {
			for _, f := range b[1 : len(b)-1] {
				if f != "-q" && f != "--quiet" {
					return nil, nil, false
				}
			}
			return a, nil, true
		}
	}
	return nil, nil, false
}

// shellWords splits a POSIX shell command line into words and operators, removing quotes. It
// refuses what it does not model (here-documents, unbalanced quotes, subshells).
func shellWords(s string) ([]string, bool) {
	var out []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			out = append(out, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, false
			}
			inWord = true
		case ch == '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
				inWord = true
			}
		case ch == ' ' || ch == '\t' || ch == '\n':
			flush()
		case ch == '|' || ch == '&' || ch == ';' || ch == '>' || ch == '<':
			flush()
			op := string(ch)
			if i+1 < len(s) && (s[i+1] == ch || (ch == '&' && s[i+1] == '>')) {
				op += string(s[i+1])
				i++
			}
			out = append(out, op)
		case ch == '(' || ch == ')':
			if i > 0 && s[i-1] == '$' {
				cur.WriteByte(ch) // $( inside a word: kept, and the word is then not used
				inWord = true
				continue
			}
			return nil, false
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	flush()
	return out, true
}

// argMatcher reads a check's arguments.
type argMatcher struct {
	c *converter
	s *service
	h *health
}

// value interpolates a raw word as Compose would. ok is false when it cannot be known here:
// a command substitution, or a shell variable the service's environment does not set.
func (m *argMatcher) value(w string) (tmpl, bool) {
	if hasSubstitution(w) {
		return nil, false
	}
	t, err := m.c.interpolate(m.h.node, m.s.orig, w)
	if err != nil {
		return nil, false
	}
	// A shell variable ($$VAR in the file, $VAR for the shell) is the container's
	// environment: the service's env when it sets it.
	if lit, ok := t.literal(); ok && strings.HasPrefix(lit, "$") {
		name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(lit, "$"), "{"), "}")
		if v, set := m.s.env[name]; set && validEnvName(name) {
			return v, true
		}
		return nil, false
	}
	for _, p := range t {
		if p.ref == nil && strings.Contains(p.lit, "$") {
			return nil, false
		}
	}
	return t, true
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// literal is value as plain text (fixed variables resolved); ok is false when it is not
// known at import.
func (m *argMatcher) literal(w string) (string, bool) {
	t, ok := m.value(w)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, p := range t {
		if p.ref == nil {
			b.WriteString(p.lit)
			continue
		}
		lit, expr := m.c.renderRef(p.ref)
		if expr != "" {
			return "", false
		}
		b.WriteString(lit)
	}
	return b.String(), true
}

func (m *argMatcher) portOf(w string) (int, bool) {
	lit, ok := m.literal(w)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(lit)
	return n, err == nil && n > 0 && n < 65536
}

// localHost tells whether a host names the container itself, where the check runs.
func (m *argMatcher) localHost(w string) bool {
	h, ok := m.literal(w)
	if !ok {
		return false
	}
	switch strings.Trim(h, "[]") {
	case "", "localhost", "127.0.0.1", "::1", "0.0.0.0", "::":
		return true
	}
	return strings.HasPrefix(h, "/") // a Unix socket directory: the same server
}

// flags walks args: each option in takes its value (as the next word, or after "=", or glued
// to a one-letter flag), each in bare takes none. fn sees each option and its value, and each
// positional argument with opt "". A word matching neither fails the walk.
func flags(args []string, takes, bare map[string]bool, fn func(opt, val string) bool) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			if !fn("", a) {
				return false
			}
			continue
		}
		if bare[a] {
			if !fn(a, "") {
				return false
			}
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok && takes[k] {
			if !fn(k, v) {
				return false
			}
			continue
		}
		if takes[a] {
			if i+1 >= len(args) {
				return false
			}
			i++
			if !fn(a, args[i]) {
				return false
			}
			continue
		}
		if len(a) > 2 && a[1] != '-' && takes[a[:2]] {
			if !fn(a[:2], a[2:]) {
				return false
			}
			continue
		}
		return false
	}
	return true
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (m *argMatcher) pgIsReady(args []string) *probe {
	pr := &probe{kind: "postgres", port: 5432}
	ok := flags(args, set("-U", "--username", "-d", "--dbname", "-h", "--host", "-p", "--port", "-t", "--timeout"),
		set("-q", "--quiet"), func(opt, val string) bool {
			switch opt {
			case "-U", "--username":
				pr.user, _ = m.value(val) // unknown: the probe's default; readiness is the same
			case "-d", "--dbname":
				if strings.Contains(val, "=") {
					return false // a connection string
				}
				pr.database, _ = m.value(val)
			case "-h", "--host":
				return m.localHost(val)
			case "-p", "--port":
				var ok bool
				pr.port, ok = m.portOf(val)
				return ok
			case "-t", "--timeout", "-q", "--quiet":
			default:
				return false
			}
			return true
		})
	if !ok {
		return nil
	}
	return pr
}

func (m *argMatcher) mysqlAdmin(args []string) *probe {
	pr := &probe{kind: "mysql", port: 3306}
	// -pSECRET is the password glued to its flag: not needed for the greeting.
	var kept []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-p") || a == "-p" {
			kept = append(kept, a)
		}
	}
	args = kept
	ping := false
	ok := flags(args, set("-h", "--host", "-P", "--port", "-u", "--user", "--password", "--connect-timeout", "--protocol", "-S", "--socket"),
		set("-s", "--silent", "--no-beep", "-p", "--password", "--wait", "-w"), func(opt, val string) bool {
			switch opt {
			case "":
				if val != "ping" || ping {
					return false
				}
				ping = true
			case "-h", "--host":
				return m.localHost(val)
			case "-P", "--port":
				var ok bool
				pr.port, ok = m.portOf(val)
				return ok
			case "--protocol":
				return strings.EqualFold(val, "tcp") || strings.EqualFold(val, "socket")
			}
			// user, password, socket, silence: the greeting comes before any of them matters
			return true
		})
	if !ok || !ping {
		return nil
	}
	return pr
}

// mariadbHealthcheck is the MariaDB image's healthcheck.sh: --connect asks what the mysql
// probe asks (the server accepts connections); its other tests (--innodb_initialized) come
// with it.
func (m *argMatcher) mariadbHealthcheck(args []string) *probe {
	connect := false
	for _, a := range args {
		switch a {
		case "--connect":
			connect = true
		case "--innodb_initialized", "--su-mysql":
		default:
			return nil
		}
	}
	if !connect {
		return nil
	}
	return &probe{kind: "mysql", port: 3306}
}

func (m *argMatcher) redisCLI(args []string) *probe {
	pr := &probe{kind: "redis", port: 6379}
	// "ping", or "incr ping" (a common idiom: any command the server answers; INCR is refused
	// with -LOADING just as PING is, so the probe's PING asks the same).
	var cmd []string
	ok := flags(args, set("-h", "-p", "-a", "--pass", "--user", "-n"), set("--no-auth-warning", "--raw"), func(opt, val string) bool {
		switch opt {
		case "":
			cmd = append(cmd, strings.ToLower(val))
		case "-h":
			return m.localHost(val)
		case "-p":
			var ok bool
			pr.port, ok = m.portOf(val)
			return ok
		case "-a", "--pass":
			// The password as the file has it: a variable stays a variable (sensitive when its
			// name says so); a literal is already in the file, in the command that checked it.
			t, ok := m.value(val)
			if !ok || len(t) == 0 {
				return false
			}
			pr.password = t
		case "--user":
			return false // ACL users: the probe authenticates with a password only
		}
		return true
	})
	if !ok || !(len(cmd) == 1 && cmd[0] == "ping" || len(cmd) == 2 && cmd[0] == "incr" && cmd[1] == "ping") {
		return nil
	}
	return pr
}

func (m *argMatcher) rabbitmq(tool string, args []string) *probe {
	cmd := ""
	for _, a := range args {
		switch {
		case a == "-q" || a == "--quiet" || a == "-s" || a == "--silent":
		case strings.HasPrefix(a, "-"):
			return nil // --node and the like: another node than this container's
		case cmd == "":
			cmd = a
		default:
			return nil
		}
	}
	switch {
	case tool == "rabbitmq-diagnostics" && (cmd == "ping" || cmd == "check_port_connectivity" || cmd == "check_running" || cmd == "status"),
		tool == "rabbitmqctl" && (cmd == "status" || cmd == "ping" || cmd == "node_health_check"):
		return &probe{kind: "amqp", port: 5672}
	}
	return nil
}

func (m *argMatcher) grpcHealthProbe(args []string) *probe {
	pr := &probe{kind: "grpc"}
	ok := flags(args, set("-addr", "--addr", "-service", "--service", "-connect-timeout", "--connect-timeout", "-rpc-timeout", "--rpc-timeout"),
		nil, func(opt, val string) bool {
			switch opt {
			case "-addr", "--addr":
				host, p, found := strings.Cut(val, ":")
				if i := strings.LastIndexByte(val, ':'); i >= 0 {
					host, p, found = val[:i], val[i+1:], true
				}
				if !found || !m.localHost(host) {
					return false
				}
				var ok bool
				pr.port, ok = m.portOf(p)
				return ok
			case "-service", "--service":
				t, ok := m.value(val)
				if !ok {
					return false
				}
				pr.service, pr.hasSvc = t, true
			case "":
				return false
			}
			return true
		})
	if !ok || pr.port == 0 {
		return nil
	}
	return pr
}

// httpURL reads a check's URL: http only, on the container itself.
func (m *argMatcher) httpURL(pr *probe, raw string) bool {
	lit, ok := m.literal(raw)
	if !ok {
		return false
	}
	if !strings.Contains(lit, "://") {
		lit = "http://" + lit
	}
	u, err := url.Parse(lit)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1", "0.0.0.0":
	default:
		return false
	}
	pr.port = 80
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return false
		}
		pr.port = n
	}
	pr.path = u.EscapedPath()
	if u.RawQuery != "" {
		pr.path += "?" + u.RawQuery
	}
	if pr.path == "" {
		pr.path = "/"
	}
	return true
}

// curl -f URL: a status below 400 passes curl; envctl's http probe wants 200 (the note says
// so). Without -f any answer passes curl, which is not what the probe checks: stays exec.
func (m *argMatcher) curl(args []string) *probe {
	pr := &probe{kind: "http"}
	fail, haveURL := false, false
	ok := flags(args, set("--noproxy", "-m", "--max-time", "--connect-timeout", "-o", "--output", "--retry", "-w", "--write-out"),
		set("-f", "--fail", "-s", "--silent", "-S", "--show-error", "-fs", "-sf", "-fsS", "-sSf", "-sS", "-Ss", "-fS", "-Sf", "-sfS", "-Ssf", "--fail-with-body", "-4", "-6", "-q"),
		func(opt, val string) bool {
			switch opt {
			case "":
				if haveURL {
					return false
				}
				haveURL = true
				return m.httpURL(pr, val)
			case "-o", "--output":
				return val == "/dev/null"
			case "-w", "--write-out":
				return false
			}
			if strings.HasPrefix(opt, "-") && !strings.HasPrefix(opt, "--") && strings.Contains(opt, "f") || opt == "--fail" || opt == "--fail-with-body" {
				fail = true
			}
			return true
		})
	if !ok || !haveURL || !fail {
		return nil
	}
	return pr
}

// wget --spider URL, or -O- / -O /dev/null URL: fails on an HTTP error status.
func (m *argMatcher) wget(args []string) *probe {
	pr := &probe{kind: "http"}
	haveURL, fetch := false, false
	ok := flags(args, set("-O", "--output-document", "-T", "--timeout", "-t", "--tries"),
		set("-q", "--quiet", "--spider", "--no-verbose", "-nv", "-O-", "-qO-", "--no-check-certificate"), func(opt, val string) bool {
			switch opt {
			case "":
				if haveURL {
					return false
				}
				haveURL = true
				return m.httpURL(pr, val)
			case "--spider", "-O-", "-qO-":
				fetch = true
			case "-O", "--output-document":
				fetch = true
				return val == "-" || val == "/dev/null"
			}
			return true
		})
	if !ok || !haveURL || !fetch {
		return nil
	}
	return pr
}

// nc -z localhost P is a TCP check; echo stats | nc localhost 11211 is memcached's.
func (m *argMatcher) nc(args []string, feed []string) *probe {
	var pos []string
	zero := false
	ok := flags(args, set("-w", "-q", "-i"), set("-z", "-v", "-zv", "-vz", "-N", "-n"), func(opt, val string) bool {
		switch opt {
		case "":
			pos = append(pos, val)
		case "-z", "-zv", "-vz":
			zero = true
		}
		return true
	})
	if !ok || len(pos) != 2 || !m.localHost(pos[0]) {
		return nil
	}
	p, ok := m.portOf(pos[1])
	if !ok {
		return nil
	}
	if feed != nil {
		if len(feed) == 1 && (feed[0] == "stats" || feed[0] == "version") && !zero {
			return &probe{kind: "memcached", port: p}
		}
		return nil
	}
	if !zero {
		return nil
	}
	return &probe{kind: "tcp", port: p}
}

// mongo/mongosh --eval "db.adminCommand('ping')" (or the script piped in by echo).
func (m *argMatcher) mongo(args []string, feed []string) *probe {
	pr := &probe{kind: "mongodb", port: 27017}
	script := strings.Join(feed, " ")
	ok := flags(args, set("--eval", "--host", "--port"), set("--quiet", "--norc", "--nodb"), func(opt, val string) bool {
		switch opt {
		case "--eval":
			script = val
		case "--host":
			return m.localHost(val)
		case "--port":
			var ok bool
			pr.port, ok = m.portOf(val)
			return ok
		case "--nodb":
			return false
		case "":
			// localhost:27017/test or mongodb://localhost:27017
			lit, ok := m.literal(val)
			if !ok {
				return false
			}
			lit = strings.TrimPrefix(lit, "mongodb://")
			hostPort, _, _ := strings.Cut(lit, "/")
			host, p, hasPort := strings.Cut(hostPort, ":")
			if !m.localHost(host) {
				return false
			}
			if hasPort {
				n, err := strconv.Atoi(p)
				if err != nil || n <= 0 || n > 65535 {
					return false
				}
				pr.port = n
			}
		}
		return true
	})
	compact := strings.Join(strings.Fields(script), "")
	if !ok || !strings.Contains(compact, "ping") || !strings.HasPrefix(compact, "db.") || strings.ContainsAny(compact, ";") {
		return nil
	}
	return pr
}

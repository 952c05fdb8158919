package provisioner

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The labels envctl puts on every container, network and task it creates. They are the only
// record of what envctl created: down, ls, status and gc read them back, also after envctl was
// killed mid-way. A resource without LabelEnv is not envctl's and is never touched.
const (
	// LabelEnv names the environment.
	LabelEnv = "io.envctl.env"
	// LabelService names the service within the environment.
	LabelService = "io.envctl.service"
	// LabelHash is the config hash (see Hash); a different hash means recreate.
	LabelHash = "io.envctl.hash"
	// LabelDeps lists the service's dependencies, comma-separated, so that down can remove
	// dependents first without the file.
	LabelDeps = "io.envctl.deps"
	// LabelExpires is when the environment may be removed by anyone (RFC 3339, UTC); absent
	// when the environment has no TTL.
	LabelExpires = "io.envctl.expires"
	// LabelVersion is the envctl version that created the resource.
	LabelVersion = "io.envctl.version"
	// LabelRun is "once" for jobs and "service" otherwise.
	LabelRun = "io.envctl.run"
	// LabelPorts lists the named ports, "http=8080,admin=9090", so status and env work without
	// the file.
	LabelPorts = "io.envctl.ports"
	// LabelReady is the readiness check as JSON, so status can probe without the file.
	LabelReady = "io.envctl.ready"
	// LabelSensitive lists the environment variables of the instance whose values derive from
	// sensitive variables — their names only, never a value — so that commands without the
	// file (logs, status) can read those values back from the instance and keep them out of
	// what they print.
	LabelSensitive = "io.envctl.sensitive"
	// LabelOwner is "host:pid" of the envctl process that created the resource; for people
	// reading `docker ps`, never for decisions.
	LabelOwner = "io.envctl.owner"
)

// Version is envctl's version, written into LabelVersion. The build sets it with -ldflags.
var Version = "dev"

// EnvLabels are the labels of the environment-level resources (network, framework).
func EnvLabels(env string, expires time.Time, owner string) map[string]string {
	l := map[string]string{
		LabelEnv:     env,
		LabelVersion: Version,
	}
	if !expires.IsZero() {
		l[LabelExpires] = expires.UTC().Format(time.RFC3339)
	}
	if owner != "" {
		l[LabelOwner] = owner
	}
	return l
}

// Expiry reads LabelExpires; ok is false when there is none (or it does not parse, which is
// treated as "never expires" so that a hand-edited label cannot make envctl delete things).
func Expiry(labels map[string]string) (t time.Time, ok bool) {
	v, found := labels[LabelExpires]
	if !found {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Expired tells whether the resource's environment expired before now.
func Expired(labels map[string]string, now time.Time) bool {
	t, ok := Expiry(labels)
	return ok && !now.Before(t)
}

// FormatPorts renders ports for LabelPorts, sorted by name.
func FormatPorts(ports []Port) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		parts = append(parts, p.Name+"="+strconv.Itoa(p.Port))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// ParsePorts reads LabelPorts back; malformed entries are skipped.
func ParsePorts(s string) []Port {
	var out []Port
	for _, part := range strings.Split(s, ",") {
		name, num, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			continue
		}
		out = append(out, Port{Name: name, Port: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ParseDeps reads LabelDeps back.
func ParseDeps(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// FormatReady renders a ReadySpec for LabelReady.
func FormatReady(r ReadySpec) string {
	b, _ := json.Marshal(r) // a struct of strings, ints and slices always marshals
	return string(b)
}

// ParseReady reads LabelReady back; the zero ReadySpec (probe the ports) when absent or bad.
func ParseReady(s string) ReadySpec {
	var r ReadySpec
	if s != "" {
		_ = json.Unmarshal([]byte(s), &r)
	}
	return r
}

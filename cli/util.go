package cli

import (
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"time"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// writeJSON prints one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// EndpointVar is the name of the environment variable in which `envctl run` and `envctl env`
// give the endpoint (host:port) of a service's port: API_HTTP for port "http" of "api".
func EndpointVar(service, port string) string { return envVarName(service, port) }

// envVarName is the environment variable name of one endpoint: API_HTTP for port "http" of
// service "api".
func envVarName(service, port string) string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return strings.ToUpper(r.Replace(service) + "_" + r.Replace(port))
}

// roundDuration prints durations the way people read them: 1.25s, 340ms, 2m10s.
func roundDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validName tells whether s can name an environment: DNS-safe, as design.md §2 fixes for
// service names, since it becomes part of container and network names.
func validName(s string) bool { return len(s) <= 63 && dnsName.MatchString(s) }

package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// composeTool is a Docker Compose command line: ["docker", "compose"] or a binary's path.
type composeTool struct {
	argv    []string
	version string
	major   int
}

func (c *composeTool) String() string { return strings.Join(c.argv, " ") + " " + c.version }

// command is the tool's argv followed by args.
func (c *composeTool) command(args ...string) []string {
	return append(append([]string{}, c.argv...), args...)
}

// composeVersion matches both "Docker Compose version v2.40.3" (v2) and "docker-compose version
// 1.29.2, build unknown" (v1).
var composeVersion = regexp.MustCompile(`(?i)version:?\s+v?((\d+)\.\d+\.\d+[^\s,]*)`)

// parseComposeVersion reads the version from `compose version` output.
func parseComposeVersion(out string) (version string, major int, ok bool) {
	m := composeVersion.FindStringSubmatch(out)
	if m == nil {
		return "", 0, false
	}
	major, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return "v" + m[1], major, true
}

// composeProbeTimeout bounds one `compose version`: a plugin that hangs must not hang the bench.
const composeProbeTimeout = 20 * time.Second

// findCompose looks for a Compose v2: $COMPOSE (a path) if set, else `docker compose` and
// `docker-compose` on PATH. It returns the v2 tool if there is one, any v1 found (good enough
// to validate the generated files, not to measure: v1 has no `up --wait`), and one line per
// candidate saying what was found.
func findCompose(ctx context.Context, env string) (v2, v1 *composeTool, notes []string) {
	candidates := [][]string{{"docker", "compose"}, {"docker-compose"}}
	if env != "" {
		candidates = [][]string{{env}}
	}
	for _, argv := range candidates {
		name := strings.Join(argv, " ")
		if _, err := exec.LookPath(argv[0]); err != nil {
			notes = append(notes, fmt.Sprintf("`%s`: not found", name))
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, composeProbeTimeout)
		out, err := exec.CommandContext(cctx, argv[0], append(argv[1:], "version")...).CombinedOutput()
		cancel()
		if err != nil {
			notes = append(notes, fmt.Sprintf("`%s version`: %v (%s)", name, err, firstLine(string(out))))
			continue
		}
		version, major, ok := parseComposeVersion(string(out))
		if !ok {
			notes = append(notes, fmt.Sprintf("`%s version`: unrecognised output %q", name, firstLine(string(out))))
			continue
		}
		tool := &composeTool{argv: argv, version: version, major: major}
		switch {
		case major >= 2 && v2 == nil:
			v2 = tool
			notes = append(notes, fmt.Sprintf("`%s`: Compose %s", name, version))
		case major < 2:
			if v1 == nil {
				v1 = tool
			}
			notes = append(notes, fmt.Sprintf("`%s`: Compose %s (v1: no `up --wait`, not measured)", name, version))
		}
	}
	return v2, v1, notes
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// testPrefixes are the environment-name prefixes the test suites use (cli scripts "ts-",
// provisioner/docker "dkt-", provisioner/mesos "mt-").
var testPrefixes = []string{"ts-", "dkt-", "mt-", "reach-"}

func main() {
	record := flag.String("record", "", "write what is there now to this file and exit (before the tests)")
	baseline := flag.String("baseline", "", "report only what is not in this file (written by -record before the tests)")
	flag.Parse()
	os.Exit(run(*record, *baseline))
}

// run lists the test environments' leftovers. With -record it only saves them; with -baseline
// leftovers that were there before the tests (a crashed earlier run, an engine fault that keeps
// a network) are shown as a warning, not counted against this run.
func run(record, baseline string) int {
	leaks, err := find()
	if err != nil {
		fmt.Fprintln(os.Stderr, "leakcheck:", err)
		return 2
	}
	if record != "" {
		if err := os.WriteFile(record, []byte(strings.Join(leaks, "\n")), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "leakcheck:", err)
			return 2
		}
		return 0
	}
	if baseline != "" {
		before := map[string]bool{}
		if data, err := os.ReadFile(baseline); err == nil {
			for _, l := range strings.Split(string(data), "\n") {
				before[l] = true
			}
		}
		var fresh []string
		for _, l := range leaks {
			if before[l] {
				fmt.Fprintf(os.Stderr, "leakcheck: warning: %s was already there before the tests\n", l)
				continue
			}
			fresh = append(fresh, l)
		}
		leaks = fresh
	}
	if len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "leakcheck: the tests left %d Docker objects behind:\n  %s\n", len(leaks), strings.Join(leaks, "\n  "))
		return 1
	}
	fmt.Println("leakcheck: no container, network or volume of a test environment is left, and no anonymous volume")
	return 0
}

// find lists every container, network and volume of a test environment (probe agents
// included) or of a Mesos double, and every anonymous volume no container uses.
func find() ([]string, error) {
	var leaks []string
	for _, kind := range []string{"container", "network"} {
		list, nameField := []string{"ps", "-a"}, "{{.Names}}"
		if kind == "network" {
			list, nameField = []string{"network", "ls"}, "{{.Name}}"
		}
		out, err := exec.Command("docker", append(list, "--format", nameField+`|{{.Label "io.envctl.env"}}|{{.Label "io.envctl.mesostest"}}|{{.Label "io.envctl.agent"}}`)...).Output()
		if err != nil {
			return nil, fmt.Errorf("docker %s: %v", strings.Join(list, " "), err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			parts := strings.Split(line, "|")
			if len(parts) != 4 {
				continue
			}
			name, env, double := parts[0], parts[1], parts[2]
			if env == "" && kind == "container" {
				env = parts[3] // a probe agent: labelled with the environment it serves
			}
			if double != "" {
				leaks = append(leaks, fmt.Sprintf("%s %s (Mesos double %s)", kind, name, double))
				continue
			}
			for _, p := range testPrefixes {
				if strings.HasPrefix(env, p) {
					leaks = append(leaks, fmt.Sprintf("%s %s (environment %s)", kind, name, env))
				}
			}
		}
	}
	vols, err := volumes()
	if err != nil {
		return nil, err
	}
	return append(leaks, vols...), nil
}

// volumes lists the volumes of test environments (named ones carry the environment's label)
// and every anonymous volume that no container uses any more: an image that declares VOLUME
// (Postgres's, MariaDB's data) gets one per container, which goes only with `rm -v`, so a
// container removed without it leaves one behind for good.
func volumes() ([]string, error) {
	out, err := exec.Command("docker", "volume", "ls", "--format", `{{.Name}}|{{.Label "io.envctl.env"}}`).Output()
	if err != nil {
		return nil, fmt.Errorf("docker volume ls: %v", err)
	}
	var leaks []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, env, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		for _, p := range testPrefixes {
			if strings.HasPrefix(env, p) {
				leaks = append(leaks, fmt.Sprintf("volume %s (environment %s)", name, env))
			}
		}
	}
	out, err = exec.Command("docker", "volume", "ls", "-q", "--filter", "dangling=true").Output()
	if err != nil {
		return nil, fmt.Errorf("docker volume ls: %v", err)
	}
	for _, name := range strings.Fields(string(out)) {
		if anonymous.MatchString(name) {
			leaks = append(leaks, fmt.Sprintf("volume %s (anonymous; no container uses it)", name))
		}
	}
	return leaks, nil
}

var anonymous = regexp.MustCompile(`^[0-9a-f]{64}$`)

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// testPrefixes are the environment-name prefixes the test suites use (cli scripts "ts-",
// provisioner/docker "dkt-", provisioner/mesos "mt-").
var testPrefixes = []string{"ts-", "dkt-", "mt-"}

func main() { os.Exit(run()) }

func run() int {
	var leaks []string
	for _, kind := range []string{"container", "network"} {
		list, nameField := []string{"ps", "-a"}, "{{.Names}}"
		if kind == "network" {
			list, nameField = []string{"network", "ls"}, "{{.Name}}"
		}
		out, err := exec.Command("docker", append(list, "--format", nameField+`|{{.Label "io.envctl.env"}}|{{.Label "io.envctl.mesostest"}}`)...).Output()
		if err != nil {
			fmt.Fprintf(os.Stderr, "leakcheck: docker %s: %v\n", strings.Join(list, " "), err)
			return 2
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			parts := strings.Split(line, "|")
			if len(parts) != 3 {
				continue
			}
			name, env, double := parts[0], parts[1], parts[2]
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
	if len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "leakcheck: the tests left %d Docker objects behind:\n  %s\n", len(leaks), strings.Join(leaks, "\n  "))
		return 1
	}
	fmt.Println("leakcheck: no container or network of a test environment is left")
	return 0
}

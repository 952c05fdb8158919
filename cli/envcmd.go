package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
)

func envCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "env",
		Usage:     "print the environment's host-side endpoints, e.g. API_HTTP=127.0.0.1:49153",
		ArgsUsage: "NAME",
		Flags: []urfave.Flag{
			&urfave.StringFlag{Name: "format", Value: "dotenv", Usage: "dotenv, json or shell"},
			outputFlag(), fileFlagOnly(),
		},
		Action: func(c *urfave.Context) error {
			format := c.String("format")
			if c.IsSet("output") && c.String("output") == "json" {
				format = "json"
			}
			switch format {
			case "dotenv", "json", "shell":
			default:
				return usageErr("--format %q: want dotenv, json or shell", format)
			}
			name, b, insts, err := openEnv(c)
			if err != nil {
				return err
			}
			defer b.Close()
			return renderEndpoints(c.App.Writer, name, insts, format)
		},
	}
}

// endpointVars are the variables env prints and run gives its command: per published port
// SERVICE_PORT=host:port, plus SERVICE_PORT_HOST and SERVICE_PORT_PORT for programs that want
// them apart, and ENVCTL_ENV with the environment's name.
func endpointVars(name string, insts []provisioner.Instance) map[string]string {
	vars := map[string]string{"ENVCTL_ENV": name}
	for _, inst := range insts {
		for port, addr := range inst.Published {
			key := envVarName(inst.Service, port)
			vars[key] = addr
			if i := strings.LastIndexByte(addr, ':'); i > 0 {
				vars[key+"_HOST"] = strings.Trim(addr[:i], "[]")
				vars[key+"_PORT"] = addr[i+1:]
			}
		}
	}
	return vars
}

func renderEndpoints(w io.Writer, name string, insts []provisioner.Instance, format string) error {
	vars := endpointVars(name, insts)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	switch format {
	case "json":
		return writeJSON(w, vars)
	case "shell":
		for _, k := range keys {
			fmt.Fprintf(w, "export %s=%s\n", k, shellQuote(vars[k]))
		}
	default:
		for _, k := range keys {
			fmt.Fprintf(w, "%s=%s\n", k, vars[k])
		}
	}
	return nil
}

// shellQuote quotes s for POSIX shells when it needs it.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_[]", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package cli

import (
	"fmt"

	urfave "github.com/urfave/cli/v2"
)

func validateCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "validate",
		Usage:     "check the environment file and report every problem in it",
		ArgsUsage: " ",
		Flags:     append(fileFlags(), outputFlag()),
		Action: func(c *urfave.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return usageErr("validate takes no arguments (use -f to name the file)")
			}
			env, err := loadEnv(c)
			if err != nil {
				return err
			}
			if format == "json" {
				names := make([]string, len(env.Services))
				for i, s := range env.Services {
					names[i] = s.Name
				}
				return writeJSON(c.App.Writer, map[string]any{"valid": true, "name": env.Name, "services": names})
			}
			fmt.Fprintf(c.App.Writer, "Environment %q is valid: %s.\n", env.Name, plural(len(env.Services), "service"))
			return nil
		},
	}
}

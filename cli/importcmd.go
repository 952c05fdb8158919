package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/compose"
)

// importCommand is `envctl import compose FILE [--out FILE]`. The --out flag lives on import itself
// as well as on compose, because Main's interspersed moves every flag written after
// "import" in front of the subcommand.
func importCommand() *urfave.Command {
	outFlag := func() urfave.Flag {
		// Not -o: everywhere else -o is text|json, and `-o json` must not quietly write a file named json.
		return &urfave.StringFlag{Name: "out", Usage: "write the environment file to `FILE` instead of stdout"}
	}
	return &urfave.Command{
		Name:  "import",
		Usage: "convert another tool's file into an environment file",
		Flags: []urfave.Flag{outFlag()},
		Action: func(c *urfave.Context) error {
			return usageErr("import needs a format: envctl import compose FILE")
		},
		Subcommands: []*urfave.Command{{
			Name:      "compose",
			Usage:     "print an equivalent environment file for a docker-compose file",
			ArgsUsage: "FILE",
			Flags:     []urfave.Flag{outFlag()},
			OnUsageError: func(c *urfave.Context, err error, _ bool) error {
				return usageErr("import compose: %v (see envctl import compose --help)", err)
			},
			Action: importCompose,
		}},
	}
}

// importCompose converts the file, writes the result, and prints every warning on stderr.
func importCompose(c *urfave.Context) error {
	if c.NArg() != 1 {
		return usageErr("import compose takes one compose file, like envctl import compose docker-compose.yml")
	}
	file := c.Args().First()
	out := lineageString(c, "out")
	src, err := os.ReadFile(file)
	if err != nil {
		return usageErr("import compose: %v", err)
	}
	// Build contexts are written relative to where the environment file goes: the directory
	// of OUT, or, on stdout, the current directory (where `> envctl.hcl` puts it).
	outDir := "."
	if out != "" {
		outDir = filepath.Dir(out)
	}
	res, err := compose.Convert(file, src, compose.Options{OutDir: outDir})
	if err != nil {
		var ce *compose.Error
		if errors.As(err, &ce) {
			return usageErr("%v", ce)
		}
		return err
	}
	for _, w := range res.Warnings() {
		fmt.Fprintln(c.App.ErrWriter, "warning: "+w.String())
	}
	if len(res.Required) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "note: variables without a default need a value at up: %s (--var NAME=VALUE or ENVCTL_VAR_NAME)\n", joinNames(res.Required))
	}
	if out == "" {
		_, err := c.App.Writer.Write(res.HCL)
		return err
	}
	if err := os.WriteFile(out, res.HCL, 0o644); err != nil {
		return fmt.Errorf("import compose: %w", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "Wrote %s.\n", out)
	return nil
}

// lineageString returns the flag's value from the nearest command that set it.
func lineageString(c *urfave.Context, name string) string {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.String(name)
		}
	}
	return ""
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

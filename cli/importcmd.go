package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/compose"
)

// importCommand is `envctl import compose FILE... [--out FILE]` (or -f FILE, repeatable). The
// flags live on import itself as well as on compose, because Main's interspersed moves every
// flag written after "import" in front of the subcommand.
func importCommand() *urfave.Command {
	flags := func() []urfave.Flag {
		return []urfave.Flag{
			// Not -o: everywhere else -o is text|json, and `-o json` must not quietly write a file named json.
			&urfave.StringFlag{Name: "out", Usage: "write the environment file to `FILE` instead of stdout"},
			&urfave.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "a compose `FILE`; repeat it to merge files in order as docker compose -f does"},
		}
	}
	return &urfave.Command{
		Name:  "import",
		Usage: "convert another tool's file into an environment file",
		Flags: flags(),
		Action: func(c *urfave.Context) error {
			return usageErr("import needs a format: envctl import compose FILE")
		},
		Subcommands: []*urfave.Command{{
			Name:      "compose",
			Usage:     "print an equivalent environment file for docker-compose files (merged in order; the .env beside the first is read)",
			ArgsUsage: "FILE...",
			Flags:     flags(),
			OnUsageError: func(c *urfave.Context, err error, _ bool) error {
				return usageErr("import compose: %v (see envctl import compose --help)", err)
			},
			Action: importCompose,
		}},
	}
}

// importCompose converts the files (merged in order, as docker compose -f a -f b merges them),
// writes the result, and prints every warning on stderr. The .env beside the first file is
// read for interpolation, as Compose reads it.
func importCompose(c *urfave.Context) error {
	var names []string
	for _, ctx := range c.Lineage() {
		names = append(ctx.StringSlice("file"), names...)
	}
	names = append(names, c.Args().Slice()...)
	if len(names) == 0 {
		return usageErr("import compose takes a compose file, like envctl import compose docker-compose.yml (or -f base.yml -f overlay.yml)")
	}
	out := lineageString(c, "out")
	var files []compose.File
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			return usageErr("import compose: %v", err)
		}
		files = append(files, compose.File{Name: name, Src: src})
	}
	// Relative paths are written relative to where the environment file goes: the directory
	// of OUT, or, on stdout, the current directory (where `> envctl.hcl` puts it).
	outDir := "."
	if out != "" {
		outDir = filepath.Dir(out)
	}
	res, err := compose.ConvertFiles(files, compose.Options{OutDir: outDir, ReadFile: os.ReadFile})
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
	if len(res.FromDotenv) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "note: .env has values for %s; they are sensitive, so they were not copied into the environment file: pass them at up\n", joinNames(res.FromDotenv))
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

// Command gendocs writes envctl's man page and shell completion scripts into a directory
// (`make docs`): DIR/envctl.1 and DIR/completion/envctl.{bash,zsh,fish}.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/envctl/envctl/cli"
)

func main() {
	dir := "docs"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := run(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "completion"), 0o755); err != nil {
		return err
	}
	var files []*os.File
	open := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			fmt.Fprintln(os.Stderr, "gendocs:", err)
			os.Exit(1)
		}
		files = append(files, f)
		return f
	}
	err := cli.WriteDocs(open("envctl.1"), open("completion/envctl.bash"), open("completion/envctl.zsh"), open("completion/envctl.fish"))
	for _, f := range files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

package cli

import (
	"fmt"
	"io"

	urfave "github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask envctl itself for the words that fit, through urfave/cli's
// --generate-bash-completion protocol, so they follow the commands and flags of the binary
// installed; fish gets a static script generated from the same command table.
const bashCompletion = `# envctl completion for bash: source this file, or put it in /etc/bash_completion.d/envctl
_envctl_complete() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ "$cur" == -* ]]; then
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  return 0
}
complete -o bashdefault -o default -F _envctl_complete envctl
`

const zshCompletion = `#compdef envctl
# envctl completion for zsh: put this file on your $fpath as _envctl
_envctl() {
  local -a opts
  local cur="${words[-1]}"
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _envctl envctl
`

func completionCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Action: func(c *urfave.Context) error {
			if c.NArg() != 1 {
				return usageErr("completion takes one shell: bash, zsh or fish")
			}
			return writeCompletion(c.App, c.App.Writer, c.Args().First())
		},
	}
}

func writeCompletion(app *urfave.App, w io.Writer, shell string) error {
	switch shell {
	case "bash":
		_, err := io.WriteString(w, bashCompletion)
		return err
	case "zsh":
		_, err := io.WriteString(w, zshCompletion)
		return err
	case "fish":
		s, err := app.ToFishCompletion()
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, s)
		return err
	}
	return usageErr("completion: %q is not a shell envctl completes; choose bash, zsh or fish", shell)
}

// WriteDocs writes the man page and the completion scripts, for `make docs`.
func WriteDocs(man, bash, zsh, fish io.Writer) error {
	app := New(nil, io.Discard, io.Discard)
	page, err := app.ToManWithSection(1)
	if err != nil {
		return fmt.Errorf("man page: %w", err)
	}
	if _, err := io.WriteString(man, page+manFileSection); err != nil {
		return err
	}
	for shell, w := range map[string]io.Writer{"bash": bash, "zsh": zsh, "fish": fish} {
		if err := writeCompletion(app, w, shell); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestReadmeHCLParses: every ```hcl block of the project's Markdown is valid HCL syntax, so a
// user who copies an example into a file never meets a parse error (README once showed two
// arguments in a one-line block, which HCL refuses). Blocks are fragments, so only the syntax
// is checked here; the examples/ directories are loaded whole by their own tests.
func TestReadmeHCLParses(t *testing.T) {
	docs, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("*/*.md")
	evenMore, _ := filepath.Glob("*/*/*.md")
	docs = append(append(docs, more...), evenMore...)
	blocks := 0
	for _, doc := range docs {
		raw, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		for i := 0; i < len(lines); i++ {
			if strings.TrimSpace(lines[i]) != "```hcl" {
				continue
			}
			start := i + 1
			var body []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				body = append(body, lines[i])
			}
			blocks++
			_, diags := hclsyntax.ParseConfig([]byte(strings.Join(body, "\n")), doc, hcl.Pos{Line: start + 1, Column: 1})
			for _, d := range diags {
				t.Errorf("%s:%d: the hcl block that begins here does not parse: %s", doc, start, d.Error())
			}
		}
	}
	if blocks == 0 {
		t.Fatal("no ```hcl block found in the project's Markdown: the test reads nothing")
	}
}

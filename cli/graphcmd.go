package cli

import (
	"fmt"
	"io"
	"strings"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/envs"
)

func graphCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "graph",
		Usage:     "print the dependency graph (text, dot, mermaid or json)",
		ArgsUsage: " ",
		Flags: append(fileFlags(),
			&urfave.StringFlag{Name: "format", Value: "text", Usage: "text, dot, mermaid or json"},
			outputFlag(),
		),
		Action: func(c *urfave.Context) error {
			format := c.String("format")
			if c.IsSet("output") && c.String("output") == "json" {
				format = "json"
			}
			switch format {
			case "text", "dot", "mermaid", "json":
			default:
				return usageErr("--format %q: want text, dot, mermaid or json", format)
			}
			env, err := loadEnv(c)
			if err != nil {
				return err
			}
			return renderGraph(c.App.Writer, env, format)
		},
	}
}

// renderGraph prints the graph. Edges point from a service to what it depends on, in
// declaration order, so the output is stable.
func renderGraph(w io.Writer, env *envs.Environment, format string) error {
	g := env.Graph()
	switch format {
	case "json":
		type edge struct {
			From string `json:"from"`
			To   string `json:"to"`
		}
		waves, err := g.Levels()
		if err != nil {
			return err
		}
		nodes := g.Nodes()
		edges := []edge{}
		for _, n := range nodes {
			for _, d := range g.Deps(n) {
				edges = append(edges, edge{n, d})
			}
		}
		return writeJSON(w, map[string]any{"name": env.Name, "nodes": nodes, "edges": edges, "waves": waves})
	case "dot":
		var b strings.Builder
		fmt.Fprintf(&b, "digraph %q {\n  rankdir=LR;\n", env.Name)
		for _, n := range g.Nodes() {
			shape := "box"
			if s := env.Service(n); s != nil && s.Run == envs.RunOnce {
				shape = "ellipse"
			}
			fmt.Fprintf(&b, "  %q [shape=%s];\n", n, shape)
		}
		for _, n := range g.Nodes() {
			for _, d := range g.Deps(n) {
				fmt.Fprintf(&b, "  %q -> %q;\n", n, d)
			}
		}
		b.WriteString("}\n")
		_, err := io.WriteString(w, b.String())
		return err
	case "mermaid":
		var b strings.Builder
		b.WriteString("graph LR\n")
		for _, n := range g.Nodes() {
			open, close := "[", "]"
			if s := env.Service(n); s != nil && s.Run == envs.RunOnce {
				open, close = "([", "])"
			}
			fmt.Fprintf(&b, "  %s%s%s%s\n", mermaidID(n), open, n, close)
		}
		for _, n := range g.Nodes() {
			for _, d := range g.Deps(n) {
				fmt.Fprintf(&b, "  %s --> %s\n", mermaidID(n), mermaidID(d))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	_, err := io.WriteString(w, g.String())
	return err
}

// mermaidID makes a node ID mermaid accepts: service names may contain '-', and "end" is a
// keyword.
func mermaidID(n string) string { return "s_" + strings.ReplaceAll(n, "-", "_") }

package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules holds the package layout to design.md §1: graph knows nothing of envctl;
// envs does not know the provisioner; only provisioner/docker talks to the Docker SDK (and
// make bench's bare client measuring the engine's limit) and only
// provisioner/mesos to mesos-go; the provisioner core imports neither.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/envctl/envctl"
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		imports[p.ImportPath] = p.Imports
	}
	if len(imports) < 5 {
		t.Fatalf("go list found %d packages; the test is not looking at the module", len(imports))
	}
	isStd := func(imp string) bool { return !strings.Contains(strings.Split(imp, "/")[0], ".") }
	for pkg, imps := range imports {
		for _, imp := range imps {
			switch {
			case pkg == mod+"/graph" && !isStd(imp) && !strings.HasPrefix(imp, "golang.org/x/sync"):
				t.Errorf("graph imports %s: it may import only the standard library and x/sync", imp)
			case pkg == mod+"/envs" && strings.HasPrefix(imp, mod+"/provisioner"):
				t.Errorf("envs imports %s: envs must not know the provisioner", imp)
			// bench/cmd/envbench measures the engine's own limit with a bare API client, nothing
			// of envctl's (issue 12): the SDK is that client.
			case strings.HasPrefix(imp, "github.com/docker/docker") && pkg != mod+"/provisioner/docker" && pkg != mod+"/bench/cmd/envbench":
				t.Errorf("%s imports the Docker SDK (%s): only provisioner/docker (and the bench's engine limit) may", pkg, imp)
			// bench/cmd/mesosfloor is Mesos's own limit (issue 16): a bare scheduler with none
			// of envctl's code on its path, so mesos-go's types are all it may use.
			case strings.HasPrefix(imp, "github.com/mesos/mesos-go") && pkg != mod+"/provisioner/mesos" && !strings.HasPrefix(pkg, mod+"/provisioner/mesos/mesostest") && pkg != mod+"/bench/cmd/mesosfloor":
				t.Errorf("%s imports mesos-go (%s): only provisioner/mesos (and its double, and make bench's bare scheduler) may", pkg, imp)
			case pkg == mod+"/bench/cmd/mesosfloor" && strings.HasPrefix(imp, mod+"/"):
				t.Errorf("bench/cmd/mesosfloor imports %s: the floor must have none of envctl's code on its path", imp)
			case pkg == mod+"/provisioner" && (strings.HasPrefix(imp, "github.com/hashicorp/hcl") || strings.HasPrefix(imp, "github.com/zclconf/go-cty")):
				t.Errorf("provisioner imports %s: no HCL or cty type crosses into it", imp)
			}
		}
	}
}

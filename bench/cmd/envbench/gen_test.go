package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"go.yaml.in/yaml/v3"
)

func TestGenerateShape(t *testing.T) {
	tests := []struct {
		n, layers  int
		wantLayers []int // services per layer
	}{
		{10, 5, []int{2, 2, 2, 2, 2}},
		{30, 5, []int{6, 6, 6, 6, 6}},
		{60, 5, []int{12, 12, 12, 12, 12}},
		{7, 5, []int{2, 2, 1, 1, 1}},
		{1, 1, []int{1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-in-%d", tt.n, tt.layers), func(t *testing.T) {
			l, err := Generate("ts-bench-x", tt.n, tt.layers, 7)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(l.Services); got != tt.n {
				t.Fatalf("got %d services, want %d", got, tt.n)
			}
			perLayer := make([]int, tt.layers)
			layerOf := map[string]int{}
			for _, s := range l.Services {
				perLayer[s.Layer-1]++
				layerOf[s.Name] = s.Layer
			}
			if diff := cmp.Diff(tt.wantLayers, perLayer); diff != "" {
				t.Errorf("services per layer (-want +got):\n%s", diff)
			}
			for _, s := range l.Services {
				if s.Layer == 1 {
					if len(s.Deps) != 0 {
						t.Errorf("%s in layer 1 got deps %v, want none", s.Name, s.Deps)
					}
					continue
				}
				if len(s.Deps) < 1 || len(s.Deps) > 2 {
					t.Errorf("%s got %d deps, want 1 or 2", s.Name, len(s.Deps))
				}
				seen := map[string]bool{}
				for _, d := range s.Deps {
					if layerOf[d] != s.Layer-1 {
						t.Errorf("%s (layer %d) depends on %s in layer %d, want layer %d", s.Name, s.Layer, d, layerOf[d], s.Layer-1)
					}
					if seen[d] {
						t.Errorf("%s depends on %s twice", s.Name, d)
					}
					seen[d] = true
				}
			}
			if got := l.Depth(); got != tt.layers {
				t.Errorf("got depth %d, want %d", got, tt.layers)
			}
		})
	}
}

func TestGenerateSeeded(t *testing.T) {
	a, _ := Generate("a", 30, 5, 7)
	b, _ := Generate("a", 30, 5, 7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("the same seed gave different graphs (-first +second):\n%s", diff)
	}
	c, _ := Generate("a", 30, 5, 8)
	if cmp.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same graph, want different ones")
	}
	two := 0
	for _, s := range a.Services {
		if len(s.Deps) == 2 {
			two++
		}
	}
	if two == 0 || two == 24 {
		t.Errorf("got %d of 24 services with two deps, want a mix of one and two", two)
	}
}

func TestGenerateRefusesTooFewServices(t *testing.T) {
	for _, tt := range []struct{ n, layers int }{{4, 5}, {3, 0}} {
		if _, err := Generate("x", tt.n, tt.layers, 1); err == nil {
			t.Errorf("Generate(%d services, %d layers) got no error, want one", tt.n, tt.layers)
		}
	}
}

// TestHCL parses the generated file with HCL itself and reads back every service, its image,
// command, port and depends_on references.
func TestHCL(t *testing.T) {
	l, err := Generate("ts-bench-30", 30, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	src := l.HCL("envctl-test/testsvc:abc", 300*time.Millisecond)
	f, diags := hclsyntax.ParseConfig(src, "envctl.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("the generated file does not parse: %v\n%s", diags, src)
	}
	body := f.Body.(*hclsyntax.Body)
	var envName string
	got := map[string][]string{}
	for _, blk := range body.Blocks {
		switch blk.Type {
		case "environment":
			v, d := blk.Body.Attributes["name"].Expr.Value(nil)
			if d.HasErrors() {
				t.Fatal(d)
			}
			envName = v.AsString()
		case "service":
			name := blk.Labels[0]
			attrs := blk.Body.Attributes
			img, _ := attrs["image"].Expr.Value(nil)
			if img.AsString() != "envctl-test/testsvc:abc" {
				t.Errorf("%s: got image %q, want envctl-test/testsvc:abc", name, img.AsString())
			}
			cmdv, _ := attrs["command"].Expr.Value(nil)
			var argv []string
			for _, v := range cmdv.AsValueSlice() {
				argv = append(argv, v.AsString())
			}
			if diff := cmp.Diff([]string{"--delay", "300ms", "--http", "80"}, argv); diff != "" {
				t.Errorf("%s: command (-want +got):\n%s", name, diff)
			}
			if _, ok := attrs["ports"]; !ok {
				t.Errorf("%s: no ports, want http = 80", name)
			}
			got[name] = nil
			if a, ok := attrs["depends_on"]; ok {
				for _, trav := range a.Expr.Variables() {
					if trav.RootName() != "service" || len(trav) != 2 {
						t.Errorf("%s: depends_on has %v, want service.NAME", name, trav)
						continue
					}
					got[name] = append(got[name], trav[1].(hcl.TraverseAttr).Name)
				}
			}
		}
	}
	if envName != "ts-bench-30" {
		t.Errorf("got environment name %q, want ts-bench-30", envName)
	}
	want := map[string][]string{}
	for _, s := range l.Services {
		want[s.Name] = s.Deps
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("services and their depends_on (-want +got):\n%s", diff)
	}
}

// TestCompose parses the generated compose file as YAML and checks what makes it the
// equivalent of the environment: the same services and edges, service_healthy, a 100 ms
// health check in exec form and a port published on 127.0.0.1.
func TestCompose(t *testing.T) {
	l, err := Generate("ts-bench-10", 10, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	src := l.Compose("envctl-test/testsvc:abc", 300*time.Millisecond)
	var doc struct {
		Services map[string]struct {
			Image       string
			Command     []string
			Ports       []string
			Labels      map[string]string
			Healthcheck struct {
				Test     []string
				Interval string
			}
			DependsOn map[string]struct{ Condition string } `yaml:"depends_on"`
		}
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("the compose file is not YAML: %v\n%s", err, src)
	}
	if got, want := len(doc.Services), len(l.Services); got != want {
		t.Fatalf("got %d services, want %d", got, want)
	}
	for _, s := range l.Services {
		c, ok := doc.Services[s.Name]
		if !ok {
			t.Errorf("service %s missing", s.Name)
			continue
		}
		if c.Image != "envctl-test/testsvc:abc" {
			t.Errorf("%s: got image %q", s.Name, c.Image)
		}
		if diff := cmp.Diff([]string{"--delay", "300ms", "--http", "80"}, c.Command); diff != "" {
			t.Errorf("%s: command (-want +got):\n%s", s.Name, diff)
		}
		if diff := cmp.Diff([]string{"127.0.0.1::80"}, c.Ports); diff != "" {
			t.Errorf("%s: ports (-want +got):\n%s", s.Name, diff)
		}
		if c.Labels[benchLabel] != benchLabelValue {
			t.Errorf("%s: got labels %v, want %s=%s", s.Name, c.Labels, benchLabel, benchLabelValue)
		}
		if diff := cmp.Diff([]string{"CMD", "/testsvc", "probe", "tcp", "127.0.0.1:80"}, c.Healthcheck.Test); diff != "" {
			t.Errorf("%s: health check (-want +got):\n%s", s.Name, diff)
		}
		if c.Healthcheck.Interval != "100ms" {
			t.Errorf("%s: got interval %q, want 100ms", s.Name, c.Healthcheck.Interval)
		}
		var deps []string
		for d, cond := range c.DependsOn {
			deps = append(deps, d)
			if cond.Condition != "service_healthy" {
				t.Errorf("%s: depends on %s with %q, want service_healthy", s.Name, d, cond.Condition)
			}
		}
		if diff := cmp.Diff(s.Deps, deps, sortStrings); diff != "" {
			t.Errorf("%s: depends_on (-want +got):\n%s", s.Name, diff)
		}
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) string {
	c := append([]string(nil), in...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return strings.Join(c, ",")
})

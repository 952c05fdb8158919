package envs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

// shopSrc is design.md's example, unchanged.
const shopSrc = `environment {
  name = "shop"          # default: the directory's name; --name overrides
  ttl  = "4h"
}

variable "tag" {
  type        = string
  default     = "dev"
  description = "image tag of the shop services"
}

variable "db_password" {
  type      = string
  default   = "test"
  sensitive = true
}

locals {
  db_user = "shop"
}

service "db" {
  image = "postgres:16"
  env = {
    POSTGRES_USER     = local.db_user
    POSTGRES_PASSWORD = var.db_password
  }
  ports = { pg = 5432 }
  ready {
    exec    = ["pg_isready", "-U", local.db_user]
    timeout = "60s"
  }
  resources {
    cpus   = 0.5
    memory = "256MiB"
  }
}

service "migrate" {
  image   = "shop/migrate:${var.tag}"
  run     = "once"
  command = ["migrate", "--db", "postgres://${local.db_user}@${service.db.host}:${service.db.ports.pg}/shop"]
}

service "api" {
  build {
    context = "./api"
  }
  depends_on = [service.migrate]
  env = {
    DATABASE_URL = "postgres://${local.db_user}:${var.db_password}@${service.db.host}:${service.db.ports.pg}/shop"
  }
  ports = { http = 8080 }
  ready {
    http {
      port   = "http"
      path   = "/healthz"
      status = 200
    }
  }
  labels = { team = "checkout" }
}
`

// ignoreRanges drops source ranges and unexported state from comparisons; ranges are checked
// on their own where they matter.
var ignoreRanges = cmp.Options{
	cmpopts.IgnoreTypes(hcl.Range{}),
	cmpopts.IgnoreUnexported(Environment{}, Service{}),
}

func TestLoadShop(t *testing.T) {
	dir := writeFiles(t, map[string]string{"envctl.hcl": shopSrc, "api/": ""})
	env, files, diags := Load(Options{Dir: dir})
	if len(diags) > 0 {
		t.Fatalf("Load: %s", diagsString(diags))
	}
	if _, ok := files["envctl.hcl"]; !ok {
		t.Errorf("files: got keys %v, want envctl.hcl (the name as given)", keys(files))
	}
	want := &Environment{
		Name: "shop",
		TTL:  4 * time.Hour,
		Dir:  dir,
		Variables: []*Variable{
			{Name: "tag", Type: "string", Description: "image tag of the shop services", Value: `"dev"`},
			{Name: "db_password", Type: "string", Sensitive: true, Value: `"test"`},
		},
		Sensitive: []string{"test"},
		Services: []*Service{
			{
				Name: "db", Image: "postgres:16", PublishIP: "127.0.0.1",
				Env:       map[string]string{"POSTGRES_USER": "shop", "POSTGRES_PASSWORD": "test"},
				Ports:     []Port{{"pg", 5432}},
				Ready:     Ready{Kind: ProbeExec, Exec: []string{"pg_isready", "-U", "shop"}, Timeout: 60 * time.Second},
				Resources: Resources{CPUs: 0.5, Memory: 256 << 20},
			},
			{
				Name: "migrate", Image: "shop/migrate:dev", Run: RunOnce, PublishIP: "127.0.0.1",
				Deps:  []Dep{{Name: "db"}},
				Ready: Ready{Timeout: DefaultReadyTimeout},
			},
			{
				Name: "api", PublishIP: "127.0.0.1",
				Build:  &Build{Context: filepath.Join(dir, "api"), Dockerfile: "Dockerfile"},
				Deps:   []Dep{{Name: "migrate"}, {Name: "db"}},
				Ports:  []Port{{"http", 8080}},
				Ready:  Ready{Kind: ProbeHTTP, Port: "http", Path: "/healthz", Status: 200, Timeout: DefaultReadyTimeout},
				Labels: map[string]string{"team": "checkout"},
			},
		},
	}
	if diff := cmp.Diff(want, env, ignoreRanges); diff != "" {
		t.Errorf("Environment mismatch (-want +got):\n%s", diff)
	}

	// Ranges: a dependency points at its reference, a service at its header.
	api := env.Service("api")
	if got, want := rangeText(api.Deps[0].Range), "envctl.hcl:49,17-32"; got != want {
		t.Errorf("api dep migrate range: got %s, want %s", got, want)
	}
	if got, want := rangeText(api.Deps[1].Range), "envctl.hcl:51,70-85"; got != want {
		t.Errorf("api dep db range: got %s, want %s", got, want)
	}
	if got, want := rangeText(api.DeclRange), "envctl.hcl:45,1-14"; got != want {
		t.Errorf("api DeclRange: got %s, want %s", got, want)
	}
	if env.Service("nope") != nil {
		t.Errorf("Service(nope): got a service, want nil")
	}

	order, err := env.Graph().Sort()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"db", "migrate", "api"}, order); diff != "" {
		t.Errorf("graph order (-want +got):\n%s", diff)
	}
}

func rangeText(r hcl.Range) string { return r.String() }

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAllDiagnosticsAtOnce: four different mistakes in two files give four diagnostics in
// one run, each at its own line.
func TestAllDiagnosticsAtOnce(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.hcl": `service "db" {
  image = "x"
  ports = { pg = 5432 }
  run   = "sometimes"
}
`,
		"b.hcl": `service "api" {
  image = "x"
  env = {
    DB = "${service.db.host}:${service.db.ports.pgx}"
  }
  resources {
    memory = "1 lightyear"
  }
}

service "web" {
  ports = { http = 80 }
}
`,
	})
	_, _, diags := Load(Options{Dir: dir, Paths: []string{"."}})
	checkDiags(t, diags, []wantDiag{
		{"Invalid run mode", `"sometimes" is neither`, 4},
		{"Unknown port", `Did you mean "pg"?`, 4},
		{"Invalid size", `"1 lightyear" has an unknown unit "lightyear"`, 7},
		{"Missing image", `Service "web"`, 11},
	})
	for _, d := range diags {
		if d.Subject == nil {
			t.Errorf("%s: no subject", d.Summary)
		}
	}
	if got, want := diags[0].Subject.Filename, "a.hcl"; got != want {
		t.Errorf("first diagnostic's file: got %q, want %q", got, want)
	}
	if got, want := diags[3].Subject.Filename, "b.hcl"; got != want {
		t.Errorf("last diagnostic's file: got %q, want %q", got, want)
	}
}

// TestCycle pins the exact text of a cycle: one diagnostic per cycle, each edge with the line
// of the reference that makes it, file names as given.
func TestCycle(t *testing.T) {
	src := `service "api" {
  image = "x"
  ports = { http = 80 }
  depends_on = [service.migrate]
}

service "db" {
  image = "x"
  ports = { pg = 5432 }
  env = {
    API = service.api.host
  }
}

service "migrate" {
  image = "x"
  run = "once"
  command = ["m", service.db.host]
}

service "a" {
  image = "x"
  depends_on = [service.b]
}

service "b" {
  image = "x"
  depends_on = [service.a]
}
`
	dir := writeFiles(t, map[string]string{"envs/shop/envctl.hcl": src})
	env, _, diags := Load(Options{Dir: dir, Paths: []string{"envs/shop"}})
	checkDiags(t, diags, []wantDiag{
		{"Dependency cycle", "api -> migrate (envs/shop/envctl.hcl:4) -> db (envs/shop/envctl.hcl:18) -> api (envs/shop/envctl.hcl:11)", 4},
		{"Dependency cycle", "a -> b (envs/shop/envctl.hcl:23) -> a (envs/shop/envctl.hcl:28)", 23},
	})
	if len(diags) > 0 && diags[0].Detail != "api -> migrate (envs/shop/envctl.hcl:4) -> db (envs/shop/envctl.hcl:18) -> api (envs/shop/envctl.hcl:11)" {
		t.Errorf("cycle detail: got %q, want the path alone", diags[0].Detail)
	}
	if env == nil || len(env.Services) != 5 {
		t.Errorf("partial environment: got %v, want all 5 services", env)
	}
}

func TestFiles(t *testing.T) {
	svc := func(name string) string { return "service \"" + name + "\" {\n  image = \"x\"\n}\n" }
	tests := []struct {
		name      string
		files     map[string]string
		paths     []string
		wantSvcs  []string
		wantFiles []string
		want      []wantDiag
	}{
		{
			name:      "default file",
			files:     map[string]string{"envctl.hcl": svc("a")},
			wantSvcs:  []string{"a"},
			wantFiles: []string{"envctl.hcl"},
		},
		{
			name:  "no default file",
			files: map[string]string{"other.hcl": svc("a")},
			want:  []wantDiag{{"No environment file", "There is no envctl.hcl in ", 0}},
		},
		{
			name:      "directory in lexical order",
			files:     map[string]string{"env/b.hcl": svc("b"), "env/a.hcl": svc("a"), "env/c.txt": "junk", "env/z.hcl/": ""},
			paths:     []string{"env"},
			wantSvcs:  []string{"a", "b"},
			wantFiles: []string{"env/a.hcl", "env/b.hcl"},
		},
		{
			name:      "files in the order given",
			files:     map[string]string{"x.hcl": svc("x"), "y.hcl": svc("y")},
			paths:     []string{"y.hcl", "x.hcl", "y.hcl"},
			wantSvcs:  []string{"y", "x"},
			wantFiles: []string{"x.hcl", "y.hcl"},
		},
		{
			name:  "missing file",
			files: map[string]string{"x.hcl": svc("x")},
			paths: []string{"nope.hcl"},
			want:  []wantDiag{{"No environment file", `There is no file or directory at "nope.hcl"`, 0}},
		},
		{
			name:  "directory without hcl files",
			files: map[string]string{"empty/readme.md": "hi"},
			paths: []string{"empty"},
			want:  []wantDiag{{"No environment file", `The directory "empty"`, 0}},
		},
		{
			name:      "syntax errors of every file, then stop",
			files:     map[string]string{"a.hcl": "service {{\n", "b.hcl": "service \"b\" {\n  image = \"x\"\n  run = \"nope\"\n}\n", "c.hcl": "x = = 1\n"},
			paths:     []string{"."},
			wantFiles: []string{"a.hcl", "b.hcl", "c.hcl"},
			want: []wantDiag{
				{"Argument or block definition required", "", 1},
				{"Invalid expression", "", 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			env, files, diags := Load(Options{Dir: dir, Paths: tt.paths})
			checkDiags(t, diags, tt.want)
			var names []string
			for _, s := range env.Services {
				names = append(names, s.Name)
			}
			if diff := cmp.Diff(tt.wantSvcs, names); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFiles, keys(files), cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("file map keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvironmentName(t *testing.T) {
	svc := "service \"a\" {\n  image = \"x\"\n}\n"
	tests := []struct {
		name string
		dir  string // subdirectory holding envctl.hcl
		src  string
		flag string
		vars []string
		want string
		sfx  string // NameSuffix
	}{
		{"from the directory", "My Project_2", svc, "", nil, "my-project-2", ""},
		{"from the file", "d", "environment {\n  name = \"shop\"\n}\n" + svc, "", nil, "shop", ""},
		{"from a variable", "d", "variable \"n\" {\n  default = \"x\"\n}\nenvironment {\n  name = \"shop-${var.n}\"\n}\n" + svc, "", []string{"n=ci1"}, "shop-ci1", ""},
		{"--name wins", "d", "environment {\n  name = \"shop\"\n}\n" + svc, "pr-42", nil, "pr-42", ""},
		{"locals see the name", "d", "environment {\n  name = \"shop\"\n}\nlocals {\n  img = \"x-${environment.name}\"\n}\nservice \"a\" {\n  image = local.img\n}\n", "", nil, "shop", ""},
		{"a run's own name", "d", "environment {\n  name = \"shop\"\n}\n" + svc, "", nil, "shop-0a1b2c", "0a1b2c"},
		{"a run's own name from the directory", "My Project_2", svc, "", nil, "my-project-2-0a1b2c", "0a1b2c"},
		{"--name is taken as it is", "d", "environment {\n  name = \"shop\"\n}\n" + svc, "pr-42", nil, "pr-42", "0a1b2c"},
		{"a longer name keeps its length", "d", "environment {\n  name = \"" + strings.Repeat("ab-", 20) + "a\"\n}\n" + svc, "", nil, strings.Repeat("ab-", 17) + "ab-0a1b2c", "0a1b2c"},
		{"a name of 18", "d", "environment {\n  name = \"shop-integration-1\"\n}\n" + svc, "", nil, "shop-integrat-0a1b2c", "0a1b2c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := writeFiles(t, map[string]string{filepath.Join(tt.dir, "envctl.hcl"): tt.src})
			env, _, diags := Load(Options{Dir: filepath.Join(base, tt.dir), Name: tt.flag, Vars: tt.vars, NameSuffix: tt.sfx})
			if diags.HasErrors() {
				t.Fatalf("Load: %s", diagsString(diags))
			}
			if env.Name != tt.want {
				t.Errorf("Name: got %q, want %q", env.Name, tt.want)
			}
			if tt.name == "locals see the name" && env.Services[0].Image != "x-shop" {
				t.Errorf("image: got %q, want %q", env.Services[0].Image, "x-shop")
			}
		})
	}
}

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"shop", "shop"},
		{"My Project", "my-project"},
		{"__x__", "x"},
		{"!!!", "envctl"},
		{strings.Repeat("ab", 40), strings.Repeat("ab", 31) + "a"},
		{"a--b", "a-b"},
	}
	for _, tt := range tests {
		if got := sanitizeName(tt.in); got != tt.want {
			t.Errorf("sanitizeName(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if got := sanitizeName(tt.in); !validDNSLabel(got) {
			t.Errorf("sanitizeName(%q) = %q: not DNS-safe", tt.in, got)
		}
	}
}

func TestWriteFilesHelperKeepsDirs(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a/": ""})
	if st, err := os.Stat(filepath.Join(dir, "a")); err != nil || !st.IsDir() {
		t.Fatalf("writeFiles: directory a not created: %v", err)
	}
}

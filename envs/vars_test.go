package envs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVariablePrecedence(t *testing.T) {
	src := `variable "tag" {
  type    = string
  default = "default"
}
variable "n" {
  type    = number
  default = 1
}
variable "list" {
  type    = list(string)
  default = []
}
variable "any" {
  default = "d"
}
service "a" {
  image = "x:${var.tag}"
  command = concat([tostring(var.n)], var.list, [var.any])
}
`
	tests := []struct {
		name     string
		environ  []string
		varFiles map[string]string
		vars     []string
		wantImg  string
		wantCmd  []string
		wantVals map[string]string // variable => rendered Value
	}{
		{
			name:    "defaults",
			wantImg: "x:default", wantCmd: []string{"1", "d"},
			wantVals: map[string]string{"tag": `"default"`, "n": "1", "list": "[]", "any": `"d"`},
		},
		{
			name:    "environment beats default",
			environ: []string{"ENVCTL_VAR_tag=env", "ENVCTL_VAR_n=2", "PATH=/bin", "ENVCTL_VAR_list=[\"e\"]"},
			wantImg: "x:env", wantCmd: []string{"2", "e", "d"},
		},
		{
			name:     "var file beats environment",
			environ:  []string{"ENVCTL_VAR_tag=env"},
			varFiles: map[string]string{"a.vars.hcl": "tag = \"file\"\nn = 3\n"},
			wantImg:  "x:file", wantCmd: []string{"3", "d"},
		},
		{
			name:     "later var file wins",
			varFiles: map[string]string{"a.vars.hcl": "tag = \"a\"\n", "b.vars.hcl": "tag = \"b\"\n"},
			wantImg:  "x:b", wantCmd: []string{"1", "d"},
		},
		{
			name:     "--var beats var file, later --var wins",
			environ:  []string{"ENVCTL_VAR_tag=env"},
			varFiles: map[string]string{"a.vars.hcl": "tag = \"file\"\n"},
			vars:     []string{"tag=flag1", "tag=flag2", "n=4", `list=["p", "q"]`},
			wantImg:  "x:flag2", wantCmd: []string{"4", "p", "q", "d"},
			wantVals: map[string]string{"tag": `"flag2"`, "n": "4", "list": `["p", "q"]`},
		},
		{
			name:    "strings and untyped variables are literal",
			vars:    []string{`tag=[1, 2]`, "any=a=b", "n=1+1"},
			wantImg: "x:[1, 2]", wantCmd: []string{"2", "a=b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"envctl.hcl": src}
			var varFiles []string
			for name, content := range tt.varFiles {
				files[name] = content
			}
			for _, name := range []string{"a.vars.hcl", "b.vars.hcl"} {
				if _, ok := tt.varFiles[name]; ok {
					varFiles = append(varFiles, name)
				}
			}
			dir := writeFiles(t, files)
			env, _, diags := Load(Options{Dir: dir, Vars: tt.vars, VarFiles: varFiles, Environ: tt.environ})
			if diags.HasErrors() {
				t.Fatalf("Load: %s", diagsString(diags))
			}
			s := env.Service("a")
			if s.Image != tt.wantImg {
				t.Errorf("image: got %q, want %q", s.Image, tt.wantImg)
			}
			if diff := cmp.Diff(tt.wantCmd, s.Command); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			for _, v := range env.Variables {
				if want, ok := tt.wantVals[v.Name]; ok && v.Value != want {
					t.Errorf("var.%s Value: got %s, want %s", v.Name, v.Value, want)
				}
			}
		})
	}
}

func TestVarFileDiagnostics(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"envctl.hcl": "variable \"n\" {\n  type = number\n  default = 1\n}\n",
		"bad.hcl":    "m = 1\nn = \"many\"\n",
	})
	_, files, diags := Load(Options{Dir: dir, VarFiles: []string{"bad.hcl", "missing.hcl"}})
	checkDiags(t, diags, []wantDiag{
		{"No variable file", `There is no file at "missing.hcl"`, 0},
	})
	_, files, diags = Load(Options{Dir: dir, VarFiles: []string{"bad.hcl"}})
	checkDiags(t, diags, []wantDiag{
		{"Undeclared variable", `The variable file sets "m", but no variable of that name is declared.`, 1},
		{"Invalid value for variable", `The value for variable "n" does not match its type number`, 2},
	})
	if files["bad.hcl"] == nil {
		t.Errorf("files: the var file is missing; got %v", keys(files))
	}
}

func TestVariableDeclarations(t *testing.T) {
	env := mustLoad(t, `variable "plain" {
  default = "p"
}
variable "obj" {
  type        = map(number)
  default     = { a = 1 }
  description = "a map"
}
service "a" {
  image = "x"
}
`, Options{})
	want := []*Variable{
		{Name: "plain", Type: "any", Value: `"p"`},
		{Name: "obj", Type: "map(number)", Description: "a map", Value: "{\n  a = 1\n}"},
	}
	if diff := cmp.Diff(want, env.Variables, ignoreRanges); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	if got := env.Variables[1].DeclRange.Start.Line; got != 4 {
		t.Errorf("DeclRange line: got %d, want 4", got)
	}
}

func TestSensitive(t *testing.T) {
	src := `variable "pw" {
  type      = string
  sensitive = true
}
variable "keys" {
  type      = list(string)
  default   = ["k1", "", "key-two"]
  sensitive = true
}
variable "public" {
  default = "hello"
}
locals {
  url = "postgres://u:${var.pw}@db"
}
service "db" {
  image = "x"
  ports = { pg = 5432 }
}
service "api" {
  image   = "x"
  command = ["serve", "--key", var.keys[0]]
  env = {
    URL     = local.url
    DSN     = "${var.pw}@${service.db.host}:${service.db.ports.pg}"
    HOST    = service.db.host
    PUBLIC  = var.public
    UPPER   = upper(var.pw)
  }
}
service "plain" {
  image      = "x"
  entrypoint = ["sh"]
  env        = { A = var.public }
}
`
	env := mustLoad(t, src, Options{Environ: []string{"ENVCTL_VAR_pw=s3cret"}})
	if diff := cmp.Diff([]string{"key-two", "s3cret", "k1"}, env.Sensitive); diff != "" {
		t.Errorf("Sensitive (-want +got):\n%s", diff)
	}
	api := env.Service("api")
	if api.Env != nil {
		t.Errorf("api: Env has service references, so it must be nil at load; got %#v", api.Env)
	}
	if diff := cmp.Diff([]string{"serve", "--key", "k1"}, api.Command); diff != "" {
		t.Errorf("api: Command has no service references, so it is evaluated at load (-want +got):\n%s", diff)
	}
	rt, diags := api.Resolve(map[string]Endpoint{"db": {Host: "db.internal", Ports: map[string]int{"pg": 6543}}})
	if diags.HasErrors() {
		t.Fatalf("Resolve: %s", diagsString(diags))
	}
	want := &Runtime{
		Command: []string{"serve", "--key", "k1"},
		Env: map[string]string{
			"URL": "postgres://u:s3cret@db", "DSN": "s3cret@db.internal:6543", "HOST": "db.internal",
			"PUBLIC": "hello", "UPPER": "S3CRET",
		},
		SensitiveEnv:  []string{"DSN", "UPPER", "URL"},
		SensitiveArgs: true,
	}
	if diff := cmp.Diff(want, rt); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
	tpl := api.Template()
	wantTpl := &Runtime{
		Command: []string{"serve", "--key", "k1"},
		Env: map[string]string{
			"URL": "postgres://u:s3cret@db", "DSN": "s3cret@${service.db.host}:${service.db.ports.pg}",
			"HOST": "${service.db.host}", "PUBLIC": "hello", "UPPER": "S3CRET",
		},
		SensitiveEnv:  []string{"DSN", "UPPER", "URL"},
		SensitiveArgs: true,
	}
	if diff := cmp.Diff(wantTpl, tpl); diff != "" {
		t.Errorf("Template (-want +got):\n%s", diff)
	}

	plain := env.Service("plain")
	if diff := cmp.Diff(map[string]string{"A": "hello"}, plain.Env); diff != "" {
		t.Errorf("plain Env at load (-want +got):\n%s", diff)
	}
	prt, _ := plain.Resolve(nil)
	if diff := cmp.Diff(&Runtime{Entrypoint: []string{"sh"}, Env: map[string]string{"A": "hello"}}, prt); diff != "" {
		t.Errorf("plain Resolve (-want +got):\n%s", diff)
	}
	for _, v := range env.Variables {
		if v.Name == "pw" && (!v.Sensitive || v.Value != `"s3cret"`) {
			t.Errorf("var.pw: got Sensitive=%v Value=%s, want true and the value (callers redact)", v.Sensitive, v.Value)
		}
	}
}

// TestSensitiveNotInDiagnostics: a function that quotes its argument in an error must not
// reveal a sensitive value.
func TestSensitiveNotInDiagnostics(t *testing.T) {
	_, _, diags := loadSrc(t, `variable "pw" {
  default   = "s3cret"
  sensitive = true
}
service "a" {
  image = "x"
  env   = { A = tonumber(var.pw) }
}
`, Options{})
	checkDiags(t, diags, []wantDiag{{"Invalid function argument", `cannot convert (sensitive) to number`, 7}})
}

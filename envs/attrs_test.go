package envs

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestAttributes covers every service attribute and block once, with conversions.
func TestAttributes(t *testing.T) {
	src := `environment {
  ttl = "1d12h"
}
service "web" {
  image      = "nginx"
  entrypoint = ["/bin/web", "--flag"]
  command    = ["--port", 8080, true]
  env        = { N = 1, B = false, S = "s" }
  ports      = { http = 8080, admin = 9000 }
  publish_ip = "0.0.0.0"
  labels     = { team = "web", tier = 2 }
  ready {
    http {
      port = "admin"
    }
    interval = "250ms"
    timeout  = "2m"
    attempt_timeout = "5s"
  }
  resources {
    cpus   = 2
    memory = 1000000
  }
}
service "worker" {
  build {
    context    = "src/worker"
    dockerfile = "Dockerfile.dev"
    args       = { GO = "1.26", N = 3 }
  }
  image = "worker:local"
  ready {
    log = "^listening on .*$"
  }
  resources {
    memory = "512MB"
  }
}
service "cache" {
  image = "redis"
  ports = { redis = 6379 }
  ready {
    tcp = "redis"
  }
}
service "job" {
  image = "job"
  run   = "service"
}
`
	dir := writeFiles(t, map[string]string{"envctl.hcl": src, "src/worker/": ""})
	env, _, diags := Load(Options{Dir: dir})
	if diags.HasErrors() {
		t.Fatalf("Load: %s", diagsString(diags))
	}
	if env.TTL != 36*time.Hour {
		t.Errorf("TTL: got %v, want 36h", env.TTL)
	}
	want := []*Service{
		{
			Name: "web", Image: "nginx", PublishIP: "0.0.0.0",
			Entrypoint: []string{"/bin/web", "--flag"},
			Command:    []string{"--port", "8080", "true"},
			Env:        map[string]string{"N": "1", "B": "false", "S": "s"},
			Ports:      []Port{{"admin", 9000}, {"http", 8080}},
			Labels:     map[string]string{"team": "web", "tier": "2"},
			Ready:      Ready{Kind: ProbeHTTP, Port: "admin", Path: "/", Status: 200, Interval: 250 * time.Millisecond, Timeout: 2 * time.Minute, AttemptTimeout: 5 * time.Second},
			Resources:  Resources{CPUs: 2, Memory: 1000000},
		},
		{
			Name: "worker", Image: "worker:local", PublishIP: "127.0.0.1",
			Build:     &Build{Context: filepath.Join(dir, "src", "worker"), Dockerfile: "Dockerfile.dev", Args: map[string]string{"GO": "1.26", "N": "3"}},
			Ready:     Ready{Kind: ProbeLog, Log: "^listening on .*$", Timeout: DefaultReadyTimeout},
			Resources: Resources{Memory: 512e6},
		},
		{
			Name: "cache", Image: "redis", PublishIP: "127.0.0.1",
			Ports: []Port{{"redis", 6379}},
			Ready: Ready{Kind: ProbeTCP, Port: "redis", Timeout: DefaultReadyTimeout},
		},
		{
			Name: "job", Image: "job", PublishIP: "127.0.0.1", Run: RunService,
			Ready: Ready{Timeout: DefaultReadyTimeout},
		},
	}
	if diff := cmp.Diff(want, env.Services, ignoreRanges); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	if got := env.Service("web").Ready.DeclRange.Start.Line; got != 12 {
		t.Errorf("ready DeclRange line: got %d, want 12", got)
	}
	if got := env.Service("job").Ready.DeclRange.Start.Line; got != 46 {
		t.Errorf("default ready DeclRange line (the service header): got %d, want 46", got)
	}
}

func TestFunctions(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"env/envctl.hcl": `locals {
  cfg = jsondecode(file("../conf/app.json"))
}
service "a" {
  image = format("%s:%d", lower("APP"), local.cfg.version)
  env = merge({
    B64    = base64encode("hi")
    DEC    = base64decode("aGk=")
    JSON   = jsonencode({ a = 1 })
    RE     = regex_replace("a-b-c", "-", "_")
    RE2    = regexreplace("x1", "[0-9]", "#")
    JOIN   = join(",", split(" ", "a b"))
    LOOK   = lookup({ k = "v" }, "k", "d")
    COAL   = coalesce(null, "c")
    LEN    = length(keys({ x = 1, y = 2 }))
    MINMAX = min(3, max(1, 2))
    TRIM   = trimspace("  t  ")
    SUB    = substr("hello", 1, 3)
    NUM    = tonumber("5") + abs(-1)
    REPL   = replace("aaa", "a", "b")
    UP     = upper(environment.name)
    HAS    = contains(values({ a = "x" }), "x")
    TRY    = try(local.cfg.missing, "fallback")
  }, { EXTRA = tostring(1) })
}
`,
		"conf/app.json": `{"version": 3}`,
	})
	env, _, diags := Load(Options{Dir: dir, Paths: []string{"env"}, Name: "fn"})
	if diags.HasErrors() {
		t.Fatalf("Load: %s", diagsString(diags))
	}
	s := env.Service("a")
	if s.Image != "app:3" {
		t.Errorf("image: got %q, want app:3", s.Image)
	}
	want := map[string]string{
		"B64": "aGk=", "DEC": "hi", "JSON": `{"a":1}`, "RE": "a_b_c", "RE2": "x#", "JOIN": "a,b",
		"LOOK": "v", "COAL": "c", "LEN": "2", "MINMAX": "2", "TRIM": "t", "SUB": "ell", "NUM": "6",
		"REPL": "bbb", "UP": "FN", "HAS": "true", "TRY": "fallback", "EXTRA": "1",
	}
	if diff := cmp.Diff(want, s.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestResolve(t *testing.T) {
	src := `service "db" {
  image = "x"
  ports = { pg = 5432, admin = 8081 }
}
service "api" {
  image   = "x"
  command = ["api", "--db", "${service.db.host}:${service.db.ports["pg"]}"]
  entrypoint = [service.db.ports.admin + 1 > 0 ? "a" : "b"]
  env = {
    NEXT = service.db.ports.admin + 1
    HOST = service.db.host
  }
}
`
	env := mustLoad(t, src, Options{})
	api := env.Service("api")
	if diff := cmp.Diff([]Dep{{Name: "db"}}, api.Deps, ignoreRanges); diff != "" {
		t.Errorf("deps (-want +got):\n%s", diff)
	}

	_, diags := api.Resolve(map[string]Endpoint{})
	checkDiags(t, diags, []wantDiag{{"Missing endpoint", `Service "api" needs the address of "db"`, 7}})

	rt, diags := api.Resolve(map[string]Endpoint{"db": {Host: "10.0.0.5", Ports: map[string]int{"pg": 31000, "admin": 31001}}})
	if diags.HasErrors() {
		t.Fatalf("Resolve: %s", diagsString(diags))
	}
	want := &Runtime{
		Command:    []string{"api", "--db", "10.0.0.5:31000"},
		Entrypoint: []string{"a"},
		Env:        map[string]string{"NEXT": "31002", "HOST": "10.0.0.5"},
	}
	if diff := cmp.Diff(want, rt); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}

	// Arithmetic on a port cannot be done on its text: Template falls back to the source text
	// of what does not evaluate, entry by entry.
	wantTpl := &Runtime{
		Command:    []string{"api", "--db", "${service.db.host}:${service.db.ports.pg}"},
		Entrypoint: []string{`${service.db.ports.admin + 1 > 0 ? "a" : "b"}`},
		Env:        map[string]string{"NEXT": "${service.db.ports.admin + 1}", "HOST": "${service.db.host}"},
	}
	if diff := cmp.Diff(wantTpl, api.Template()); diff != "" {
		t.Errorf("Template (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(api.Template(), api.Template()); diff != "" {
		t.Errorf("Template is not deterministic:\n%s", diff)
	}
}

// TestDepsOrder: deps are unique, in first-seen source order across depends_on and
// references.
func TestDepsOrder(t *testing.T) {
	src := `service "a" {
  image = "x"
}
service "b" {
  image = "x"
}
service "c" {
  image = "x"
}
service "d" {
  image = "x"
  env = {
    X = service.c.host
    Y = service.a.host
  }
  depends_on = [service.b, service.c]
  command = [service.b.host]
}
`
	env := mustLoad(t, src, Options{})
	var got []string
	var lines []int
	for _, d := range env.Service("d").Deps {
		got = append(got, d.Name)
		lines = append(lines, d.Range.Start.Line)
	}
	if diff := cmp.Diff([]string{"c", "a", "b"}, got); diff != "" {
		t.Errorf("deps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{13, 14, 16}, lines); diff != "" {
		t.Errorf("dep lines (-want +got):\n%s", diff)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"60s", time.Minute, false},
		{"1m30s", 90 * time.Second, false},
		{"4h", 4 * time.Hour, false},
		{"2d", 48 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"250ms", 250 * time.Millisecond, false},
		{"60", 0, true},
		{"0s", 0, true},
		{"-1s", 0, true},
		{"4 hours", 0, true},
		{"d", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseDuration(%q): got %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"256MiB", 256 << 20, false},
		{"1GiB", 1 << 30, false},
		{"512MB", 512e6, false},
		{"100k", 100e3, false},
		{"100KB", 100e3, false},
		{"1.5GiB", 3 << 29, false},
		{"1024", 1024, false},
		{"64 mb", 64e6, false},
		{"12 parsecs", 0, true},
		{"0", 0, true},
		{"0.5B", 0, true},
		{"-1MB", 0, true},
		{"MiB", 0, true},
		{"99999999999TiB", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSize(%q): got %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		name  string
		cands []string
		want  string
	}{
		{"apj", []string{"db", "api"}, "api"},
		{"postgres", []string{"db", "api"}, ""},
		{"", []string{"abcd"}, ""},
		{"wrker", []string{"worker", "web"}, "worker"},
	}
	for _, tt := range tests {
		if got := suggest(tt.name, tt.cands); got != tt.want {
			t.Errorf("suggest(%q, %v): got %q, want %q", tt.name, tt.cands, got, tt.want)
		}
	}
}

func TestLiteralOnly(t *testing.T) {
	tests := []struct {
		src  string
		want bool
	}{
		{`"x"`, true},
		{`8080`, true},
		{`"a-${"b"}"`, false}, // a template with an interpolation: walked, to be safe
		{`["a", 1, true]`, true},
		{`{ http = 8080, "x" = "y" }`, true},
		{`{ http = var.p }`, false},
		{`{ (var.k) = 1 }`, false},
		{`["a", local.b]`, false},
		{`"${var.a}"`, false},
		{`upper("a")`, false},
		{"<<EOT\nplain\nEOT\n", true},
	}
	for _, tt := range tests {
		expr, diags := hclsyntax.ParseExpression([]byte(tt.src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", tt.src, diags.Error())
		}
		if got := literalOnly(expr); got != tt.want {
			t.Errorf("literalOnly(%s): got %v, want %v", tt.src, got, tt.want)
		}
		if got := literalOnly(expr); got && len(expr.Variables()) > 0 {
			t.Errorf("literalOnly(%s) is true but the expression has references", tt.src)
		}
	}
}

// TestConcurrentResolve: Resolve and Template only read the Environment, so the provisioner's
// parallel walk may call them at once (run with -race).
func TestConcurrentResolve(t *testing.T) {
	dir := writeFiles(t, map[string]string{"envctl.hcl": shopSrc, "api/": ""})
	env, _, diags := Load(Options{Dir: dir})
	if diags.HasErrors() {
		t.Fatal(diagsString(diags))
	}
	eps := map[string]Endpoint{
		"db":      {Host: "db", Ports: map[string]int{"pg": 5432}},
		"migrate": {Host: "migrate"},
	}
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			rt, _ := env.Service("api").Resolve(eps)
			tpl := env.Service("api").Template()
			done <- rt.Env["DATABASE_URL"] + " " + tpl.Env["DATABASE_URL"]
		}()
	}
	want := "postgres://shop:test@db:5432/shop postgres://shop:test@${service.db.host}:${service.db.ports.pg}/shop"
	for i := 0; i < 8; i++ {
		if got := <-done; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

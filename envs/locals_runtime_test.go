package envs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// localsStack is the header of most cases below: a database, and a URL built from its address
// through a chain local -> local -> service.
const localsStack = `variable "pw" {
  default   = "s3cret"
  sensitive = true
}
locals {
  db_host      = service.db.host
  db_addr      = "${local.db_host}:${service.db.ports.pg}"
  database_url = "postgres://app:${var.pw}@${local.db_addr}/app"
  plain        = "static"
}
service "db" {
  image = "x"
  ports = { pg = 5432 }
}
`

// TestLocalsWithServiceRefs: a local built from service addresses is a deferred value that
// command, entrypoint and env use as they use service references, with the same edge.
func TestLocalsWithServiceRefs(t *testing.T) {
	src := localsStack + `service "api" {
  image      = "x"
  command    = ["api", "--db", local.database_url, local.plain]
  entrypoint = ["/bin/${local.plain}", local.db_host]
  env = {
    DATABASE_URL = local.database_url
    HOST         = local.db_host
  }
}
service "worker" {
  image = "x"
  env   = { DATABASE_URL = local.database_url }
}
service "static" {
  image = "x:${local.plain}"
  env   = { P = local.plain }
}
`
	env := mustLoad(t, src, Options{})
	api := env.Service("api")
	if len(api.Deps) != 1 || api.Deps[0].Name != "db" || api.Deps[0].Via != "local.database_url" {
		t.Fatalf("api deps = %+v, want db through local.database_url", api.Deps)
	}
	// The edge points where api uses the local (line 17: its command), as a direct
	// reference's would.
	if r := api.Deps[0].Range; r.Start.Line != 17 || !strings.Contains(string(r.SliceBytes([]byte(src))), "local.database_url") {
		t.Errorf("api's edge is at line %d %q, want line 17 at local.database_url", r.Start.Line, r.SliceBytes([]byte(src)))
	}
	if got := env.Service("worker").Deps; len(got) != 1 || got[0].Name != "db" {
		t.Errorf("worker deps = %+v, want db", got)
	}
	if got := env.Service("static").Deps; len(got) != 0 {
		t.Errorf("static deps = %+v, want none", got)
	}
	if got, _ := env.Graph().Sort(); len(got) != 4 || got[0] != "db" {
		t.Errorf("order = %v, want db first", got)
	}

	rt, diags := api.Resolve(map[string]Endpoint{"db": {Host: "10.0.0.5", Ports: map[string]int{"pg": 31000}}})
	if diags.HasErrors() {
		t.Fatalf("Resolve: %s", diagsString(diags))
	}
	url := "postgres://app:s3cret@10.0.0.5:31000/app"
	want := &Runtime{
		Command:       []string{"api", "--db", url, "static"},
		Entrypoint:    []string{"/bin/static", "10.0.0.5"},
		Env:           map[string]string{"DATABASE_URL": url, "HOST": "10.0.0.5"},
		SensitiveArgs: true, // the password is in the URL
		SensitiveEnv:  []string{"DATABASE_URL"},
	}
	if diff := cmp.Diff(want, rt); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}

	// Template renders the addresses as their reference text, through the locals.
	tpl := env.Service("worker").Template()
	if got, w := tpl.Env["DATABASE_URL"], "postgres://app:s3cret@${service.db.host}:${service.db.ports.pg}/app"; got != w {
		t.Errorf("Template DATABASE_URL = %q, want %q", got, w)
	}
	if _, diags := env.Service("worker").Resolve(map[string]Endpoint{}); !diags.HasErrors() {
		t.Error("Resolve without db's endpoint: no error")
	}
	if s := env.Service("static"); s.Image != "x:static" || s.Env["P"] != "static" {
		t.Errorf("static service: image %q env %v", s.Image, s.Env)
	}
}

// TestLocalsWithServiceRefsCycle: a cycle through locals is reported like a direct one, with
// the place of each edge and the local it goes through.
func TestLocalsWithServiceRefsCycle(t *testing.T) {
	src := `locals {
  app_url = "http://${service.app.host}"
  db_url  = "postgres://${service.db.host}"
}
service "db" {
  image = "x"
  env   = { APP = local.app_url }
}
service "app" {
  image   = "x"
  command = [local.db_url]
}
`
	_, _, diags := loadSrc(t, src, Options{})
	checkDiags(t, diags, []wantDiag{{"Dependency cycle",
		"db -> app (envctl.hcl:7, through local.app_url) -> db (envctl.hcl:11, through local.db_url)", 7}})
}

// TestLocalsWithServiceRefsDiagnostics: each mistake is reported once, where it is written: a
// wrong service reference in the local (not at each use), a local with addresses used where
// addresses are not known (at the use, naming the local and where its address comes from).
func TestLocalsWithServiceRefsDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{
			name: "unused local with addresses is fine",
			src:  localsStack,
		},
		{
			name: "in image, used twice in the expression: one error",
			src:  localsStack + "service \"a\" {\n  image = \"x:${local.database_url}${local.database_url}\"\n}\n",
			want: []wantDiag{{"Local value known only at start",
				"local.database_url uses service addresses (service.db.host at envctl.hcl:6), which are known only when the services start: it may be used in command, entrypoint and env, not here.", 16}},
		},
		{
			name: "in labels",
			src:  localsStack + "service \"a\" {\n  image = \"x\"\n  labels = { db = local.db_host }\n}\n",
			want: []wantDiag{{"Local value known only at start", "local.db_host uses service addresses (service.db.host at envctl.hcl:6)", 17}},
		},
		{
			name: "in ports",
			src:  localsStack + "service \"a\" {\n  image = \"x\"\n  ports = { http = local.db_addr }\n}\n",
			want: []wantDiag{{"Local value known only at start", "local.db_addr uses service addresses", 17}},
		},
		{
			name: "in a ready exec",
			src:  localsStack + "service \"a\" {\n  image = \"x\"\n  ready {\n    exec = [\"ping\", local.db_host]\n  }\n}\n",
			want: []wantDiag{{"Local value known only at start", "local.db_host uses service addresses", 18}},
		},
		{
			name: "in a mount",
			src:  localsStack + "service \"a\" {\n  image = \"x\"\n  mount {\n    type = \"volume\"\n    source = local.db_host\n    target = \"/d\"\n  }\n}\n",
			want: []wantDiag{{"Local value known only at start", "local.db_host uses service addresses", 19}},
		},
		{
			name: "in a non-deferred position of another local is fine: it becomes deferred",
			src:  localsStack + "locals {\n  more = upper(local.database_url)\n}\nservice \"a\" {\n  image = \"x\"\n  env = { U = local.more }\n}\n",
		},
		{
			name: "undeclared service in a local used by two services: one error, at the local",
			src:  "locals {\n  u = \"${service.dbb.host}:${service.dbb.host}\"\n}\nservice \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x\"\n  env = { U = local.u }\n}\nservice \"b\" {\n  image = \"x\"\n  command = [local.u]\n}\n",
			want: []wantDiag{
				{"Reference to undeclared service", `No service named "dbb" is declared. Did you mean "db"?`, 2},
				{"Reference to undeclared service", `No service named "dbb" is declared. Did you mean "db"?`, 2},
			},
		},
		{
			name: "unknown port in a local, through a chain: one error, at the local",
			src:  "locals {\n  p = service.db.ports.pgg\n  u = \"x:${local.p}\"\n}\nservice \"db\" {\n  image = \"x\"\n  ports = { pg = 1 }\n}\nservice \"a\" {\n  image = \"x\"\n  env = { U = local.u }\n  command = [local.u]\n}\n",
			want: []wantDiag{{"Unknown port", `Service "db" has no port named "pgg"`, 2}},
		},
		{
			name: "a type error in a local with addresses: once, at the local",
			src:  "locals {\n  n = service.db.host.x\n}\nservice \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x\"\n  env = { N = local.n }\n}\nservice \"b\" {\n  image = \"x\"\n  env = { N = local.n }\n}\n",
			want: []wantDiag{{"Unsupported attribute", "primitive-typed value (string)", 2}},
		},
		{
			name: "a service address twice in an image: one error",
			src:  "service \"db\" {\n  image = \"x\"\n  ports = { pg = 1 }\n}\nservice \"a\" {\n  image = \"x:${service.db.host}:${service.db.ports.pg}\"\n}\n",
			want: []wantDiag{{"Invalid reference to a service", "Service addresses are known only at start", 6}},
		},
		{
			name: "a cycle among locals with addresses: once",
			src:  "locals {\n  a = \"${local.b}${service.db.host}\"\n  b = local.a\n}\nservice \"db\" {\n  image = \"x\"\n  env = { A = local.a }\n}\n",
			want: []wantDiag{{"Cycle in local values", "local.a -> local.b -> local.a", 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := loadSrc(t, tt.src, Options{})
			checkDiags(t, diags, tt.want)
		})
	}
}

package envs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestContainerAttributes loads every attribute of attrs.md once.
func TestContainerAttributes(t *testing.T) {
	src := `variable "pw" {
  type      = string
  sensitive = true
  default   = "s3cr3t-pw"
}
service "db" {
  image       = "postgres:16"
  user        = "1000:1000"
  working_dir = "/app"
  hostname    = "db1"
  aliases     = ["database", "pg", "db"]
  env_file    = ["./db.env", "./common.env"]
  env         = { A = "from-env" }
  init        = true
  shm_size    = "256MiB"
  cap_add     = ["net_admin", "CAP_SYS_TIME"]
  cap_drop    = ["ALL"]
  extra_hosts = { "host.example" = "10.0.0.1" }
  ulimits     = { nofile = "65536:65536", nproc = "4096", core = "unlimited" }
  stop_signal       = "INT"
  stop_grace_period = "20s"
  mount {
    type   = "bind"
    source = "./init/schema.sql"
    target = "/docker-entrypoint-initdb.d/schema.sql"
  }
  mount {
    type      = "bind"
    source    = "init"
    target    = "/init"
    read_only = false
  }
  mount {
    type   = "volume"
    source = "db-data"
    target = "/var/lib/postgresql/data"
  }
  mount {
    type   = "tmpfs"
    target = "/tmp/cache"
    size   = "64MiB"
  }
  secret "db_password" {
    value = var.pw
  }
  secret "cert" {
    file   = "./secrets/cert.pem"
    target = "/etc/cert.pem"
    mode   = "0400"
  }
}
service "debug" {
  profiles = ["debug"]
  build {
    context    = "./dbg"
    target     = "debug"
    cache_from = ["dbg:cache"]
  }
  depends_on = [service.db]
}
`
	dir := writeFiles(t, map[string]string{
		"envctl.hcl":       src,
		"db.env":           "A=from-file\nB=b1\nC='c # x'\nDB_PASSWORD=pw-from-env-file\n",
		"common.env":       "# common\nB=b2\nD=d\n",
		"init/schema.sql":  "create table t();\n",
		"secrets/cert.pem": "CERT-BYTES\n",
		"dbg/":             "",
	})
	env, _, diags := Load(Options{Dir: dir})
	if diags.HasErrors() {
		t.Fatalf("Load: %s", diagsString(diags))
	}
	if got := len(env.Services); got != 1 || env.Services[0].Name != "db" || !cmp.Equal(env.LeftOut, []string{"debug"}) {
		t.Fatalf("without a profile: services %d, left out %v; want db only, debug left out", got, env.LeftOut)
	}
	db := env.Service("db")
	want := &Service{
		User: "1000:1000", WorkingDir: "/app", Hostname: "db1", Aliases: []string{"database", "pg"},
		Init: true, ShmSize: 256 << 20,
		CapAdd: []string{"NET_ADMIN", "SYS_TIME"}, CapDrop: []string{"ALL"},
		ExtraHosts: map[string]string{"host.example": "10.0.0.1"},
		Ulimits:    []Ulimit{{"core", -1, -1}, {"nofile", 65536, 65536}, {"nproc", 4096, 4096}},
		StopSignal: "SIGINT", StopGrace: 20 * time.Second,
		EnvFiles: []string{filepath.Join(dir, "db.env"), filepath.Join(dir, "common.env")},
		Mounts: []Mount{
			{Type: MountBind, Source: filepath.Join(dir, "init/schema.sql"), Target: "/docker-entrypoint-initdb.d/schema.sql", ReadOnly: true},
			{Type: MountBind, Source: filepath.Join(dir, "init"), Target: "/init"},
			{Type: MountVolume, Source: "db-data", Target: "/var/lib/postgresql/data"},
			{Type: MountTmpfs, Target: "/tmp/cache", Size: 64 << 20},
		},
		Secrets: []Secret{
			{Name: "db_password", Target: "/run/secrets/db_password", Mode: 0o444, Value: "s3cr3t-pw"},
			{Name: "cert", Target: "/etc/cert.pem", Mode: 0o400, Value: "CERT-BYTES\n", File: filepath.Join(dir, "secrets/cert.pem")},
		},
	}
	opts := cmp.Options{
		cmpopts.IgnoreUnexported(Service{}),
		cmpopts.IgnoreFields(Service{}, "Name", "DeclRange", "Image", "Ready", "PublishIP", "Env", "Deps"),
		cmpopts.IgnoreFields(Mount{}, "Digest"),
	}
	if d := cmp.Diff(want, db, opts...); d != "" {
		t.Errorf("db (-want +got)\n%s", d)
	}
	for _, m := range db.Mounts {
		if (m.Type == MountBind) != (len(m.Digest) == 64) {
			t.Errorf("mount %s: digest %q", m.Target, m.Digest)
		}
	}
	tpl := db.Template()
	if d := cmp.Diff(map[string]string{"A": "from-env", "B": "b2", "C": "c # x", "D": "d", "DB_PASSWORD": "pw-from-env-file"}, tpl.Env); d != "" {
		t.Errorf("env with env files (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]string{"B", "C", "D", "DB_PASSWORD"}, tpl.FromEnvFile); d != "" {
		t.Errorf("FromEnvFile (-want +got)\n%s", d)
	}
	if d := cmp.Diff([]string{"DB_PASSWORD"}, tpl.SensitiveEnv); d != "" {
		t.Errorf("SensitiveEnv: an env file's secret-like key is sensitive (-want +got)\n%s", d)
	}
	rt, rd := db.Resolve(map[string]Endpoint{})
	if rd.HasErrors() || rt.Env["D"] != "d" {
		t.Errorf("Resolve: %v %v", rt, rd)
	}
	for _, s := range []string{"s3cr3t-pw", "CERT-BYTES\n", "CERT-BYTES", "pw-from-env-file"} {
		found := false
		for _, x := range env.Sensitive {
			found = found || x == s
		}
		if !found {
			t.Errorf("Sensitive lacks %q: %q", s, env.Sensitive)
		}
	}

	env, _, diags = Load(Options{Dir: dir, Profiles: []string{"debug"}})
	if diags.HasErrors() {
		t.Fatalf("Load with debug: %s", diagsString(diags))
	}
	dbg := env.Service("debug")
	if dbg == nil || dbg.Build.Target != "debug" || !cmp.Equal(dbg.Build.CacheFrom, []string{"dbg:cache"}) || len(env.LeftOut) != 0 {
		t.Fatalf("with --profile debug: %+v, left out %v", dbg, env.LeftOut)
	}
}

// TestProfileDependency: a service in no active profile is still loaded when an active one
// depends on it.
func TestProfileDependency(t *testing.T) {
	env := mustLoad(t, `service "a" {
  image      = "a"
  depends_on = [service.b]
}
service "b" {
  image    = "b"
  profiles = ["x"]
}
service "c" {
  image    = "c"
  profiles = ["x", "y"]
}
`, Options{Profiles: []string{"z"}})
	var names []string
	for _, s := range env.Services {
		names = append(names, s.Name)
	}
	if d := cmp.Diff([]string{"a", "b"}, names); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

// TestBindContentInHash: a bind mount's digest follows the file's content.
func TestBindContentInHash(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"envctl.hcl": "service \"a\" {\n  image = \"a\"\n  mount {\n    type = \"bind\"\n    source = \"f\"\n    target = \"/f\"\n  }\n}\n",
		"f":          "one",
	})
	digest := func() string {
		env, _, diags := Load(Options{Dir: dir})
		if diags.HasErrors() {
			t.Fatal(diagsString(diags))
		}
		return env.Services[0].Mounts[0].Digest
	}
	d1 := digest()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d2 := digest(); d1 == d2 {
		t.Errorf("the digest did not change with the content: %s", d1)
	}
}

// TestContainerDiagnostics: every refusal names the attribute's line.
func TestContainerDiagnostics(t *testing.T) {
	svc := func(body string) string {
		return "service \"a\" {\n  image = \"a\"\n" + body + "}\nservice \"b\" {\n  image = \"b\"\n}\n"
	}
	tests := []struct {
		name, body string
		want       []wantDiag
	}{
		{"working_dir relative", "  working_dir = \"app\"\n", []wantDiag{{"Invalid working_dir", `"app" is not`, 3}}},
		{"user blank", "  user = \" \"\n", []wantDiag{{"Invalid user", `" " is not`, 3}}},
		{"hostname", "  hostname = \"a_b\"\n", []wantDiag{{"Invalid hostname", `"a_b" is not`, 3}}},
		{"alias of another service", "  aliases = [\"b\"]\n", []wantDiag{{"Invalid alias", `name of another service`, 3}}},
		{"alias not dns", "  aliases = [\"Pg\"]\n", []wantDiag{{"Invalid alias", `"Pg" is not`, 3}}},
		{"profile", "  profiles = [\"-x\"]\n", []wantDiag{{"Invalid profile", `"-x" is not`, 3}}},
		{"init type", "  init = \"yes\"\n", []wantDiag{{"Incorrect attribute value type", "true or false", 3}}},
		{"shm_size", "  shm_size = \"lots\"\n", []wantDiag{{"Invalid size", `"lots" is not a size`, 3}}},
		{"capability", "  cap_add = [\"NET_ADMN\"]\n", []wantDiag{{"Unknown capability", `Did you mean "NET_ADMIN"?`, 3}}},
		{"extra host ip", "  extra_hosts = {\n    \"x.example\" = \"nope\"\n  }\n", []wantDiag{{"Invalid extra host", `"nope" is not an IP address`, 4}}},
		{"ulimit name", "  ulimits = { nofiles = 1 }\n", []wantDiag{{"Unknown ulimit", `Did you mean "nofile"?`, 3}}},
		{"ulimit value", "  ulimits = { nofile = \"2:1\" }\n", []wantDiag{{"Invalid ulimit", "soft limit above its hard limit", 3}}},
		{"stop signal", "  stop_signal = \"SIGFOO\"\n", []wantDiag{{"Invalid stop_signal", `"SIGFOO" is not`, 3}}},
		{"grace", "  stop_grace_period = 20\n", []wantDiag{{"Incorrect attribute value type", "a duration string is required", 3}}},
		{"env_file missing", "  env_file = [\"./nope.env\"]\n", []wantDiag{{"Cannot read env_file", `reads the env file "./nope.env"`, 3}}},
		{"env_file bad", "  env_file = \"./bad.env\"\n", []wantDiag{{"Invalid env_file", `./bad.env, line 2: "NOVALUE" has no "="`, 3}}},
		{"mount type", "  mount {\n    type = \"nfs\"\n    target = \"/x\"\n  }\n", []wantDiag{{"Invalid mount type", `"nfs" is none of them`, 4}}},
		{"mount target", "  mount {\n    type = \"tmpfs\"\n    target = \"x\"\n  }\n", []wantDiag{{"Invalid mount target", `"x" is not`, 5}}},
		{"mount no target", "  mount {\n    type = \"tmpfs\"\n  }\n", []wantDiag{{"Missing required argument", `"target" is required`, 3}}},
		{"bind missing", "  mount {\n    type = \"bind\"\n    source = \"./nope\"\n    target = \"/x\"\n  }\n", []wantDiag{{"Invalid mount source", `mounts "./nope"`, 5}}},
		{"bind no source", "  mount {\n    type = \"bind\"\n    target = \"/x\"\n  }\n", []wantDiag{{"Missing mount source", "A bind mount needs a source", 3}}},
		{"volume name", "  mount {\n    type = \"volume\"\n    source = \"a/b\"\n    target = \"/x\"\n  }\n", []wantDiag{{"Invalid volume name", `"a/b" is not`, 5}}},
		{"tmpfs source", "  mount {\n    type = \"tmpfs\"\n    source = \"x\"\n    target = \"/x\"\n  }\n", []wantDiag{{"Invalid mount source", "A tmpfs mount has no source", 5}}},
		{"size on volume", "  mount {\n    type = \"volume\"\n    source = \"v\"\n    target = \"/x\"\n    size = 10\n  }\n", []wantDiag{{"Invalid mount size", "Only a tmpfs", 7}}},
		{"duplicate target", "  mount {\n    type = \"tmpfs\"\n    target = \"/x\"\n  }\n  mount {\n    type = \"tmpfs\"\n    target = \"/x/\"\n  }\n", []wantDiag{{"Duplicate mount target", "mounts two things at /x", 9}}},
		{"secret both", "  secret \"s\" {\n    value = \"v\"\n    file = \"f\"\n  }\n", []wantDiag{{"Invalid secret", "has both value and file", 3}}},
		{"secret neither", "  secret \"s\" {\n  }\n", []wantDiag{{"Invalid secret", "needs value", 3}}},
		{"secret file missing", "  secret \"s\" {\n    file = \"./nope\"\n  }\n", []wantDiag{{"Cannot read secret file", `reads "./nope"`, 4}}},
		{"secret mode", "  secret \"s\" {\n    value = \"v\"\n    mode = \"rw\"\n  }\n", []wantDiag{{"Invalid secret mode", `"rw" is not`, 5}}},
		{"secret target", "  secret \"s\" {\n    value = \"v\"\n    target = \"/run/\"\n  }\n", []wantDiag{{"Invalid secret target", `"/run/" is not`, 5}}},
		{"secret name", "  secret \"a b\" {\n    value = \"v\"\n  }\n", []wantDiag{{"Invalid secret name", `"a b" is not`, 3}}},
		{"read_only with secret", "  read_only = true\n  secret \"s\" {\n    value = \"v\"\n  }\n", []wantDiag{{"Read-only service with copied files", `secret "s"`, 1}}},
		{"unknown mount attribute", "  mount {\n    type = \"tmpfs\"\n    target = \"/x\"\n    mode = 1\n  }\n", []wantDiag{{"Unsupported argument", `"mode" is not expected here`, 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"envctl.hcl": svc(tt.body), "bad.env": "A=1\nNOVALUE\n"})
			_, _, diags := Load(Options{Dir: dir})
			checkDiags(t, diags, tt.want)
		})
	}
}

// TestSecretNotInPlainAttributes: a sensitive value is refused where labels or inspect show it.
func TestSecretNotInPlainAttributes(t *testing.T) {
	src := "variable \"pw\" {\n  sensitive = true\n  default = \"x\"\n}\nservice \"a\" {\n  image = \"a\"\n  user = var.pw\n}\n"
	_, _, diags := loadSrc(t, src, Options{})
	if !strings.Contains(diagsString(diags), "Sensitive value in user") {
		t.Errorf("got %s", diagsString(diags))
	}
}

package envs

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as the environment file. Load must never panic, and
// it either reports an error or returns an Environment whose graph sorts and whose services
// resolve and template without panicking.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		shopSrc,
		"",
		"service \"a\" {\n  image = \"x\"\n}\n",
		"service \"a\" {\n  image = \n}\n",
		"servce \"a\" {}\n",
		"service \"My_DB\" {\n  image = \"x\"\n}\n",
		"service \"a\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"y\"\n}\n",
		"service \"a\" {\n  image = \"x\"\n  command = \"run it\"\n}\n",
		"service \"a\" {\n  image = \"x\"\n  ports = { p = 1 }\n  ready {\n    tcp = \"p\"\n    exec = [\"x\"]\n  }\n}\n",
		"service \"a\" {\n  image = \"x\"\n  depends_on = [service.b]\n}\nservice \"b\" {\n  image = \"x\"\n  env = { A = service.a.host }\n}\n",
		"service \"a\" {\n  image = \"x\"\n  env = { A = service.a.ports.nope }\n}\n",
		"variable \"v\" {\n  type = number\n}\nservice \"a\" {\n  image = \"x${var.v}\"\n}\n",
		"locals {\n  a = local.b\n  b = local.a\n}\n",
		"environment {\n  name = \"x\"\n  ttl = \"5 days\"\n}\n",
		"service \"a\" {\n  image = \"x\"\n  resources {\n    cpus = 0\n    memory = \"3 parsecs\"\n  }\n}\n",
		"service \"a\" {\n  image = \"x\"\n  ready {\n    log = \"(\"\n  }\n}\n",
		"service \"a\" {\n  image = \"x\"\n  run = \"sometimes\"\n  publish_ip = \"nope\"\n}\n",
		"service \"a\" {\n  image = \"x\"\n  env = { A = file(\"/nonexistent\") }\n  labels = { a = [1] }\n}\n",
		"service \"db\" {\n  image = \"x\"\n  ports = { pg = 5432 }\n}\nservice \"a\" {\n  image = \"x\"\n  command = [\"${service.db.host}:${service.db.ports.pg + 1}\"]\n  entrypoint = [for p in [1, 2] : tostring(p)]\n}\n",
		"service \"a\" {\n  build {\n    context = \"../../../..\"\n    args = { A = 1 }\n  }\n}\n",
		"service \"a\" {\n  image = \"x\"\n  env = { for k in [\"a\", \"b\"] : upper(k) => k }\n  command = [x.y, self, var, local, environment.nope, service]\n}\n",
		"x = <<EOT\n}\nservice \"a\" {\nEOT\nservice \"b\" {\n  image = \"x\"\n}\n",
		// Issue 11's settings.
		"service \"a\" {\n  image = \"x\"\n  user = \"1:1\"\n  working_dir = \"/w\"\n  hostname = \"h\"\n  aliases = [\"b\"]\n  profiles = [\"p\"]\n  init = true\n  read_only = false\n  shm_size = \"1MiB\"\n  cap_add = [\"NET_ADMIN\"]\n  cap_drop = [\"ALL\"]\n  extra_hosts = { \"h.x\" = \"10.0.0.1\" }\n  ulimits = { nofile = \"1:2\" }\n  stop_signal = \"INT\"\n  stop_grace_period = \"1s\"\n  env_file = [\"/dev/null\"]\n  mount {\n    type = \"tmpfs\"\n    target = \"/t\"\n    size = 1024\n  }\n  mount {\n    type = \"volume\"\n    source = \"v\"\n    target = \"/v\"\n  }\n  secret \"s\" {\n    value = \"x\"\n    mode = \"0400\"\n  }\n}\n",
		"service \"a\" {\n  image = \"x\"\n  mount {\n    type = \"bind\"\n    source = \"/dev\"\n    target = \"/\"\n  }\n  secret \"s\" {\n    file = \"/dev/zero\"\n  }\n  ulimits = { nofile = \"2:1\", x = 1 }\n  env_file = \"/etc\"\n  read_only = true\n}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		env, files, diags := Load(Options{Dir: dir, Name: "fuzz"})
		if env == nil {
			t.Fatal("Load returned a nil Environment")
		}
		if files == nil {
			t.Fatal("Load returned a nil file map")
		}
		for _, d := range diags {
			if d.Severity == 0 || d.Summary == "" {
				t.Fatalf("diagnostic without severity or summary: %#v", d)
			}
		}
		if diags.HasErrors() {
			return
		}
		if _, err := env.Graph().Sort(); err != nil {
			t.Fatalf("valid environment whose graph does not sort: %v", err)
		}
		for _, s := range env.Services {
			if s.Image == "" && s.Build == nil {
				t.Fatalf("service %q has neither image nor build", s.Name)
			}
			if !validDNSLabel(s.Name) {
				t.Fatalf("service name %q is not DNS-safe", s.Name)
			}
			s.Template()
			eps := map[string]Endpoint{}
			for _, d := range s.Deps {
				ep := Endpoint{Host: d.Name, Ports: map[string]int{}}
				for _, p := range env.Service(d.Name).Ports {
					ep.Ports[p.Name] = p.Port
				}
				eps[d.Name] = ep
			}
			s.Resolve(eps)
		}
	})
}

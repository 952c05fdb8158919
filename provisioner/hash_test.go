package provisioner

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
)

// TestHashFollowsFiles: a changed bind-mounted file, env file or secret file changes the
// config hash (so up recreates the service); an unchanged file keeps it.
func TestHashFollowsFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("envctl.hcl", `service "db" {
  image    = "db"
  env_file = ["./db.env"]
  mount {
    type   = "bind"
    source = "./init"
    target = "/init"
  }
  secret "pw" {
    file = "./pw.txt"
  }
}
`)
	write("db.env", "A=1\n")
	write("init/schema.sql", "create table a();\n")
	write("pw.txt", "one")
	hash := func() string {
		t.Helper()
		env, _, diags := envs.Load(envs.Options{Dir: dir})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return NewTarget(env, 0, time.Now()).Hash(env.Service("db"))
	}
	h0 := hash()
	if h := hash(); h != h0 {
		t.Fatalf("the hash changed with nothing changed: %s, %s", h0, h)
	}
	for _, change := range []struct{ file, content string }{
		{"db.env", "A=2\n"},
		{"init/schema.sql", "create table b();\n"},
		{"init/new.sql", "x"},
		{"pw.txt", "two"},
	} {
		before := hash()
		write(change.file, change.content)
		if after := hash(); after == before {
			t.Errorf("changing %s left the hash %s", change.file, after)
		}
	}
}

// TestHashUnchangedWithoutNewSettings: a service that uses none of issue 11's settings keeps
// the hash it had before them, so upgrading envctl recreates nothing.
func TestHashUnchangedWithoutNewSettings(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte("service \"a\" {\n  image = \"a\"\n  env = { X = \"1\" }\n  ports = { http = 80 }\n}\n"), 0o644)
	env, _, diags := envs.Load(envs.Options{Dir: dir})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	// The hash of this service as computed before issue 11 (commit c742e8b).
	const want = "42315681362f983b1ceaad0e3d83d31da8944cbe06ed80a67e7c5770b6a5e98f"
	if got := NewTarget(env, 0, time.Now()).Hash(env.Service("a")); got != want {
		t.Errorf("hash %s, want %s", got, want)
	}
}

package provisioner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/envs"
)

// TestRedisPasswordStaysOutOfLabels: the redis probe's password reaches the probe (in memory)
// and the instance (a sensitive env var, named in the ready label), never a label, the hash
// input's ReadySpec or a printed ReadySpec; a changed password recreates the instance.
func TestRedisPasswordStaysOutOfLabels(t *testing.T) {
	load := func(pw string) (*Target, *envs.Service) {
		t.Helper()
		dir := t.TempDir()
		src := fmt.Sprintf(`variable "pw" {
  sensitive = true
  default   = %q
}
service "cache" {
  image = "redis"
  ports = { cache = 6379 }
  ready {
    redis { password = var.pw }
  }
}
`, pw)
		if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		env, _, diags := envs.Load(envs.Options{Dir: dir})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return NewTarget(env, 0, time.Now()), env.Service("cache")
	}
	tg, s := load("hunter2-pw")
	rs := ReadySpecOf(s.Ready)
	if rs.Kind != ProbeRedis || rs.Port != "cache" || rs.Password != "hunter2-pw" || rs.PasswordEnv != ReadyPasswordEnv {
		t.Fatalf("ReadySpecOf: %+v", rs)
	}
	if p := fmt.Sprintf("%v %+v %#v %s", rs, rs, rs, rs.Password); strings.Contains(p, "hunter2") {
		t.Errorf("a printed ReadySpec shows the password: %s", p)
	}
	labels := tg.Labels(s)
	for k, v := range labels {
		if strings.Contains(v, "hunter2") {
			t.Errorf("label %s holds the password: %s", k, v)
		}
	}
	back := ParseReady(labels[LabelReady])
	if back.Kind != ProbeRedis || back.PasswordEnv != ReadyPasswordEnv || back.Password != "" {
		t.Errorf("the ready label reads back as %+v", back)
	}
	if !strings.Contains(labels[LabelSensitive], ReadyPasswordEnv) {
		t.Errorf("%s is not listed as sensitive: %q", ReadyPasswordEnv, labels[LabelSensitive])
	}
	spec, err := tg.Spec(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Environment[ReadyPasswordEnv] != "hunter2-pw" {
		t.Errorf("the instance does not get the password in %s: %v", ReadyPasswordEnv, spec.Environment)
	}
	if spec.Ready.Password != "hunter2-pw" {
		t.Errorf("the spec's ReadySpec lost the password")
	}
	tg2, s2 := load("other-pw")
	if tg.Hash(s) == tg2.Hash(s2) {
		t.Error("a changed password keeps the config hash: the instance would keep the old one")
	}
}

// TestProtocolSpecOmitsEmpty: a ReadySpec of the older kinds marshals as before (omitempty),
// so existing labels and config hashes do not change.
func TestProtocolSpecOmitsEmpty(t *testing.T) {
	got := FormatReady(ReadySpec{Kind: ProbeTCP, Port: "pg", Timeout: time.Minute})
	if want := `{"kind":"tcp","port":"pg","timeout":60000000000}`; got != want {
		t.Errorf("FormatReady = %s, want %s", got, want)
	}
	pg := FormatReady(ReadySpec{Kind: ProbePostgres, Port: "pg", User: "app", Database: "shop"})
	if back := ParseReady(pg); back.Kind != ProbePostgres || back.User != "app" || back.Database != "shop" {
		t.Errorf("postgres spec reads back as %+v", back)
	}
}

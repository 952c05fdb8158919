package faults

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secret is the sensitive value; nothing envctl prints, labels or writes may contain it.
const secret = "s3cr3t-Xq9-value"

// secretFile uses the sensitive value in an environment variable and in a command line, and
// the service prints it (so logs must redact it too). "pub" asks for publish_ip 0.0.0.0.
const secretFile = `variable "img" {}
variable "pw" {
  default   = "` + secret + `"
  sensitive = true
}
service "db" {
  image   = var.img
  command = ["--http", "80", "--log", "db password is ${var.pw}"]
  env     = { PASSWORD = var.pw }
  ports   = { http = 80 }
}
service "pub" {
  image      = var.img
  command    = ["--http", "80"]
  env        = { DB = "http://${service.db.host}:${service.db.ports.http}/" }
  ports      = { http = 80 }
  publish_ip = "0.0.0.0"
}
`

// secretFailFile fails: its service prints the value on stderr and exits, so the failure
// report (last log lines), the JSON error and the --diagnostics files all meet it.
const secretFailFile = `variable "img" {}
variable "pw" {
  default   = "` + secret + `"
  sensitive = true
}
service "bad" {
  image   = var.img
  command = ["--delay", "100ms", "--stderr", "cannot log in with ${var.pw}", "--exit", "1"]
  env     = { PASSWORD = var.pw }
  ports   = { http = 80 }
}
`

// TestSecretsNeverShown runs every command, in text and JSON, on an environment with a
// sensitive variable, and greps all they print, the --diagnostics directory of a failed up,
// and the labels of every container and network: the value is nowhere. Published ports bind
// 127.0.0.1 unless the file sets publish_ip.
func TestSecretsNeverShown(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	writeFile(t, dir, "envctl.hcl", secretFile)
	writeFile(t, dir, "fail.hcl", secretFailFile)
	env, failEnv := newEnvName(t, "sec"), newEnvName(t, "secf")
	cleanupEnv(t, env)
	cleanupEnv(t, failEnv)
	v := imgVar(img)

	var runs []result
	run := func(code int, args ...string) result {
		t.Helper()
		r := envctl(t, dir, nil, args...)
		wantExit(t, r, code)
		runs = append(runs, r)
		return r
	}
	run(0, append([]string{"validate"}, v...)...)
	run(0, append([]string{"plan"}, v...)...)
	run(0, append([]string{"plan", "-o", "json"}, v...)...)
	for _, f := range []string{"text", "json", "dot", "mermaid"} {
		run(0, append([]string{"graph", "--format", f}, v...)...)
	}
	run(0, append([]string{"up", "--name", env}, v...)...)
	run(0, append([]string{"up", "--name", env, "-o", "json"}, v...)...)
	run(0, "status", env)
	run(0, "status", env, "-o", "json")
	run(0, "ls")
	run(0, "ls", "-o", "json")
	for _, f := range []string{"dotenv", "json", "shell"} {
		run(0, "env", env, "--format", f)
	}
	logs := run(0, "logs", env)
	// KNOWN DEFECT (found by this suite, not fixed): `logs NAME` needs no file, so it does not
	// know which values are sensitive and prints them as the service wrote them.
	wantIn(t, "logs", logs.stdout, "db password is (sensitive)")
	run(0, "logs", env, "db")

	// Labels of every container and of the network, and where the ports are published.
	for _, c := range lines(docker(t, "ps", "-a", "--filter", "label="+labelEnv+"="+env, "--format", "{{.Names}}")) {
		labels := docker(t, "inspect", "--format", "{{json .Config.Labels}}", c)
		if strings.Contains(labels, secret) {
			t.Errorf("container %s: the sensitive value is in its labels: %s", c, labels)
		}
		var bindings map[string][]struct{ HostIp string }
		if err := json.Unmarshal([]byte(docker(t, "inspect", "--format", "{{json .HostConfig.PortBindings}}", c)), &bindings); err != nil {
			t.Fatal(err)
		}
		want := "127.0.0.1"
		if strings.HasSuffix(c, "-pub") {
			want = "0.0.0.0"
		}
		for port, bs := range bindings {
			for _, b := range bs {
				if b.HostIp != want {
					t.Errorf("container %s port %s: published on %q, want %q", c, port, b.HostIp, want)
				}
			}
		}
		if len(bindings) == 0 {
			t.Errorf("container %s: no published port, want one", c)
		}
	}
	for _, n := range lines(docker(t, "network", "ls", "--filter", "label="+labelEnv+"="+env, "--format", "{{.Name}}")) {
		if labels := docker(t, "network", "inspect", "--format", "{{json .Labels}}", n); strings.Contains(labels, secret) {
			t.Errorf("network %s: the sensitive value is in its labels: %s", n, labels)
		}
	}

	run(0, append(append([]string{"run", "--name", env + "-r"}, v...), "--", "sh", "-c", "test -n \"$DB_HTTP\"")...)
	wantNothingLeft(t, env+"-r")
	run(0, "down", env, "-o", "json")
	wantNothingLeft(t, env)
	run(0, "gc")

	// The failure paths: the report, the JSON error and the diagnostics artifact.
	diag := filepath.Join(dir, "diag")
	f := run(1, append([]string{"up", "--name", failEnv, "-f", "fail.hcl", "--diagnostics", diag}, v...)...)
	wantIn(t, "the failed up's stderr", f.stderr, "cannot log in with (sensitive)")
	run(1, append([]string{"up", "--name", failEnv, "-f", "fail.hcl", "-o", "json"}, v...)...)
	run(1, append(append([]string{"run", "--name", failEnv, "-f", "fail.hcl"}, v...), "--", "true")...)
	wantNothingLeft(t, failEnv)

	for _, r := range runs {
		if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
			t.Errorf("the sensitive value was printed:\n%s", r)
		}
	}
	files := 0
	err := filepath.Walk(diag, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("diagnostics file %s holds the sensitive value", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Errorf("--diagnostics wrote %d files, want the plan, the result and per service its files", files)
	}
	t.Logf("checked %d command outputs and %d diagnostics files", len(runs), files)
}

package envs

import (
	"strings"
	"testing"
)

// TestDiagnostics pins the summary, a key part of the detail and the subject line of every
// diagnostic the loader writes, one file per case.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts Options
		want []wantDiag
	}{
		{
			name: "syntax error",
			src:  "service \"a\" {\n  image = \n}\n",
			want: []wantDiag{{"Invalid expression", "Expected the start of an expression", 2}},
		},
		{
			name: "unsupported argument with suggestion",
			src:  "service \"a\" {\n  imag = \"x\"\n}\n",
			want: []wantDiag{
				{"Unsupported argument", `Did you mean "image"?`, 2},
				{"Missing image", `Service "a" needs an image`, 1},
			},
		},
		{
			name: "unsupported block",
			src:  "servce \"a\" {\n}\n",
			want: []wantDiag{{"Unsupported block type", `Did you mean "service"?`, 1}},
		},
		{
			name: "invalid service name",
			src:  "service \"My_DB\" {\n  image = \"x\"\n}\n",
			want: []wantDiag{{"Invalid service name", `"My_DB" is not`, 1}},
		},
		{
			name: "service name too long for container name",
			src:  "environment {\n  name = \"shop\"\n}\nservice \"" + strings.Repeat("a", 60) + "\" {\n  image = \"x\"\n}\n",
			want: []wantDiag{{"Invalid service name", "would be 65 characters long", 4}},
		},
		{
			name: "duplicate service",
			src:  "service \"api\" {\n  image = \"x\"\n}\nservice \"api\" {\n  image = \"y\"\n}\n",
			want: []wantDiag{{"Duplicate service", `A service named "api" was already declared at envctl.hcl:1,1-14.`, 4}},
		},
		{
			name: "duplicate variable",
			src:  "variable \"a\" {\n  default = 1\n}\nvariable \"a\" {\n  default = 2\n}\n",
			want: []wantDiag{{"Duplicate variable", `A variable named "a" was already declared at envctl.hcl:1,1-13.`, 4}},
		},
		{
			name: "duplicate environment block",
			src:  "environment {\n  name = \"a\"\n}\nenvironment {\n  name = \"b\"\n}\n",
			want: []wantDiag{{"Duplicate environment block", "The first was declared at envctl.hcl:1,1-12.", 4}},
		},
		{
			name: "duplicate local",
			src:  "locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n",
			want: []wantDiag{{"Duplicate local value", `A local value named "a" was already declared at envctl.hcl:2,3-4.`, 5}},
		},
		{
			name: "missing image",
			src:  "service \"a\" {\n  ports = { http = 80 }\n}\n",
			want: []wantDiag{{"Missing image", `Service "a" needs an image`, 1}},
		},
		{
			name: "command as a string",
			src:  "service \"a\" {\n  image = \"x\"\n  command = \"migrate --db x\"\n}\n",
			want: []wantDiag{{"Incorrect attribute value type", "a list of strings is required, not a single string", 3}},
		},
		{
			name: "env not a map",
			src:  "service \"a\" {\n  image = \"x\"\n  env = [\"A=1\"]\n}\n",
			want: []wantDiag{{"Incorrect attribute value type", "a map of strings is required", 3}},
		},
		{
			name: "env element is a list",
			src:  "service \"a\" {\n  image = \"x\"\n  env = { A = [1] }\n}\n",
			want: []wantDiag{{"Incorrect attribute value type", `a map of strings is required`, 3}},
		},
		{
			name: "image not a string",
			src:  "service \"a\" {\n  image = [\"x\"]\n}\n",
			want: []wantDiag{{"Incorrect attribute value type", `Inappropriate value for attribute "image": a string is required, got a list.`, 2}},
		},
		{
			name: "ready with no probe",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    timeout = \"5s\"\n  }\n}\n",
			want: []wantDiag{{"Invalid ready block", "A ready block needs exactly one probe: http, tcp, exec, log, postgres, mysql, redis, amqp, memcached, grpc, kafka or mongodb.", 3}},
		},
		{
			name: "ready with two probes",
			src:  "service \"a\" {\n  image = \"x\"\n  ports = { pg = 5432 }\n  ready {\n    tcp  = \"pg\"\n    exec = [\"true\"]\n  }\n}\n",
			want: []wantDiag{{"Invalid ready block", "this one has both tcp and exec.", 4}},
		},
		{
			name: "ready unknown port",
			src:  "service \"a\" {\n  image = \"x\"\n  ports = { http = 8080, admin = 9000 }\n  ready {\n    http {\n      port = \"htp\"\n    }\n  }\n}\n",
			want: []wantDiag{{"Unknown port", `its ports are "admin" and "http". Did you mean "http"?`, 6}},
		},
		{
			name: "ready tcp without ports",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    tcp = \"pg\"\n  }\n}\n",
			want: []wantDiag{{"Unknown port", `Service "a" declares no ports`, 4}},
		},
		{
			name: "undeclared service in depends_on",
			src:  "service \"api\" {\n  image = \"x\"\n}\nservice \"web\" {\n  image = \"x\"\n  depends_on = [service.apj]\n}\n",
			want: []wantDiag{{"Reference to undeclared service", `No service named "apj" is declared. Did you mean "api"?`, 6}},
		},
		{
			name: "undeclared service in env",
			src:  "service \"api\" {\n  image = \"x\"\n}\nservice \"web\" {\n  image = \"x\"\n  env = { A = service.apu.host }\n}\n",
			want: []wantDiag{{"Reference to undeclared service", `Did you mean "api"?`, 6}},
		},
		{
			name: "undeclared variable",
			src:  "variable \"tag\" {\n  default = \"v\"\n}\nservice \"a\" {\n  image = \"x:${var.tga}\"\n}\n",
			want: []wantDiag{{"Reference to undeclared variable", `No variable named "tga" is declared; add a variable "tga" block. Did you mean "tag"?`, 5}},
		},
		{
			name: "undeclared local",
			src:  "locals {\n  user = \"u\"\n}\nservice \"a\" {\n  image = local.usr\n}\n",
			want: []wantDiag{{"Reference to undeclared local value", `Did you mean "user"?`, 5}},
		},
		{
			name: "unknown port in reference",
			src:  "service \"db\" {\n  image = \"x\"\n  ports = { pg = 5432 }\n}\nservice \"a\" {\n  image = \"x\"\n  env = { P = service.db.ports.pgg }\n}\n",
			want: []wantDiag{{"Unknown port", `Service "db" has no port named "pgg"; its ports are "pg". Did you mean "pg"?`, 7}},
		},
		{
			name: "unknown service attribute",
			src:  "service \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x\"\n  env = { P = service.db.address }\n}\n",
			want: []wantDiag{{"Invalid reference to a service", `"address" is not an attribute of a service. A service has: host (service.db.host) and ports (service.db.ports.NAME).`, 6}},
		},
		{
			name: "service reference outside run-time attributes",
			src:  "service \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x:${service.db.host}\"\n}\n",
			want: []wantDiag{{"Invalid reference to a service", "Service addresses are known only at start; they may be used in command, entrypoint and env", 5}},
		},
		{
			name: "service reference in labels",
			src:  "service \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x\"\n  labels = { db = service.db.host }\n}\n",
			want: []wantDiag{{"Invalid reference to a service", "Service addresses are known only at start", 6}},
		},
		{
			name: "required variable without value",
			src:  "variable \"db_password\" {\n  type = string\n}\nservice \"a\" {\n  image = \"x\"\n  env = { P = var.db_password }\n}\n",
			want: []wantDiag{{"No value for required variable", "Set it with --var db_password=..., in a --var-file, or with the environment variable ENVCTL_VAR_db_password.", 1}},
		},
		{
			name: "invalid duration",
			src:  "environment {\n  ttl = \"4 hours\"\n}\n",
			want: []wantDiag{{"Invalid duration", `"4 hours" is not a duration`, 2}},
		},
		{
			name: "duration as a number",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    exec = [\"true\"]\n    timeout = 60\n  }\n}\n",
			want: []wantDiag{{"Incorrect attribute value type", `a duration string is required, like "60s"`, 5}},
		},
		{
			name: "invalid size",
			src:  "service \"a\" {\n  image = \"x\"\n  resources {\n    memory = \"12 parsecs\"\n  }\n}\n",
			want: []wantDiag{{"Invalid size", "B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024)", 4}},
		},
		{
			name: "invalid cpus",
			src:  "service \"a\" {\n  image = \"x\"\n  resources {\n    cpus = -1\n  }\n}\n",
			want: []wantDiag{{"Invalid cpus", "cpus is a positive number", 4}},
		},
		{
			name: "invalid run mode",
			src:  "service \"a\" {\n  image = \"x\"\n  run = \"twice\"\n}\n",
			want: []wantDiag{{"Invalid run mode", `run must be "service" (long-running, the default) or "once"`, 3}},
		},
		{
			name: "invalid regular expression",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    log = \"ready (\"\n  }\n}\n",
			want: []wantDiag{{"Invalid regular expression", "does not compile", 4}},
		},
		{
			name: "invalid port number",
			src:  "service \"a\" {\n  image = \"x\"\n  ports = {\n    http = 70000\n  }\n}\n",
			want: []wantDiag{{"Invalid port", `Port "http" must be a whole number from 1 to 65535, got 70000.`, 4}},
		},
		{
			name: "invalid port name",
			src:  "service \"a\" {\n  image = \"x\"\n  ports = { HTTP = 80 }\n}\n",
			want: []wantDiag{{"Invalid port", `Port names start with a lowercase letter`, 3}},
		},
		{
			name: "attempt_timeout zero",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    exec = [\"true\"]\n    attempt_timeout = \"0s\"\n  }\n}\n",
			want: []wantDiag{{"Invalid duration", `"0s" is not a positive duration`, 5}},
		},
		{
			name: "attempt_timeout longer than timeout",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    exec = [\"true\"]\n    timeout = \"3s\"\n    attempt_timeout = \"5s\"\n  }\n}\n",
			want: []wantDiag{{"Invalid ready block", "attempt_timeout (5s) is longer than the ready timeout (3s)", 6}},
		},
		{
			name: "attempt_timeout longer than the default timeout",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    exec = [\"true\"]\n    attempt_timeout = \"2m\"\n  }\n}\n",
			want: []wantDiag{{"Invalid ready block", "longer than the ready timeout (1m0s)", 5}},
		},
		{
			name: "attempt_timeout not a duration",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    exec = [\"true\"]\n    attempt_timeout = \"soon\"\n  }\n}\n",
			want: []wantDiag{{"Invalid duration", `"soon" is not a duration`, 5}},
		},
		{
			name: "invalid http status",
			src:  "service \"a\" {\n  image = \"x\"\n  ports = { http = 80 }\n  ready {\n    http {\n      port = \"http\"\n      status = 700\n    }\n  }\n}\n",
			want: []wantDiag{{"Invalid HTTP status", "from 100 to 599", 7}},
		},
		{
			name: "invalid publish_ip",
			src:  "service \"a\" {\n  image = \"x\"\n  publish_ip = \"localhost\"\n}\n",
			want: []wantDiag{{"Invalid publish address", `"localhost" is not`, 3}},
		},
		{
			name: "invalid environment name",
			src:  "environment {\n  name = \"Shop_1\"\n}\n",
			want: []wantDiag{{"Invalid environment name", `"Shop_1" is not`, 2}},
		},
		{
			name: "invalid --name",
			src:  "service \"a\" {\n  image = \"x\"\n}\n",
			opts: Options{Name: "-bad"},
			want: []wantDiag{{"Invalid environment name", `The name given by --name must be DNS-safe`, 0}},
		},
		{
			name: "undeclared --var",
			src:  "variable \"tag\" {\n  default = \"v\"\n}\n",
			opts: Options{Vars: []string{"tga=x"}},
			want: []wantDiag{{"Undeclared variable", `--var sets "tga", but no variable of that name is declared. Did you mean "tag"?`, 0}},
		},
		{
			name: "ENVCTL_VAR_ of an undeclared variable is ignored",
			src:  "variable \"tag\" {\n  default = \"v\"\n}\nservice \"a\" {\n  image = \"x\"\n}\n",
			opts: Options{Environ: []string{"ENVCTL_VAR_other=x"}},
			want: nil,
		},
		{
			name: "--var that does not parse for its type",
			src:  "variable \"n\" {\n  type = number\n}\n",
			opts: Options{Vars: []string{"n=abc"}},
			want: []wantDiag{{"Invalid value for variable", "--var n is not a valid number", 0}},
		},
		{
			name: "--var without =",
			src:  "variable \"n\" {\n  default = 1\n}\n",
			opts: Options{Vars: []string{"n"}},
			want: []wantDiag{{"Invalid --var", "NAME=VALUE", 0}},
		},
		{
			name: "self reference",
			src:  "service \"api\" {\n  image = \"x\"\n  ports = { http = 80 }\n  env = { SELF = service.api.host }\n}\n",
			want: []wantDiag{{"Dependency cycle", "api -> api (envctl.hcl:4)", 4}},
		},
		{
			name: "invalid depends_on entry",
			src:  "service \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x\"\n  depends_on = [service.db.host]\n}\n",
			want: []wantDiag{{"Invalid depends_on entry", "each entry is service.NAME", 6}},
		},
		{
			name: "depends_on not a list",
			src:  "service \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x\"\n  depends_on = \"db\"\n}\n",
			want: []wantDiag{{"Invalid depends_on", "depends_on is a list of services", 6}},
		},
		{
			name: "unknown reference root",
			src:  "service \"a\" {\n  image = foo.bar\n}\n",
			want: []wantDiag{{"Invalid reference", `"foo" is not something an expression can refer to`, 2}},
		},
		{
			name: "local cycle",
			src:  "locals {\n  a = local.b\n  b = local.a\n}\n",
			want: []wantDiag{{"Cycle in local values", "local.a -> local.b -> local.a", 2}},
		},
		{
			name: "file() of a missing file names the resolved path",
			src:  "service \"a\" {\n  image = \"x\"\n  env = { A = file(\"../nope.txt\") }\n}\n",
			want: []wantDiag{{"Invalid function argument", "no file exists at /", 3}},
		},
		{
			name: "missing build context",
			src:  "service \"a\" {\n  build {\n    context = \"./nope\"\n  }\n}\n",
			want: []wantDiag{{"Invalid build context", "there is no directory at /", 3}},
		},
		{
			name: "invalid default for its type",
			src:  "variable \"n\" {\n  type = number\n  default = \"abc\"\n}\n",
			want: []wantDiag{{"Invalid default value for variable", `does not match its type number`, 3}},
		},
		{
			name: "invalid variable name",
			src:  "variable \"1x\" {\n  default = 1\n}\n",
			want: []wantDiag{{"Invalid variable name", `"1x" is not`, 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := loadSrc(t, tt.src, tt.opts)
			checkDiags(t, diags, tt.want)
		})
	}
}

func TestDiagnosticsMore(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{
			name: "null image",
			src:  "service \"a\" {\n  image = null\n}\n",
			want: []wantDiag{{"Missing image", `Service "a" needs an image`, 1}},
		},
		{
			name: "empty image",
			src:  "service \"a\" {\n  image = \"\"\n}\n",
			want: []wantDiag{{"Missing image", `The image of service "a" is empty`, 2}},
		},
		{
			name: "bare service reference",
			src:  "service \"db\" {\n  image = \"x\"\n}\nservice \"a\" {\n  image = \"x\"\n  env = { A = service.db }\n}\n",
			want: []wantDiag{{"Invalid reference to a service", "A reference to a service names one of its attributes: host (service.db.host)", 6}},
		},
		{
			name: "service reference in a local used in the image",
			src:  "service \"db\" {\n  image = \"x:${local.h}\"\n}\nlocals {\n  h = service.db.host\n}\n",
			want: []wantDiag{{"Local value known only at start", "local.h uses service addresses (service.db.host at envctl.hcl:5)", 2}},
		},
		{
			name: "undeclared variable used twice gives two errors, no knock-on type errors",
			src:  "service \"a\" {\n  image = var.nope\n  env = { A = var.nope }\n}\n",
			want: []wantDiag{
				{"Reference to undeclared variable", `"nope"`, 2},
				{"Reference to undeclared variable", `"nope"`, 3},
			},
		},
		{
			name: "required variable: one error, no knock-on errors where it is used",
			src:  "variable \"img\" {\n  type = string\n}\nservice \"a\" {\n  image = var.img\n  command = [var.img]\n  ports = { p = var.img }\n}\n",
			want: []wantDiag{{"No value for required variable", "--var img=...", 1}},
		},
		{
			name: "three probes",
			src:  "service \"a\" {\n  image = \"x\"\n  ports = { p = 1 }\n  ready {\n    http {\n      port = \"p\"\n    }\n    tcp = \"p\"\n    log = \"x\"\n  }\n}\n",
			want: []wantDiag{{"Invalid ready block", "this one has http, tcp and log.", 4}},
		},
		{
			name: "duplicate build block",
			src:  "service \"a\" {\n  image = \"x\"\n  build {\n    context = \".\"\n  }\n  build {\n    context = \".\"\n  }\n}\n",
			want: []wantDiag{{"Duplicate build block", "already has one at envctl.hcl:3,3-8", 6}},
		},
		{
			name: "ready of a job is a warning",
			src:  "service \"a\" {\n  image = \"x\"\n  run = \"once\"\n  ready {\n    log = \"done\"\n  }\n}\n",
			want: []wantDiag{{"Ready block not used", "it is ready when it has exited 0", 4}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := loadSrc(t, tt.src, Options{})
			checkDiags(t, diags, tt.want)
		})
	}
}

func TestDiagnosticsRefs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		opts Options
		want []wantDiag
	}{
		{
			name: "ports without a port name",
			src:  "service \"db\" {\n  image = \"x\"\n  ports = { pg = 5432 }\n}\nservice \"a\" {\n  image = \"x\"\n  env = { P = service.db.ports }\n}\n",
			want: []wantDiag{{"Invalid reference to a service", "A port is referenced by its name, like service.db.ports.pg.", 7}},
		},
		{
			name: "local downstream of a cycle is not reported twice",
			src:  "locals {\n  a = local.b\n  b = local.c\n  c = local.a\n  d = local.a\n}\n",
			want: []wantDiag{{"Cycle in local values", "local.a -> local.b -> local.c -> local.a", 2}},
		},
		{
			name: "environment block may not use locals",
			src:  "locals {\n  n = \"x\"\n}\nenvironment {\n  name = local.n\n}\n",
			want: []wantDiag{{"Invalid reference", "The environment block may use variables (var.NAME) and functions, not local values.", 5}},
		},
		{
			name: "var element of the wrong type",
			src:  "variable \"l\" {\n  type = list(number)\n  default = [1]\n}\n",
			opts: Options{Vars: []string{`l=[1, "x"]`}},
			want: []wantDiag{{"Invalid value for variable", `element 1: a number is required`, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := loadSrc(t, tt.src, tt.opts)
			checkDiags(t, diags, tt.want)
		})
	}
}

func TestEnumStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{RunService.String(), "service"},
		{RunOnce.String(), "once"},
		{ProbePorts.String(), "ports"},
		{ProbeHTTP.String(), "http"},
		{ProbeTCP.String(), "tcp"},
		{ProbeExec.String(), "exec"},
		{ProbeLog.String(), "log"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

package compose

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/envctl/envctl/envs"
)

// convert converts src as "docker-compose.yml" and returns the HCL and the notes as text.
func convert(t *testing.T, src string) (string, []string) {
	t.Helper()
	res, err := Convert("docker-compose.yml", []byte(src), Options{})
	if err != nil {
		t.Fatalf("Convert: %v\n%s", err, src)
	}
	var notes []string
	for _, n := range res.Notes {
		notes = append(notes, n.String())
	}
	return string(res.HCL), notes
}

// squash collapses runs of blanks, so that tests do not depend on hclwrite's alignment.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestMappingRules converts one small file per rule and checks the lines it must produce.
func TestMappingRules(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		want  []string // each must appear, blanks squashed
		notes []string // each must be among the notes
	}{
		{"image and project name", "name: shop\nservices:\n  a:\n    image: alpine:3\n",
			[]string{`name = "shop"`, `image = "alpine:3"`}, nil},
		{"command string is split like a shell would, without one",
			"services:\n  a:\n    image: x\n    command: sh -c 'echo \"$$HOME\" && ls' \"a b\" c\\ d\n",
			[]string{`command = ["sh", "-c", "echo \"$HOME\" && ls", "a b", "c d"]`}, nil},
		{"entrypoint list form as it is", "services:\n  a:\n    image: x\n    entrypoint: [\"/bin/app\", \"--flag=a b\"]\n",
			[]string{`entrypoint = ["/bin/app", "--flag=a b"]`}, nil},
		{"environment list and map forms", "services:\n  a:\n    image: x\n    environment: [B=2, A=1]\n  b:\n    image: x\n    environment: {Z: 1, Y: true}\n",
			[]string{`env = { A = "1" B = "2" }`, `env = { Y = "true" Z = "1" }`}, nil},
		{"key without value becomes a variable", "services:\n  a:\n    image: x\n    environment: [SECRET_TOKEN]\n",
			[]string{`variable "SECRET_TOKEN" {`, `sensitive = true`, `SECRET_TOKEN = var.SECRET_TOKEN`},
			[]string{"service a: environment SECRET_TOKEN has no value (Compose takes it from the shell); it is now variable SECRET_TOKEN: set it with --var SECRET_TOKEN=VALUE or ENVCTL_VAR_SECRET_TOKEN"}},
		{"variables with and without defaults", "services:\n  a:\n    image: ${REG:-docker.io}/app:${TAG}\n",
			[]string{`variable "REG" { type = string default = "docker.io"`, `variable "TAG" { type = string description`, `image = "${var.REG}/app:${var.TAG}"`}, nil},
		{"literal ${ in a value stays literal", "services:\n  a:\n    image: x\n    environment: {T: \"$${x} %{y}\"}\n",
			[]string{`T = "$${x} %%{y}"`}, nil},
		{"http port naming and host ports dropped", "services:\n  a:\n    image: x\n    ports: [\"8080:80\", \"5432\", \"443\"]\n",
			[]string{`ports = { http = 80 p5432 = 5432 https = 443 }`},
			[]string{"service a: ports: host side of 8080:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)"}},
		{"expose joins ports without repeats", "services:\n  a:\n    image: x\n    ports: [\"8080\"]\n    expose: [\"8080\", \"9000/tcp\"]\n",
			[]string{`ports = { http = 8080 p9000 = 9000 }`}, nil},
		{"service_started is a plain edge", "services:\n  a:\n    image: x\n    depends_on: {b: {condition: service_started}}\n  b:\n    image: x\n",
			[]string{`service "a" { image = "x" depends_on = [service.b] }`}, nil},
		{"service_healthy takes the dependency's healthcheck", "services:\n  a:\n    image: x\n    depends_on: {b: {condition: service_healthy}}\n  b:\n    image: x\n    healthcheck:\n      test: [\"CMD\", \"check\", \"--fast\"]\n      interval: 2s\n      retries: 5\n      start_period: 10s\n",
			[]string{`ready { exec = ["check", "--fast"] interval = "2s" timeout = "20s" }`}, nil},
		{"service_healthy without a healthcheck is warned", "services:\n  a:\n    image: x\n    depends_on: {b: {condition: service_healthy}}\n  b:\n    image: x\n",
			[]string{`depends_on = [service.b]`},
			[]string{"service b: a dependent waits for service_healthy, but it has no healthcheck in the file (the image's HEALTHCHECK is not read); envctl's default readiness applies: its ports accept TCP, or it runs"}},
		{"service_completed_successfully makes a job", "services:\n  a:\n    image: x\n    depends_on: {m: {condition: service_completed_successfully}}\n  m:\n    image: x\n    healthcheck: {test: [CMD, x]}\n",
			[]string{`service "m" { # envctl: healthcheck not used`, `run = "once" }`}, nil},
		{"CMD-SHELL runs /bin/sh", "services:\n  a:\n    image: x\n    healthcheck: {test: [CMD-SHELL, \"my-check -f http://localhost || exit 1\"]}\n",
			[]string{`exec = ["/bin/sh", "-c", "my-check -f http://localhost || exit 1"]`, `timeout = "1m30s"`}, nil},
		{"string test is CMD-SHELL", "services:\n  a:\n    image: x\n    healthcheck: {test: my-check, interval: 1m}\n",
			[]string{`exec = ["/bin/sh", "-c", "my-check"] interval = "1m" timeout = "3m"`}, nil},
		{"NONE and disable give no ready block", "services:\n  a:\n    image: x\n    healthcheck: {test: [NONE]}\n  b:\n    image: x\n    healthcheck: {disable: true, test: [CMD, x]}\n",
			[]string{`# envctl: healthcheck disabled; no ready block image = "x" }`}, nil},
		{"resources from deploy and the old keys", "services:\n  a:\n    image: x\n    deploy: {resources: {limits: {cpus: '0.25', memory: 1536m}}}\n  b:\n    image: x\n    cpus: 2\n    mem_limit: 1000000\n",
			[]string{`resources { cpus = 0.25 memory = "1536MiB" }`, `resources { cpus = 2 memory = 1000000 }`}, nil},
		{"labels list form", "services:\n  a:\n    image: x\n    labels: [a.b=c, flag]\n",
			[]string{`labels = { "a.b" = "c" flag = "" }`}, nil},
		{"build mapping", "services:\n  a:\n    build: {context: ., dockerfile: Dockerfile.dev, args: {V: \"1\"}, target: dev, cache_from: [a/b:cache], ssh: [default]}\n",
			[]string{`build { context = "." dockerfile = "Dockerfile.dev" args = { V = "1" } target = "dev" cache_from = ["a/b:cache"] }`},
			[]string{"service a: build.ssh is not supported; dropped (envctl builds with context, dockerfile, args, target and cache_from)"}},
		{"names made DNS-safe", "services:\n  My_DB:\n    image: x\n  app:\n    image: x\n    depends_on: [My_DB]\n",
			[]string{`service "my-db" {`, `depends_on = [service.my-db]`}, nil},
		{"static fields take the default", "services:\n  a:\n    image: x\n    ports: [\"${PORT:-8080}\"]\n",
			[]string{`ports = { http = 8080 }`},
			[]string{`service a: ports: variable PORT is fixed to its default "8080", since envctl needs a fixed value here`}},
		{"unsupported keys and extensions", "x-top: 1\nservices:\n  a:\n    image: x\n    x-meta: 2\n    privileged: true\n    mac_address: 02:42:ac:11:65:43\n",
			[]string{"# envctl: x-top is an extension field; ignored", "# envctl: privileged is not supported; dropped (envctl does not run privileged containers; cap_add gives single capabilities)"},
			[]string{"service a: mac_address is not supported; dropped (addresses come from the environment's network)", "service a: x-meta is an extension field; ignored"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, notes := convert(t, tt.src)
			for _, w := range tt.want {
				if !strings.Contains(squash(got), squash(w)) {
					t.Errorf("got HCL\n%s\nwant it to contain %q", got, w)
				}
			}
			for _, w := range tt.notes {
				found := false
				for _, n := range notes {
					found = found || n == w
				}
				if !found {
					t.Errorf("got notes %q, want one %q", notes, w)
				}
			}
		})
	}
}

// TestWarnFlags checks which notes are warnings: dropped things are, ignored extensions not.
func TestWarnFlags(t *testing.T) {
	res, err := Convert("c.yml", []byte("version: '3'\nx-a: 1\nservices:\n  s:\n    image: x\n    restart: always\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range res.Warnings() {
		got = append(got, n.String())
	}
	want := []string{"service s: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestErrors checks that bad input is an *Error naming the file and the line.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "services:\n  a:\n    image: [x\n", "f.yml:3: YAML does not parse"},
		{"bad indent", "services:\n  a:\n    image: x\n   bad: 1\n", "f.yml:4: YAML does not parse: did not find expected key"},
		{"top-level list", "- a\n", "f.yml:1:1: not a compose file: the top level is a list"},
		{"no services", "version: '3'\n", "f.yml:1:1: not a compose file: it has no services"},
		{"empty", "", "f.yml:1: not a compose file: it is empty"},
		{"repeated key", "services:\n  a: {image: x}\n  a: {image: y}\n", "f.yml:3:3: a is repeated; it was first given on line 2"},
		{"no image", "services:\n  a:\n    command: x\n", "f.yml:2:3: service a has neither image nor build"},
		{"unknown dependency", "services:\n  a:\n    image: x\n    depends_on: [db]\n", "f.yml:4:18: service a depends on db, which is not a service of this file"},
		{"unknown condition", "services:\n  a:\n    image: x\n    depends_on: {b: {condition: up}}\n  b: {image: x}\n", `f.yml:4:33: service a: depends_on b: unknown condition "up"`},
		{"ports not a list", "services:\n  a:\n    image: x\n    ports: 80\n", "f.yml:4:12: ports: want a list, got a scalar"},
		{"bad port", "services:\n  a:\n    image: x\n    ports: [\"99999\"]\n", `f.yml:4:13: service a: ports: "99999": "99999" is not a port`},
		{"unclosed quote", "services:\n  a:\n    image: x\n    command: echo 'a\n", "f.yml:4:14: service a: command: a single quote is not closed"},
		{"static var without default", "services:\n  a:\n    image: x\n    ports: [\"${P}\"]\n", "f.yml:4:13: ports: ${P} has no default and no value in .env"},
		{"undeclared volume", "services:\n  a:\n    image: x\n    volumes: [data:/d]\n", "f.yml:4:15: service a: volumes: volume data is not declared in the top-level volumes"},
		{"undeclared secret", "services:\n  a:\n    image: x\n    secrets: [pw]\n", "f.yml:4:15: service a: secrets: pw is not declared in the top-level secrets"},
		{"extends unknown", "services:\n  a:\n    extends: b\n", "f.yml:3:14: service a extends b, which is not a service of this file"},
		{"extends loop", "services:\n  a:\n    extends: b\n  b:\n    extends: a\n", "f.yml:3:5: service a: extends goes deeper than 20 services (a loop?)"},
		{"extends other file without reading", "services:\n  a:\n    extends: {file: b.yml, service: b}\n", "f.yml:3:21: service a: extends file"},
		{"service name too long for a container", "services:\n  " + strings.Repeat("s", 62) + ":\n    image: x\n", "f.yml:2:3: service " + strings.Repeat("s", 62) + ": its name is 62 characters"},
		{"bad interpolation", "services:\n  a:\n    image: \"${\"\n", "f.yml:3:12: invalid interpolation"},
		{"name collision", "services:\n  a_b: {image: x}\n  a-b: {image: x}\n", `f.yml:3:3: service "a-b" becomes "a-b", as does service "a_b"`},
		{"bad memory", "services:\n  a:\n    image: x\n    mem_limit: lots\n", `f.yml:4:16: service a: mem_limit: "lots" is not a memory size`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Convert("f.yml", []byte(tt.src), Options{})
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("got error %v, want an *Error", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %q, want it to start with %q", err.Error(), tt.want)
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a b  c", []string{"a", "b", "c"}},
		{`'a b' "c d"`, []string{"a b", "c d"}},
		{`"a\"b\\c\d"`, []string{`a"b\c\d`}},
		{`a\ b`, []string{"a b"}},
		{`''`, []string{""}},
		{"--log ${X:-a b} z", []string{"--log", "${X:-a b}", "z"}},
		{"a \\\n b", []string{"a", "b"}},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if err != nil {
			t.Errorf("splitWords(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("splitWords(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, bad := range []string{`'a`, `"a`, `a\`} {
		if _, err := splitWords(bad); err == nil {
			t.Errorf("splitWords(%q): got no error, want one", bad)
		}
	}
}

func TestUnits(t *testing.T) {
	sizes := map[string]int64{"512m": 512 << 20, "1g": 1 << 30, "1gb": 1 << 30, "100": 100, "64M": 64 << 20, "1.5k": 1536}
	for in, want := range sizes {
		if got, err := parseDockerSize(in); err != nil || got != want {
			t.Errorf("parseDockerSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	durs := map[time.Duration]string{90 * time.Second: "1m30s", time.Hour: "1h", 500 * time.Millisecond: "500ms", 0: "0s", 26 * time.Hour: "26h"}
	for in, want := range durs {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", in, got, want)
		}
	}
	names := map[string]string{"Web_App": "web-app", "a.b": "a-b", "__x__": "x", "ok-1": "ok-1"}
	for in, want := range names {
		if got := envs.DNSName(in); got != want {
			t.Errorf("envs.DNSName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeterministic converts the same file twice: the output must not depend on map order.
func TestDeterministic(t *testing.T) {
	src := "services:\n  a:\n    image: ${A}${B}${C}${D}\n    environment: {K1: 1, K2: 2, K3: 3, K4: 4, K5: 5}\n    labels: {l1: a, l2: b, l3: c}\n"
	first, _ := convert(t, src)
	for i := 0; i < 20; i++ {
		if got, _ := convert(t, src); got != first {
			t.Fatalf("conversion %d differs from the first:\n%s\nvs\n%s", i, got, first)
		}
	}
}

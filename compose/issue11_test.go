package compose

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// project converts files (name => content, the first named file first) with a ReadFile over
// the same map, as the CLI does over the disk.
func project(t *testing.T, order []string, files map[string]string) (*Result, string, []string) {
	t.Helper()
	dir := t.TempDir()
	read := func(p string) ([]byte, error) {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil, err
		}
		if src, ok := files[filepath.ToSlash(rel)]; ok {
			return []byte(src), nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	var in []File
	for _, name := range order {
		in = append(in, File{Name: filepath.Join(dir, name), Src: []byte(files[name])})
	}
	res, err := ConvertFiles(in, Options{OutDir: dir, ReadFile: read})
	if err != nil {
		t.Fatalf("ConvertFiles: %v", err)
	}
	var notes []string
	for _, n := range res.Notes {
		notes = append(notes, n.String())
	}
	return res, squash(string(res.HCL)), notes
}

func wantAll(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, squash(w)) {
			t.Errorf("got HCL\n%s\nwant it to contain %q", got, w)
		}
	}
}

func wantNone(t *testing.T, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, squash(w)) {
			t.Errorf("got HCL\n%s\nwant it not to contain %q", got, w)
		}
	}
}

// TestAttributes converts the Compose keys of issue 11 into the attributes of attrs.md.
func TestAttributes(t *testing.T) {
	res, got, notes := project(t, []string{"compose.yml"}, map[string]string{"compose.yml": `
services:
  db:
    image: postgres:16
    user: "999:999"
    working_dir: /var/lib/postgresql
    hostname: db1
    init: true
    shm_size: 256mb
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    extra_hosts: ["host.example:10.0.0.1", "other.example=10.0.0.2"]
    ulimits:
      nofile: {soft: 1024, hard: 65536}
      nproc: 4096
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    profiles: [debug]
    env_file: [./db.env, {path: ./more.env, required: true}]
    networks:
      back:
        aliases: [database, pg]
    tmpfs: ["/run:size=64m", /tmp]
    volumes:
      - ./init/schema.sql:/docker-entrypoint-initdb.d/schema.sql:ro
      - ./data:/seed
      - db-data:/var/lib/postgresql/data
      - /var/lib/anon
      - type: tmpfs
        target: /cache
        tmpfs: {size: 1g}
      - type: bind
        source: ./conf
        target: /etc/conf
        read_only: true
    secrets:
      - db_password
      - source: api_key
        target: key
        mode: 0440
    configs: [app_conf]
  cache:
    image: redis
    read_only: true
    tmpfs: /data
networks:
  back: {}
volumes:
  db-data: {}
secrets:
  db_password:
    file: ./secrets/db_password.txt
  api_key:
    environment: API_KEY
configs:
  app_conf:
    file: ./conf/app.conf
`})
	wantAll(t, got,
		`user = "999:999" working_dir = "/var/lib/postgresql" hostname = "db1"`,
		`profiles = ["debug"]`,
		`env_file = ["./db.env", "./more.env"]`,
		`aliases = ["database", "pg"]`,
		`init = true shm_size = "256MiB" cap_add = ["NET_ADMIN"] cap_drop = ["ALL"]`,
		`service "cache" { image = "redis" read_only = true mount { type = "tmpfs" target = "/data" } }`,
		`extra_hosts = { "host.example" = "10.0.0.1" "other.example" = "10.0.0.2" }`,
		`ulimits = { nofile = "1024:65536" nproc = "4096" }`,
		`stop_signal = "SIGINT" stop_grace_period = "1m30s"`,
		`mount { type = "tmpfs" target = "/run" size = "64MiB" }`,
		`mount { type = "tmpfs" target = "/tmp" }`,
		`mount { type = "bind" source = "./init/schema.sql" target = "/docker-entrypoint-initdb.d/schema.sql" }`,
		`mount { type = "bind" source = "./data" target = "/seed" read_only = false }`,
		`mount { type = "volume" source = "db-data" target = "/var/lib/postgresql/data" }`,
		`mount { type = "volume" source = "db-var-lib-anon" target = "/var/lib/anon" }`,
		`mount { type = "tmpfs" target = "/cache" size = "1GiB" }`,
		`mount { type = "bind" source = "./conf" target = "/etc/conf" }`,
		`mount { type = "bind" source = "./conf/app.conf" target = "/app_conf" }`,
		`secret "db_password" { file = "./secrets/db_password.txt" }`,
		`secret "api_key" { value = var.API_KEY target = "/run/secrets/key" mode = "0440" }`,
		`variable "API_KEY" { type = string description = "Compose variable API_KEY of compose.yml: the content of secret api_key" sensitive = true }`,
	)
	if len(res.Warnings()) != 1 || !strings.Contains(res.Warnings()[0].Text, "top-level networks") {
		t.Errorf("got warnings %v, want only the one about networks (every key here carries over)", res.Warnings())
	}
	_ = notes
}

// TestDotenv: the .env beside the file gives variables their values, for interpolation and
// for fixed fields, but a sensitive value is not copied into the file.
func TestDotenv(t *testing.T) {
	res, got, _ := project(t, []string{"compose.yml"}, map[string]string{
		".env": "COMPOSE_PROJECT_NAME=temporal\nTEMPORAL_VERSION=1.22.3\nPOSTGRES_PASSWORD=temporal\nPGADMIN_PW=changeit\nDATA=./pgdata # where\nEMPTY=\n",
		"compose.yml": `
services:
  db:
    image: temporalio/auto-setup:${TEMPORAL_VERSION}
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
      PGADMIN_DEFAULT_PASSWORD: ${PGADMIN_PW}
      MODE: ${EMPTY:-fallback}
      TEMPORAL_VERSION:
    volumes: ["${DATA}:/var/lib/postgresql/data"]
`})
	wantAll(t, got,
		`name = "temporal"`,
		`variable "TEMPORAL_VERSION" { type = string default = "1.22.3"`,
		`variable "POSTGRES_PASSWORD" { type = string description = "Compose variable POSTGRES_PASSWORD of compose.yml; its value is in .env, not copied here because it is sensitive" sensitive = true }`,
		`image = "temporalio/auto-setup:${var.TEMPORAL_VERSION}"`,
		`MODE = var.EMPTY != "" ? var.EMPTY : "fallback"`,
		`TEMPORAL_VERSION = var.TEMPORAL_VERSION`,
		`mount { type = "bind" source = "./pgdata" target = "/var/lib/postgresql/data" read_only = false }`,
	)
	wantNone(t, got, `default = "temporal"`, `default = "./pgdata"`, `changeit`)
	if want := "PGADMIN_PW,POSTGRES_PASSWORD"; strings.Join(res.FromDotenv, ",") != want || strings.Join(res.Required, ",") != want {
		t.Errorf("got FromDotenv %q, Required %q; want %s in both", res.FromDotenv, res.Required, want)
	}
	for _, w := range res.Warnings() {
		if strings.Contains(w.Text, "TEMPORAL_VERSION has no value") {
			t.Errorf("a value-less key that .env has is warned: %s", w)
		}
	}
}

// TestValuelessKey: a value-less environment key (appwrite's _APP_DOMAIN) does not take a
// default another line gives the same variable.
func TestValuelessKey(t *testing.T) {
	_, got, _ := project(t, []string{"compose.yml"}, map[string]string{"compose.yml": `
services:
  appwrite:
    image: appwrite/appwrite
    environment:
      - _APP_DOMAIN
  worker:
    image: appwrite/appwrite
    environment:
      - _APP_DOMAIN_TARGET=${_APP_DOMAIN:-localhost}
`})
	wantAll(t, got,
		`variable "_APP_DOMAIN" { type = string default = ""`,
		`_APP_DOMAIN = var._APP_DOMAIN`,
		`_APP_DOMAIN_TARGET = var._APP_DOMAIN != "" ? var._APP_DOMAIN : "localhost"`,
	)
	wantNone(t, got, `default = "localhost"`)
}

// TestFixedVariable: a variable a fixed field needs (depends_on) is fixed everywhere, so that
// the env and the edge cannot disagree.
func TestFixedVariable(t *testing.T) {
	res, got, _ := project(t, []string{"compose.yml"}, map[string]string{"compose.yml": `
services:
  appwrite:
    image: appwrite/appwrite
    depends_on:
      - ${_APP_DB_HOST:-postgresql}
    environment:
      _APP_DB_HOST: ${_APP_DB_HOST:-postgresql}
  postgresql:
    image: postgres
`})
	wantAll(t, got, `depends_on = [service.postgresql]`, `_APP_DB_HOST = "postgresql"`)
	wantNone(t, got, `variable "_APP_DB_HOST"`)
	found := false
	for _, w := range res.Warnings() {
		found = found || strings.Contains(w.Text, `variable _APP_DB_HOST is fixed to its default "postgresql"`)
	}
	if !found {
		t.Errorf("got warnings %v, want one saying _APP_DB_HOST is fixed", res.Warnings())
	}
}

// TestHostPortNeverFails: the host side of a port is dropped, so a variable there without a
// default does not fail the import.
func TestHostPortNeverFails(t *testing.T) {
	_, got, _ := project(t, []string{"compose.yml"}, map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    ports: ["${HOST_IP}:${HOST_PORT}:80", "${EXPOSE-:2283:2283}", {target: 9000, published: "${P}"}]
`})
	wantAll(t, got, `ports = { http = 80 p2283 = 2283 p9000 = 9000 }`)
	wantNone(t, got, `variable "HOST_PORT"`, `variable "P"`)
}

// TestExtends: extends of a service of the same file and of another file, merged as Compose
// merges them; relative paths of the other file stay relative to it.
func TestExtends(t *testing.T) {
	_, got, _ := project(t, []string{"compose.yml"}, map[string]string{
		"compose.yml": `
services:
  base:
    image: app:1
    environment: {A: "1", B: "1"}
    command: serve
  web:
    extends: base
    environment: [B=2]
    ports: ["8080"]
  db:
    extends:
      file: common/services.yml
      service: postgres
    environment: {POSTGRES_DB: app}
`,
		"common/services.yml": `
services:
  postgres:
    image: postgres:16
    environment: {POSTGRES_USER: app}
    volumes: ["./init.sql:/docker-entrypoint-initdb.d/init.sql:ro"]
    build: ./pg
`})
	wantAll(t, got,
		`service "web" { image = "app:1" command = ["serve"] env = { A = "1" B = "2" } ports = { http = 8080 } }`,
		`service "db" { image = "postgres:16" build { context = "./common/pg" } env = { POSTGRES_DB = "app" POSTGRES_USER = "app" }`,
		`source = "./common/init.sql"`,
	)
}

// TestMergeFiles: -f base -f overlay, merged as Compose merges them.
func TestMergeFiles(t *testing.T) {
	_, got, _ := project(t, []string{"base.yml", "overlay.yml"}, map[string]string{
		"base.yml": `
services:
  api:
    image: api:1
    command: [serve, --port, "8080"]
    environment: [MODE=base, LOG=info]
    ports: ["8080"]
    volumes: ["./a:/data", "./conf:/conf"]
    depends_on: [db]
    labels: {team: core}
  db:
    image: postgres:16
`,
		"overlay.yml": `
services:
  api:
    image: api:2
    command: [serve, --debug]
    environment: {MODE: overlay}
    ports: ["9229"]
    volumes: ["./b:/data"]
    depends_on:
      cache: {condition: service_started}
    labels: !reset {}
  cache:
    image: redis
`})
	wantAll(t, got,
		`image = "api:2" command = ["serve", "--debug"] depends_on = [service.db, service.cache] env = { LOG = "info" MODE = "overlay" } ports = { http = 8080 p9229 = 9229 }`,
		`source = "./conf" target = "/conf"`,
		`source = "./b" target = "/data"`,
		`service "cache" {`,
	)
	wantNone(t, got, `source = "./a"`, `team = "core"`)
}

// TestOneShots: service_completed_successfully and profile-only tasks run once.
func TestOneShots(t *testing.T) {
	res, got, _ := project(t, []string{"compose.yml"}, map[string]string{"compose.yml": `
services:
  migrations:
    image: kong
    command: kong migrations bootstrap
    profiles: [database]
    restart: on-failure
  seed:
    image: seed
  api:
    image: api
    restart: always
    depends_on:
      seed: {condition: service_completed_successfully}
`})
	wantAll(t, got,
		`service "migrations" { # envctl: run = "once": a profile-only service that restarts on-failure`,
		`service "seed" { image = "seed" run = "once" }`,
	)
	var warned []string
	for _, w := range res.Warnings() {
		warned = append(warned, w.String())
	}
	if len(warned) != 1 || !strings.HasPrefix(warned[0], "service api: restart always is not supported") {
		t.Errorf("got warnings %q, want only api's restart", warned)
	}
}

// TestLongNames: the container name ENVIRONMENT-SERVICE fits 63 characters: a long project
// name is cut at import (said), a service name that cannot fit is an error.
func TestLongNames(t *testing.T) {
	svc := strings.Repeat("s", 52)
	res, got, _ := project(t, []string{"compose.yml"}, map[string]string{"compose.yml": "name: temporal-docker-compose\nservices:\n  " + svc + ":\n    image: x\n"})
	wantAll(t, got, `name = "temporal-d"`)
	if w := res.Warnings(); len(w) != 1 || !strings.Contains(w[0].Text, "environment name temporal-docker-compose is cut to temporal-d:") {
		t.Errorf("got warnings %v, want the cut said", w)
	}
}

// TestNoSilentDrop: every key of the Compose specification's service is carried, warned
// with a reason, or an error; none leaves no trace.
func TestNoSilentDrop(t *testing.T) {
	keys := strings.Fields(`annotations attach blkio_config cpu_count cpu_percent cpu_shares cpu_period
		cpu_quota cpu_rt_runtime cpu_rt_period cpuset cgroup cgroup_parent credential_spec develop
		device_cgroup_rules devices dns dns_opt dns_search domainname driver_opts external_links gpus
		group_add ipc isolation label_file links logging mac_address mem_reservation mem_swappiness
		memswap_limit network_mode oom_kill_disable oom_score_adj pid pids_limit platform post_start
		pre_stop privileged provider pull_policy runtime scale security_opt stdin_open storage_opt
		sysctls tty use_api_socket userns_mode uts volumes_from`)
	for _, k := range keys {
		src := "services:\n  a:\n    image: x\n    " + k + ": 1\n"
		if k == "links" {
			src = "services:\n  a:\n    image: x\n    links: [b:c]\n  b:\n    image: x\n"
		}
		res, err := Convert("c.yml", []byte(src), Options{})
		if err != nil {
			continue // an error says it
		}
		found := false
		for _, n := range res.Notes {
			found = found || (n.Warn && strings.Contains(n.Text, strings.SplitN(k, "_", 2)[0]))
		}
		if !found {
			t.Errorf("%s: no warning (notes %v)", k, res.Notes)
		}
	}
}

// TestCLIReadsDotenvFromDisk keeps Options.ReadFile honest with os.ReadFile.
func TestCLIReadsDotenvFromDisk(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("TAG=7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Convert(filepath.Join(dir, "c.yml"), []byte("services:\n  a:\n    image: app:${TAG}\n"), Options{ReadFile: os.ReadFile})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.HCL), `default     = "7"`) {
		t.Errorf("got\n%s\nwant TAG's default 7 from .env", res.HCL)
	}
}

// TestReadOnlyWithFiles: envctl copies mounted project files into the container before it
// starts, which a read-only root filesystem refuses: read_only is dropped, said.
func TestReadOnlyWithFiles(t *testing.T) {
	res, got, _ := project(t, []string{"compose.yml"}, map[string]string{"compose.yml": "services:\n  kong:\n    image: kong\n    read_only: true\n    volumes: [./config:/opt/kong]\n"})
	wantNone(t, got, `read_only = true`)
	if w := res.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0].Text, "read_only dropped: envctl copies mounted project files (./config)") {
		t.Errorf("got warnings %v, want read_only's", w)
	}
}

// TestInclude: a top-level include adds the included file's services and volumes, its
// relative paths relative to its own directory; a service both define is an error.
func TestInclude(t *testing.T) {
	_, got, _ := project(t, []string{"compose.yml"}, map[string]string{
		"compose.yml":  "include:\n  - infra/db.yml\nservices:\n  api:\n    image: api\n    depends_on: [db]\n",
		"infra/db.yml": "services:\n  db:\n    image: postgres\n    volumes: [./init.sql:/docker-entrypoint-initdb.d/init.sql, data:/var/lib/postgresql/data]\nvolumes:\n  data: {}\n",
	})
	wantAll(t, got, `service "api" { image = "api" depends_on = [service.db] }`,
		`source = "./infra/init.sql"`, `mount { type = "volume" source = "data"`)
}

func TestIncludeConflict(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "db.yml"), []byte("services:\n  db:\n    image: postgres\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "include: [db.yml]\nservices:\n  db:\n    image: mysql\n"
	_, err := Convert(filepath.Join(dir, "compose.yml"), []byte(src), Options{ReadFile: os.ReadFile})
	if err == nil || !strings.Contains(err.Error(), "db.yml:2:3: service db of the included db.yml is also defined by the including file") {
		t.Errorf("got %v, want the conflict named", err)
	}
}

// TestHostile: merge keys fanning out through aliases (3^19 merges without sharing) convert
// at once, and defaults nested past any real file's depth are an error, not a long run.
func TestHostile(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &a0 {k0: 1}\n")
	for i := 1; i < 19; i++ {
		fmt.Fprintf(&b, "x%d: &a%d {<<: [*a%d, *a%d, *a%d], k%d: 1}\n", i, i, i-1, i-1, i-1, i)
	}
	b.WriteString("services:\n  a:\n    image: x\n    labels: *a18\n")
	res, err := Convert("c.yml", []byte(b.String()), Options{})
	if err != nil {
		t.Fatalf("fan-out: %v", err)
	}
	if !strings.Contains(string(res.HCL), "k18") || !strings.Contains(string(res.HCL), "k0") {
		t.Errorf("fan-out: labels k0..k18 missing:\n%s", res.HCL)
	}
	nest := "services:\n  a:\n    image: \"" + strings.Repeat("${A:-", 40) + "x" + strings.Repeat("}", 40) + "\"\n"
	if _, err := Convert("c.yml", []byte(nest), Options{}); err == nil || !strings.Contains(err.Error(), "c.yml:3:12: interpolation: defaults nest more than 16 deep") {
		t.Errorf("nested defaults: got %v, want the depth error", err)
	}
}

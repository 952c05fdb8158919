package compose

import (
	"strings"
	"testing"
)

// TestHealthcheckProbes: the common healthcheck commands become envctl's probes, in every form
// people write them (CMD, CMD-SHELL, a string, sh -c, "|| exit 1", variables), on a declared
// port (made when the file declares none); the rest stay exec checks with Compose's semantics.
func TestHealthcheckProbes(t *testing.T) {
	svc := func(image, test string, extra ...string) string {
		return "services:\n  s:\n    image: " + image + "\n" + strings.Join(extra, "") + "    healthcheck:\n      test: " + test + "\n"
	}
	tests := []struct {
		name string
		src  string
		want []string // each must appear, blanks squashed
		not  []string // none may appear
	}{
		{"pg_isready CMD", svc("postgres", `["CMD", "pg_isready"]`),
			[]string{`ports = { pg = 5432 }`, `ready { postgres { port = "pg" } timeout = "1m30s" }`, `# envctl: healthcheck "pg_isready" is checked by envctl's postgres probe`}, []string{"exec"}},
		{"pg_isready with user, database, host, port on a declared port", svc("postgres", `["CMD-SHELL", "pg_isready -U app -d shop -h localhost -p 5433 || exit 1"]`, "    ports: [\"5433\"]\n"),
			[]string{`ports = { p5433 = 5433 }`, `postgres { port = "p5433" user = "app" database = "shop" }`}, []string{"exec"}},
		{"pg_isready with Compose variables", svc("postgres", `["CMD", "pg_isready", "-U", "${PGUSER:-kong}"]`),
			[]string{`postgres { port = "pg" user = var.PGUSER }`}, nil},
		{"pg_isready with a shell variable from the service's environment", svc("postgres", `["CMD-SHELL", "pg_isready -U $${POSTGRES_USER} -d $$POSTGRES_DB"]`, "    environment: {POSTGRES_USER: app, POSTGRES_DB: shop}\n"),
			[]string{`postgres { port = "pg" user = "app" database = "shop" }`}, nil},
		{"pg_isready against another host stays exec", svc("postgres", `["CMD", "pg_isready", "-h", "db"]`),
			[]string{`exec = ["pg_isready", "-h", "db"]`}, []string{"postgres {"}},
		{"mysqladmin ping", svc("mysql", `["CMD", "mysqladmin", "ping", "-h", "127.0.0.1", "--silent"]`),
			[]string{`ports = { mysql = 3306 }`, `mysql { port = "mysql" }`}, []string{"exec"}},
		{"mariadb-admin ping with a password", svc("mariadb", `["CMD-SHELL", "mariadb-admin ping -uroot -p\"$${MYSQL_ROOT_PASSWORD}\" -P 3307"]`),
			[]string{`ports = { mysql = 3307 }`, `mysql { port = "mysql" }`}, []string{"exec"}},
		{"healthcheck.sh --connect", svc("mariadb", `["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"]`),
			[]string{`mysql { port = "mysql" }`}, nil},
		{"redis-cli ping", svc("redis", `redis-cli ping || exit 1`),
			[]string{`ports = { redis = 6379 }`, `redis { port = "redis" }`}, []string{"exec"}},
		{"redis-cli piped to grep", svc("redis", `["CMD-SHELL", "redis-cli -p 6380 ping | grep PONG"]`),
			[]string{`ports = { redis = 6380 }`, `redis { port = "redis" }`}, nil},
		{"redis-cli with a password variable", svc("redis", `["CMD", "redis-cli", "-a", "${REDIS_PASSWORD}", "ping"]`),
			[]string{`redis { port = "redis" password = var.REDIS_PASSWORD }`}, nil},
		{"redis-cli with a literal password", svc("redis", `["CMD", "redis-cli", "-a", "hunter2", "ping"]`),
			[]string{`redis { port = "redis" password = "hunter2" }`}, []string{"exec"}},
		{"redis-cli --raw incr ping", svc("redis", `["CMD", "redis-cli", "--raw", "incr", "ping"]`),
			[]string{`redis { port = "redis" }`}, []string{"exec"}},
		{"redis-cli of another command stays exec", svc("redis", `["CMD", "redis-cli", "info", "replication"]`),
			[]string{`exec = ["redis-cli", "info", "replication"]`}, []string{"redis {"}},
		{"redis-cli ping twice stays exec", svc("redis", `["CMD", "redis-cli", "ping", "ping"]`),
			[]string{`exec = ["redis-cli", "ping", "ping"]`}, []string{"redis {"}},
		{"rabbitmq-diagnostics -q check_port_connectivity", svc("rabbitmq", `["CMD", "rabbitmq-diagnostics", "-q", "check_port_connectivity"]`),
			[]string{`ports = { amqp = 5672 }`, `amqp { port = "amqp" }`}, nil},
		{"rabbitmq-diagnostics ping in a string", svc("rabbitmq", `rabbitmq-diagnostics ping`), []string{`amqp { port = "amqp" }`}, nil},
		{"rabbitmqctl status", svc("rabbitmq", `["CMD", "rabbitmqctl", "status"]`), []string{`amqp { port = "amqp" }`}, nil},
		{"rabbitmq-diagnostics of a cluster check stays exec", svc("rabbitmq", `["CMD", "rabbitmq-diagnostics", "check_if_node_is_quorum_critical"]`),
			[]string{`exec = ["rabbitmq-diagnostics"`}, nil},
		{"grpc_health_probe", svc("app", `["CMD", "/bin/grpc_health_probe", "-addr=:50051", "-service=shop.Cart"]`),
			[]string{`ports = { grpc = 50051 }`, `grpc { port = "grpc" service = "shop.Cart" }`}, nil},
		{"curl -f", svc("app", `["CMD", "curl", "-f", "http://localhost:8080/healthz"]`),
			[]string{`ports = { http = 8080 }`, `http { port = "http" path = "/healthz" }`, `the probe wants HTTP 200`}, nil},
		{"curl without scheme, || exit 1", svc("app", `["CMD-SHELL", "curl --silent --fail localhost:9200/_cluster/health || exit 1"]`, "    ports: [\"9200:9200\"]\n"),
			[]string{`ports = { p9200 = 9200 }`, `http { port = "p9200" path = "/_cluster/health" }`}, nil},
		{"curl without -f stays exec", svc("app", `["CMD", "curl", "http://localhost/"]`), []string{`exec = ["curl", "http://localhost/"]`}, nil},
		{"curl with credentials stays exec", svc("app", `["CMD", "curl", "-f", "--user", "admin:admin", "http://localhost:8161/admin"]`), []string{`exec = ["curl"`}, nil},
		{"curl piped to grep stays exec", svc("app", `["CMD-SHELL", "curl -s localhost:3000/health | grep -q OK || exit 1"]`), []string{`exec = ["/bin/sh"`}, nil},
		{"wget --spider", svc("app", `["CMD", "wget", "--no-verbose", "--tries=1", "--spider", "http://localhost:8000/health"]`),
			[]string{`ports = { http = 8000 }`, `http { port = "http" path = "/health" }`}, nil},
		{"wget -q -O-", svc("app", `wget -q -O- http://127.0.0.1:3000/ready || exit 1`), []string{`http { port = "http" path = "/ready" }`}, nil},
		{"nc -z", svc("app", `["CMD", "nc", "-z", "localhost", "9092"]`), []string{`ports = { p9092 = 9092 }`, `tcp = "p9092"`}, nil},
		{"echo stats | nc: memcached", svc("memcached", `["CMD-SHELL", "echo stats | nc localhost 11211"]`),
			[]string{`ports = { memcached = 11211 }`, `memcached { port = "memcached" }`}, nil},
		{"mongosh --eval ping", svc("mongo", `["CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping')"]`),
			[]string{`ports = { mongodb = 27017 }`, `mongodb { port = "mongodb" }`}, nil},
		{"echo ping script | mongo", svc("mongo", `echo 'db.runCommand("ping").ok' | mongo localhost:27018/test --quiet`),
			[]string{`ports = { mongodb = 27018 }`, `mongodb { port = "mongodb" }`}, nil},
		{"other commands and shell constructs stay exec", svc("app", `["CMD-SHELL", "pg_isready && redis-cli ping"]`),
			[]string{`exec = ["/bin/sh", "-c", "pg_isready && redis-cli ping"]`}, []string{"postgres {", "redis {"}},
		{"a probe on a port named by the file", "services:\n  s:\n    image: postgres\n    ports: [{target: 5432, name: db}]\n    healthcheck: {test: [CMD, pg_isready], interval: 5s, timeout: 3s, retries: 10}\n",
			[]string{`ports = { db = 5432 }`, `ready { postgres { port = "db" } timeout = "50s" }`}, []string{"interval", "attempt_timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := convert(t, tt.src)
			for _, w := range tt.want {
				if !strings.Contains(squash(got), squash(w)) {
					t.Errorf("got HCL\n%s\nwant it to contain %q", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("got HCL\n%s\nwant no %q", got, w)
				}
			}
		})
	}
}

// TestHealthcheckExecKeepsCompose: a check that stays exec keeps Compose's limits: its timeout
// is the attempt_timeout; without one, envctl's exec default is Compose's 30 s (nothing
// written); interval, retries and start_period make the ready timeout as before.
func TestHealthcheckExecKeepsCompose(t *testing.T) {
	got, _ := convert(t, "services:\n  a:\n    image: x\n    healthcheck: {test: [CMD, my-check], interval: 10s, timeout: 45s, retries: 3, start_period: 20s}\n  b:\n    image: x\n    healthcheck: {test: [CMD, my-check]}\n")
	for _, w := range []string{
		`service "a" { image = "x" ready { exec = ["my-check"] interval = "10s" timeout = "50s" attempt_timeout = "45s" } }`,
		`service "b" { image = "x" ready { exec = ["my-check"] timeout = "1m30s" } }`,
	} {
		if !strings.Contains(squash(got), squash(w)) {
			t.Errorf("got HCL\n%s\nwant it to contain %q", got, w)
		}
	}
}

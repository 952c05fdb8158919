package envs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

// TestProtocolProbes loads each protocol probe's block into Ready.
func TestProtocolProbes(t *testing.T) {
	src := `variable "redis_password" {
  type      = string
  sensitive = true
  default   = "s3cr3t"
}
service "pg" {
  image = "postgres"
  ports = { pg = 5432, metrics = 9187 }
  ready {
    postgres {
      port     = "pg"
      user     = "app"
      database = "shop"
    }
    timeout = "90s"
  }
}
service "db" {
  image = "mariadb"
  ports = { db = 3306 }
  ready {
    mysql {}
  }
}
service "cache" {
  image = "redis"
  ports = { cache = 6379 }
  ready {
    redis {
      port     = "cache"
      password = var.redis_password
    }
  }
}
service "mq" {
  image = "rabbitmq"
  ports = { amqp = 5672 }
  ready {
    amqp { port = "amqp" }
    attempt_timeout = "1s"
  }
}
service "mc" {
  image = "memcached"
  ports = { mc = 11211 }
  ready {
    memcached {}
  }
}
service "api" {
  image = "api"
  ports = { grpc = 9090, http = 8080 }
  ready {
    grpc {
      port    = "grpc"
      service = "shop.Orders"
    }
  }
}
service "kafka" {
  image = "kafka"
  ports = { kafka = 9092 }
  ready {
    kafka {}
  }
}
service "mongo" {
  image = "mongo"
  ports = { mongo = 27017 }
  ready {
    mongodb { port = "mongo" }
  }
}
`
	env := mustLoad(t, src, Options{})
	want := map[string]Ready{
		"pg":    {Kind: ProbePostgres, Port: "pg", User: "app", Database: "shop", Timeout: 90e9},
		"db":    {Kind: ProbeMySQL, Port: "db", Timeout: DefaultReadyTimeout},
		"cache": {Kind: ProbeRedis, Port: "cache", Password: "s3cr3t", Timeout: DefaultReadyTimeout},
		"mq":    {Kind: ProbeAMQP, Port: "amqp", Timeout: DefaultReadyTimeout, AttemptTimeout: 1e9},
		"mc":    {Kind: ProbeMemcached, Port: "mc", Timeout: DefaultReadyTimeout},
		"api":   {Kind: ProbeGRPC, Port: "grpc", GRPCService: "shop.Orders", Timeout: DefaultReadyTimeout},
		"kafka": {Kind: ProbeKafka, Port: "kafka", Timeout: DefaultReadyTimeout},
		"mongo": {Kind: ProbeMongoDB, Port: "mongo", Timeout: DefaultReadyTimeout},
	}
	for name, w := range want {
		got := env.Service(name).Ready
		if diff := cmp.Diff(w, got, cmpopts.IgnoreTypes(hcl.Range{})); diff != "" {
			t.Errorf("service %s: ready (-want +got):\n%s", name, diff)
		}
		if !got.Kind.IsProtocol() {
			t.Errorf("service %s: %v is not a protocol probe", name, got.Kind)
		}
	}
	if k := env.Service("cache").Ready.Kind.String(); k != "redis" {
		t.Errorf("redis kind prints as %q", k)
	}
	for _, k := range []ProbeKind{ProbePorts, ProbeHTTP, ProbeTCP, ProbeExec, ProbeLog} {
		if k.IsProtocol() {
			t.Errorf("%v counts as a protocol probe", k)
		}
	}
}

func TestProtocolProbeDiagnostics(t *testing.T) {
	svc := func(ports, ready string) string {
		return "service \"a\" {\n  image = \"x\"\n  ports = " + ports + "\n  ready {\n" + ready + "\n  }\n}\n"
	}
	tests := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{
			name: "port omitted, two ports",
			src:  svc(`{ pg = 5432, metrics = 9187 }`, "    postgres {}"),
			want: []wantDiag{{"Missing port", `Service "a" declares 2 ports (metrics, pg): say which one the postgres probe connects to, like port = "metrics".`, 5}},
		},
		{
			name: "port omitted, no ports",
			src:  "service \"a\" {\n  image = \"x\"\n  ready {\n    redis {}\n  }\n}\n",
			want: []wantDiag{{"Missing port", `The redis probe of service "a" needs a port to connect to, and the service declares none.`, 4}},
		},
		{
			name: "unknown port",
			src:  svc(`{ cache = 6379 }`, "    redis { port = \"cahce\" }"),
			want: []wantDiag{{"Unknown port", `Did you mean "cache"?`, 5}},
		},
		{
			name: "two protocol probes",
			src:  svc(`{ db = 3306 }`, "    mysql {}\n    postgres {}"),
			want: []wantDiag{{"Invalid ready block", "A ready block needs exactly one probe: http, tcp, exec, log, postgres, mysql, redis, amqp, memcached, grpc, kafka or mongodb; this one has both mysql and postgres.", 4}},
		},
		{
			name: "protocol probe and tcp",
			src:  svc(`{ db = 3306 }`, "    tcp = \"db\"\n    mysql {}"),
			want: []wantDiag{{"Invalid ready block", "this one has both mysql and tcp.", 4}},
		},
		{
			name: "the same block twice",
			src:  svc(`{ mc = 11211 }`, "    memcached {}\n    memcached {}"),
			want: []wantDiag{{"Invalid ready block", "A ready block has at most one memcached block.", 6}},
		},
		{
			name: "unknown attribute",
			src:  svc(`{ mc = 11211 }`, "    memcached { user = \"x\" }"),
			want: []wantDiag{{"Unsupported argument", `An argument named "user" is not expected here.`, 5}},
		},
		{
			name: "empty postgres user",
			src:  svc(`{ pg = 5432 }`, "    postgres { user = \"\" }"),
			want: []wantDiag{{"Invalid ready block", "The postgres user must not be empty", 5}},
		},
		{
			name: "password not a string",
			src:  svc(`{ cache = 6379 }`, "    redis { password = [\"a\"] }"),
			want: []wantDiag{{"Incorrect attribute value type", "a string is required", 5}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := loadSrc(t, tt.src, Options{})
			checkDiags(t, diags, tt.want)
		})
	}
}

// TestRedisPasswordNotInDiagnostics: a mistake next to the password shows its source, never
// the value.
func TestRedisPasswordNotInDiagnostics(t *testing.T) {
	src := "variable \"pw\" {\n  sensitive = true\n  default = \"hunter2-secret\"\n}\nservice \"a\" {\n  image = \"x\"\n  ports = { cache = 6379 }\n  ready {\n    redis {\n      port = \"nope\"\n      password = var.pw\n    }\n  }\n}\n"
	_, _, diags := loadSrc(t, src, Options{})
	if !diags.HasErrors() {
		t.Fatal("no error for an unknown port")
	}
	if s := diagsString(diags); strings.Contains(s, "hunter2") {
		t.Errorf("the password is in the diagnostics:\n%s", s)
	}
}

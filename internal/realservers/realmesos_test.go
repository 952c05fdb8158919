package realservers

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/envctl/envctl/internal/mesoscluster"
	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/mesos"
	"github.com/envctl/envctl/provisioner/protocol"
)

// TestProbesOnRealMesos: every protocol probe against its real server as a task of a real
// Mesos 1.12 (../shared/mesos; the Docker containerizer), in one environment as a user writes
// it: envctl probes each task itself through its agent's host port (issue 16's readiness, no
// Mesos health check), each says ready on its protocol's own answer, and a real client's
// first operation through the same endpoint then succeeds, without retries.
func TestProbesOnRealMesos(t *testing.T) {
	t.Parallel()
	imgs := map[string]string{}
	for _, n := range []string{"postgres", "mariadb", "redis", "rabbitmq", "memcached"} {
		imgs[n] = realImage(t, n)
	}
	testimage.Need(t)
	grpcImg, err := testimage.Build(context.Background(), "grpchealth", "github.com/envctl/envctl/internal/realservers/grpchealth")
	if err != nil {
		t.Fatal(err)
	}
	url := mesoscluster.Master(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := mesos.New(ctx, mesos.Options{Master: url, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	src := fmt.Sprintf(`environment { name = %q }
service "db" {
  image = %q
  env   = { POSTGRES_USER = "app", POSTGRES_PASSWORD = "pw", POSTGRES_DB = "app" }
  command = ["postgres"]
  ports = { pg = 5432 }
  resources { memory = "256MiB" }
  ready {
    postgres {
      user     = "app"
      database = "app"
    }
    timeout = "3m"
  }
}
service "maria" {
  image = %q
  env   = { MARIADB_ROOT_PASSWORD = "root", MARIADB_DATABASE = "app", MARIADB_USER = "app", MARIADB_PASSWORD = "app" }
  ports = { sql = 3306 }
  resources { memory = "512MiB" }
  ready {
    mysql {}
    timeout = "3m"
  }
}
service "cache" {
  image   = %q
  command = ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--save", "", "--requirepass", "pw"]
  ports   = { redis = 6379 }
  ready {
    redis { password = "pw" }
  }
}
service "mq" {
  image = %q
  ports = { amqp = 5672 }
  resources { memory = "512MiB" }
  ready {
    amqp {}
    timeout = "3m"
  }
}
service "memo" {
  image = %q
  ports = { mc = 11211 }
  ready {
    memcached {}
  }
}
service "health" {
  image = %q
  env   = { NOT_SERVING_FOR = "3s" }
  ports = { grpc = 9090 }
  ready {
    grpc { service = "app" }
  }
}
`, unique("probes-realmesos"), imgs["postgres"], imgs["mariadb"], imgs["redis"], imgs["rabbitmq"], imgs["memcached"], grpcImg)
	res := upFile(t, ctx, b, src)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}

	for _, tc := range []struct {
		service, port, detail string
		early                 string // what an attempt before ready said (not ready early), for a server that takes its time
		client                func(ctx context.Context, addr string) error
	}{
		{"db", "pg", "SCRAM", "refused", func(ctx context.Context, addr string) error {
			db, err := sql.Open("postgres", "postgres://app:pw@"+addr+"/app?sslmode=disable&connect_timeout=5")
			if err != nil {
				return err
			}
			defer db.Close()
			var n int
			return db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
		}},
		{"maria", "sql", "MariaDB", "refused", func(ctx context.Context, addr string) error {
			return pingMySQL(ctx, addr, "5s")
		}},
		{"cache", "redis", "PONG", "", func(ctx context.Context, addr string) error {
			c := redis.NewClient(&redis.Options{Addr: addr, Password: "pw", MaxRetries: -1})
			defer c.Close()
			return c.Set(ctx, "k", "v", 0).Err()
		}},
		{"mq", "amqp", "Connection.Start", "refused", func(ctx context.Context, addr string) error {
			return useAMQP(ctx, addr, 5*time.Second)
		}},
		{"memo", "mc", "VERSION", "", func(ctx context.Context, addr string) error {
			ok, detail, err := provisioner.Direct.Protocol(ctx, addr, protocol.Params{Kind: protocol.Memcached})
			if err != nil || !ok {
				return fmt.Errorf("version: %v %q %v", ok, detail, err)
			}
			return nil
		}},
		{"health", "grpc", "SERVING", "NOT_SERVING", func(ctx context.Context, addr string) error {
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				return err
			}
			defer cc.Close()
			r, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: "app"})
			if err != nil {
				return err
			}
			if r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("health of app: %s", r.GetStatus())
			}
			return nil
		}},
	} {
		sr := res.Service(tc.service)
		if sr == nil {
			t.Errorf("%s: no result", tc.service)
			continue
		}
		t.Logf("%s: %d attempts; %s", tc.service, sr.Attempts, history(sr.Probes))
		if tc.early != "" && !sawEarly(sr.Probes, tc.early) {
			t.Errorf("%s: no attempt before ready said %q", tc.service, tc.early)
		}
		if who := sr.Instance.Labels[mesos.LabelReadiness]; who != mesos.ProbeEnvctl {
			t.Errorf("%s: readiness checked by %q, want envctl's own probe (%q)", tc.service, who, mesos.ProbeEnvctl)
		}
		if sr.LastProbe == nil || !sr.LastProbe.OK || !strings.Contains(sr.LastProbe.Detail, tc.detail) {
			t.Errorf("%s: the last probe of up: %+v, want ready on %q", tc.service, sr.LastProbe, tc.detail)
		}
		addr := sr.Instance.Published[tc.port]
		if addr == "" {
			t.Errorf("%s: no endpoint for port %s: %+v", tc.service, tc.port, sr.Instance.Published)
			continue
		}
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		if err := tc.client(cctx, addr); err != nil {
			t.Errorf("%s: a client's first operation at %s after up: %v", tc.service, addr, err)
		}
		ccancel()
	}
}

// history is a probe history with repeats folded: each distinct detail once, in order.
func history(ps []provisioner.ProbeResult) string {
	var b strings.Builder
	last := ""
	for _, p := range ps {
		if p.Detail != last {
			fmt.Fprintf(&b, "\n  #%d %v %q", p.Attempt, p.OK, p.Detail)
			last = p.Detail
		}
	}
	return b.String()
}

// sawEarly tells whether an attempt before the last one failed saying want.
func sawEarly(ps []provisioner.ProbeResult, want string) bool {
	for i, p := range ps {
		if i < len(ps)-1 && !p.OK && strings.Contains(p.Detail, want) {
			return true
		}
	}
	return false
}

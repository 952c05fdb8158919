package mesos

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
)

const twoTier = `
environment { name = "%s" }
variable "img" { type = string }
service "db" {
  image   = var.img
  command = ["--http", "5432"]
  ports   = { pg = 5432 }
}
service "api" {
  image   = var.img
  command = ["--http", "8080", "--call", "http://${service.db.host}:${service.db.ports.pg}/"]
  ports   = { http = 8080 }
  ready {
    http {
      port = "http"
      path = "/"
    }
  }
}
`

func TestUpDown(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	onClusters(t, func(t *testing.T, c *cluster) { testUpDown(t, c, img) })
}

func testUpDown(t *testing.T, c *cluster, img string) {
	b := backend(t, c.url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := uniqueEnv("updown")
	tg := target(t, fmt.Sprintf(twoTier, name), time.Hour, "img="+img)
	res := up(t, ctx, b, tg)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	api := res.Service("api").Instance
	resp, err := http.Get("http://" + api.Published["http"] + "/")
	if err != nil {
		t.Fatalf("GET api: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("api answered %d %q; rounds %d", resp.StatusCode, body, c.offerRounds())
	insts, err := b.Observe(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 2 {
		t.Fatalf("Observe = %d instances, want 2: %+v", len(insts), insts)
	}
	for _, in := range insts {
		if in.State != provisioner.StateRunning || in.Host == "" || len(in.Ports) != 1 {
			t.Errorf("instance %s: state %s host %q ports %v, want running with one port", in.Service, in.State, in.Host, in.Ports)
		}
	}
	down(t, b, name)
	insts, err = b.Observe(ctx, name)
	if err != nil || len(insts) != 0 {
		t.Errorf("after down: Observe = %v, %v; want none", insts, err)
	}
	envs, err := b.Environments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range envs {
		if e.Name == name {
			t.Errorf("after down: environment %s still has a framework", name)
		}
	}
	c.waitNoContainers(t, name)
}

// TestExactStatus: a ready http block asking for 204 is ready on Mesos when the service answers
// 204 (Mesos's own check passes on 200-399; envctl checks the exact status itself).
func TestExactStatus(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	onClusters(t, func(t *testing.T, c *cluster) { testExactStatus(t, c, img) })
}

func testExactStatus(t *testing.T, c *cluster, img string) {
	b := backend(t, c.url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniqueEnv("status")
	tg := target(t, fmt.Sprintf(`
environment { name = %q }
variable "img" { type = string }
service "api" {
  image   = var.img
  command = ["--http", "8080", "--health-status", "204"]
  ports   = { http = 8080 }
  ready {
    http {
      port   = "http"
      path   = "/healthz"
      status = 204
    }
  }
}`, name), time.Hour, "img="+img)
	t.Cleanup(func() { down(t, b, name) })
	res := up(t, ctx, b, tg)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	probes := res.Service("api").Probes
	if n := len(probes); n == 0 || !probes[n-1].OK || !strings.Contains(probes[n-1].Detail, "HTTP 204") {
		t.Errorf("probe results %+v, want the last to be envctl's GET answering 204", probes)
	}
}

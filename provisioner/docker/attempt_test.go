package docker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/provisioner"
)

// slowHealth is a service whose /healthz takes 3 s to answer, as `kong health` or a busy
// `mysqladmin ping` can. ready is the rest of its ready block.
func slowHealth(ready string) string {
	return `
variable "img" {}
service "slow" {
  image   = var.img
  command = ["--http", "80", "--health-delay", "3s"]
  ports   = { http = 80 }
  ready {
    http {
      port = "http"
      path = "/healthz"
    }
` + ready + `
  }
}
`
}

// TestAttemptTimeoutIsPerAttempt: ready { attempt_timeout } is what each probe attempt may
// take. With "5s" the 3-s health check answers and the service is ready (and its label carries
// the setting, so status probes the same way); with the default 2 s every attempt is cut off
// and the service never gets ready within its 10-s total.
func TestAttemptTimeoutIsPerAttempt(t *testing.T) {
	b := testBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("5s-ready", func(t *testing.T) {
		env := newEnv(t, b)
		res := applyFile(t, ctx, b, env, slowHealth(`    attempt_timeout = "5s"
    timeout         = "60s"`), provisioner.Options{Parallel: 4, Rollback: true, Grace: time.Second})
		if res.Err != nil {
			t.Fatalf("up with attempt_timeout 5s: %v", res.Err)
		}
		s := res.Service("slow")
		if got := provisioner.ParseReady(s.Instance.Labels[provisioner.LabelReady]).AttemptTimeout; got != 5*time.Second {
			t.Errorf("label %s carries attempt timeout %v, want 5s", provisioner.LabelReady, got)
		}
		t.Logf("ready after %v", s.TimeToReady)
	})

	t.Run("default-never-ready", func(t *testing.T) {
		env := newEnv(t, b)
		res := applyFile(t, ctx, b, env, slowHealth(`    timeout = "10s"`), provisioner.Options{Parallel: 4, Rollback: true, Grace: time.Second})
		if res.Err == nil {
			t.Fatal("up with the default 2-s attempt timeout succeeded; want not ready")
		}
		if !errors.Is(res.Err, provisioner.ErrNotReady) || !strings.Contains(res.Err.Error(), `service "slow" did not become ready`) {
			t.Errorf("error %v, want slow not ready", res.Err)
		}
		if strings.Contains(res.Err.Error(), "HTTP 200") {
			t.Errorf("an attempt saw HTTP 200 within 2 s: %v", res.Err)
		}
		t.Logf("error: %v", res.Err)
	})
}

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// TestManyServicesInParallel brings up 32 services in 4 layers on the real engine: every
// service of a layer calls its dependencies at start (so a wrong order or a wrong injected
// address fails it), independent services start together, and down removes all of it.
func TestManyServicesInParallel(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	const layers, width = 4, 8
	var b strings.Builder
	fmt.Fprintf(&b, "variable \"img\" {}\n")
	for l := 0; l < layers; l++ {
		for i := 0; i < width; i++ {
			fmt.Fprintf(&b, "service \"s%d-%d\" {\n  image = var.img\n  ports = { http = 80 }\n", l, i)
			args := []string{`"--http"`, `"80"`, `"--delay"`, `"200ms"`}
			if l > 0 {
				// Each service depends on two of the layer before.
				for _, d := range []int{i, (i + 1) % width} {
					dep := fmt.Sprintf("s%d-%d", l-1, d)
					args = append(args, `"--call"`, fmt.Sprintf(`"http://${service.%s.host}:${service.%s.ports.http}/healthz"`, dep, dep))
				}
			}
			fmt.Fprintf(&b, "  command = [%s]\n}\n", strings.Join(args, ", "))
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "envctl.hcl")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	name := newEnvName()
	t.Cleanup(func() { sweepScriptEnv(name) })

	var stdout, stderr bytes.Buffer
	begin := time.Now()
	code := Main([]string{"envctl", "up", "-f", file, "--name", name, "--var", "img=" + img, "-o", "json"}, nil, &stdout, &stderr)
	upTime := time.Since(begin)
	if code != 0 {
		t.Fatalf("up exited %d\nstderr:\n%s", code, stderr.String())
	}
	if err := validateDoc("up", stdout.Bytes()); err != nil {
		t.Errorf("up -o json: %v", err)
	}
	var doc upDoc
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("up -o json: %v\n%s", err, stdout.String())
	}
	if !doc.OK || len(doc.Services) != layers*width {
		t.Fatalf("got ok=%v with %d services, want ok with %d", doc.OK, len(doc.Services), layers*width)
	}
	for _, s := range doc.Services {
		if s.State != "ready" || s.Endpoints["http"] == "" {
			t.Errorf("service %s: state %q, endpoints %v; want ready with an http endpoint", s.Name, s.State, s.Endpoints)
		}
	}
	if len(doc.CriticalPath) != layers {
		t.Errorf("critical path %v, want %d services (one per layer)", doc.CriticalPath, layers)
	}
	// Parallelism: the whole run must take far less than the services one after another.
	var sum int64
	for _, s := range doc.Services {
		sum += s.TimeToReadyMS
	}
	if doc.DurationMS*3 > sum {
		t.Errorf("up took %d ms for services whose times to ready add up to %d ms: not parallel enough", doc.DurationMS, sum)
	}
	t.Logf("up of %d services in %d layers: %s (sum of times to ready %d ms)", layers*width, layers, upTime.Round(time.Millisecond), sum)

	stdout.Reset()
	stderr.Reset()
	begin = time.Now()
	if code := Main([]string{"envctl", "down", name}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("down exited %d\n%s", code, stderr.String())
	}
	t.Logf("down: %s", time.Since(begin).Round(time.Millisecond))
	if !strings.Contains(stderr.String(), fmt.Sprintf("(%d instances)", layers*width)) {
		t.Errorf("down said %q, want it to remove %d instances", stderr.String(), layers*width)
	}
}

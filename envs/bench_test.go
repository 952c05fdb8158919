package envs

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// cpuTime is the user plus system CPU time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// genEnv writes an environment of n services: a random DAG (seeded, so every run measures the
// same file) where each service has about three edges, half through depends_on and half
// through service.X.host references in env, plus realistic attributes.
func genEnv(n int) string {
	r := rand.New(rand.NewSource(int64(n)))
	var b strings.Builder
	b.WriteString("environment {\n  name = \"bench\"\n  ttl  = \"4h\"\n}\n\n")
	b.WriteString("variable \"tag\" {\n  type    = string\n  default = \"v1\"\n}\n\n")
	b.WriteString("variable \"password\" {\n  type      = string\n  default   = \"secret\"\n  sensitive = true\n}\n\n")
	b.WriteString("locals {\n  registry = \"registry.local\"\n}\n\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "service \"svc-%d\" {\n", i)
		fmt.Fprintf(&b, "  image = \"${local.registry}/svc-%d:${var.tag}\"\n", i)
		b.WriteString("  ports = { http = 8080, admin = 9090 }\n")
		var deps, refs []int
		if i > 0 {
			for k := 0; k < 3; k++ {
				j := r.Intn(i)
				if k%2 == 0 {
					deps = append(deps, j)
				} else {
					refs = append(refs, j)
				}
			}
		}
		if len(deps) > 0 {
			parts := make([]string, len(deps))
			for k, j := range deps {
				parts[k] = "service.svc-" + strconv.Itoa(j)
			}
			fmt.Fprintf(&b, "  depends_on = [%s]\n", strings.Join(parts, ", "))
		}
		b.WriteString("  env = {\n    LOG_LEVEL = \"info\"\n    PASSWORD  = var.password\n")
		for k, j := range refs {
			fmt.Fprintf(&b, "    DEP_%d = \"http://${service.svc-%d.host}:${service.svc-%d.ports.http}\"\n", k, j, j)
		}
		b.WriteString("  }\n")
		b.WriteString("  ready {\n    http {\n      port = \"admin\"\n      path = \"/healthz\"\n    }\n    timeout = \"30s\"\n  }\n")
		b.WriteString("}\n\n")
	}
	return b.String()
}

func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(genEnv(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				env, _, diags := Load(Options{Dir: dir})
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				if _, err := env.Graph().Sort(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// CPU time of the process (all threads, GC included) per Load: on a shared machine
			// wall time also counts waiting for a core; this does not.
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/service")
		})
	}
}

// BenchmarkParse10000 measures hclsyntax's parse alone on the 10,000-service file of
// BenchmarkLoad: the floor under Load.
func BenchmarkParse10000(b *testing.B) {
	src := []byte(genEnv(10000))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, diags := hclsyntax.ParseConfig(src, "envctl.hcl", hcl.InitialPos); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

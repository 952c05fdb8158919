package mesos

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner/mesos/mesostest"
)

// layeredEnv is an environment of layers×width services; each service of layer k depends on
// deps services of layer k-1 (all of them when deps >= width).
func layeredEnv(name string, layers, width, deps int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "environment { name = %q }\nvariable \"img\" { type = string }\n", name)
	for l := 0; l < layers; l++ {
		for i := 0; i < width; i++ {
			fmt.Fprintf(&b, "service \"s%d-%d\" {\n  image = var.img\n  command = [\"--http\", \"80\"]\n  ports = { http = 80 }\n", l, i)
			if l > 0 {
				var refs []string
				for d := 0; d < min(deps, width); d++ {
					refs = append(refs, fmt.Sprintf("service.s%d-%d", l-1, (i+d)%width))
				}
				fmt.Fprintf(&b, "  depends_on = [%s]\n", strings.Join(refs, ", "))
			}
			b.WriteString("  resources {\n    cpus = 0.1\n    memory = \"32MiB\"\n  }\n}\n")
		}
	}
	return b.String()
}

// BenchmarkUp30Depth5 is issue 4's point 3: 30 services in 5 layers on the double with the
// default 1 s allocation interval. It reports the offer rounds and wall time of one up (the
// down that follows each is not timed). Goal: rounds <= depth + 1.
//
//   - waves: every service depends on the whole layer before it, so each layer becomes
//     launchable at one moment;
//   - sparse: every service depends on two services of the layer before, so a layer becomes
//     launchable piecemeal as its dependencies get ready.
func BenchmarkUp30Depth5(b *testing.B) {
	img := testimage.NeedTestsvc(b)
	for _, bc := range []struct {
		name string
		deps int
	}{{"waves", 6}, {"sparse", 2}} {
		b.Run(bc.name, func(b *testing.B) {
			m, url := double(b, mesostest.Options{Agents: 2})
			be := backend(b, url, Options{Logf: func(string, ...any) {}})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			var rounds, wall float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				name := uniqueEnv("bench")
				tg := target(b, layeredEnv(name, 5, 6, bc.deps), time.Hour, "img="+img)
				before := m.OfferRounds()
				start := time.Now()
				b.StartTimer()
				res := up(b, ctx, be, tg)
				b.StopTimer()
				if res.Err != nil {
					b.Fatalf("up: %v", res.Err)
				}
				wall += time.Since(start).Seconds()
				rounds += float64(m.OfferRounds() - before)
				down(b, be, name)
				waitNoContainers(b, m)
				b.StartTimer()
			}
			b.ReportMetric(rounds/float64(b.N), "rounds/up")
			b.ReportMetric(wall/float64(b.N), "s/up")
		})
	}
}

package cli

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/envctl/envctl/internal/cputime"
	"github.com/envctl/envctl/internal/envgen"
)

// BenchmarkPlan runs `envctl plan --offline` on the loader benchmark's files of 1,000 and
// 10,000 services. Compare ns/service between the two: plan was quadratic once (a lookup by
// scan per service in rendering and in Plan.Step) and 10,000 took 16x the per-service time of
// 1,000. make bench's envbench checks the same ratio on the real binary.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(envgen.Realistic(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				if code := Main([]string{"envctl", "plan", "--offline", "-f", dir}, nil, io.Discard, io.Discard); code != 0 {
					b.Fatalf("plan exited %d", code)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/service")
			// CPU too: on a loaded machine others' work inflates the wall time of one size.
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/service")
		})
	}
}

package envs

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/envctl/envctl/internal/cputime"
	"github.com/envctl/envctl/internal/envgen"
)

// genEnv is the benchmarks' file of n services (internal/envgen, shared with plan's and make
// bench's scaling checks).
func genEnv(n int) string { return envgen.Realistic(n) }

func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), []byte(genEnv(n)), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cputime.Process()
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
			b.ReportMetric(float64((cputime.Process()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
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
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, diags := hclsyntax.ParseConfig(src, "envctl.hcl", hcl.InitialPos); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cputime.Process()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

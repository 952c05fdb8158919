package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/mesoscluster"
)

// BenchmarkShopContainerizers is issue 17's point 5 for envctl: the shop (5 services, 4 with
// a ready check, one job) brought up and down on the multi-host cluster (agents in network
// namespaces of their own, images through its registry) through the Docker containerizer and
// through the Mesos containerizer, alternating each round so that the machine's load spreads
// over both. One untimed up and down of each first: the registry push and the agents' first
// pulls (the Mesos containerizer's image store, the engine's image) are not what is compared.
// It reports up-ms and down-ms of each (medians of b.N rounds, -benchtime 3x in make bench),
// wall time of envctl's Main as a user runs it.
func BenchmarkShopContainerizers(b *testing.B) {
	c := mesoscluster.MultiHostCluster(b)
	b.Cleanup(func() {
		if err := mesoscluster.StopMultiHost(); err != nil {
			b.Error(err)
		}
	})
	root, err := filepath.Abs("..")
	if err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("make", "-C", root, "examples").CombinedOutput(); err != nil {
		b.Fatalf("make examples: %v\n%s", err, out)
	}
	shop := filepath.Join(root, "examples", "shop")
	b.Setenv("ENVCTL_BACKEND", "mesos")
	b.Setenv("ENVCTL_MESOS_MASTER", c.Master)
	b.Setenv("ENVCTL_REGISTRY", c.Registry)
	run := func(args ...string) time.Duration {
		var out bytes.Buffer
		start := time.Now()
		if code := Main(append([]string{"envctl"}, args...), nil, &out, &out); code != 0 {
			b.Fatalf("envctl %v: exit %d\n%s", args, code, out.String())
		}
		return time.Since(start)
	}
	kinds := []string{"docker", "mesos"}
	name := func(k string) string { return fmt.Sprintf("bench-ctz-%s-%d", k, os.Getpid()) }
	for _, k := range kinds {
		run("up", "-f", shop, "--name", name(k), "--mesos-containerizer", k, "--timeout", "10m")
		run("down", name(k))
	}
	ups, downs := map[string][]time.Duration{}, map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		order := kinds
		if i%2 == 1 {
			order = []string{kinds[1], kinds[0]}
		}
		for _, k := range order {
			ups[k] = append(ups[k], run("up", "-f", shop, "--name", name(k), "--mesos-containerizer", k, "--timeout", "10m"))
			downs[k] = append(downs[k], run("down", name(k)))
		}
	}
	b.StopTimer()
	for _, k := range kinds {
		b.ReportMetric(median(ups[k]).Seconds()*1000, k+"-up-ms")
		b.ReportMetric(median(downs[k]).Seconds()*1000, k+"-down-ms")
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

package mesos

import (
	"sort"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/envctl/envctl/provisioner"
)

// Defaults of a task's resource request when the file sets none: a test environment's services
// are small, and a request of zero would be refused ("Task uses no resources").
const (
	defaultCPUs  = 0.1
	defaultMemMB = 64.0
)

// request is what one task asks of an offer.
type request struct {
	cpus float64
	mem  float64 // MB, as Mesos counts memory
}

func demand(spec provisioner.Spec) request {
	r := request{cpus: spec.CPUs, mem: float64(spec.Memory) / (1 << 20)}
	if r.cpus <= 0 {
		r.cpus = defaultCPUs
	}
	if r.mem <= 0 {
		r.mem = defaultMemMB
	}
	return r
}

// portRange is an inclusive range of ports, as in a Mesos RANGES value.
type portRange struct{ begin, end uint64 }

// offered sums an offer's unreserved cpus and mem and collects its ports. envctl's frameworks
// have role "*", so every resource they are offered is theirs to use.
func offered(rs []mesospb.Resource) (cpus, mem float64, ports []portRange) {
	for _, r := range rs {
		if len(r.Reservations) > 0 || r.Reservation != nil || r.Revocable != nil || r.Disk != nil || r.Shared != nil {
			continue
		}
		switch r.Name {
		case "cpus":
			cpus += r.GetScalar().GetValue()
		case "mem":
			mem += r.GetScalar().GetValue()
		case "ports":
			for _, rg := range r.GetRanges().GetRange() {
				if rg.End >= rg.Begin {
					ports = append(ports, portRange{rg.Begin, rg.End})
				}
			}
		}
	}
	return cpus, mem, ports
}

// normalizeRanges sorts ranges and merges those that touch or overlap.
func normalizeRanges(in []portRange) []portRange {
	if len(in) == 0 {
		return nil
	}
	rs := append([]portRange(nil), in...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].begin < rs[j].begin })
	out := []portRange{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.begin <= last.end+1 {
			last.end = max(last.end, r.end)
			continue
		}
		out = append(out, r)
	}
	return out
}

func countPorts(rs []portRange) uint64 {
	var n uint64
	for _, r := range rs {
		n += r.end - r.begin + 1
	}
	return n
}

// takePorts takes n ports and returns them with what is left (normalized ranges in,
// normalized ranges out): the lowest ports of the highest range first, then of the range below.
// The lowest of a range, since on the single-host test cluster the top of an agent's range
// (32768-32999) is where the Docker Engine's own random host ports begin, which every Docker
// test on the machine takes; the highest range, since a cluster whose agents also offer low
// ports for the Mesos containerizer's tasks (their container ports, ContainerizerMesos) keeps
// the Docker containerizer's host ports in a high range of their own (internal/mesoscluster's
// multi-host cluster does).
func takePorts(rs []portRange, n int) ([]uint64, []portRange) {
	var got []uint64
	rs = append([]portRange(nil), rs...)
	for len(got) < n && len(rs) > 0 {
		last := &rs[len(rs)-1]
		got = append(got, last.begin)
		if last.begin == last.end {
			rs = rs[:len(rs)-1]
		} else {
			last.begin++
		}
	}
	return got, rs
}

// takeExact takes exactly the ports want from rs: ok is false, and rs is returned unchanged,
// when any of them is not there.
func takeExact(rs []portRange, want []uint64) (got []uint64, left []portRange, ok bool) {
	left = append([]portRange(nil), rs...)
	for _, p := range want {
		found := false
		for i, r := range left {
			if p < r.begin || p > r.end {
				continue
			}
			found = true
			var split []portRange
			if r.begin < p {
				split = append(split, portRange{r.begin, p - 1})
			}
			if p < r.end {
				split = append(split, portRange{p + 1, r.end})
			}
			left = append(left[:i:i], append(split, left[i+1:]...)...)
			break
		}
		if !found {
			return nil, rs, false
		}
		got = append(got, p)
	}
	return got, left, true
}

// containerPorts are spec's declared ports, in order.
func containerPorts(spec provisioner.Spec) []uint64 {
	out := make([]uint64, len(spec.Ports))
	for i, p := range spec.Ports {
		out[i] = uint64(p.Port)
	}
	return out
}

// portsFit tells whether an agent with the ports rs can take spec: any len(spec.Ports) ports
// for the Docker containerizer (host ports mapped to the container's), the container ports
// themselves for the Mesos containerizer (the task listens on them in the agent's network).
func (b *Backend) portsFit(rs []portRange, spec provisioner.Spec) bool {
	if b.opt.Containerizer == ContainerizerMesos {
		_, _, ok := takeExact(rs, containerPorts(spec))
		return ok
	}
	return countPorts(rs) >= uint64(len(spec.Ports))
}

// portsFitAll is portsFit for all of pending on one agent (nports ports in all).
func (b *Backend) portsFitAll(rs []portRange, pending []*taskState, nports int) bool {
	if b.opt.Containerizer != ContainerizerMesos {
		return countPorts(rs) >= uint64(nports)
	}
	for _, ts := range pending {
		var ok bool
		if _, rs, ok = takeExact(rs, containerPorts(*ts.spec)); !ok {
			return false
		}
	}
	return true
}

// choosePorts takes spec's ports from rs (see portsFit), which must fit.
func (b *Backend) choosePorts(rs []portRange, spec provisioner.Spec) ([]uint64, []portRange) {
	if b.opt.Containerizer == ContainerizerMesos {
		got, left, _ := takeExact(rs, containerPorts(spec))
		return got, left
	}
	return takePorts(rs, len(spec.Ports))
}

func scalar(name string, v float64) mesospb.Resource {
	return mesospb.Resource{Name: name, Type: mesospb.SCALAR.Enum(), Scalar: &mesospb.Value_Scalar{Value: v}}
}

func portsResource(ports []uint64) mesospb.Resource {
	var rs []mesospb.Value_Range
	for _, r := range normalizeRanges(func() []portRange {
		out := make([]portRange, len(ports))
		for i, p := range ports {
			out[i] = portRange{p, p}
		}
		return out
	}()) {
		rs = append(rs, mesospb.Value_Range{Begin: r.begin, End: r.end})
	}
	return mesospb.Resource{Name: "ports", Type: mesospb.RANGES.Enum(), Ranges: &mesospb.Value_Ranges{Range: rs}}
}

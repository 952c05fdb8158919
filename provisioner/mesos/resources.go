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

// takePorts takes the n lowest ports and returns them with what is left.
func takePorts(rs []portRange, n int) ([]uint64, []portRange) {
	var got []uint64
	rs = append([]portRange(nil), rs...)
	for len(got) < n && len(rs) > 0 {
		got = append(got, rs[0].begin)
		if rs[0].begin == rs[0].end {
			rs = rs[1:]
		} else {
			rs[0].begin++
		}
	}
	return got, rs
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

package mesostest

import (
	"fmt"
	"sort"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// res is the double's own resource arithmetic: the three scalars and the
// ports ranges an agent offers, all unreserved. It is deliberately smaller
// than mesos-go's Resources, whose arithmetic changes with the
// RESERVATION_REFINEMENT switch and with allocation_info.
type res struct {
	cpus, mem, disk float64
	ports           []portRange // sorted, non-overlapping, non-adjacent
}

type portRange struct{ begin, end uint64 }

// epsilon absorbs floating-point noise such as 0.1+0.2; Mesos uses a
// fixed-point representation with three decimals for the same reason.
const epsilon = 1e-6

func (r res) isEmpty() bool {
	return r.cpus < epsilon && r.mem < epsilon && r.disk < epsilon && len(r.ports) == 0
}

func (r res) plus(o res) res {
	out := res{cpus: r.cpus + o.cpus, mem: r.mem + o.mem, disk: r.disk + o.disk}
	out.ports = normalize(append(append([]portRange(nil), r.ports...), o.ports...))
	return out
}

// contains reports whether o fits into r.
func (r res) contains(o res) bool {
	if o.cpus > r.cpus+epsilon || o.mem > r.mem+epsilon || o.disk > r.disk+epsilon {
		return false
	}
	for _, p := range o.ports {
		if !rangesContain(r.ports, p) {
			return false
		}
	}
	return true
}

// minus assumes r.contains(o).
func (r res) minus(o res) res {
	out := res{cpus: clamp(r.cpus - o.cpus), mem: clamp(r.mem - o.mem), disk: clamp(r.disk - o.disk)}
	out.ports = append([]portRange(nil), r.ports...)
	for _, p := range o.ports {
		out.ports = subtractRange(out.ports, p)
	}
	return out
}

func clamp(f float64) float64 {
	if f < epsilon {
		return 0
	}
	return f
}

func normalize(rs []portRange) []portRange {
	if len(rs) == 0 {
		return nil
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].begin < rs[j].begin })
	out := []portRange{rs[0]}
	for _, p := range rs[1:] {
		last := &out[len(out)-1]
		if p.begin <= last.end+1 {
			if p.end > last.end {
				last.end = p.end
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

func rangesContain(rs []portRange, p portRange) bool {
	for _, r := range rs {
		if p.begin >= r.begin && p.end <= r.end {
			return true
		}
	}
	return false
}

func subtractRange(rs []portRange, p portRange) []portRange {
	var out []portRange
	for _, r := range rs {
		if p.end < r.begin || p.begin > r.end {
			out = append(out, r)
			continue
		}
		if p.begin > r.begin {
			out = append(out, portRange{r.begin, p.begin - 1})
		}
		if p.end < r.end {
			out = append(out, portRange{p.end + 1, r.end})
		}
	}
	return out
}

func (r res) String() string {
	var parts []string
	parts = append(parts, fmt.Sprintf("cpus:%g", r.cpus), fmt.Sprintf("mem:%g", r.mem), fmt.Sprintf("disk:%g", r.disk))
	if len(r.ports) > 0 {
		var ps []string
		for _, p := range r.ports {
			ps = append(ps, fmt.Sprintf("%d-%d", p.begin, p.end))
		}
		parts = append(parts, "ports:["+strings.Join(ps, ", ")+"]")
	}
	return strings.Join(parts, "; ")
}

// toProto renders r as Mesos resources. allocRole, when not empty, adds
// allocation_info (MULTI_ROLE frameworks only, as the master does).
func (r res) toProto(allocRole string) []mesos.Resource {
	var out []mesos.Resource
	role := "*"
	add := func(rr mesos.Resource) {
		rr.Role = &role // pre-refinement format: role "*" (no RESERVATION_REFINEMENT)
		if allocRole != "" {
			ar := allocRole
			rr.AllocationInfo = &mesos.Resource_AllocationInfo{Role: &ar}
		}
		out = append(out, rr)
	}
	scalar := func(name string, v float64) {
		if v < epsilon {
			return
		}
		add(mesos.Resource{Name: name, Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: v}})
	}
	scalar("cpus", r.cpus)
	scalar("mem", r.mem)
	scalar("disk", r.disk)
	if len(r.ports) > 0 {
		var rs []mesos.Value_Range
		for _, p := range r.ports {
			rs = append(rs, mesos.Value_Range{Begin: p.begin, End: p.end})
		}
		add(mesos.Resource{Name: "ports", Type: mesos.RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: rs}})
	}
	return out
}

// fromProto sums Mesos resources into a res. Anything the double's agents
// never offer (other names, reservations, revocable or disk sources) is an
// error, because such a request can never fit an offer.
func fromProto(rs []mesos.Resource) (res, error) {
	var out res
	for _, r := range rs {
		if r.Role != nil && *r.Role != "*" && *r.Role != "" {
			return res{}, fmt.Errorf("resource %s is reserved for role %q, which no agent offers", r.Name, *r.Role)
		}
		if len(r.Reservations) > 0 || r.Reservation != nil || r.Revocable != nil || r.Disk != nil {
			return res{}, fmt.Errorf("resource %s uses reservations or disk info, which no agent offers", r.Name)
		}
		switch {
		case r.Name == "cpus" && r.GetType() == mesos.SCALAR && r.Scalar != nil:
			out.cpus += r.Scalar.Value
		case r.Name == "mem" && r.GetType() == mesos.SCALAR && r.Scalar != nil:
			out.mem += r.Scalar.Value
		case r.Name == "disk" && r.GetType() == mesos.SCALAR && r.Scalar != nil:
			out.disk += r.Scalar.Value
		case r.Name == "ports" && r.GetType() == mesos.RANGES && r.Ranges != nil:
			for _, p := range r.Ranges.Range {
				if p.End < p.Begin {
					return res{}, fmt.Errorf("invalid ports range [%d-%d]", p.Begin, p.End)
				}
				out.ports = append(out.ports, portRange{p.Begin, p.End})
			}
		default:
			return res{}, fmt.Errorf("resource %s of type %s is not offered by any agent", r.Name, r.GetType())
		}
		if r.Scalar != nil && r.Scalar.Value < 0 {
			return res{}, fmt.Errorf("resource %s is negative", r.Name)
		}
	}
	// Overlapping port ranges within one request would double count.
	sorted := append([]portRange(nil), out.ports...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].begin < sorted[j].begin })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].begin <= sorted[i-1].end {
			return res{}, fmt.Errorf("ports ranges overlap")
		}
	}
	out.ports = normalize(out.ports)
	return out, nil
}

package mesostest

import (
	"fmt"
	"math"
	"sort"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	"github.com/mesos/mesos-go/api/v1/lib/quota"
)

// Quota, as the hierarchical allocator of Mesos 1.9+ applies it (the operator API's
// UPDATE_QUOTA and GET_QUOTA; docs/quota.md): a role's limit caps what it is allocated, where
// an outstanding offer counts as allocated; an offer to a role near its limit is shrunk to the
// headroom left (scalars only: cpus, mem, disk; ports are never limited), and a role at its
// limit gets no offer. A guarantee is recorded and reported, but the double does not hold
// resources back for it from other roles (the real allocator does, when the cluster is short).

// minAllocatable is --min_allocatable_resources's default, cpus:0.01|mem:32: an offer must
// carry at least one of the two.
func minAllocatable(r res) bool { return r.cpus >= 0.01-epsilon || r.mem >= 32-epsilon }

// consumedLocked is what role holds: its frameworks' tasks that have not ended and its
// outstanding offers.
func (m *Master) consumedLocked(role string) res {
	var out res
	for _, fw := range m.frameworks {
		for _, t := range fw.tasks {
			if t.role == role {
				out = out.plus(t.res)
			}
		}
	}
	for _, o := range m.offers {
		if o.role == role {
			out = out.plus(o.res)
		}
	}
	return out
}

// capLocked shrinks free to what role's quota limit leaves, and says whether anything worth
// offering is left.
func (m *Master) capLocked(role string, free res) (res, bool) {
	q, ok := m.quotas[role]
	if !ok || len(q.Limits) == 0 {
		return free, true
	}
	used := m.consumedLocked(role)
	limit := func(name string, have, used float64) float64 {
		if l, ok := q.Limits[name]; ok {
			return math.Max(0, math.Min(have, l.Value-used))
		}
		return have
	}
	out := res{cpus: limit("cpus", free.cpus, used.cpus), mem: limit("mem", free.mem, used.mem),
		disk: limit("disk", free.disk, used.disk), ports: free.ports}
	out.cpus, out.mem, out.disk = clamp(out.cpus), clamp(out.mem), clamp(out.disk)
	return out, minAllocatable(out)
}

// updateQuotaLocked is UPDATE_QUOTA: each config replaces the role's quota; one with neither
// guarantees nor limits is the default (no guarantee, no limit). The real master takes a quota
// for the default role "*" too (conformance 35).
func (m *Master) updateQuotaLocked(u *master.Call_UpdateQuota) error {
	for _, c := range u.QuotaConfigs {
		if msg := validateRole(c.Role); msg != "" {
			return fmt.Errorf("Invalid QuotaConfig: %s", msg)
		}
		for name, v := range c.Guarantees {
			if l, ok := c.Limits[name]; ok && v.Value > l.Value+epsilon {
				return fmt.Errorf("Invalid QuotaConfig: the guarantee of %s is greater than its limit", name)
			}
		}
	}
	for _, c := range u.QuotaConfigs {
		// A config with neither guarantees nor limits is the default quota; the real master
		// (1.12) still lists the role in GET_QUOTA then, with both empty (conformance 35).
		m.quotas[c.Role] = c
	}
	// A role with more headroom may take what the allocator could not give it before.
	m.allocateLocked()
	return nil
}

// getQuotaLocked is GET_QUOTA: every role's quota (configs), and the old guarantee-only view
// (infos) beside it, as the master fills both.
func (m *Master) getQuotaLocked() *master.Response_GetQuota {
	roles := make([]string, 0, len(m.quotas))
	for r := range m.quotas {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	out := &master.Response_GetQuota{}
	for _, r := range roles {
		c := m.quotas[r]
		out.Status.Configs = append(out.Status.Configs, c)
		info := quota.QuotaInfo{Role: ptr(r)}
		names := make([]string, 0, len(c.Guarantees))
		for n := range c.Guarantees {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			info.Guarantee = append(info.Guarantee, mesos.Resource{Name: n, Type: mesos.SCALAR.Enum(),
				Scalar: &mesos.Value_Scalar{Value: c.Guarantees[n].Value}})
		}
		out.Status.Infos = append(out.Status.Infos, info)
	}
	return out
}

// getRolesLocked is GET_ROLES: every role that has a framework, a quota or an allocation,
// with its weight (always 1: the double has no weights), its frameworks and what it holds.
func (m *Master) getRolesLocked() *master.Response_GetRoles {
	fws := map[string][]mesos.FrameworkID{}
	for _, id := range m.fwOrder {
		fw := m.frameworks[id]
		if fw == nil {
			continue
		}
		for _, r := range fwRoles(&fw.info) {
			fws[r] = append(fws[r], mesos.FrameworkID{Value: fw.id})
		}
	}
	names := map[string]bool{}
	for r := range fws {
		names[r] = true
	}
	for r := range m.quotas {
		names[r] = true
	}
	sorted := make([]string, 0, len(names))
	for r := range names {
		if r != "*" {
			sorted = append(sorted, r)
		}
	}
	sort.Strings(sorted)
	out := &master.Response_GetRoles{}
	for _, r := range sorted {
		out.Roles = append(out.Roles, mesos.Role{Name: r, Weight: 1, Frameworks: fws[r],
			Resources: m.consumedLocked(r).toProto("")})
	}
	return out
}

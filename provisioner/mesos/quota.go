package mesos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"
)

// Why launches wait. A launch that no offer can take waits silently in Mesos: the master never
// says no, it just offers nothing that fits. So once launches have waited a while, the session
// asks the operator API why — the role's quota (GET_QUOTA) against what the role holds
// (GET_FRAMEWORKS: its frameworks' allocated and offered resources, which the allocator counts
// against the limit), else the agents' free resources (GET_AGENTS) — tells the user (Notice),
// and puts it in the error when the launch is given up.

// waitReportAfter is how long launches wait for offers before envctl looks for why: an offer
// round is well under a second when something fits (mesos.md §1.11), a few on a loaded host.
const waitReportAfter = 3 * time.Second

// waitReportEvery is how often the reason is looked at again while launches still wait (the
// role's other frameworks may free or take resources meanwhile).
const waitReportEvery = 10 * time.Second

// amounts are cpus and mem (MB), as Mesos counts them.
type amounts struct{ cpus, mem float64 }

func (a amounts) plus(b amounts) amounts { return amounts{a.cpus + b.cpus, a.mem + b.mem} }

func (a amounts) String() string { return fmt.Sprintf("cpus %s, mem %s MB", num(a.cpus), num(a.mem)) }

// num prints a resource amount with Mesos's three decimals at most.
func num(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// sumResources adds up the cpus and mem of rs that are allocated to role ("" = any).
func sumResources(rs []mesospb.Resource, role string) amounts {
	var a amounts
	for _, r := range rs {
		if role != "" && r.AllocationInfo != nil && r.AllocationInfo.GetRole() != role {
			continue
		}
		switch r.Name {
		case "cpus":
			a.cpus += r.GetScalar().GetValue()
		case "mem":
			a.mem += r.GetScalar().GetValue()
		}
	}
	return a
}

// waiting is one launch that waits for an offer.
type waiting struct {
	service string
	need    amounts
}

// waitingLaunches lists the session's launches that wait for offers.
func (s *session) waitingLaunches() []waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []waiting
	for _, ts := range s.pending {
		if ts.spec != nil {
			d := demand(*ts.spec)
			out = append(out, waiting{ts.service, amounts{d.cpus, d.mem}})
		}
	}
	return out
}

// waitReason says why the session's launches get no offer that fits, "" when nothing explains
// it (offers may be on their way, or held by another framework).
func (s *session) waitReason(ctx context.Context) string {
	ws := s.waitingLaunches()
	if len(ws) == 0 {
		return ""
	}
	s.mu.Lock()
	roles := frameworkRoles(s.info)
	fwID := s.fwID
	heldBy := map[string]amounts{}
	for _, h := range s.held {
		heldBy[h.offer.AgentID.Value] = heldBy[h.offer.AgentID.Value].plus(sumResources(h.offer.Resources, ""))
	}
	s.mu.Unlock()
	role := roles[0]
	if role != "*" {
		if why := s.b.quotaReason(ctx, role, ws, fwID); why != "" {
			return why
		}
	}
	return s.b.clusterReason(ctx, ws, heldBy, fwID)
}

// quotaReason tells whether role's quota limit keeps out the smallest waiting launch: what the
// limit is, what the role holds and which frameworks hold it.
func (b *Backend) quotaReason(ctx context.Context, role string, ws []waiting, own string) string {
	resp, err := b.cli.operator(ctx, &master.Call{Type: master.Call_GET_QUOTA})
	if err != nil {
		b.logf("mesos: GET_QUOTA: %v", err)
		return ""
	}
	var limits map[string]mesospb.Value_Scalar
	for _, c := range resp.GetGetQuota().GetStatus().Configs {
		if c.Role == role {
			limits = c.Limits
		}
	}
	if len(limits) == 0 {
		return ""
	}
	fresp, err := b.cli.operator(ctx, &master.Call{Type: master.Call_GET_FRAMEWORKS})
	if err != nil {
		b.logf("mesos: GET_FRAMEWORKS: %v", err)
		return ""
	}
	var used amounts
	var holders []string
	for _, fw := range fresp.GetGetFrameworks().GetFrameworks() {
		in := false
		for _, r := range frameworkRoles(fw.FrameworkInfo) {
			in = in || r == role
		}
		if !in {
			continue
		}
		a := sumResources(fw.AllocatedResources, role)
		if fw.FrameworkInfo.ID.GetValue() != own {
			// The waiting environment's own offers are what the quota left it, too small:
			// they count against the limit, but they are not what holds it.
			a = a.plus(sumResources(fw.OfferedResources, role))
		}
		if a.cpus <= 0 && a.mem <= 0 {
			continue
		}
		used = used.plus(a)
		holders = append(holders, fmt.Sprintf("%s: %s", fw.FrameworkInfo.Name, a))
	}
	sort.Strings(holders)
	// The smallest launch decides: if even it does not fit, none does.
	small := ws[0].need
	var total amounts
	for _, w := range ws {
		total = total.plus(w.need)
		if w.need.cpus < small.cpus || (w.need.cpus == small.cpus && w.need.mem < small.mem) {
			small = w.need
		}
	}
	var over, limitText []string
	for _, name := range []string{"cpus", "mem"} {
		l, ok := limits[name]
		if !ok {
			continue
		}
		u, n := used.cpus, small.cpus
		if name == "mem" {
			u, n = used.mem, small.mem
		}
		unit := ""
		if name == "mem" {
			unit = " MB"
		}
		limitText = append(limitText, fmt.Sprintf("%s %s%s", name, num(l.Value), unit))
		if u+n > l.Value+1e-9 {
			over = append(over, name)
		}
	}
	if len(over) == 0 {
		return ""
	}
	held := "nothing"
	if len(holders) > 0 {
		held = fmt.Sprintf("%s (%s)", used, strings.Join(holders, "; "))
	}
	return fmt.Sprintf("role %q is at its quota: its limit is %s, and it holds %s; %s %s to launch, needing %s more. "+
		"Free some of the role's resources (envctl down another environment of the role), ask for a larger quota, or use another --mesos-role",
		role, strings.Join(limitText, ", "), held, names(ws), plural(len(ws), "waits", "wait"), total)
}

// clusterReason tells whether no agent has free what a waiting launch needs: the agents'
// free resources (this session's held offers count as free: they are its own).
func (b *Backend) clusterReason(ctx context.Context, ws []waiting, heldBy map[string]amounts, fwID string) string {
	resp, err := b.cli.operator(ctx, &master.Call{Type: master.Call_GET_AGENTS})
	if err != nil {
		b.logf("mesos: GET_AGENTS: %v", err)
		return ""
	}
	type agentFree struct {
		name string
		free amounts
	}
	var agents []agentFree
	for _, a := range resp.GetGetAgents().GetAgents() {
		total := sumResources(a.TotalResources, "")
		taken := sumResources(a.AllocatedResources, "").plus(sumResources(a.OfferedResources, ""))
		id := a.AgentInfo.ID.GetValue()
		free := amounts{total.cpus - taken.cpus, total.mem - taken.mem}.plus(heldBy[id])
		agents = append(agents, agentFree{fmt.Sprintf("%s (%s)", a.AgentInfo.Hostname, id), free})
	}
	var stuck []waiting
	for _, w := range ws {
		fits := false
		for _, a := range agents {
			fits = fits || (a.free.cpus+1e-9 >= w.need.cpus && a.free.mem+1e-9 >= w.need.mem)
		}
		if !fits {
			stuck = append(stuck, w)
		}
	}
	if len(stuck) == 0 {
		return ""
	}
	if len(agents) == 0 {
		return "the cluster has no agent"
	}
	sort.Slice(agents, func(i, j int) bool { return agents[i].free.cpus > agents[j].free.cpus })
	var free []string
	for _, a := range agents {
		free = append(free, fmt.Sprintf("%s: %s", a.name, a.free))
	}
	return fmt.Sprintf("no agent has free what %s %s (%s); the agents have free %s. "+
		"Lower the services' resources, or free or add agents",
		names(stuck), plural(len(stuck), "asks", "ask"), stuck[0].need, strings.Join(free, "; "))
}

func names(ws []waiting) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.service
	}
	return strings.Join(out, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// reason returns why the session's launches wait, looked up at most every waitReportEvery
// (every waiting Start asks), and whether it changed since the last call that said so.
func (s *session) reason(ctx context.Context) (why string, changed bool) {
	s.whyMu.Lock()
	defer s.whyMu.Unlock()
	if !s.whyAt.IsZero() && time.Since(s.whyAt) < waitReportEvery {
		return s.why, false
	}
	why = s.waitReason(ctx)
	changed = why != s.why
	s.why, s.whyAt = why, time.Now()
	return why, changed
}

// pendingReason is freshReason for a launch that still waits, "" for one that was launched.
func (s *session) pendingReason(ts *taskState) string {
	s.mu.Lock()
	waiting := ts.pending
	s.mu.Unlock()
	if !waiting {
		return ""
	}
	return s.freshReason()
}

// freshReason looks up why launches wait now, for the error of one that is given up.
func (s *session) freshReason() string {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	s.whyMu.Lock()
	s.whyAt = time.Time{}
	s.whyMu.Unlock()
	why, _ := s.reason(ctx)
	return why
}

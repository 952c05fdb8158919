package mesostest

import (
	"math"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// offer is an outstanding offer: one agent, one role, one framework.
type offer struct {
	id    string
	fw    *framework
	agent *agent
	role  string
	res   res
}

// scheduleAllocation arms the periodic allocation tick (the hierarchical
// allocator's timer loop).
func (m *Master) scheduleAllocation() {
	if m.closed {
		return
	}
	m.allocTimer = m.clock.AfterFunc(m.opt.AllocationInterval, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed {
			return
		}
		m.allocateLocked()
		m.scheduleAllocation()
	})
}

// Allocate runs one allocation now, as the periodic tick would.
func (m *Master) Allocate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.allocateLocked()
}

// allocateLocked offers every agent's unallocated, unoffered resources to
// the connected frameworks, whole agents at a time, one offer per agent and
// role. Frameworks take turns in order of their allocated share (a crude
// DRF) so that no framework starves.
func (m *Master) allocateLocked() {
	if m.closed {
		return
	}
	now := m.clock.Now()
	sent := map[*framework][]mesos.Offer{}
	var order []*framework
	for _, id := range m.fwOrder {
		if fw := m.frameworks[id]; fw != nil && fw.connected {
			order = append(order, fw)
		}
	}
	if len(order) == 0 {
		return
	}
	// Expire filters.
	for _, fw := range order {
		kept := fw.filters[:0]
		for _, f := range fw.filters {
			if now.Before(f.until) {
				kept = append(kept, f)
			}
		}
		fw.filters = kept
	}
	for _, a := range m.agents {
		if a.lost {
			continue
		}
		free := a.freeLocked()
		if free.isEmpty() {
			continue
		}
		// Pick the framework/role with the smallest share that wants it.
		var best *framework
		var bestRole string
		bestShare := math.Inf(1)
		for _, fw := range order {
			for _, role := range fwRoles(&fw.info) {
				if fw.suppressed[role] || fw.filtered(a, role, now) {
					continue
				}
				if _, ok := m.capLocked(role, free); !ok {
					continue // the role is at its quota limit
				}
				if sh := m.shareLocked(fw); sh < bestShare {
					best, bestRole, bestShare = fw, role, sh
				}
				break // one role per framework per agent per run
			}
		}
		if best == nil {
			continue
		}
		// A role's quota limit caps the offer (quota.go).
		give, ok := m.capLocked(bestRole, free)
		if !ok {
			continue
		}
		o := &offer{id: m.id + "-O" + itoa(m.nextOffer), fw: best, agent: a, role: bestRole, res: give}
		m.nextOffer++
		m.offers[o.id] = o
		a.offered = a.offered.plus(give)
		sent[best] = append(sent[best], m.offerProto(o))
	}
	if len(sent) == 0 {
		return
	}
	m.rounds++
	for _, fw := range order {
		if offers := sent[fw]; len(offers) > 0 {
			m.sendLocked(fw, &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{Offers: offers}})
		}
	}
}

func (fw *framework) filtered(a *agent, role string, now time.Time) bool {
	for _, f := range fw.filters {
		if f.agent == a && f.role == role && now.Before(f.until) {
			return true
		}
	}
	return false
}

// shareLocked is the framework's dominant share of the cluster.
func (m *Master) shareLocked(fw *framework) float64 {
	var total, used res
	for _, a := range m.agents {
		if !a.lost {
			total = total.plus(a.total)
		}
	}
	for _, t := range fw.tasks {
		used = used.plus(t.res)
	}
	for _, o := range m.offers {
		if o.fw == fw {
			used = used.plus(o.res)
		}
	}
	share := 0.0
	if total.cpus > 0 {
		share = math.Max(share, used.cpus/total.cpus)
	}
	if total.mem > 0 {
		share = math.Max(share, used.mem/total.mem)
	}
	return share
}

// offerProto renders an offer as the master does in Master::offer.
func (m *Master) offerProto(o *offer) mesos.Offer {
	alloc := ""
	if o.fw.hasCap(mesos.FrameworkInfo_Capability_MULTI_ROLE) {
		alloc = o.role
	}
	a := o.agent
	host, ip := a.hostname, a.ip
	path := "/slave(1)"
	scheme := "http"
	out := mesos.Offer{
		ID:          mesos.OfferID{Value: o.id},
		FrameworkID: mesos.FrameworkID{Value: o.fw.id},
		AgentID:     mesos.AgentID{Value: a.id},
		Hostname:    a.hostname,
		URL: &mesos.URL{Scheme: scheme, Address: mesos.Address{Hostname: &host, IP: &ip, Port: int32(a.port)},
			Path: &path},
		Resources:  o.res.toProto(alloc),
		Attributes: a.attributes(),
	}
	if alloc != "" {
		r := alloc
		out.AllocationInfo = &mesos.Resource_AllocationInfo{Role: &r}
	}
	return out
}

// removeOfferLocked forgets an offer and returns its resources to the
// agent, with no filter and no event.
func (m *Master) removeOfferLocked(o *offer) {
	delete(m.offers, o.id)
	o.agent.offered = o.agent.offered.minus(o.res)
}

// discardOffersLocked drops every offer of fw silently (failover, disconnect).
func (m *Master) discardOffersLocked(fw *framework) {
	for _, o := range m.offers {
		if o.fw == fw {
			m.removeOfferLocked(o)
		}
	}
}

// refuseDuration turns Filters into the time an unused offer stays hidden:
// max(refuse_seconds, allocation interval), 5 s by default, capped at 365
// days, none for 0.
func (m *Master) refuseDuration(f *mesos.Filters) time.Duration {
	secs := DefaultRefuseSeconds
	if f != nil && f.RefuseSeconds != nil {
		secs = *f.RefuseSeconds
	}
	if math.IsNaN(secs) || secs < 0 {
		secs = DefaultRefuseSeconds
	}
	if secs == 0 {
		return 0
	}
	if secs > maxRefuseSeconds {
		secs = maxRefuseSeconds
	}
	d := time.Duration(secs * float64(time.Second))
	if d < m.opt.AllocationInterval {
		d = m.opt.AllocationInterval
	}
	return d
}

// recoverLocked returns unused offered resources and installs a filter.
func (m *Master) recoverLocked(fw *framework, a *agent, role string, unused res, filters *mesos.Filters) {
	if unused.isEmpty() {
		return
	}
	if d := m.refuseDuration(filters); d > 0 {
		fw.filters = append(fw.filters, offerFilter{agent: a, role: role, until: m.clock.Now().Add(d)})
	}
}

// declineLocked is Master::decline: unknown or foreign offers are ignored.
func (m *Master) declineLocked(fw *framework, ids []mesos.OfferID, filters *mesos.Filters) {
	for _, id := range ids {
		o := m.offers[id.Value]
		if o == nil || o.fw != fw {
			m.logf("ignoring DECLINE of unknown offer %s", id.Value)
			continue
		}
		m.removeOfferLocked(o)
		m.recoverLocked(fw, o.agent, o.role, o.res, filters)
	}
}

// reviveLocked lifts suppression and clears filters for roles (all when
// empty), then allocates at once.
func (m *Master) reviveLocked(fw *framework, roles []string) {
	if len(roles) == 0 {
		roles = fwRoles(&fw.info)
	}
	drop := map[string]bool{}
	for _, r := range roles {
		drop[r] = true
		delete(fw.suppressed, r)
	}
	kept := fw.filters[:0]
	for _, f := range fw.filters {
		if !drop[f.role] {
			kept = append(kept, f)
		}
	}
	fw.filters = kept
	m.allocateLocked()
}

// suppressLocked stops offers for roles (all when empty).
func (m *Master) suppressLocked(fw *framework, roles []string) {
	if len(roles) == 0 {
		roles = fwRoles(&fw.info)
	}
	for _, r := range roles {
		fw.suppressed[r] = true
	}
}

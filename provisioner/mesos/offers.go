package mesos

import (
	"context"
	"time"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// How the session spends offers (mesos.md §1.11). Every offer round costs a REVIVE and an
// allocation; an environment of depth D should take about D of them however its layers become
// launchable. So while the environment's Apply still expects launches (startPlan), the offers
// the session gets are held, not declined, and launches go out on them at once; the session
// asks for new offers (REVIVE) only when a launch finds none held. An accepted offer is used
// up whole (its unused rest goes back to the master), so each agent's offer serves one
// launch: when a layer becomes launchable piecemeal, the first pieces take one agent each,
// and the last agent's offer waits (patienceLocked) for the rest of the layer.

// launchSettle is how long a launch waits for others before it takes a held offer for itself
// alone: the services a ready dependency frees are started by Apply within milliseconds of
// each other, and should share the offer.
const launchSettle = 50 * time.Millisecond

// heldOffer is an offer the session keeps for launches to come.
type heldOffer struct {
	offer mesospb.Offer
	at    time.Time // received
}

// launchMode is what dispatch does with the launches waiting.
type launchMode int

const (
	launchWait launchMode = iota // not yet: more are coming soon
	launchOne                    // on one agent's offers, keeping the others for what comes soon
	launchAll                    // on every held offer they need
)

// modeLocked decides, for the launches waiting, whether they go now, and how. due is when to
// look again if not now.
func (s *session) modeLocked(now time.Time) (mode launchMode, due time.Time) {
	if len(s.pending) == 0 {
		return launchWait, time.Time{}
	}
	oldest := s.pending[0].enqueued
	for _, ts := range s.pending[1:] {
		if ts.enqueued.Before(oldest) {
			oldest = ts.enqueued
		}
	}
	waited := now.Sub(oldest)
	pl := s.plan
	if pl == nil {
		// No plan: the launches that one event made launchable share one offer round.
		if waited >= s.b.opt.BatchWindow {
			return launchAll, time.Time{}
		}
		return launchWait, oldest.Add(s.b.opt.BatchWindow)
	}
	// The most impatient launch decides when the wait for the rest of the layer ends.
	var patience time.Time
	for _, ts := range s.pending {
		if t := ts.enqueued.Add(s.patienceLocked(ts)); patience.IsZero() || t.Before(patience) {
			patience = t
		}
	}
	if pl.soon == 0 || s.starting >= pl.parallel || !now.Before(patience) {
		// Nothing more is coming soon (or Apply can start no more until these run, or they
		// waited long enough): no reason to keep an offer back.
		return launchAll, time.Time{}
	}
	if waited >= launchSettle && len(s.heldAgentsLocked()) >= 2 {
		return launchOne, time.Time{}
	}
	if waited < launchSettle {
		return launchWait, oldest.Add(launchSettle)
	}
	return launchWait, patience
}

// patienceLocked is how long a launch waits for the rest of its layer before it takes the
// last held offer: as long as its own dependencies took from their launch to getting ready,
// which is the pace of the layer they were in (a loaded host is slower throughout: measured
// on the double under load, a sparse layer's launches came 1.6-2.4 s apart where its
// dependencies had taken 3.2 s), kept between LaunchWait and 4x LaunchWait.
func (s *session) patienceLocked(ts *taskState) time.Duration {
	lo := s.b.opt.LaunchWait
	var last time.Time
	for _, d := range s.plan.deps[ts.service] {
		if t := s.plan.launchedAt[d]; t.After(last) {
			last = t
		}
	}
	if last.IsZero() {
		return lo
	}
	return min(max(ts.enqueued.Sub(last), lo), 4*lo)
}

func (s *session) heldAgentsLocked() map[string]bool {
	agents := map[string]bool{}
	for _, h := range s.held {
		agents[h.offer.AgentID.Value] = true
	}
	return agents
}

// dispatch is where every offer decision is made: it launches the waiting launches that are
// due on the held offers, releases offers nothing will use or that were held too long, asks
// for offers when launches wait without any, and SUPPRESSes when none are wanted. It is called
// after every change (a launch enqueued, offers received or rescinded, a plan ended, a
// subscription) and by its timer.
func (s *session) dispatch(ctx context.Context) {
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.mu.Lock()
	if s.dispatchTimer != nil {
		s.dispatchTimer.Stop()
		s.dispatchTimer = nil
	}
	if !s.connected || s.closing {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	mode, due := s.modeLocked(now)
	var slots []*agentSlot
	if mode != launchWait {
		slots = s.placeLocked(mode)
	}
	expecting := s.plan.expecting()

	// Release: everything when no launch will want it, else what was held too long.
	refuse := refuseWhenIdle
	var release []mesospb.OfferID
	var kept []*heldOffer
	for _, h := range s.held {
		if expecting && now.Sub(h.at) < s.b.opt.OfferHold {
			kept = append(kept, h)
			continue
		}
		release = append(release, h.offer.ID)
	}
	s.held = kept
	if len(s.pending) > 0 {
		// Launches wait that these offers could not take: let the master offer the
		// resources again at its next tick, with whatever was freed meanwhile.
		refuse = refuseWhileWaiting
	}

	// Ask for offers when launches wait and none are held or on their way (with a plan at
	// once: the wait for the rest of a layer is spent on held offers). Not ahead of the next
	// layer: a layer can take longer than OfferHold to get ready (measured on the real test
	// cluster under load: about 30 s), and offers fetched at its launch would be declined and
	// fetched again, a round more per layer; the REVIVE when the layer's first launch comes
	// costs one round trip.
	revive := !s.awaitingOffers && len(s.held) == 0 && len(s.pending) > 0 && (mode != launchWait || s.plan != nil)
	if revive {
		s.suppressed, s.awaitingOffers = false, true
	}
	suppress := !revive && len(s.pending) == 0 && !s.awaitingOffers && !s.suppressed
	if suppress {
		s.suppressed = true
	}

	// Look again when a wait ends or the oldest held offer reaches the bound.
	next := due
	for _, h := range s.held {
		if t := h.at.Add(s.b.opt.OfferHold); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	if !next.IsZero() {
		s.dispatchTimer = time.AfterFunc(max(next.Sub(now), time.Millisecond), func() { s.dispatch(context.Background()) })
	}
	s.mu.Unlock()

	acceptFilters := &mesospb.Filters{RefuseSeconds: ptr(refuseWhenIdle)}
	for _, sl := range slots {
		if len(sl.tasks) == 0 {
			continue
		}
		// One ACCEPT per agent, carrying every task placed there (mesos.md §1.11). Its unused
		// rest is filtered until the session REVIVEs, which it does when it wants offers.
		c := &scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{OfferIDs: sl.offerIDs,
			Operations: []mesospb.Offer_Operation{{Type: mesospb.Offer_Operation_LAUNCH,
				Launch: &mesospb.Offer_Operation_Launch{TaskInfos: sl.tasks}}},
			Filters: acceptFilters}}
		if err := s.call(ctx, c); err != nil {
			s.b.logf("mesos: environment %s: ACCEPT: %v", s.env, err)
			s.requeue(sl.states)
			return // the stream is dropped; the next subscription dispatches again
		}
	}
	if len(release) > 0 {
		s.decline(ctx, release, refuse)
	}
	if revive {
		// REVIVE clears the offer filters and allocates at once (mesos.md §1.11): one round.
		if err := s.call(ctx, &scheduler.Call{Type: scheduler.Call_REVIVE, Revive: &scheduler.Call_Revive{}}); err != nil {
			s.b.logf("mesos: environment %s: REVIVE: %v", s.env, err)
		}
	}
	if suppress {
		if err := s.call(ctx, &scheduler.Call{Type: scheduler.Call_SUPPRESS, Suppress: &scheduler.Call_Suppress{}}); err != nil {
			s.b.logf("mesos: environment %s: SUPPRESS: %v", s.env, err)
		}
	}
}

// decline gives offers back, hidden from this framework for refuse seconds.
func (s *session) decline(ctx context.Context, ids []mesospb.OfferID, refuse float64) {
	c := &scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: ids,
		Filters: &mesospb.Filters{RefuseSeconds: &refuse}}}
	if err := s.call(ctx, c); err != nil {
		s.b.logf("mesos: environment %s: DECLINE: %v", s.env, err)
	}
}

// release declines every held offer (the session closes or tears down).
func (s *session) release(ctx context.Context) {
	s.dispatchMu.Lock()
	defer s.dispatchMu.Unlock()
	s.mu.Lock()
	var ids []mesospb.OfferID
	for _, h := range s.held {
		ids = append(ids, h.offer.ID)
	}
	s.held = nil
	connected := s.connected
	s.mu.Unlock()
	if len(ids) > 0 && connected {
		s.decline(ctx, ids, refuseWhenIdle)
	}
}

// addOffers holds offers that just arrived; dispatch decides what becomes of them.
func (s *session) addOffers(offers []mesospb.Offer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.awaitingOffers = false
	now := time.Now()
	for _, o := range offers {
		s.held = append(s.held, &heldOffer{offer: o, at: now})
	}
}

// rescind forgets a held offer the master withdrew (an agent left, or --offer_timeout).
func (s *session) rescind(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range s.held {
		if h.offer.ID.Value == id {
			s.held = append(s.held[:i:i], s.held[i+1:]...)
			return
		}
	}
}

// offerRole is the role an offer was allocated to, "" when the master did not say (a framework
// without MULTI_ROLE).
func offerRole(o mesospb.Offer) string {
	if o.AllocationInfo != nil {
		return o.AllocationInfo.GetRole()
	}
	for _, r := range o.Resources {
		if r.AllocationInfo != nil {
			return r.AllocationInfo.GetRole()
		}
	}
	return ""
}

// placeLocked takes the held offers the waiting launches need and places every launch that
// fits: in launchAll mode each on the agent with the most CPU left (spreading the environment
// over the cluster), in launchOne mode all on the one agent with the most CPU if they fit there
// (else as in launchAll). The offers of every agent that got a task are used up; the rest stay
// held.
func (s *session) placeLocked(mode launchMode) []*agentSlot {
	var slots []*agentSlot
	byAgent := map[string]*agentSlot{}
	for _, h := range s.held {
		o := h.offer
		sl := byAgent[o.AgentID.Value]
		if sl == nil {
			sl = &agentSlot{agentID: o.AgentID.Value, hostname: o.Hostname, role: offerRole(o)}
			byAgent[o.AgentID.Value] = sl
			slots = append(slots, sl)
		}
		sl.offerIDs = append(sl.offerIDs, o.ID)
		cpus, mem, ports := offered(o.Resources)
		sl.cpus += cpus
		sl.mem += mem
		sl.ports = append(sl.ports, ports...)
	}
	for _, sl := range slots {
		sl.ports = normalizeRanges(sl.ports)
	}
	if mode == launchOne {
		var need request
		nports := 0
		for _, ts := range s.pending {
			d := demand(*ts.spec)
			need.cpus += d.cpus
			need.mem += d.mem
			nports += len(ts.spec.Ports)
		}
		var best *agentSlot
		for _, sl := range slots {
			if sl.cpus+1e-9 >= need.cpus && sl.mem+1e-9 >= need.mem && s.b.portsFitAll(sl.ports, s.pending, nports) &&
				(best == nil || sl.cpus > best.cpus) {
				best = sl
			}
		}
		if best != nil {
			slots = []*agentSlot{best}
		}
	}
	var left []*taskState
	for _, ts := range s.pending {
		need := demand(*ts.spec)
		var best *agentSlot
		for _, sl := range slots {
			if sl.cpus+1e-9 >= need.cpus && sl.mem+1e-9 >= need.mem && s.b.portsFit(sl.ports, *ts.spec) {
				// The agent with the most CPU left: spreads an environment over the cluster.
				if best == nil || sl.cpus > best.cpus {
					best = sl
				}
			}
		}
		if best == nil {
			left = append(left, ts)
			continue
		}
		var hostPorts []uint64
		hostPorts, best.ports = s.b.choosePorts(best.ports, *ts.spec)
		best.cpus -= need.cpus
		best.mem -= need.mem
		info := s.b.taskInfo(ts.id, best.agentID, best.role, *ts.spec, need, hostPorts, s.b.byMesos(s.env, best.hostname))
		ts.pending, ts.info, ts.agentID, ts.hostname, ts.launched = false, &info, best.agentID, best.hostname, time.Now()
		ts.hostPorts = map[string]int{}
		for i, p := range ts.spec.Ports {
			ts.hostPorts[p.Name] = int(hostPorts[i])
		}
		best.tasks = append(best.tasks, info)
		best.states = append(best.states, ts)
		if s.plan != nil {
			s.plan.launch(ts.service, ts.launched)
		}
	}
	s.pending = left
	used := map[string]bool{}
	for _, sl := range slots {
		if len(sl.tasks) > 0 {
			used[sl.agentID] = true
		}
	}
	kept := s.held[:0]
	for _, h := range s.held {
		if !used[h.offer.AgentID.Value] {
			kept = append(kept, h)
		}
	}
	s.held = kept
	return slots
}

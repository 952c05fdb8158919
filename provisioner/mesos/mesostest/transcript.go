package mesostest

import "time"

// Call is one request to the scheduler or operator endpoint as the double
// saw it, kept in the transcript for tests and benchmarks.
type Call struct {
	Time        time.Time // on the double's clock
	Endpoint    string    // "scheduler" or "operator"
	Type        string    // call type, e.g. "SUBSCRIBE", "ACCEPT", "GET_TASKS"; "" if unparsable
	FrameworkID string    // as named in the call, if any
	StreamID    string    // the Mesos-Stream-Id header, if any
	ContentType string
	Status      int // HTTP status code answered
	// Round is the number of offer rounds the master had run when the call
	// arrived; an ACCEPT with Round n answers offers from round n or earlier.
	Round int
	// Tasks is the number of tasks an ACCEPT launched or tried to launch.
	Tasks int
}

// Transcript returns a copy of every call received so far, in order.
func (m *Master) Transcript() []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Call(nil), m.transcript...)
}

// OfferRounds returns how many allocation runs have sent at least one offer.
func (m *Master) OfferRounds() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rounds
}

func (m *Master) record(c Call) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recordLocked(c)
}

func (m *Master) recordLocked(c Call) {
	c.Time = m.clock.Now()
	c.Round = m.rounds
	m.transcript = append(m.transcript, c)
}

package mesostest

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/x-protobuf"
)

// stream is one SUBSCRIBE connection: an ordered, unbounded event queue that
// the HTTP handler drains into RecordIO records. Unbounded, because the
// master never blocks on a slow scheduler; it only drops events when the
// connection is gone.
type stream struct {
	id          string
	contentType string

	mu      sync.Mutex // guards queue, closed and aborted; taken under Master.mu, never the other way round
	queue   [][]byte
	closed  bool // finish after draining the queue
	aborted bool // drop the connection now, mid-stream
	notify  chan struct{}
	gone    chan struct{} // closed when the handler returned
	delay   time.Duration // before the first record (fault switch)
}

func newStream(contentType string, delay time.Duration) *stream {
	return &stream{id: newUUID(), contentType: contentType, notify: make(chan struct{}, 1),
		gone: make(chan struct{}), delay: delay}
}

func (s *stream) encode(ev *scheduler.Event) ([]byte, error) {
	if s.contentType == mediaProtobuf {
		return ev.Marshal()
	}
	return marshalJSON(ev)
}

// push queues an event; events after close are dropped as on a dead connection.
func (s *stream) push(ev *scheduler.Event) error {
	b, err := s.encode(ev)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.aborted {
		return nil
	}
	s.queue = append(s.queue, b)
	s.wake()
	return nil
}

func (s *stream) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.wake()
}

func (s *stream) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = true
	s.wake()
}

// serve writes the stream to w until it is closed, aborted or the client
// goes away. It returns true when the client went away or the stream was
// aborted, i.e. the connection broke rather than being closed by the master.
func (s *stream) serve(w http.ResponseWriter, r *http.Request) (broken bool) {
	defer close(s.gone)
	fl, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", s.contentType)
	h.Set("Mesos-Stream-Id", s.id)
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if fl != nil {
		fl.Flush() // headers go out before any event exists (§5 item 34)
	}
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return true
		}
	}
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		closed, aborted := s.closed, s.aborted
		s.mu.Unlock()
		if aborted {
			return true
		}
		for _, b := range q {
			if _, err := fmt.Fprintf(w, "%d\n", len(b)); err != nil {
				return true
			}
			if _, err := w.Write(b); err != nil {
				return true
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if closed {
			return false
		}
		select {
		case <-s.notify:
		case <-r.Context().Done():
			return true
		}
	}
}

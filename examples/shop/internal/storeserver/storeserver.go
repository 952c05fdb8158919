package storeserver

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/envctl/envctl/examples/shop/internal/storeclient"
)

// maxWait caps a waiting pop so that a client's typo cannot hold a request for hours.
const maxWait = 30 * time.Second

// store is the in-memory state behind the HTTP handlers.
type store struct {
	token []byte
	mux   *http.ServeMux

	mu     sync.Mutex // guards everything below: handlers run concurrently
	kv     map[string][]byte
	schema storeclient.Schema
	queues map[string][][]byte
	pushed chan struct{} // closed (and replaced) on every push, waking waiting pops
}

// New returns the store's HTTP handler; every request but GET /healthz must carry
// "Authorization: Bearer " + token.
func New(token string) http.Handler {
	return newStore(token)
}

func newStore(token string) *store {
	s := &store{
		token:  []byte(token),
		mux:    http.NewServeMux(),
		kv:     map[string][]byte{},
		queues: map[string][][]byte{},
		pushed: make(chan struct{}),
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	s.mux.HandleFunc("GET /schema", s.getSchema)
	s.mux.HandleFunc("PUT /schema", s.putSchema)
	s.mux.HandleFunc("GET /kv", s.list)
	s.mux.HandleFunc("GET /kv/{key}", s.get)
	s.mux.HandleFunc("PUT /kv/{key}", s.put)
	s.mux.HandleFunc("POST /queue/{name}", s.push)
	s.mux.HandleFunc("POST /queue/{name}/pop", s.pop)
	return s
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/healthz" && !s.authorized(r) {
		http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *store) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	// Constant time, so the token cannot be guessed byte by byte from response times.
	return ok && subtle.ConstantTimeCompare([]byte(got), s.token) == 1
}

// maxBody bounds a stored value; the shop's values are tiny.
const maxBody = 1 << 20

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return nil, false
	}
	return b, true
}

func (s *store) getSchema(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sc := s.schema
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(sc)
}

func (s *store) putSchema(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	var sc storeclient.Schema
	if err := json.Unmarshal(b, &sc); err != nil || sc.Version < 1 {
		http.Error(w, `want {"version": N >= 1, "migrated_by": "..."}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc.Version < s.schema.Version {
		http.Error(w, fmt.Sprintf("schema is at version %d, newer than %d", s.schema.Version, sc.Version), http.StatusConflict)
		return
	}
	s.schema = sc
	w.WriteHeader(http.StatusNoContent)
}

func (s *store) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	v, ok := s.kv[r.PathValue("key")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no such key", http.StatusNotFound)
		return
	}
	w.Write(v)
}

func (s *store) put(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.kv[r.PathValue("key")] = b
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *store) list(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	out := map[string]string{}
	s.mu.Lock()
	for k, v := range s.kv {
		if strings.HasPrefix(k, prefix) {
			out[k] = string(v)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (s *store) push(w http.ResponseWriter, r *http.Request) {
	b, ok := readBody(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	s.mu.Lock()
	s.queues[name] = append(s.queues[name], b)
	close(s.pushed)
	s.pushed = make(chan struct{})
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *store) pop(w http.ResponseWriter, r *http.Request) {
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			http.Error(w, "wait: want a duration such as 5s", http.StatusBadRequest)
			return
		}
		wait = min(d, maxWait)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	name := r.PathValue("name")
	for {
		s.mu.Lock()
		if q := s.queues[name]; len(q) > 0 {
			item := q[0]
			s.queues[name] = q[1:]
			s.mu.Unlock()
			w.Write(item)
			return
		}
		pushed := s.pushed
		s.mu.Unlock()
		select {
		case <-pushed:
		case <-timer.C:
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return // client gone or server shutting down
		}
	}
}

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"
)

// fakeAPI and fakeWorker stand in for the real services (proven end to end by the
// Docker test in examples/shop): an order becomes processed on its second read.
func fakes(t *testing.T, apiBroken bool) (api, worker *httptest.Server) {
	t.Helper()
	var mu sync.Mutex // guards reads across handler goroutines
	reads := 0
	mux := http.NewServeMux()
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		if apiBroken {
			http.Error(w, "schema not migrated", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"schema":{"version":1,"migrated_by":"migrate"},"products":[{"id":"p1"},{"id":"p2"}]}`)
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Product string }
		json.NewDecoder(r.Body).Decode(&req)
		if req.Product != "p1" {
			http.Error(w, "want the first product", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"abc123","status":"queued"}`)
	})
	mux.HandleFunc("GET /orders/abc123", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reads++
		n := reads
		mu.Unlock()
		if n < 2 {
			io.WriteString(w, `{"id":"abc123","status":"queued"}`)
			return
		}
		io.WriteString(w, `{"id":"abc123","status":"processed","processed_by":"worker"}`)
	})
	api = httptest.NewServer(mux)
	t.Cleanup(api.Close)
	worker = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"processed":7}`)
	}))
	t.Cleanup(worker.Close)
	return api, worker
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestChain(t *testing.T) {
	api, worker := fakes(t, false)
	f := &front{api: api.URL, worker: worker.URL, client: &http.Client{Timeout: 5 * time.Second}}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()

	want := "web -> api -> store (schema 1, migrated by migrate, 2 products) ; order abc123 processed by worker ; worker ok (processed 7)\n"
	if code, body := get(t, srv.URL+"/"); code != 200 || body != want {
		t.Errorf("GET / = %d %q, want 200 %q", code, body, want)
	}
	code, body := get(t, srv.URL+"/?format=json")
	var c Chain
	if err := json.Unmarshal([]byte(body), &c); err != nil || code != 200 {
		t.Fatalf("GET /?format=json = %d %q (%v)", code, body, err)
	}
	if want := (Chain{Schema: 1, MigratedBy: "migrate", Products: 2, Order: "abc123", OrderBy: "worker", Processed: 7}); c != want {
		t.Errorf("GET /?format=json = %+v, want %+v", c, want)
	}
	if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", code, body)
	}
}

func TestBrokenLinks(t *testing.T) {
	api, worker := fakes(t, true)
	tests := []struct {
		name        string
		api, worker string
		want        *regexp.Regexp
	}{
		{"api refuses", api.URL, worker.URL, regexp.MustCompile(`^web -> api: GET .*/products: status 503: schema not migrated\n$`)},
		{"api down", "http://127.0.0.1:1", worker.URL, regexp.MustCompile(`^web -> api: .*connection refused`)},
	}
	for _, tt := range tests {
		f := &front{api: tt.api, worker: tt.worker, client: &http.Client{Timeout: 5 * time.Second}}
		srv := httptest.NewServer(f.handler())
		code, body := get(t, srv.URL+"/")
		srv.Close()
		if code != http.StatusBadGateway || !tt.want.MatchString(body) {
			t.Errorf("%s: GET / = %d %q, want 502 matching %s", tt.name, code, body, tt.want)
		}
	}
}

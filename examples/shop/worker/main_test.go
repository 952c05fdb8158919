package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envctl/envctl/examples/shop/internal/storeclient"
	"github.com/envctl/envctl/examples/shop/internal/storeserver"
)

// lockedBuffer is written by consume and read by the test.
type lockedBuffer struct {
	mu sync.Mutex // guards b across the two goroutines
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
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

func TestWorker(t *testing.T) {
	const token = "tok"
	storeSrv := httptest.NewServer(storeserver.New(token))
	defer storeSrv.Close()
	store := storeclient.New(storeSrv.URL, token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var stdout, stderr lockedBuffer
	wk := &worker{store: store, queue: "orders", stdout: &stdout, stderr: &stderr, lastErr: errString("store not contacted yet")}
	web := httptest.NewServer(wk.handler())
	defer web.Close()
	done := make(chan struct{})
	go func() {
		wk.consume(ctx)
		close(done)
	}()

	for _, id := range []string{"a1", "b2"} {
		o, _ := json.Marshal(Order{ID: id, Product: "p1", Status: "queued"})
		if err := store.Push(ctx, "orders", o); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Push(ctx, "orders", []byte("garbage")); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := store.Get(ctx, "order/b2")
		if err == nil && strings.Contains(string(b), `"status":"processed","processed_by":"worker"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order b2 = %s, %v after 5s; want processed by worker", b, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get(t, web.URL+"/stats"); code != 200 || body != `{"processed":2,"last_order":"b2","queue":"orders"}`+"\n" {
		t.Errorf("GET /stats = %d %q, want 2 processed, last b2", code, body)
	}
	if !strings.HasPrefix(stdout.String(), "worker: consuming orders from queue orders at "+storeSrv.URL+"\n") {
		t.Errorf("stdout = %q, want the readiness line first", stdout.String())
	}
	// The malformed item is reported and dropped, not retried forever.
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), `dropping malformed queue item "garbage"`) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr = %q, want the malformed item reported", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("consume did not return within 5s of cancel (a waiting pop must end with ctx)")
	}
}

func TestHealthzBeforeStore(t *testing.T) {
	var out lockedBuffer
	wk := &worker{store: storeclient.New("http://127.0.0.1:1", "tok"), queue: "orders", stdout: &out, stderr: &out, lastErr: errString("store not contacted yet")}
	web := httptest.NewServer(wk.handler())
	defer web.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go wk.consume(ctx)
	defer cancel()
	time.Sleep(100 * time.Millisecond)
	if code, body := get(t, web.URL+"/healthz"); code != 503 {
		t.Errorf("GET /healthz with no store = %d %q, want 503", code, body)
	}
	if strings.Contains(out.String(), "consuming orders") {
		t.Errorf("output = %q: announced readiness without a store", out.String())
	}
}

type errString string

func (e errString) Error() string { return string(e) }

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/envctl/envctl/examples/shop/internal/service"
	"github.com/envctl/envctl/examples/shop/internal/storeclient"
)

func main() {
	ctx, stop := service.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", service.Env("LISTEN", ":8081"), "address to serve on")
	addr := fs.String("store", os.Getenv("STORE_ADDR"), "store address, host:port (default $STORE_ADDR)")
	token := fs.String("token", os.Getenv("STORE_TOKEN"), "store bearer token (default $STORE_TOKEN)")
	queue := fs.String("queue", service.Env("QUEUE", "orders"), "store queue to consume")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *addr == "" || *token == "" {
		fmt.Fprintln(stderr, "worker: the store's address and token are required (--store/STORE_ADDR, --token/STORE_TOKEN)")
		return 2
	}
	wk := &worker{store: storeclient.New(service.URL(*addr), *token), queue: *queue, stdout: stdout, stderr: stderr,
		lastErr: errors.New("store not contacted yet")}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wk.consume(ctx)
	}()
	err := service.Serve(ctx, *listen, wk.handler(), nil)
	cancel()
	wg.Wait()
	if err != nil {
		fmt.Fprintf(stderr, "worker: %v\n", err)
		return 1
	}
	return 0
}

// Order mirrors api's order record; worker only changes its status.
type Order struct {
	ID          string `json:"id"`
	Product     string `json:"product"`
	Status      string `json:"status"`
	ProcessedBy string `json:"processed_by,omitempty"`
}

// Stats is the answer of GET /stats.
type Stats struct {
	Processed int    `json:"processed"`
	LastOrder string `json:"last_order"`
	Queue     string `json:"queue"`
}

type worker struct {
	store          *storeclient.Client
	queue          string
	stdout, stderr io.Writer

	mu      sync.Mutex // guards stats and lastErr: read by HTTP handlers, written by consume
	stats   Stats
	lastErr error
}

// popWait is how long one pop waits on an empty queue: long enough to avoid busy
// polling, short enough that an idle worker notices a vanished store quickly.
const popWait = 5 * time.Second

// retryPause paces retries after a failed request to store.
const retryPause = 500 * time.Millisecond

// consume runs until ctx ends.
func (wk *worker) consume(ctx context.Context) {
	// First prove the store answers with our token, then announce readiness.
	for {
		_, err := wk.store.Schema(ctx)
		wk.setErr(err)
		if err == nil {
			break
		}
		fmt.Fprintf(wk.stderr, "worker: store not reachable yet: %v\n", err)
		if !sleep(ctx, retryPause) {
			return
		}
	}
	fmt.Fprintf(wk.stdout, "worker: consuming orders from queue %s at %s\n", wk.queue, wk.store.Base())

	for ctx.Err() == nil {
		item, ok, err := wk.store.Pop(ctx, wk.queue, popWait)
		if ctx.Err() != nil {
			return
		}
		if err == nil && ok {
			err = wk.process(ctx, item)
		}
		wk.setErr(err)
		if err != nil {
			fmt.Fprintf(wk.stderr, "worker: %v\n", err)
			sleep(ctx, retryPause)
		}
	}
}

func (wk *worker) process(ctx context.Context, item []byte) error {
	var o Order
	if err := json.Unmarshal(item, &o); err != nil || o.ID == "" {
		// A malformed item is dropped, not retried forever; it is reported once.
		return fmt.Errorf("dropping malformed queue item %q", item)
	}
	o.Status, o.ProcessedBy = "processed", "worker"
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if err := wk.store.Put(ctx, "order/"+o.ID, b); err != nil {
		return fmt.Errorf("marking order %s processed: %w", o.ID, err)
	}
	wk.mu.Lock()
	wk.stats.Processed++
	wk.stats.LastOrder = o.ID
	wk.mu.Unlock()
	fmt.Fprintf(wk.stdout, "worker: processed order %s (%s)\n", o.ID, o.Product)
	return nil
}

func (wk *worker) setErr(err error) {
	wk.mu.Lock()
	wk.lastErr = err
	wk.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (wk *worker) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		wk.mu.Lock()
		err := wk.lastErr
		wk.mu.Unlock()
		if err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		wk.mu.Lock()
		s := wk.stats
		wk.mu.Unlock()
		s.Queue = wk.queue
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s)
	})
	return mux
}

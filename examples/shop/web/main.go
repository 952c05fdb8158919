package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/envctl/envctl/examples/shop/internal/service"
)

func main() {
	ctx, stop := service.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("web", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", service.Env("LISTEN", ":8000"), "address to serve on")
	apiAddr := fs.String("api", os.Getenv("API_ADDR"), "api address, host:port (default $API_ADDR)")
	workerAddr := fs.String("worker", os.Getenv("WORKER_ADDR"), "worker address, host:port (default $WORKER_ADDR)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *apiAddr == "" || *workerAddr == "" {
		fmt.Fprintln(stderr, "web: the api and worker addresses are required (--api/API_ADDR, --worker/WORKER_ADDR)")
		return 2
	}
	f := &front{api: service.URL(*apiAddr), worker: service.URL(*workerAddr), client: &http.Client{Timeout: 5 * time.Second}}
	err := service.Serve(ctx, *listen, f.handler(), func(l net.Addr) {
		fmt.Fprintf(stdout, "web: listening on %s, api at %s, worker at %s\n", l, f.api, f.worker)
	})
	if err != nil {
		fmt.Fprintf(stderr, "web: %v\n", err)
		return 1
	}
	return 0
}

// Chain is what GET / found along the way.
type Chain struct {
	Schema     int    `json:"schema"`
	MigratedBy string `json:"migrated_by"`
	Products   int    `json:"products"`
	Order      string `json:"order"`
	OrderBy    string `json:"order_processed_by"`
	Processed  int    `json:"worker_processed"`
	Error      string `json:"error,omitempty"`
}

// String is the one-line report of GET /.
func (c Chain) String() string {
	return fmt.Sprintf("web -> api -> store (schema %d, migrated by %s, %d products) ; order %s processed by %s ; worker ok (processed %d)",
		c.Schema, c.MigratedBy, c.Products, c.Order, c.OrderBy, c.Processed)
}

type front struct {
	api, worker string
	// client has a timeout because a hung dependency must fail the report, not hang it.
	client *http.Client
}

func (f *front) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		c, err := f.walk(r.Context())
		status := http.StatusOK
		if err != nil {
			c.Error = err.Error()
			status = http.StatusBadGateway
		}
		if r.URL.Query().Get("format") == "json" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(c)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		if err != nil {
			fmt.Fprintf(w, "web -> %v\n", err)
			return
		}
		fmt.Fprintln(w, c)
	})
	return mux
}

// orderWait bounds how long GET / waits for worker to process its test order.
const orderWait = 10 * time.Second

// walk visits every service; its error names the link that broke.
func (f *front) walk(ctx context.Context) (Chain, error) {
	var c Chain
	var products struct {
		Schema struct {
			Version    int    `json:"version"`
			MigratedBy string `json:"migrated_by"`
		} `json:"schema"`
		Products []struct {
			ID string `json:"id"`
		} `json:"products"`
	}
	if err := f.call(ctx, http.MethodGet, f.api+"/products", nil, http.StatusOK, &products); err != nil {
		return c, fmt.Errorf("api: %w", err)
	}
	c.Schema, c.MigratedBy, c.Products = products.Schema.Version, products.Schema.MigratedBy, len(products.Products)
	if c.Products == 0 {
		return c, fmt.Errorf("api -> store: the catalogue is empty")
	}

	var order struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		ProcessedBy string `json:"processed_by"`
	}
	body := fmt.Sprintf(`{"product": %q}`, products.Products[0].ID)
	if err := f.call(ctx, http.MethodPost, f.api+"/orders", []byte(body), http.StatusAccepted, &order); err != nil {
		return c, fmt.Errorf("api (placing an order): %w", err)
	}
	c.Order = order.ID

	deadline := time.Now().Add(orderWait)
	for order.Status != "processed" {
		if time.Now().After(deadline) {
			return c, fmt.Errorf("worker: order %s still %q after %v", c.Order, order.Status, orderWait)
		}
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if err := f.call(ctx, http.MethodGet, f.api+"/orders/"+c.Order, nil, http.StatusOK, &order); err != nil {
			return c, fmt.Errorf("api (reading order %s): %w", c.Order, err)
		}
	}
	c.OrderBy = order.ProcessedBy

	var stats struct {
		Processed int `json:"processed"`
	}
	if err := f.call(ctx, http.MethodGet, f.worker+"/stats", nil, http.StatusOK, &stats); err != nil {
		return c, fmt.Errorf("worker: %w", err)
	}
	c.Processed = stats.Processed
	return c, nil
}

// call does one request and decodes the JSON answer into out.
func (f *front) call(ctx context.Context, method, url string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	return nil
}

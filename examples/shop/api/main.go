package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"

	"github.com/envctl/envctl/examples/shop/internal/service"
	"github.com/envctl/envctl/examples/shop/internal/storeclient"
)

func main() {
	ctx, stop := service.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", service.Env("LISTEN", ":8080"), "address to serve on")
	addr := fs.String("store", os.Getenv("STORE_ADDR"), "store address, host:port (default $STORE_ADDR)")
	token := fs.String("token", os.Getenv("STORE_TOKEN"), "store bearer token (default $STORE_TOKEN)")
	schemaStr := fs.String("schema", service.Env("REQUIRED_SCHEMA", "1"), "schema version required")
	queue := fs.String("queue", service.Env("QUEUE", "orders"), "store queue for orders")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	schema, err := strconv.Atoi(*schemaStr)
	if err != nil || schema < 1 {
		fmt.Fprintf(stderr, "api: schema version %q: want a whole number >= 1\n", *schemaStr)
		return 2
	}
	if *addr == "" || *token == "" {
		fmt.Fprintln(stderr, "api: the store's address and token are required (--store/STORE_ADDR, --token/STORE_TOKEN)")
		return 2
	}
	a := &api{store: storeclient.New(service.URL(*addr), *token), schema: schema, queue: *queue}
	err = service.Serve(ctx, *listen, a.handler(), func(l net.Addr) {
		fmt.Fprintf(stdout, "api: listening on %s, store at %s\n", l, a.store.Base())
	})
	if err != nil {
		fmt.Fprintf(stderr, "api: %v\n", err)
		return 1
	}
	return 0
}

// Order is the record kept in store under "order/<id>" and the item on the queue.
type Order struct {
	ID          string `json:"id"`
	Product     string `json:"product"`
	Status      string `json:"status"` // "queued", then "processed"
	ProcessedBy string `json:"processed_by,omitempty"`
}

// Products is the answer of GET /products.
type Products struct {
	Store    string             `json:"store"`
	Schema   storeclient.Schema `json:"schema"`
	Products []json.RawMessage  `json:"products"`
}

type api struct {
	store  *storeclient.Client
	schema int
	queue  string
}

func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /products", a.products)
	mux.HandleFunc("POST /orders", a.placeOrder)
	mux.HandleFunc("GET /orders/{id}", a.order)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	// An authenticated call, so a wrong token shows up as unhealthy too.
	if _, err := a.store.Schema(r.Context()); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok")
}

func (a *api) products(w http.ResponseWriter, r *http.Request) {
	sc, err := a.store.Schema(r.Context())
	if err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusBadGateway)
		return
	}
	if sc.Version < a.schema {
		http.Error(w, fmt.Sprintf("schema not migrated: store has version %d, api needs %d", sc.Version, a.schema), http.StatusServiceUnavailable)
		return
	}
	kv, err := a.store.List(r.Context(), "product/")
	if err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusBadGateway)
		return
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := Products{Store: a.store.Base(), Schema: sc, Products: []json.RawMessage{}}
	for _, k := range keys {
		out.Products = append(out.Products, json.RawMessage(kv[k]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Product string `json:"product"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.Product == "" {
		http.Error(w, `want {"product": "ID"}`, http.StatusBadRequest)
		return
	}
	if _, err := a.store.Get(r.Context(), "product/"+req.Product); errors.Is(err, storeclient.ErrNotFound) {
		http.Error(w, fmt.Sprintf("unknown product %q", req.Product), http.StatusBadRequest)
		return
	} else if err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusBadGateway)
		return
	}
	var id [6]byte
	rand.Read(id[:]) // never fails (crypto/rand panics instead on a broken system)
	o := Order{ID: hex.EncodeToString(id[:]), Product: req.Product, Status: "queued"}
	b, err := json.Marshal(o)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The record first, then the queue: worker may pop it at once and must find it.
	if err := a.store.Put(r.Context(), "order/"+o.ID, b); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusBadGateway)
		return
	}
	if err := a.store.Push(r.Context(), a.queue, b); err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusBadGateway)
		return
	}
	writeJSON(w, http.StatusAccepted, o)
}

func (a *api) order(w http.ResponseWriter, r *http.Request) {
	b, err := a.store.Get(r.Context(), "order/"+r.PathValue("id"))
	if errors.Is(err, storeclient.ErrNotFound) {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	} else if err != nil {
		http.Error(w, "store: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

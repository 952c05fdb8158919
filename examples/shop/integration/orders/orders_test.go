// The order path: api takes an order, worker processes it through store's queue.
package orders_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/envtest"
	"github.com/envctl/envctl/examples/shop/internal/shoptest"
)

// shop is the environment of examples/shop, shared with every other test process that asks
// for it (the front package's, a second go test running at the same time).
var shop *envtest.Env

func TestMain(m *testing.M) {
	if why := shoptest.NoEngine(); why != "" {
		fmt.Println("skipping the shop's integration tests:", why)
		os.Exit(0)
	}
	if err := shoptest.Build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shop = envtest.New(shoptest.File(), nil)
	os.Exit(shop.Run(m))
}

func TestProducts(t *testing.T) {
	resp, err := http.Get(shop.URL("api", "http", "/products"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Schema   struct{ Version int } `json:"schema"`
		Products []json.RawMessage     `json:"products"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /products: %s, %v", resp.Status, err)
	}
	if p.Schema.Version != 1 || len(p.Products) != 3 {
		t.Errorf("GET /products: schema %d, %d products; want schema 1 (migrate ran first) and the 3 it seeded", p.Schema.Version, len(p.Products))
	}
}

func TestOrderIsProcessed(t *testing.T) {
	resp, err := http.Post(shop.URL("api", "http", "/orders"), "application/json", strings.NewReader(`{"product": "p2"}`))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		ProcessedBy string `json:"processed_by"`
	}
	json.NewDecoder(resp.Body).Decode(&o)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || o.ID == "" {
		t.Fatalf("POST /orders: %s, %+v", resp.Status, o)
	}
	// The worker polls the queue; wait for it as a client would, with a generous deadline.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(shop.URL("api", "http", "/orders/"+o.ID))
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&o)
			resp.Body.Close()
		}
		if o.Status == "processed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s still %q after 30 s", o.ID, o.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if o.ProcessedBy == "" {
		t.Errorf("order %s processed by nobody: %+v", o.ID, o)
	}
}

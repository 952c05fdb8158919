package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/envctl/envctl/examples/shop/internal/storeclient"
	"github.com/envctl/envctl/examples/shop/internal/storeserver"
)

const token = "tok"

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAPI(t *testing.T) {
	storeSrv := httptest.NewServer(storeserver.New(token))
	defer storeSrv.Close()
	store := storeclient.New(storeSrv.URL, token)
	ctx := context.Background()

	apiSrv := httptest.NewServer((&api{store: store, schema: 1, queue: "orders"}).handler())
	defer apiSrv.Close()

	// Before migrate has run.
	if code, body := do(t, "GET", apiSrv.URL+"/healthz", ""); code != 200 {
		t.Errorf("GET /healthz before migration = %d %q, want 200 (store is reachable)", code, body)
	}
	if code, body := do(t, "GET", apiSrv.URL+"/products", ""); code != 503 || !strings.Contains(body, "schema not migrated: store has version 0, api needs 1") {
		t.Errorf("GET /products before migration = %d %q, want 503 naming the versions", code, body)
	}

	// What migrate does.
	for _, p := range []string{"p2", "p1"} {
		if err := store.Put(ctx, "product/"+p, []byte(`{"id":"`+p+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetSchema(ctx, storeclient.Schema{Version: 1, MigratedBy: "migrate"}); err != nil {
		t.Fatal(err)
	}

	code, body := do(t, "GET", apiSrv.URL+"/products", "")
	var products Products
	if err := json.Unmarshal([]byte(body), &products); code != 200 || err != nil {
		t.Fatalf("GET /products = %d %q (%v), want 200 JSON", code, body, err)
	}
	if got := string(products.Products[0]) + string(products.Products[1]); products.Schema.MigratedBy != "migrate" || got != `{"id":"p1"}{"id":"p2"}` {
		t.Errorf("GET /products = %s, want schema by migrate and p1, p2 in order", body)
	}

	tests := []struct {
		body     string
		wantCode int
	}{
		{`{"product":"p1"}`, 202},
		{`{"product":"nope"}`, 400},
		{`{}`, 400},
		{`garbage`, 400},
	}
	for _, tt := range tests {
		if code, body := do(t, "POST", apiSrv.URL+"/orders", tt.body); code != tt.wantCode {
			t.Errorf("POST /orders %s = %d %q, want %d", tt.body, code, body, tt.wantCode)
		}
	}
	item, ok, err := store.Pop(ctx, "orders", 0)
	if err != nil || !ok {
		t.Fatalf("queue after one accepted order: %v, %v; want one item", ok, err)
	}
	var o Order
	if err := json.Unmarshal(item, &o); err != nil || o.Product != "p1" || o.Status != "queued" || len(o.ID) != 12 {
		t.Fatalf("queued order = %s, want p1 queued with a 12-hex id", item)
	}
	if _, more, _ := store.Pop(ctx, "orders", 0); more {
		t.Error("rejected orders were queued too")
	}
	if code, body := do(t, "GET", apiSrv.URL+"/orders/"+o.ID, ""); code != 200 || !strings.Contains(body, `"status":"queued"`) {
		t.Errorf("GET /orders/%s = %d %q, want 200 queued", o.ID, code, body)
	}
	if code, _ := do(t, "GET", apiSrv.URL+"/orders/missing", ""); code != 404 {
		t.Errorf("GET /orders/missing = %d, want 404", code)
	}
}

func TestHealthzFailsWithWrongToken(t *testing.T) {
	storeSrv := httptest.NewServer(storeserver.New(token))
	defer storeSrv.Close()
	apiSrv := httptest.NewServer((&api{store: storeclient.New(storeSrv.URL, "wrong"), schema: 1}).handler())
	defer apiSrv.Close()
	if code, body := do(t, "GET", apiSrv.URL+"/healthz", ""); code != 503 || !strings.Contains(body, "401") {
		t.Errorf("GET /healthz with a wrong token = %d %q, want 503 naming 401", code, body)
	}
}

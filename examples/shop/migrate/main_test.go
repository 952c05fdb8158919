package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/envctl/envctl/examples/shop/internal/storeclient"
	"github.com/envctl/envctl/examples/shop/internal/storeserver"
)

func TestMigrate(t *testing.T) {
	const token = "s3cr3t-tok"
	srv := httptest.NewServer(storeserver.New(token))
	defer srv.Close()
	ctx := context.Background()
	addr := strings.TrimPrefix(srv.URL, "http://") // injected as host:port
	store := storeclient.New(srv.URL, token)

	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantOutput string // in stdout when 0, else in stderr
		wantSchema int
	}{
		{"missing token", []string{"--store", addr}, 2, "token are required", 0},
		{"bad schema", []string{"--store", addr, "--token", token, "--schema", "x"}, 2, "whole number", 0},
		{"wrong token", []string{"--store", addr, "--token", "nope"}, 1, "status 401", 0},
		{"unreachable", []string{"--store", "127.0.0.1:1", "--token", token}, 1, "reading the schema version", 0},
		{"first run", []string{"--store", addr, "--token", token}, 0, "migrated to schema 1, 3 products seeded", 1},
		{"again is harmless", []string{"--store", addr, "--token", token}, 0, "migrated to schema 1", 1},
		{"custom seed", []string{"--store", addr, "--token", token, "--schema", "2", "--products", `[{"id":"p9","name":"mate","price_cents":1}]`}, 0, "schema 2, 1 products", 2},
		{"older than store", []string{"--store", addr, "--token", token, "--schema", "1"}, 1, "already at version 2 (by migrate), newer than 1", 2},
	}
	for _, s := range steps {
		var stdout, stderr bytes.Buffer
		code := run(ctx, s.args, &stdout, &stderr)
		out := stdout.String()
		if code != 0 {
			out = stderr.String()
		}
		if code != s.wantCode || !strings.Contains(out, s.wantOutput) {
			t.Errorf("%s: run = %d, output %q; want %d containing %q", s.name, code, out, s.wantCode, s.wantOutput)
		}
		if strings.Contains(stdout.String()+stderr.String(), token) {
			t.Errorf("%s: output shows the token", s.name)
		}
		if sc, _ := store.Schema(ctx); sc.Version != s.wantSchema {
			t.Errorf("%s: store schema = %d, want %d", s.name, sc.Version, s.wantSchema)
		}
	}
	products, err := store.List(ctx, "product/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := products["product/p2"], `{"id":"p2","name":"black tea","price_cents":300}`; got != want {
		t.Errorf("product/p2 = %q, want %q", got, want)
	}
	if _, ok := products["product/p9"]; !ok || len(products) != 4 {
		t.Errorf("products = %v, want p1-p3 and p9", products)
	}
}

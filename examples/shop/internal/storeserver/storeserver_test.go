package storeserver_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/examples/shop/internal/storeclient"
	"github.com/envctl/envctl/examples/shop/internal/storeserver"
	"github.com/google/go-cmp/cmp"
)

const token = "s3cret"

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(storeserver.New(token))
	t.Cleanup(srv.Close)
	return srv
}

func statusOf(err error) int {
	var se *storeclient.StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

func TestAuth(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	for _, tok := range []string{"", "wrong", token + "x"} {
		c := storeclient.New(srv.URL, tok)
		if err := c.Healthy(ctx); err != nil {
			t.Errorf("Healthy with token %q = %v, want nil (healthz needs no token)", tok, err)
		}
		if _, err := c.Schema(ctx); statusOf(err) != http.StatusUnauthorized {
			t.Errorf("Schema with token %q = %v, want status 401", tok, err)
		}
		if err := c.Put(ctx, "k", []byte("v")); statusOf(err) != http.StatusUnauthorized {
			t.Errorf("Put with token %q = %v, want status 401", tok, err)
		}
	}
	if _, err := storeclient.New(srv.URL, token).Schema(ctx); err != nil {
		t.Errorf("Schema with the right token = %v, want nil", err)
	}
}

func TestKeyValue(t *testing.T) {
	c := storeclient.New(newServer(t).URL, token)
	ctx := context.Background()
	for k, v := range map[string]string{"product/p1": "a", "product/p2": "b", "order/x": "c", "odd key/?&": "d"} {
		if err := c.Put(ctx, k, []byte(v)); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	if got, err := c.Get(ctx, "odd key/?&"); err != nil || string(got) != "d" {
		t.Errorf("Get(odd key) = %q, %v; want %q, nil", got, err, "d")
	}
	if _, err := c.Get(ctx, "missing"); !errors.Is(err, storeclient.ErrNotFound) {
		t.Errorf("Get(missing) error = %v, want ErrNotFound", err)
	}
	got, err := c.List(ctx, "product/")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"product/p1": "a", "product/p2": "b"}, got); diff != "" {
		t.Errorf("List(product/) (-want +got):\n%s", diff)
	}
	if err := c.Put(ctx, "product/p1", []byte("A")); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Get(ctx, "product/p1"); string(got) != "A" {
		t.Errorf("Get after overwrite = %q, want %q", got, "A")
	}
}

func TestSchema(t *testing.T) {
	c := storeclient.New(newServer(t).URL, token)
	ctx := context.Background()
	if got, err := c.Schema(ctx); err != nil || got != (storeclient.Schema{}) {
		t.Fatalf("fresh Schema = %+v, %v; want version 0", got, err)
	}
	steps := []struct {
		set        storeclient.Schema
		wantStatus int // 0: accepted
		want       storeclient.Schema
	}{
		{storeclient.Schema{Version: 2, MigratedBy: "m"}, 0, storeclient.Schema{Version: 2, MigratedBy: "m"}},
		{storeclient.Schema{Version: 2, MigratedBy: "again"}, 0, storeclient.Schema{Version: 2, MigratedBy: "again"}},
		{storeclient.Schema{Version: 1, MigratedBy: "old"}, http.StatusConflict, storeclient.Schema{Version: 2, MigratedBy: "again"}},
		{storeclient.Schema{Version: 0}, http.StatusBadRequest, storeclient.Schema{Version: 2, MigratedBy: "again"}},
	}
	for _, s := range steps {
		err := c.SetSchema(ctx, s.set)
		if statusOf(err) != s.wantStatus || (s.wantStatus == 0 && err != nil) {
			t.Errorf("SetSchema(%+v) = %v, want status %d", s.set, err, s.wantStatus)
		}
		if got, _ := c.Schema(ctx); got != s.want {
			t.Errorf("after SetSchema(%+v): Schema = %+v, want %+v", s.set, got, s.want)
		}
	}
}

func TestQueue(t *testing.T) {
	c := storeclient.New(newServer(t).URL, token)
	ctx := context.Background()
	if _, ok, err := c.Pop(ctx, "q", 0); ok || err != nil {
		t.Fatalf("Pop on empty queue = ok %v, %v; want false, nil", ok, err)
	}
	for _, item := range []string{"1", "2", "3"} {
		if err := c.Push(ctx, "q", []byte(item)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Push(ctx, "other", []byte("x")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		item, ok, err := c.Pop(ctx, "q", 0)
		if err != nil || !ok {
			t.Fatalf("Pop = %q, %v, %v", item, ok, err)
		}
		got = append(got, string(item))
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, got); diff != "" {
		t.Errorf("pop order (-want +got):\n%s", diff)
	}
	if _, ok, _ := c.Pop(ctx, "q", 0); ok {
		t.Error("Pop after draining = ok, want empty (items leaked between queues?)")
	}
}

func TestPopWaitsForPush(t *testing.T) {
	c := storeclient.New(newServer(t).URL, token)
	ctx := context.Background()
	type result struct {
		item string
		ok   bool
		err  error
	}
	res := make(chan result, 1)
	go func() {
		item, ok, err := c.Pop(ctx, "q", 10*time.Second)
		res <- result{string(item), ok, err}
	}()
	time.Sleep(100 * time.Millisecond) // let the pop start waiting; if not, it finds the item at once
	if err := c.Push(ctx, "q", []byte("late")); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-res:
		if r.err != nil || !r.ok || r.item != "late" {
			t.Errorf("waiting Pop = %q, %v, %v; want %q, true, nil", r.item, r.ok, r.err, "late")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting Pop did not return within 5s of a push")
	}
}

func TestBadRequests(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/queue/q/pop?wait=soon", "", http.StatusBadRequest},
		{"PUT", "/schema", "not json", http.StatusBadRequest},
		{"DELETE", "/kv/a", "", http.StatusMethodNotAllowed},
		{"PUT", "/kv/big", strings.Repeat("x", 2<<20), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
}

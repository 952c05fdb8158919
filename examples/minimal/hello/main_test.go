package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(handler("hi there"))
	defer srv.Close()
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/", 200, "hi there\n"},
		{"/healthz", 200, "ok"},
		{"/other", 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || string(b) != tt.wantBody {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, b, tt.wantStatus, tt.wantBody)
		}
	}
}

package probeagent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/protocol"
)

// pair runs an agent over pipes and returns a client of it and a func that ends its stdin.
func pair(t *testing.T) (*Client, func()) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan struct{})
	go func() {
		Serve(inR, outW, provisioner.Direct)
		outW.Close()
		close(done)
	}()
	c := NewClient(inW, outR)
	stop := func() { inW.Close(); <-done }
	t.Cleanup(func() { inW.Close() })
	return c, stop
}

func TestAgentProbes(t *testing.T) {
	c, stop := pair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if h, err := c.Hello(ctx); err != nil || !strings.Contains(h, "probe agent") {
		t.Fatalf("hello: %q %v", h, err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	if err := c.DialTCP(ctx, addr); err != nil {
		t.Errorf("dial a listener: %v", err)
	}
	// A port nobody listens on: refused, said shortly.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	if err := c.DialTCP(ctx, closed); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("dial a closed port: %v, want connection refused", err)
	}
	if st, err := c.GetHTTP(ctx, srv.URL+"/"); err != nil || st != http.StatusNoContent {
		t.Errorf("GET: %d %v, want 204", st, err)
	}
	// The first status, not the redirect's target.
	if st, err := c.GetHTTP(ctx, srv.URL+"/moved"); err != nil || st != http.StatusFound {
		t.Errorf("GET /moved: %d %v, want 302", st, err)
	}
	// The caller's timeout travels: a server that accepts and never answers.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	begin := time.Now()
	if _, err := c.GetHTTP(short, "http://"+hang.Addr().String()+"/"); err == nil {
		t.Error("GET of a silent server succeeded")
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("GET of a silent server took %v", d)
	}

	// A protocol check runs in the agent, with its params (the password) carried over the
	// stream: a memcached-like server that answers version.
	mc, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	go func() {
		for {
			conn, err := mc.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 9)
			io.ReadFull(conn, buf)
			if string(buf) == "version\r\n" {
				conn.Write([]byte("VERSION 1.6.18\r\n"))
			}
			conn.Close()
		}
	}()
	if ok, detail, err := c.Protocol(ctx, mc.Addr().String(), protocol.Params{Kind: protocol.Memcached}); err != nil || !ok || detail != "VERSION 1.6.18" {
		t.Errorf("memcached through the agent: %v %q %v", ok, detail, err)
	}
	short2, cancelShort2 := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancelShort2()
	if ok, detail, err := c.Protocol(short2, hang.Addr().String(), protocol.Params{Kind: protocol.Redis, Password: "pw"}); (err == nil && ok) || (err == nil && !strings.Contains(detail, "timed out")) {
		t.Errorf("redis at a silent server through the agent: %v %q %v, want not ready, timed out", ok, detail, err)
	}
	if _, _, err := c.Protocol(ctx, closed, protocol.Params{Kind: protocol.Postgres}); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("postgres at a closed port through the agent: %v, want connection refused", err)
	}

	stop()
	if _, _, err := c.Protocol(ctx, addr, protocol.Params{Kind: protocol.Redis}); !errors.Is(err, ErrStopped) {
		t.Errorf("protocol after the agent stopped: %v, want ErrStopped", err)
	}
	if err := c.DialTCP(ctx, addr); !errors.Is(err, ErrStopped) {
		t.Errorf("after the agent stopped: %v, want ErrStopped", err)
	}
}

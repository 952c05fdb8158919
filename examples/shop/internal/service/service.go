package service

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Env returns the environment variable key, or def when it is unset or empty.
func Env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// URL turns an injected "host:port" into "http://host:port"; a value that already
// has a scheme is kept.
func URL(addr string) string {
	if strings.Contains(addr, "://") {
		return strings.TrimRight(addr, "/")
	}
	return "http://" + addr
}

// SignalContext is cancelled by SIGTERM or SIGINT. The handler must be explicit: as
// PID 1 in a container a process without one ignores SIGTERM, and `docker stop` would
// wait out its whole grace period.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
}

// shutdownGrace bounds how long in-flight requests may finish after ctx ends; it is
// well under Docker's default 10s stop grace.
const shutdownGrace = 3 * time.Second

// Serve serves h on addr until ctx ends, then shuts down gracefully. listening, if not
// nil, is told the bound address once the listener is open (before any request).
func Serve(ctx context.Context, addr string, h http.Handler, listening func(net.Addr)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if listening != nil {
		listening(l.Addr())
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second, // a client that never sends headers must not pin a connection
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// probeTimeout bounds one probe: a probe is retried by its caller (envctl, Mesos), so
// one attempt must fail fast rather than hang.
const probeTimeout = 2 * time.Second

// probe implements `testsvc probe tcp HOST:PORT` and `testsvc probe http URL`.
func probe(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: testsvc probe tcp HOST:PORT | testsvc probe http URL")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	kind, target := args[0], args[1]
	switch kind {
	case "tcp":
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", target)
		if err != nil {
			fmt.Fprintf(stderr, "testsvc: probe tcp %s: %v\n", target, err)
			return 1
		}
		c.Close()
		return 0
	case "http":
		if _, err := get(ctx, target); err != nil {
			fmt.Fprintf(stderr, "testsvc: probe http %s: %v\n", target, err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(stderr, "testsvc: unknown probe %q (want tcp or http)\n", kind)
		return 2
	}
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/envctl/envctl/examples/shop/internal/service"
	"github.com/envctl/envctl/examples/shop/internal/storeserver"
)

func main() {
	ctx, stop := service.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", service.Env("LISTEN", ":7000"), "address to serve on")
	token := fs.String("token", os.Getenv("STORE_TOKEN"), "bearer token clients must send (default $STORE_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *token == "" {
		fmt.Fprintln(stderr, "store: a token is required (--token or STORE_TOKEN)")
		return 2
	}
	err := service.Serve(ctx, *listen, storeserver.New(*token), func(a net.Addr) {
		fmt.Fprintf(stdout, "store: listening on %s\n", a)
	})
	if err != nil {
		fmt.Fprintf(stderr, "store: %v\n", err)
		return 1
	}
	return 0
}

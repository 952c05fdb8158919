// Command hello is the service of examples/minimal: it answers GET / with $GREETING
// (default "hello") and GET /healthz with "ok", on $LISTEN (default ":8080"), and stops
// at once on SIGTERM.
package main

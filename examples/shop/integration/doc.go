// Package integration holds the shop's integration tests, written with envctl's envtest: each
// package below is its own test process, and `go test ./...` runs them at once against ONE
// shop — the first brings it up, the other joins, the last removes it. Under
// `envctl run -f examples/shop -- go test ./examples/shop/integration/...` they use run's shop.
package integration

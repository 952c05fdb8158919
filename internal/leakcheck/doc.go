// Command leakcheck fails when the test suite left Docker objects behind: containers,
// networks and volumes of test environments (names with a test prefix) or of a Mesos double,
// and anonymous volumes that no container uses (a container removed without -v). `make test`
// runs it after `go test`, so a leak anywhere in the suite fails the build even when the
// package that caused it had no check of its own. Environments of the user's own (any other
// name) are never reported and never touched.
package main

// Package realimage builds the images of real servers (PostgreSQL, MariaDB, Redis,
// RabbitMQ, memcached, nginx) that the readiness tests run against, on machines that reach
// no container registry: a Debian 12 base made by debootstrap (envctl-real/debian:12), then
// one `docker build` per server that apt-get installs its Debian package.
//
// The Dockerfiles come from two places: shared/images beside the checkout (Postgres, Redis,
// RabbitMQ, nginx: the project's shared test assets, read-only) and this package's
// dockerfiles folder (MariaDB, memcached: ours). shared/images has a build script of its own;
// this package does not call it because it takes the Debian mirror from the first URL in
// apt's sources, which on these machines is a commented-out snapshot mirror that does not
// answer: the base is built here from the URIs apt really uses (or ENVCTL_DEBIAN_MIRROR).
//
// Builds are idempotent (an image the engine has is kept) and serialised across processes
// with a file lock, so the test packages of one `go test ./...` that need the same image
// build it once. The first build takes minutes (debootstrap, then apt-get per image); CI
// starts it early (`go run ./internal/realimage/cmd/build-real-images`) so it overlaps with
// the other tests.
//
// Tests call Need: without shared/images beside the checkout the test is skipped, saying how
// to run it (a user's fresh clone has no shared folder), and fails with CI=true (CI must run
// every test), as internal/mesoscluster's do; a failed build fails the test.
package realimage

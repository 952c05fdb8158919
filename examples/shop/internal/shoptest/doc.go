// Package shoptest prepares what the shop's integration tests need before envtest brings the
// shop up: the five services' static binaries in their build contexts (each Dockerfile copies
// ./app FROM scratch), as make examples builds them, and a check that the Docker Engine is there.
package shoptest

// Package gate is the tiny program that holds a service's own process in a container that was
// started ahead of its dependencies' readiness, until envctl releases it.
//
// envctl (provisioner/docker) creates such a container with the gate as its entrypoint and the
// service's real argv (Docker's entrypoint and cmd, resolved as the engine would) as its
// arguments, and starts it while the dependencies are still getting ready: the engine's work
// for the start (sandbox, network endpoint, shim) is then done off the critical path. The gate
// is envctl's own static linux binary run as `envctl __gate -- ARGV...` from a read-only volume
// (see provisioner/docker's gate.go), so images FROM scratch need nothing.
//
// The protocol, all through the container's own filesystem and signals (no extra process per
// container, nothing on the service's stdout or stderr):
//
//	start:    if Released exists (a restart of a released container), exec at once.
//	          Else catch SIGUSR1, SIGTERM and SIGINT, then create Armed: from now on
//	          a SIGUSR1 is caught (before, the kernel drops it: a PID 1 without a handler
//	          ignores signals), so envctl sends it only once it sees Armed.
//	SIGUSR1:  create Released, then exec the service's argv: same PID (1), same env,
//	          user, working directory; the gate is gone and signals go to the service.
//	SIGTERM,  exit at once (128+signal), so that a held container is removed fast by
//	SIGINT:   down and rollback.
//
// Dir lives in the container's writable layer, so it survives a restart (docker restart,
// envctl restart) and is new for every container.
package gate

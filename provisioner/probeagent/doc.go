// Package probeagent is the probe agent's protocol: envctl asks an agent that runs inside an
// environment's network (a container on it, started by the Docker backend) to make readiness
// probes for it — a TCP connect, an HTTP GET, a protocol check (provisioner/protocol) — when
// envctl's own process cannot route to the containers (Docker Desktop, a remote or rootless
// engine, a CI job container, a network namespace that reaches nothing but the engine's API).
//
// The agent speaks over its own stdin and stdout, which the backend reaches through the
// engine's attach API: that stream works wherever the API does (unix socket, tcp://, ssh://),
// and the agent needs no published port. The agent makes each probe with the same code as
// envctl's own process (provisioner.Direct), so the semantics are the same: the service's own
// address, a fresh connection, the exact first status, the caller's timeout.
//
// The protocol is one JSON object per line. The agent first writes a hello line (id 0); then
// each request {"id","op","addr","url","protocol","timeout_ms"} is answered by
// {"id","status","ok","detail","err"}, in any order, so that many probes share one agent. A
// protocol check's redis password crosses only this stream. The agent exits when its stdin ends: when
// envctl closes the stream or dies, even by SIGKILL.
package probeagent

// Package docker is the provisioner.Backend over the local Docker Engine API.
//
// It is the only package of envctl that imports the Docker SDK. Each environment gets one
// bridge network, envctl-<env>; each service one container, <env>-<service>, attached to that
// network with the service name as its alias, its ports published on 127.0.0.1 on ephemeral host
// ports. Everything it creates carries envctl's labels (provisioner.LabelEnv and friends), and
// everything it reads or removes is selected by those labels: a container or network without
// provisioner.LabelEnv is never touched.
//
// The backend keeps no state of its own. Observe, Inspect and Environments read the labels, the
// port bindings and the network endpoints back from the engine, so a second envctl process (or
// the same one after a crash) sees exactly what the first created.
//
// Every request to the engine runs under its own timeout (see callTimeout), so that a wedged
// engine fails a command instead of hanging it; only the streaming calls (followed logs, image
// pulls and builds) run as long as the caller's context allows.
// envctl's own code sometimes has to run next to the services, inside the engine's network
// (see AgentBinary and AgentImage): it runs from an image FROM scratch that the engine builds
// from a static linux envctl binary, so no registry and no tools in the services' images are
// needed.
//
// The same binary is the gate (gate.go, provisioner/gate): a container whose dependencies are
// not ready yet is created and started ahead (provisioner.Holder) with the gate as PID 1,
// read-only from a volume filled once per binary, holding the service's process until envctl
// releases it with a signal; the gate then execs the service's own argv. Where it cannot be
// used the container is only created ahead, and the reason is the service's StartPath.
package docker

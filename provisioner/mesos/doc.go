// Package mesos is envctl's Mesos backend: it runs an environment's services as
// Docker-containerized tasks on an Apache Mesos cluster, over the v1 scheduler and operator
// HTTP APIs (mesos-go v0.0.11 supplies the generated protobuf types; the HTTP plumbing is this
// package's own, because mesos-go's httpsched drops a subscription on any call error and does
// not watch heartbeats — see shared/mesos.md §3.5).
//
// One framework per environment, named envctl-<env> and labelled like every envctl resource,
// with checkpointing and failover_timeout set to the environment's TTL: once envctl
// disconnects (Close, or the process dies) the tasks keep running, and Mesos itself reaps an
// abandoned environment when the timeout runs out. A framework is subscribed lazily on the
// first Start, Stop or Remove for its environment; a later process re-subscribes with the
// framework ID it finds through the operator API (GET_FRAMEWORKS), which is also where
// Observe, Environments and Inspect read everything from, so nothing is kept in a file.
//
// Tasks use the Docker containerizer on a BRIDGE network; each declared port is mapped to a
// host port taken from the offer's ports ranges, and the chosen ports are recorded in the task
// label io.envctl.hostports so that Observe can rebuild the endpoints. Every task whose Start
// is waiting goes out in one ACCEPT per agent. Apply says which services it will start
// (provisioner.StartPlanner), and while launches are expected the session holds the offers it
// gets instead of declining them: a launch goes out on a held offer at once, the last held
// offer waits a moment for the rest of a layer that becomes launchable piecemeal, and a launch
// that finds no offer held REVIVEs. Held offers go back when nothing more is expected, on close and
// teardown, and after OfferHold; a RESCIND is forgotten. An environment of depth D needs about
// D offer rounds however its layers become launchable (offers.go); the framework SUPPRESSes
// when it wants no offers.
//
// Readiness is native (provisioner.NativeReadiness): the ready block becomes a Mesos health
// check (HTTP, TCP or COMMAND, run by the executor next to the task), watched through
// `healthy` in status updates; a job is ready at TASK_FINISHED; a log probe, which Mesos lacks,
// reads the task's sandbox through the agent's files API, as Logs does.
package mesos

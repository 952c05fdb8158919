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
// host port taken from the offer's ports ranges (the highest range first: see takePorts), and
// the chosen ports are recorded in the task label io.envctl.hostports so that Observe can
// rebuild the endpoints. Every task whose Start
// is waiting goes out in one ACCEPT per agent. Apply says which services it will start
// (provisioner.StartPlanner), and while launches are expected the session holds the offers it
// gets instead of declining them: a launch goes out on a held offer at once, the last held
// offer waits a moment for the rest of a layer that becomes launchable piecemeal, and a launch
// that finds no offer held REVIVEs. Held offers go back when nothing more is expected, on close and
// teardown, and after OfferHold; a RESCIND is forgotten. An environment of depth D needs about
// D offer rounds however its layers become launchable (offers.go); the framework SUPPRESSes
// when it wants no offers.
//
// Options.Containerizer chooses how the agents run the images. With the Docker containerizer
// (the default) a task is as described above. With the Mesos containerizer a task's
// ContainerInfo is MESOS with the image as a Docker image (the agent pulls it), and no network
// of its own: it runs in the agent's network, listening on its container ports at the agent's
// address. So the ports resource it takes is its container ports themselves (takeExact): an
// agent that does not offer them, or has given them to another task, cannot take it, and
// Mesos's accounting keeps two tasks from one port. The image's entrypoint runs with the
// file's command as its arguments (shell=false, no value), as with `docker run`; settings that
// are Docker Engine options are refused (SpecChecker). Mesos's CNI port mapper would give a
// task a network of its own and host ports as with Docker, but needs CNI plugins and a network
// on every agent; the agent's own network needs nothing.
//
// Readiness costs the cluster nothing once a service is ready. envctl probes each task itself,
// from outside, through its agent's host and the task's host port (Instance.ProbeAddrs), with
// provisioner's generic prober — the same probe kinds, semantics and adaptive schedule as on
// Docker (every 20 ms for a second, then backing off), protocol probes included — and stops
// when the task is ready: such a task carries no Mesos health check, which would run every
// interval for its whole life (a fork of curl or mesos-tcp-connect by the executor each time:
// at the old 250 ms, 30 idle tasks kept Mesos and the engine at 1.9 cores). What envctl cannot
// probe from outside stays with Mesos (ChecksNatively): a job is ready at TASK_FINISHED; a log
// probe reads the task's sandbox through the agent's files API, as Logs does; an exec probe is
// a COMMAND health check (the Docker containerizer gives a framework no other way into a
// container). Whether envctl reaches an agent's host ports is found once per agent, on its
// first offer (reach.go: one dial to its host at an offered port; accepted or refused means
// reachable); an agent it cannot reach gets its tasks' readiness as Mesos health checks, and
// ReachOf says so (up's --diagnostics and -o json). --mesos-probe (ENVCTL_MESOS_PROBE) forces
// either way. Every Mesos health check envctl still makes runs every second at most.
//
// Down kills every task at once and waits for all the terminal updates together
// (provisioner.BulkRemover), instead of walking dependents before their dependencies.
package mesos

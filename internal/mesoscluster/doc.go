// Package mesoscluster gives tests the URL of a real Apache Mesos master: the one named by
// ENVCTL_TEST_MESOS_MASTER (make test starts one cluster for the whole run and sets it), or
// else a cluster of its own, started from the shared/mesos folder found beside the checkout
// (../shared/mesos from the module root, or beside any folder above it) and stopped when the
// package's tests end.
//
// A test package that uses it calls Main from its TestMain, so the cluster it may have
// started is stopped (master, agents and the agents' containers, by shared/mesos/stop) even
// when tests fail:
//
//	func TestMain(m *testing.M) { os.Exit(mesoscluster.Main(m)) }
//
//	func TestX(t *testing.T) {
//		url := mesoscluster.Master(t) // skips with one line when there is no real Mesos
//	}
//
// Without shared/mesos and without the variable, tests that need real Mesos are skipped
// (also with CI=true: a user's fresh clone has no cluster to run); with shared/mesos present
// and CI=true, a cluster that does not start fails the test.
//
// # A cluster whose agents are hosts of their own
//
// StartMultiHost (and MultiHostCluster for tests, EnvMultiHost for a cluster with-mesos
// -multihost or make mesos-cluster started) runs Mesos from the same archive differently: the
// master on a bridge's address (10.213.(100+slot).1), each agent in a network namespace of its
// own with its own address, joined to the bridge by a veth pair, and a registry (distribution's
// cmd/registry, built once from the Go module proxy at RegistryVersion). Agents run both
// containerizers: the Docker one (the one engine publishes a task's host ports on this host; the
// agent's namespace forwards its own host-port range, and only it, to the bridge's address) and
// the Mesos one with the linux launcher (a task runs in its agent's namespace). So a task
// answers at its own agent's address and at no other. Slots (a lock each, as the single-host
// clusters' ports) keep clusters of several test processes apart; a start sweeps what a killed
// run left in its slot, and Stop removes processes, containers, cgroups, mounts, namespaces,
// the bridge and the firewall rules, and checks none is left. Needs root.
package mesoscluster

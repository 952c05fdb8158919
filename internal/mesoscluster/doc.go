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
package mesoscluster

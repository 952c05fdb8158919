// Package provisioner is the seam between an environment file and the infrastructure that runs
// it. It holds the Backend interface that every backend implements (Docker, Mesos), the planner
// that decides what an `up` must do, the executor that carries a plan out, the readiness probes,
// and the labels through which the infrastructure itself records what envctl created.
//
// The planner (MakePlan) is pure: it compares the desired services with the instances a backend
// observed and returns steps, with a stable String() that tests compare. The executor (Apply)
// makes no decisions of its own: it walks the plan in dependency order, resolves each service's
// run-time values with its dependencies' real addresses, starts it, and waits for it to be ready.
//
// No HCL, cty, Docker or Mesos type crosses the Backend line: a backend receives a fully evaluated
// Spec and answers with plain Instances. Backends are found by the CLI through an explicit map,
// never registered from init().
package provisioner

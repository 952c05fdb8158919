// Package envtest gives Go tests the environment of an envctl file: its services up and ready,
// their endpoints typed, and the environment removed when the tests are done.
//
// Three ways to get one, in this order:
//
//   - Under `envctl run -- go test ./...`, the tests attach to the environment run brought up
//     ($ENVCTL_ENV and the endpoint variables run puts in the command's environment); nothing
//     is brought up or removed by the tests.
//   - Otherwise the first test process that asks brings the environment up itself (in-process:
//     envctl's own cli package, no envctl binary needed) and every other process that asks for
//     the same file set (same content, variables, profiles and backend) joins it: the package
//     processes of one `go test ./...` and concurrent `go test` runs on one machine share ONE
//     environment. The last live user removes it, unless Options.Keep.
//   - A test process that is killed (SIGKILL, a go test -timeout) cannot remove anything: its
//     environment carries a TTL (Options.TTL, default one hour), after which `envctl gc` and
//     every later `envctl up` sweep it; the next envtest user of the same file before that
//     takes it over and removes it when done.
//
// # Sharing
//
// The processes of one file set meet in a directory under the user's cache directory
// (envctl/envtest/KEY, KEY a hash of the files' paths and content, the variables, profiles,
// backend and extra arguments). A lock file there (flock) orders joining and leaving: whoever
// holds it may bring the environment up or down. Each user holds a lease file of its own,
// flock'ed for as long as it uses the environment, so a dead user is told from a live one by
// the kernel (its lock went with it), never by a PID that may have been reused. The first
// live user runs envctl up (which also takes over what a killed user left: up is idempotent)
// and records the environment's name and endpoints in the directory; later users read them.
// The user that leaves last, finding no other live lease, runs envctl down.
//
// # Output
//
// envctl's progress and report are kept out of the test output unless the environment fails,
// or `go test -v` asks for them. When a test fails (t.Failed() at its cleanup, or a non-zero
// m.Run under TestMain), the diagnostics — each service's logs, the engine's inspect output,
// its readiness checked then, and the up's report and probe history — are written (see Options.DiagnosticsDir)
// and the directory is named in the test's log.
//
// # Backends
//
// The backend is chosen as envctl chooses it: Options.Backend and Options.MesosMaster, else
// $ENVCTL_BACKEND and $ENVCTL_MESOS_MASTER, else the local Docker Engine.
package envtest

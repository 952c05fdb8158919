// Package faults is envctl's fault suite (issue 5): it runs the real envctl binary, built once
// by TestMain, against the real Docker engine, the way a user or a CI job does, and proves that
// whatever goes wrong — a service that never gets ready, a crash, a missing image, a failed
// build, an unreachable engine, Ctrl-C or SIGKILL at a random moment, twenty environments at
// once, an expired TTL — nothing is left behind and the message names the cause; and that a
// sensitive value shows up in no output, no label and no diagnostics file.
//
// The package holds tests only. Every environment it creates is named "ts-f..." (the
// suite-wide leak check knows the "ts-" prefix), and every test removes what it created in
// t.Cleanup, also when it fails. With CI=true a Docker engine that does not answer fails the
// tests instead of skipping them. Run it alone with `make test-faults`.
package faults

// Package cli is envctl's command line: one file per command, the exit codes, and the
// rendering of diagnostics, reports and progress. It wires the environment loader (envs), the
// planner and executor (provisioner) and the backends together; the packages below it never
// print.
//
// Main returns an exit code instead of calling os.Exit, so the whole program runs inside tests
// (testscript scripts in testdata/script). Results go to stdout — text or, with -o json, one
// JSON document — and everything else (progress, diagnostics, errors) to stderr.
//
// Exit codes: 0 success; 1 the environment failed; 2 usage or configuration error; 3 the
// backend is unreachable; 130 interrupted.
package cli

// Command testsvc is the one tiny service every Docker and Mesos test of envctl runs.
//
// It uses the standard library only and is built with CGO_ENABLED=0, so it runs in a
// FROM scratch image (internal/testimage builds "envctl-test/testsvc:<hash>" with the
// binary at /testsvc). Such an image has no shell: exec probes and Mesos COMMAND health
// checks call the binary itself, e.g. ["/testsvc", "probe", "http", "http://127.0.0.1:8080/healthz"].
//
// Usage:
//
//	testsvc [flags]
//	testsvc probe tcp HOST:PORT
//	testsvc probe http URL
//
// Flags (each may be written with one or two dashes; "repeatable" flags may be given
// several times):
//
//	--name NAME         the service's name (default: $NAME, else "testsvc")
//	--http PORT         repeatable: serve HTTP on :PORT (PORT may also be HOST:PORT)
//	--tcp PORT          repeatable: accept raw TCP on :PORT, write "NAME\n", close
//	--health-status N   status code of GET /healthz (default 200)
//	--delay D           wait D (a Go duration, e.g. 300ms) before doing anything else:
//	                    a slow start
//	--call URL          repeatable: after the delay, GET URL until it answers 200, for at
//	                    most --call-timeout; exit 1 with a message on stderr if it never does
//	--call-timeout D    how long each --call URL is retried (default 5s)
//	--log TEXT          repeatable: print TEXT as one line on stdout once listening
//	--stderr TEXT       repeatable: print TEXT as one line on stderr once listening
//	--exit N            after the delay, the --call checks and the --log lines, exit N
//	                    (a one-shot job)
//	--ignore-sigterm    ignore SIGTERM (to test a stop grace period and SIGKILL)
//
// The order at start is fixed: delay, --call checks, listen, --log and --stderr lines,
// then --exit or serve. Stdout carries nothing but the --log lines, so log-based
// readiness and log tests can match it exactly; all diagnostics go to stderr, each
// prefixed by "testsvc: ".
//
// HTTP endpoints (on every --http port):
//
//	/            the name, no newline
//	/healthz     "ok" with --health-status (default 200)
//	/env         the process environment as a JSON object
//	/call?url=U  GETs U and answers "NAME -> BODY OF U"; 502 if U fails or is not 200
//	/exit?code=N answers "exiting N", then the process exits with N
//
// Signals: SIGTERM and SIGINT end the process at once with status 0, also during the
// delay (so `docker stop` is fast). With --ignore-sigterm, SIGTERM is ignored and only
// SIGKILL (or SIGINT) ends it. The handler is installed explicitly because, as PID 1 of a
// container, a process without a handler never receives SIGTERM's default action.
//
// With no flags, testsvc sleeps until SIGTERM or SIGINT.
//
// The probe subcommand exits 0 when HOST:PORT accepts a TCP connection, or when URL
// answers 200, within 2 seconds; otherwise it prints why on stderr and exits 1.
//
// Exit statuses: 0 normal end; N from --exit or /exit; 1 a --call check or a listen
// failed; 2 bad flags.
package main

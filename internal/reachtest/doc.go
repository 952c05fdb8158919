// Package reachtest holds the tests of issue 10's settings, where envctl's process cannot
// route to the engine's container networks the way a Linux host's root can: an unprivileged
// user whose traffic to the containers is rejected (Docker Desktop-like), a network namespace
// that reaches nothing but the engine's socket (API only), and so on. Each test builds the
// real envctl (a static binary), creates the setting with root's tools (iptables, unshare),
// runs envctl in it against the real engine, and removes what it set up, also on failure.
//
// The tests need root and a Docker Engine; they skip without them, and fail instead with
// CI=true. The package has no code of its own.
package reachtest

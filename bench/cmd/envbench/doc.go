// Command envbench is envctl's end-to-end benchmark (issue 7): it measures how long the real
// binary takes to bring up and tear down generated, layered environments on the local Docker
// Engine, against the physical bound measured in the same run, and writes bench/results.md.
//
// The bound: no tool can bring up an environment whose dependency graph has depth D faster
// than D times the time one container takes from create to ready. envbench measures that time
// twice per round: raw, with the docker CLI (`docker run -d`, then polling the container's IP
// until it accepts), and with envctl itself (a 1-service environment). The raw figure is the
// bound; the envctl figure shows envctl's fixed cost per run.
//
// The environments: N services (10, 30 and 60 by default) in 5 layers; each service past the
// first layer depends on one or two services of the layer before (chosen by a seeded random
// generator, so every run benchmarks the same graph) and becomes ready 300 ms after it starts
// (internal/testsvc with --delay 300ms --http 80, the default TCP readiness).
//
// Each figure is the median of -runs rounds. A round measures the bound, then for each size
// `envctl up` and `envctl down` (wall time, and the child's user+system CPU time and peak RSS
// from its rusage) and, when a Compose v2 binary is available, `compose up -d --wait` and
// `compose down -t 1` on the equivalent compose file, alternating with envctl. Rounds are the
// outer loop, so that a burst of load on a busy machine spreads over every figure rather than
// falling on one size.
//
// After the rounds, one more profiled `up` and `down` of the profile size (30) runs while
// `docker events` streams: the plain event lines envctl prints on stderr and the engine's own
// event times show where the time goes (setup, create and start latency per container, probe
// overshoot, scheduling gaps, down's waves, network create and remove).
//
// Every environment is named "tsb-<pid>-..." and every other object it creates carries the
// label io.envctl.bench=tsb-<pid>; all of them are removed at the end, on failure and on
// Ctrl-C. Only its own: several envbench runs may share one engine.
//
// Usage, from the module root (make bench runs it after building bin/envctl):
//
//	go run ./bench/cmd/envbench [-envctl bin/envctl] [-sizes 10,30,60] [-runs 3] [-out bench/results.md]
package main

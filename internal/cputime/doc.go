// Package cputime reads the CPU time the process has used, for the benchmarks and tests that
// measure envctl's own work: on a shared, loaded machine wall time also counts others' work,
// while the process's user+system time stays what envctl spent.
package cputime

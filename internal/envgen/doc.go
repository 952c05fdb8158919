// Package envgen writes large, realistic environment files for benchmarks: the loader's
// (envs), plan's (cli) and make bench's scaling check (bench/cmd/envbench) measure the same
// files, so their figures can be compared.
package envgen

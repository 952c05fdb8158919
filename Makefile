# envctl's build. `make help` lists the targets.
GO        ?= go
BIN       := bin/envctl
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/envctl/envctl/provisioner.Version=$(VERSION)
SHOP      := api migrate store web worker
FUZZTIME  ?= 30s
MESOS_AGENTS ?= 2
# Agents of the multi-host cluster (network namespaces of their own, and a registry; needs root).
MULTIHOST_AGENTS ?= 3

.PHONY: help build test test-faults bench fuzz lint examples demo demo-down docs clean mesos-cluster mesos-cluster-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/envctl
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

examples: ## compile the example services' static binaries (their Dockerfiles are FROM scratch)
	@for s in $(SHOP); do \
	  CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o examples/shop/$$s/app ./examples/shop/$$s || exit 1; \
	done
	@CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o examples/minimal/hello/app ./examples/minimal/hello
	@CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o examples/stack/kv/app ./examples/stack/kv

test: examples ## run every test: unit, CLI scripts, fuzz seeds, the real Docker Engine, the Mesos double and (with ../shared/mesos) real Mesos
	$(GO) vet ./...
	@$(GO) run ./internal/leakcheck -record .leakcheck-before
	@# One real Mesos cluster for the whole run when ../shared/mesos is beside the checkout
	@# (ENVCTL_TEST_MESOS_MASTER names it to every package), stopped afterwards even when
	@# tests fail; without it the real-Mesos tests skip, saying how to run them.
	$(GO) run ./internal/mesoscluster/cmd/with-mesos -agents $(MESOS_AGENTS) -multihost $(MULTIHOST_AGENTS) -- $(GO) test -count=1 -timeout 25m ./...
	$(GO) run ./internal/leakcheck -baseline .leakcheck-before

test-faults: ## the fault suite (faults/): the real envctl against the real engine under faults, signals, 20 concurrent ups, expiry; then the leak check
	@$(GO) run ./internal/leakcheck -record .leakcheck-before
	ENVCTL_FAULTS=1 $(GO) test -count=1 -v -timeout 15m ./faults/
	$(GO) run ./internal/leakcheck -baseline .leakcheck-before

bench: build examples ## run the benchmarks (not part of test)
	$(GO) test -run '^$$' -bench . -skip 'Up30Depth5' -benchmem ./graph/ ./provisioner/...
	@# plan on 1,000 and 10,000 services: ns/service must stay flat (plan was quadratic once).
	$(GO) test -run '^$$' -bench '^BenchmarkPlan$$' -benchmem -benchtime 3x ./cli/
	@# 30 services in 5 layers on the Mesos double and on a real Mesos (3 agents of 2 cores
	@# for the 3 cpus it asks for; skipped without ../shared/mesos), medians of 3 in results.md.
	$(GO) run ./internal/mesoscluster/cmd/with-mesos -agents 3 -- $(GO) test -run '^$$' -bench 'Up30Depth5' -count 3 -timeout 30m ./provisioner/mesos/ > bench/mesos-bench.txt || echo "make bench: the Mesos benchmark failed; results.md says which runs"; cat bench/mesos-bench.txt
	@# The Docker and the Mesos containerizer side by side on one multi-host cluster (agents in
	@# network namespaces of their own, images through its registry; root): envctl's up and
	@# down of the shop through each, alternating, medians of 3.
	$(GO) run ./internal/mesoscluster/cmd/with-mesos -agents 0 -multihost 3 -- $(GO) test -run '^$$' -bench 'ShopContainerizers' -benchtime 3x -timeout 30m ./cli/ > bench/containerizer-bench.txt || echo "make bench: the containerizer benchmark failed"; cat bench/containerizer-bench.txt
	@# The loader's goal is stated for one core (issue 2): -cpu 1, so cpu-ms/op is that core's
	@# time and not also the second core's garbage collection.
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -benchtime 3x ./envs/
	@# One readiness attempt's CPU against real servers, protocol probes beside exec checks
	@# (issue 18; builds the real-server images on demand).
	$(GO) test -run '^$$' -bench 'ProbeCPU' -benchtime 20x -timeout 30m ./internal/realservers/ > bench/probes-bench.txt || echo "make bench: the readiness-check benchmark failed; see bench/probes-bench.txt"; cat bench/probes-bench.txt
	@# Mesos's own limit (issue 16): a bare scheduler (bench/cmd/mesosfloor, none of envctl's
	@# code) beside envctl's up and down of 30 services flat and in 5 layers, and their idle
	@# cost, on the double and on a real Mesos of 2 agents (mesoslimit starts its own), with the
	@# Docker backend's idle cost beside them, and (issue 17) floor and envctl through each
	@# containerizer on a multi-host cluster (root); medians of 7 rounds in results.md.
	$(GO) build -o bin/mesosfloor ./bench/cmd/mesosfloor
	$(GO) build -o bin/mesos-double ./provisioner/mesos/mesostest/cmd/mesos-double
	$(GO) run ./bench/cmd/mesoslimit -envctl $(BIN) -floor bin/mesosfloor -double bin/mesos-double -targets double,real,docker,multihost -runs 7 -idle-runs 3 -out bench/mesos-limit.txt || echo "make bench: the Mesos limit benchmark failed; results.md says which runs"
	$(GO) run ./bench/cmd/envbench -envctl $(BIN) -out bench/results.md -mesos bench/mesos-bench.txt -probes bench/probes-bench.txt -mesos-limit bench/mesos-limit.txt $(BENCHFLAGS)

fuzz: ## fuzz the loader, the graph and the protocol probes' parsers for FUZZTIME each (default 30s)
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./envs/
	$(GO) test -run '^$$' -fuzz '^FuzzSort$$' -fuzztime $(FUZZTIME) ./graph/
	$(GO) test -run '^$$' -fuzz '^FuzzWalk$$' -fuzztime $(FUZZTIME) ./graph/
	$(GO) test -run '^$$' -fuzz '^FuzzParsers$$' -fuzztime $(FUZZTIME) ./provisioner/protocol/

docs: ## write the man page and the bash, zsh and fish completion scripts under docs/
	$(GO) run ./internal/gendocs docs
	@echo "man page: docs/envctl.1 (man ./docs/envctl.1); completion: docs/completion/"

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

demo: build examples ## bring up the shop example and ask its front for the whole chain
	./$(BIN) up -f examples/shop
	@./$(BIN) env shop | grep WEB_HTTP= | cut -d= -f2 | xargs -I{} sh -c 'echo; echo "GET http://{}/"; wget -qO- http://{}/ 2>/dev/null || curl -s http://{}/; echo'
	@echo "Remove it with: make demo-down"

demo-down: build ## remove the shop example
	./$(BIN) down shop

mesos-cluster: ## start a multi-host Mesos to try envctl on (root; ../shared/mesos): agents in network namespaces, a registry; prints the exports
	@$(GO) run ./internal/mesoscluster/cmd/mesos-cluster up -agents $(MULTIHOST_AGENTS)

mesos-cluster-down: ## stop it, and sweep what any killed run left (namespaces, bridge, iptables rules, processes, containers)
	@$(GO) run ./internal/mesoscluster/cmd/mesos-cluster down

clean: ## remove build outputs
	rm -rf bin $(addprefix examples/shop/,$(addsuffix /app,$(SHOP))) examples/minimal/hello/app examples/stack/kv/app

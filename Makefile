# kafka-sns-bridge — the targets people expect.
#
#   make build        build bin/bridge
#   make demo         run the bridge on an embedded Kafka and SNS double (needs only Go)
#   make test         lint + unit tests (-race) + stack test + local stack + integration tests
#                     + the Docker tests where Docker can be set up (else it says why and goes on)
#   make lint         gofmt, go vet, staticcheck
#   make unit         unit tests with the race detector
#   make integration  start the local stack if needed, then run the integration tests
#   make stack-up     start Kafka (KRaft), moto (SNS+SQS) and the schema registry on loopback
#   make stack-up-3   the same with a three-broker Kafka cluster (failover tests)
#   make stack-down   stop what stack-up started
#   make stack-test   check scripts/stack.sh on a stack of its own (other ports; 1-3 minutes)
#   make bench        micro-benchmarks and the benchmark harness (docs/benchmarks.md)
#   make docker-test  a Docker engine, the stack's images built locally, testenv's containers and
#                     the compose stack end to end (scripts/docker/docker.sh; README "Docker")

SHELL := /bin/bash
GO ?= go
STATICCHECK_VERSION ?= v0.8.2
BIN := $(CURDIR)/bin
STACK := scripts/stack.sh
# What `bridge version` and bridge_build_info report (the Dockerfile takes the same as build args).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Integration tests talk to real services; one package at a time keeps the
# 2-core CI machine and the shared broker from being overloaded.
INTEGRATION_FLAGS ?= -tags integration -count=1 -p 1 -timeout 30m

.PHONY: all build demo test lint unit integration stack-up stack-up-3 stack-down stack-status stack-test docker-test docker-test-if-possible bench fuzz clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/bridge ./cmd/bridge

demo:
	$(GO) run ./cmd/bridge demo -events 5000

test: lint unit stack-test integration docker-test-if-possible

lint: $(BIN)/staticcheck
	@echo "==> gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "==> go vet"
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags docker ./e2e/
	@echo "==> staticcheck"
	$(BIN)/staticcheck ./...
	$(BIN)/staticcheck -tags integration ./...
	$(BIN)/staticcheck -tags docker ./e2e/

$(BIN)/staticcheck:
	@echo "==> installing staticcheck $(STATICCHECK_VERSION) into bin/"
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

unit:
	@echo "==> unit tests (-race)"
	$(GO) test -race -count=1 ./...

integration: stack-up
	@echo "==> integration tests against the local stack"
	eval "$$($(STACK) env)" && $(GO) test $(INTEGRATION_FLAGS) ./...

stack-up:
	$(STACK) up

stack-up-3:
	$(STACK) up --brokers 3

stack-down:
	$(STACK) down

stack-status:
	$(STACK) status

# scripts/stack_test.sh: up/down/up again, a failing start, SASL_SSL, on its own state directory
# (.stack-test) and ports (STACK_TEST_PORT_OFFSET, default 1000), sharing .stack's downloads. The
# bound covers a cold install of everything, which the integration tests then reuse.
STACK_TEST_TIMEOUT ?= 1200
stack-test:
	timeout $(STACK_TEST_TIMEOUT) scripts/stack_test.sh

# The Docker tests (scripts/docker/docker.sh test): start a Docker engine unless DOCKER_HOST names one
# (host networking only), build the base image (debootstrap) and the stack's images, run internal/smoke
# on internal/testenv's containers and e2e/compose_test.go on docker-compose.yml +
# docker-compose.local.yml, then stop the engine. Its ports are the local stack's + 2000, so it runs
# beside the stack (make test runs it after the integration tests, whose downloads it builds from).
# Needs root and apt-get, or DOCKER_HOST: docker-test fails saying why when it cannot run.
# docker-test-if-possible (what make test calls) runs it where it can, else says why and succeeds;
# DOCKER_TEST=no skips it, DOCKER_TEST=yes makes it required (README "Docker").
# DOCKER_TEST_TIMEOUT bounds the whole run; the engine is stopped on the way out.
DOCKER_TEST ?= auto
DOCKER_TEST_TIMEOUT ?= 1800
docker-test:
	timeout $(DOCKER_TEST_TIMEOUT) scripts/docker/docker.sh test

docker-test-if-possible:
	@case "$(DOCKER_TEST)" in \
	no) echo "==> docker-test skipped: DOCKER_TEST=no" ;; \
	yes) $(MAKE) --no-print-directory docker-test ;; \
	auto) if why=$$(scripts/docker/docker.sh check); then $(MAKE) --no-print-directory docker-test; \
	      else echo "==> docker-test skipped: $${why#docker: } (DOCKER_TEST=yes to require it)"; fi ;; \
	*) echo "DOCKER_TEST=$(DOCKER_TEST): want auto, yes or no" >&2; exit 2 ;; \
	esac

# The micro-benchmarks, then the harness (cmd/bench): the bridge against raw
# consume, raw publish and a one-Publish-per-message peer on the local Kafka
# and a fast SNS double; it rewrites docs/benchmarks.md and its plot.
# BENCH_FLAGS="-events 20000 -reps 1 -rates '' -out '' -plot ''" is a one-minute smoke run.
BENCH_FLAGS ?=
bench: stack-up
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./avro/... ./mapping/... ./sns/...
	$(GO) run ./cmd/bench $(BENCH_FLAGS)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseWire -fuzztime 30s ./avro/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime 30s ./avro/

clean:
	rm -rf $(BIN)

# fedmesh — see README.md. Two commands set everything up on a fresh machine:
#   make demo        build, lay out a three-site DuckDB federation on 127.0.0.1 and query it
#   make test        install and start the test servers (make test-deps), gofmt, vet,
#                    staticcheck and the whole race-enabled suite; a test whose server is
#                    missing fails. What CI runs (.ci/run).
#   make test-short  the quick loop: no installs, no servers, go test -short -race
export GOTOOLCHAIN := local
# bash for pipefail: go test's exit status must survive the pipe into testsummary
SHELL     := /bin/bash
GO        ?= go
BIN       := $(CURDIR)/bin
# staticcheck release known to resolve from this machine's module proxy
STATICCHECK_VERSION := v0.8.2
TEST_TIMEOUT ?= 30m
# go test -json of the last test run, for a closer look
TEST_JSON ?= $(BIN)/test.json

.PHONY: all build demo test test-short test-deps lint vet staticcheck fmt-check testsummary fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/coordinator ./cmd/site-agent ./cmd/fedctl

demo: build
	./scripts/demo.sh

test: test-deps lint testsummary
	$(call gotest,-race -count=1 -timeout $(TEST_TIMEOUT))

test-short: testsummary
	$(call gotest,-short -race -timeout $(TEST_TIMEOUT))

# Runs scripts/ci/*.sh in name order: each installs one test dependency
# (cached under $FEDMESH_CACHE, default ~/.cache/fedmesh; a quick no-op when
# present) and may start its server on 127.0.0.1. Cold, this takes about
# half an hour (README.md, "Two commands").
test-deps:
	@for s in scripts/ci/*.sh; do \
		echo "+ $$s"; t0=$$SECONDS; \
		bash "$$s" || { echo "test-deps: $$s failed" >&2; exit 1; }; \
		echo "  $$s: $$((SECONDS - t0))s"; \
	done

lint: fmt-check vet staticcheck

# gotest FLAGS: go test FLAGS ./... through testsummary, which shows failing
# tests' output, lists the skipped tests and ends with
# "go test: N passed, N failed, N skipped".
define gotest
	@mkdir -p $(BIN)
	set -o pipefail; $(GO) test $(1) -json ./... | tee $(TEST_JSON) | $(BIN)/testsummary
endef

testsummary:
	$(GO) build -o $(BIN)/testsummary ./internal/testsummary

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

staticcheck: $(BIN)/staticcheck
	$(BIN)/staticcheck ./...

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# A short fuzz run of the parse → plan → render path (FUZZTIME=5m for a long one).
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./planner/sqlfront -run '^$$' -fuzz FuzzParsePlanRender -fuzztime $(FUZZTIME)

# Benchmarks (issue 7): all of them, or one with ONLY=B3; extra flags in
# BENCH_FLAGS (e.g. BENCH_FLAGS=-small). Writes bench/results/latest.{json,md}
# and prints the table. Never part of `make test`.
ONLY ?=
BENCH_FLAGS ?=
bench: build
	@./scripts/engines/postgres.sh up >/dev/null 2>&1 || echo "bench: PostgreSQL did not start; B2 will be reported as blocked" >&2
	$(GO) build -o $(BIN)/fedbench ./cmd/fedbench
	$(BIN)/fedbench -site-agent $(BIN)/site-agent $(if $(ONLY),-only $(ONLY)) $(BENCH_FLAGS)

clean:
	rm -rf $(BIN) .demo

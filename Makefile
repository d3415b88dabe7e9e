# fedmesh — see README.md. Two commands set everything up on a fresh machine:
#   make demo   build, lay out a three-site DuckDB federation on 127.0.0.1 and query it
#   make test   vet, staticcheck and the race-enabled test suite
export GOTOOLCHAIN := local
GO        ?= go
BIN       := $(CURDIR)/bin
# staticcheck release known to resolve from this machine's module proxy
STATICCHECK_VERSION := v0.8.2
TEST_TIMEOUT ?= 30m

.PHONY: all build demo test vet staticcheck fmt-check fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/coordinator ./cmd/site-agent ./cmd/fedctl

demo: build
	./scripts/demo.sh

test: fmt-check vet staticcheck
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

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

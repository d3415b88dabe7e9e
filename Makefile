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
	$(GO) test ./planner -run '^$$' -fuzz FuzzParsePlanRender -fuzztime $(FUZZTIME)

clean:
	rm -rf $(BIN) .demo

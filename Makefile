# integ: build, test, demo and benchmark every integration.
GO        ?= go
BIN       := bin
TAPS      := $(patsubst cmd/%/,%,$(dir $(wildcard cmd/tap-*/main.go)))
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/integ/integ/integ.BuildVersion=$(VERSION)
FUZZTIME  ?= 20000x

.PHONY: all build test vet fmt-check lint unit fuzz demo bench jsonserver docs docs-check clean help

all: build

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

build: ## one static binary per integration at bin/tap-<name>
	@mkdir -p $(BIN)
	@for t in $(TAPS); do \
		CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$t ./cmd/$$t || exit 1; \
	done
	@CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/demoapi ./cmd/demoapi
	@echo "built: $(TAPS:%=$(BIN)/%)"

test: fmt-check vet lint docs-check unit fuzz docker-smoke ## every check: gofmt, vet, the project lint (integ-lint), current docs pages, race tests, short fuzzing, the image smoke test (when podman or docker is present)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint: ## project analyzers: bare go statements outside internal/conc, discarded *requests.Request results
	$(GO) run ./cmd/integ-lint ./...

unit:
	$(GO) test -race -count=1 ./...

fuzz: ## run every fuzz target with the budget FUZZTIME (a count such as 20000x, or a duration such as 30s)
	@./scripts/fuzz.sh $(FUZZTIME)

demo: build ## offline demo: a local PokeAPI-shaped server, a real sync, output in demo-output/
	@./scripts/demo.sh

docs: ## docs/<name>.md for every tap, generated from its declarations
	@./scripts/docs.sh

docs-check: ## fail when a docs/ page is missing or stale
	@./scripts/docs.sh --check

bench: ## throughput and memory against a local server (see README)
	$(GO) run ./cmd/integ-bench

jsonserver: ## tap-rest against a real json-server from npm (needs node and npm)
	@./integrations/rest/testdata/jsonserver/run.sh

clean:
	rm -rf $(BIN) demo-output

-include docker/docker.mk

# Sportello — run `make help` for the list of targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DEMO_DATA ?= demo-data
DEMO_ADDR ?= 127.0.0.1:8080
FUZZTIME ?= 30s

# Debian packages the test suite needs; installed by `make deps` when missing.
# Node.js (for the RFC 9421 interoperability test) comes from Debian only when
# no node is on the PATH already.
TEST_PACKAGES := ca-certificates cups poppler-utils zbar-tools libusb-1.0-0-dev pkg-config gcc pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools libnss3-tools chromium libgl1-mesa-dev xorg-dev libxkbcommon-dev xvfb x11-apps netpbm

.PHONY: help
help: ## Show this list of targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: check-go
check-go:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is required: install it in /usr/local/go (https://go.dev/dl/)."; exit 1; }

.PHONY: deps
deps: ## Install the Debian packages the tests need (idempotent; as root).
	@missing=""; for p in $(TEST_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

.PHONY: build
build: check-go ## Build bin/hub (static, CGO_ENABLED=0).
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/hub ./cmd/hub

.PHONY: test
test: check-go deps ## Install test dependencies and run the whole suite.
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/hub
	$(GO) test -count=1 ./...

.PHONY: bench
bench: check-go ## Run the benchmarks whose figures are in the README (slow: seeds 1.4M residents).
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/synth/
	$(GO) test -run '^$$' -bench . ./internal/codicefiscale/ ./internal/places/ ./internal/registry/...

.PHONY: fuzz
fuzz: check-go ## Run every fuzz target for FUZZTIME (default 30s).
	@grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u | while read -r dir; do \
		for t in $$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -d' ' -f2); do \
			echo "== $$dir $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done; \
	done

.PHONY: demo
demo: build ## Start the hub with a synthetic demo city on http://127.0.0.1:8080.
	DEMO_DATA=$(DEMO_DATA) DEMO_ADDR=$(DEMO_ADDR) GO=$(GO) scripts/demo.sh

.PHONY: clean
clean: ## Remove build output and demo data.
	rm -rf bin $(DEMO_DATA)

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
# Packaging: nfpm, pinned, run through the Go toolchain (nothing to install).
NFPM ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
DIST ?= dist
DEB_ARCH ?= amd64
# A Debian version from the tag (v1.2.3 → 1.2.3, v1.2.3-4-gabc → 1.2.3+4.gabc),
# else 0~gitDATE.HASH: Debian versions must start with a digit.
DEB_VERSION ?= $(shell v=$$(git describe --tags --match 'v[0-9]*' 2>/dev/null | sed 's/^v//; s/-\([0-9]*\)-g/+\1.g/'); \
	[ -n "$$v" ] || v=0~git$$(git log -1 --format=%cd.%h --date=format:%Y%m%d 2>/dev/null || echo 0); echo $$v)

# Debian packages, installed with apt-get only when missing (idempotent).
# The demo builds the Fyne kiosk (cgo: GL, X11, PC/SC, libusb) and runs it
# under Xvfb when there is no display; the tests add systemd (systemd-creds),
# prometheus (its promtool checks the alert rules in deploy/),
# CUPS, pcscd with the virtual reader driver, poppler, zbar, NSS tools,
# Chromium and PostgreSQL (its server binaries only: internal/pgtest starts
# a private server per test package, none runs otherwise). The kiosk's
# speech mode speaks with espeak-ng. Node.js (for
# the RFC 9421 interoperability test) comes from Debian only when no node is
# on the PATH already.
DEMO_PACKAGES := ca-certificates curl gcc pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev libpcsclite-dev libusb-1.0-0-dev xvfb x11-apps netpbm espeak-ng
# The Windows kiosk is cross-compiled with mingw-w64 and zipped; the tests
# run it under Wine (wine64) in Xvfb, looking for its window with xwininfo.
WINDOWS_PACKAGES := gcc-mingw-w64-x86-64 zip
TEST_PACKAGES := $(DEMO_PACKAGES) systemd prometheus cups poppler-utils zbar-tools pcscd vsmartcard-vpcd pcsc-tools libnss3-tools chromium postgresql $(WINDOWS_PACKAGES) wine wine64 x11-utils

.PHONY: help
help: ## Show this list of targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: check-go
check-go:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is required: install it in /usr/local/go (https://go.dev/dl/)."; exit 1; }

# apt_install installs the packages of list $(1) that are not installed yet.
define apt_install
	@missing=""; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	$(2) \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

.PHONY: deps
deps: ## Install the Debian packages the tests need (idempotent; as root).
	$(call apt_install,$(TEST_PACKAGES),command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm";)

.PHONY: demo-deps
demo-deps:
	$(call apt_install,$(DEMO_PACKAGES),)

.PHONY: build
build: check-go ## Build bin/hub (static, CGO_ENABLED=0).
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/hub ./cmd/hub

.PHONY: test
test: check-go deps ## Install test dependencies and run the whole suite.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); [ -z "$$unformatted" ] || { echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/hub
	$(GO) test -count=1 -timeout 45m ./...

# BENCH_FLAGS: -quick leaves out the slow rows (1.4M residents, the
# PostgreSQL import), -only REGEXP keeps the matching rows, -v shows go
# test's output.
BENCH_FLAGS ?=

.PHONY: bench
bench: check-go deps ## Print the README's performance table measured now, one row per figure beside its reference (slow: seeds 1.4M residents; BENCH_FLAGS=-quick skips that).
	$(GO) run ./scripts/benchtable $(BENCH_FLAGS)

.PHONY: fuzz
fuzz: check-go ## Run every fuzz target for FUZZTIME (default 30s).
	@grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u | while read -r dir; do \
		for t in $$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -d' ' -f2); do \
			echo "== $$dir $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done; \
	done

.PHONY: demo
demo: check-go demo-deps build ## Start the demo hub on https://127.0.0.1:8080 (its own certificate) and a kiosk enrolled and set up with it (virtual CIE, file printers); without a display, save the kiosk's screens and keep the hub up until Ctrl-C.
	DEMO_DATA=$(DEMO_DATA) DEMO_ADDR=$(DEMO_ADDR) GO=$(GO) scripts/demo.sh

.PHONY: package
package: package-hub package-kiosk package-windows ## Build the packages in dist/: the hub's .deb, the kiosk's .deb and the Windows kiosk's zip.

# package-hub: dist/sportello-hub_VERSION_ARCH.deb, the static hub with its
# hardened systemd unit, sysusers.d user and /etc/sportello/hub.conf.
.PHONY: package-hub
package-hub: check-go ## Build dist/sportello-hub_*.deb (DEB_VERSION, DEB_ARCH).
	CGO_ENABLED=0 GOOS=linux GOARCH=$(DEB_ARCH) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/package/sportello-hub ./cmd/hub
	mkdir -p $(DIST)
	VERSION=$(DEB_VERSION) ARCH=$(DEB_ARCH) $(NFPM) package --config packaging/hub/nfpm.yaml --packager deb --target $(DIST)/

# package-kiosk: dist/sportello-kiosk_VERSION_ARCH.deb, built natively with
# cgo (Fyne, PC/SC, libusb) for this machine's architecture; `fyne package`
# (pinned) makes the desktop entry and icon from cmd/kiosk/FyneApp.toml, on a
# copy in the staging directory since it counts its builds in that file (and
# wants Go code beside it, though it packs the binary built here); nfpm runs
# in the staging directory on packaging/kiosk/nfpm.yaml.
FYNE ?= $(GO) run fyne.io/tools/cmd/fyne@v1.7.4
KIOSK_STAGE ?= $(DIST)/.kiosk

.PHONY: package-kiosk
package-kiosk: check-go demo-deps ## Build dist/sportello-kiosk_*.deb: the kiosk, its desktop entry, udev rules for readers and USB printers, the self-service X session (DEB_VERSION).
	rm -rf $(KIOSK_STAGE) && mkdir -p $(KIOSK_STAGE) $(DIST)
	CGO_ENABLED=1 $(GO) build -ldflags "$(LDFLAGS)" -o $(KIOSK_STAGE)/sportello-kiosk ./cmd/kiosk
	mkdir -p $(KIOSK_STAGE)/src && cp cmd/kiosk/FyneApp.toml cmd/kiosk/Icon.png cmd/kiosk/main.go $(KIOSK_STAGE)/src/
	cd $(KIOSK_STAGE) && $(FYNE) package --os linux --release --exe $(abspath $(KIOSK_STAGE))/sportello-kiosk --src src --name Sportello
	tar -xJf $(KIOSK_STAGE)/Sportello.tar.xz -C $(KIOSK_STAGE) --strip-components=1
	find packaging/kiosk -maxdepth 1 -type f ! -name '*.go' -exec cp -p {} $(KIOSK_STAGE)/ \;
	cd $(KIOSK_STAGE) && VERSION=$(DEB_VERSION) ARCH=$$($(GO) env GOARCH) $(NFPM) package --config nfpm.yaml --packager deb --target $(abspath $(DIST))/
	rm -rf $(KIOSK_STAGE)

# package-windows: dist/sportello-kiosk-windows-amd64.zip, the kiosk
# cross-compiled for Windows with Debian's mingw-w64 (cgo: Fyne's OpenGL
# window), with the Italian instructions for the shop. It needs no DLL
# beyond Windows' own (packaging/windows/windows_test.go checks the import
# table), so the zip holds the .exe and the text only.
WINDOWS_ZIP := $(DIST)/sportello-kiosk-windows-amd64.zip
.PHONY: package-windows
package-windows: check-go ## Build dist/sportello-kiosk-windows-amd64.zip (the kiosk for Windows, cross-compiled here).
	$(call apt_install,$(WINDOWS_PACKAGES),)
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) build -ldflags "$(LDFLAGS)" -o bin/windows/kiosk.exe ./cmd/kiosk
	mkdir -p $(DIST)
	sed 's/$$/\r/' packaging/windows/README-it.txt > bin/windows/README-it.txt
	rm -f $(WINDOWS_ZIP)
	cd bin/windows && zip -q -X -9 $(abspath $(WINDOWS_ZIP)) kiosk.exe README-it.txt
	@echo "$(WINDOWS_ZIP): $$(stat -c %s $(WINDOWS_ZIP)) bytes"

.PHONY: clean
clean: ## Remove build output and demo data.
	rm -rf bin $(DIST) $(DEMO_DATA)

# kea-lwm2m: build, test and demo. Run as root on Debian 12 (network
# namespaces and raw sockets need it); missing packages are installed first.

SWIFT      ?= swift
PYTHON     ?= python3
BUILD_DIR  := .build/release
HOOK       := $(BUILD_DIR)/libdhcp_lwm2m.so

.PHONY: all deps build demo test unit-test replay-test clean

all: build

## Install the Debian and Python packages the build, tests and demo need.
deps:
	@bash scripts/install-deps.sh

## Build the hook: $(HOOK).
build: deps
	$(SWIFT) build -c release --product dhcp_lwm2m
	@echo "hook: $(HOOK)"

## Kea with the hook serving ISC dhclient (v4 and v6) in a namespace lab.
demo: build
	$(PYTHON) scripts/demo.py --hook $(HOOK)

## Everything: unit tests of the core, then real Kea and real packets.
test: unit-test replay-test

unit-test: deps
	$(SWIFT) test

replay-test: build
	KEA_LWM2M_HOOK=$(abspath $(HOOK)) $(PYTHON) -m pytest Tests/replay -v

clean:
	rm -rf .build

# --- Operator tooling: the kea-lwm2m command, install, uninstall, .deb ------
# `make install` / `make uninstall` honour PREFIX and DESTDIR; the .deb holds
# the same files (installed under /usr). Version: the VERSION file.

VERSION     := $(shell cat VERSION)
PREFIX      ?= /usr
DESTDIR     ?=
MULTIARCH   ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
HOOKS_DIR   ?= $(PREFIX)/lib/$(MULTIARCH)/kea/hooks
BINDIR      ?= $(PREFIX)/bin
DOCDIR      ?= $(PREFIX)/share/doc/kea-lwm2m
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
MANIFEST    ?= $(PREFIX)/share/kea-lwm2m/install-manifest
CLI         := $(BUILD_DIR)/kea-lwm2m
STAGE       := .build/stage
DEB         := .build/kea-lwm2m_$(VERSION)_amd64.deb
INSTALL_VARS = STAGE=$(STAGE) DESTDIR=$(DESTDIR) HOOKS_DIR=$(HOOKS_DIR) BINDIR=$(BINDIR) \
               DOCDIR=$(DOCDIR) MANDIR=$(MANDIR) BASHCOMPDIR=$(BASHCOMPDIR) \
               ZSHCOMPDIR=$(ZSHCOMPDIR) FISHCOMPDIR=$(FISHCOMPDIR)

.PHONY: cli stage install uninstall deb cli-test

## The command: $(CLI).
cli: deps
	$(SWIFT) build -c release --product kea-lwm2m
	@echo "command: $(CLI)"

## Everything install and deb copy, under $(STAGE): stripped binaries, man
## page, shell completions, examples and docs.
stage: build cli
	VERSION=$(VERSION) STAGE=$(STAGE) HOOK=$(HOOK) CLI=$(CLI) SWIFT=$(SWIFT) bash scripts/stage.sh

install: stage
	$(INSTALL_VARS) MANIFEST=$(MANIFEST) bash scripts/install-tree.sh

uninstall:
	DESTDIR=$(DESTDIR) MANIFEST=$(MANIFEST) DOCDIR=$(DOCDIR) bash scripts/uninstall-tree.sh

## A Debian package of the same files: $(DEB).
deb: stage
	VERSION=$(VERSION) STAGE=$(STAGE) DEB=$(DEB) MULTIARCH=$(MULTIARCH) bash scripts/build-deb.sh

cli-test: stage
	KEA_LWM2M_HOOK=$(abspath $(HOOK)) KEA_LWM2M_CLI=$(abspath $(CLI)) $(PYTHON) -m pytest Tests/cli -v

test: cli-test

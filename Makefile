# kea-lwm2m: build, test and demo. Run as root on Debian 12 (network
# namespaces and raw sockets need it); missing packages are installed first.
#
# One source tree, one hook per Kea version (Kea loads only a hook built for
# its own KEA_HOOKS_VERSION):
#   make build             the machine's own Kea (2.2 on Debian 12): .build/release/libdhcp_lwm2m.so
#   make build KEA=2.6     .build/kea-2.6/libdhcp_lwm2m.so (Kea from a Debian trixie root)
#   make build KEA=3.0     .build/kea-3.0/libdhcp_lwm2m.so (Kea from a Debian sid root)
# The roots are made on first use by scripts/kea-root.sh, outside the tree.

SWIFT      ?= swift
PYTHON     ?= python3
BUILD_DIR  := .build/release
# Every Kea version the hook is built and tested for.
KEA_VERSIONS := 2.2 2.6 3.0
HOST_KEA   := $(shell sed -n 's/^const int KEA_HOOKS_VERSION = \([0-9]\)0\([0-9]\)[0-9][0-9];/\1.\2/p' /usr/include/kea/hooks/hooks.h 2>/dev/null)
ifdef KEA
HOOK       := .build/kea-$(KEA)/libdhcp_lwm2m.so
else
KEA        := $(if $(HOST_KEA),$(HOST_KEA),2.2)
HOOK       := $(BUILD_DIR)/libdhcp_lwm2m.so
endif
# The Swift half of every hook, Kea-free, built once.
CORE_LIB   := $(BUILD_DIR)/liblwm2m_core.a
DEPS_STAMP := .build/deps.stamp

.PHONY: all deps build core hooks demo device test unit-test replay-test replay-test-all clean

all: build

## Install the Debian and Python packages the build, tests and demo need
## (again only when scripts/install-deps.sh changes).
deps: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/install-deps.sh
	@bash scripts/install-deps.sh
	@mkdir -p $(dir $@) && touch $@

## The Swift core as a static library: $(CORE_LIB).
core: $(DEPS_STAMP)
	$(SWIFT) build -c release --product lwm2m_core

## Build the hook for Kea $(KEA): $(HOOK).
build: core
	KEA=$(KEA) CORE=$(CORE_LIB) OUT=$(HOOK) bash scripts/build-hook.sh

## The device side (examples/device, docs/clients.md): an LwM2M device that
## bootstraps over DTLS trusting only what DHCP delivered, and the small
## bootstrap server it talks to in the lab; libcoap with GnuTLS (libcoap3-dev).
DEVICE_DIR   := .build/device
DEVICE_PROGS := $(DEVICE_DIR)/lwm2m-bootstrap-device $(DEVICE_DIR)/lwm2m-bootstrap-server
DEVICE_CC    ?= cc
DEVICE_FLAGS := -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror

device: $(DEVICE_PROGS)

$(DEVICE_DIR)/%: examples/device/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(DEVICE_CC) $(DEVICE_FLAGS) -o $@ $< $$(pkg-config --cflags --libs libcoap-3-gnutls gnutls)

## Kea with the hook serving ISC dhclient (v4 and v6) in a namespace lab,
## then the device bootstrapping over DTLS with what it received.
demo: build device
	KEA_LWM2M_KEA=$(KEA) $(PYTHON) scripts/demo.py --hook $(HOOK)

## Everything, as README says: unit tests once; the replay suite with the real
## clients against every Kea version; the command, its package, the docs,
## the benchmark harness, a short run of every fuzz target and a short soak.
test: unit-test replay-test-all cli-test docs-test bench-test fuzz-smoke soak-test

unit-test: $(DEPS_STAMP)
	$(SWIFT) test

## The replay suite (Tests/replay: fixtures, policies, relays, operations,
## reconfiguration, real clients) against Kea $(KEA).
replay-test: build cli device
	KEA_LWM2M_KEA=$(KEA) KEA_LWM2M_HOOK=$(abspath $(HOOK)) KEA_LWM2M_CLI=$(abspath $(CLI)) $(PYTHON) -m pytest Tests/replay -v

## The hook for each of $(KEA_VERSIONS): .build/kea-VERSION/libdhcp_lwm2m.so.
hooks: core
	@set -e; for v in $(KEA_VERSIONS); do \
	    KEA=$$v CORE=$(CORE_LIB) OUT=.build/kea-$$v/libdhcp_lwm2m.so bash scripts/build-hook.sh; \
	done

## The replay suite against each of $(KEA_VERSIONS), side by side (all hooks
## are built first: each run also checks that Kea refuses the others). Each
## run's output: .build/replay-logs/kea-VERSION.log; REPLAY_PARALLEL=0 runs
## them one after the other.
replay-test-all: hooks cli device
	PYTHON=$(PYTHON) bash scripts/replay-all.sh $(abspath $(CLI)) $(KEA_VERSIONS)

clean:
	rm -rf .build

# --- Sanitizers (docs/reliability.md) -----------------------------------------
# The hook for the machine's Kea with AddressSanitizer and
# UndefinedBehaviorSanitizer: the shim with both, the Swift core with ASan
# (SwiftPM's own build folder for it), in $(ASAN_DIR); the regular hook is
# never touched. kea-dhcp4/6 preload the toolchain's ASan runtime; a report
# (written under $(ASAN_LOGS)) fails the test that caused it.
.PHONY: build-asan replay-test-asan

ASAN_DIR     := .build/asan
ASAN_HOOK    := $(ASAN_DIR)/libdhcp_lwm2m.so
ASAN_CORE    := $(ASAN_DIR)/core/release/liblwm2m_core.a
ASAN_LOGS    ?= /tmp/lwm2m-sanitizers
ASAN_RUNTIME  = $(shell $(dir $(shell command -v swiftc))clang++ -print-file-name=libclang_rt.asan-x86_64.so)
# Which replay tests run against it: the whole suite but one whose timing
# the instrumented store reader changes (docs/reliability.md, Sanitizers):
# the reconfiguration during a 60,000-entry read (5 to 13 s per reload
# against the lab's 20 s waits).
ASAN_SLOW    := test_reconfiguration_while_a_large_store_is_being_read
ASAN_TESTS   ?= Tests/replay $(foreach t,$(ASAN_SLOW),--deselect Tests/replay/test_operations.py::$(t))
ASAN_KEA     := $(if $(HOST_KEA),$(HOST_KEA),2.2)

build-asan: $(DEPS_STAMP)
	$(SWIFT) build -c release --product lwm2m_core --sanitize=address --scratch-path $(ASAN_DIR)/core
	SANITIZE=address,undefined KEA=$(ASAN_KEA) CORE=$(ASAN_CORE) OUT=$(ASAN_HOOK) bash scripts/build-hook.sh

replay-test-asan: build-asan
	rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	KEA_LWM2M_KEA=$(ASAN_KEA) KEA_LWM2M_HOOK=$(abspath $(ASAN_HOOK)) KEA_LWM2M_REQUIRE_HOOK=1 \
	KEA_LWM2M_KEA_PRELOAD=$(ASAN_RUNTIME) KEA_LWM2M_SANITIZER_LOGS=$(ASAN_LOGS) \
	ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=0:log_path=$(ASAN_LOGS)/asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan \
	    $(PYTHON) -m pytest $(ASAN_TESTS) -v

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
# One package per Kea version, for the Debian release that ships that Kea:
# version VERSION-DEBREV+keaX.Y (bump DEBREV to rebuild for a new Kea
# release of the same series).
DEBREV      ?= 1
DEB_VERSION := $(VERSION)-$(DEBREV)+kea$(KEA)
DEB         := .build/kea-lwm2m_$(DEB_VERSION)_amd64.deb
INSTALL_VARS = STAGE=$(STAGE) DESTDIR=$(DESTDIR) HOOKS_DIR=$(HOOKS_DIR) BINDIR=$(BINDIR) \
               DOCDIR=$(DOCDIR) MANDIR=$(MANDIR) BASHCOMPDIR=$(BASHCOMPDIR) \
               ZSHCOMPDIR=$(ZSHCOMPDIR) FISHCOMPDIR=$(FISHCOMPDIR)

.PHONY: cli stage install uninstall deb deb-lint cli-test

## The command: $(CLI).
cli: $(DEPS_STAMP)
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

## A Debian package of the same files for Kea $(KEA): $(DEB).
deb: stage
	KEA=$(KEA) VERSION=$(VERSION) DEBREV=$(DEBREV) STAGE=$(STAGE) DEB=$(DEB) MULTIARCH=$(MULTIARCH) \
	    bash scripts/build-deb.sh

## Lintian on $(DEB) (this machine's lintian; the tags it reports are errors).
deb-lint: deb
	lintian --fail-on error,warning --info $(DEB)

cli-test: stage
	KEA_LWM2M_HOOK=$(abspath $(HOOK)) KEA_LWM2M_CLI=$(abspath $(CLI)) $(PYTHON) -m pytest Tests/cli -v

# --- Benchmarks (docs/performance.md) ---------------------------------------
# Generated stores, profiles and results go to $(BENCH_WORK), never into the
# repository. Run lengths: see the BENCH_* variables at the top of each
# scripts/bench/*.py.
.PHONY: bench bench-build bench-micro bench-callgrind bench-macro bench-reload bench-fleet bench-report bench-test

BENCH_WORK ?= /tmp/lwm2m-bench
BENCH_BIN  := $(BUILD_DIR)/lwm2m-bench
BENCH_ENV  := BENCH_WORK=$(BENCH_WORK) KEA_LWM2M_KEA=$(KEA) KEA_LWM2M_HOOK=$(abspath $(HOOK)) LWM2M_BENCH=$(abspath $(BENCH_BIN))

bench: bench-micro bench-callgrind bench-macro bench-reload bench-fleet

bench-build: build
	$(SWIFT) build -c release --product lwm2m-bench

bench-micro: bench-build
	$(BENCH_ENV) $(PYTHON) scripts/bench/micro.py
	$(BENCH_ENV) $(PYTHON) scripts/bench/report.py

bench-callgrind: bench-build
	$(BENCH_ENV) $(PYTHON) scripts/bench/callgrind.py
	$(BENCH_ENV) $(PYTHON) scripts/bench/report.py

bench-macro: bench-build
	$(BENCH_ENV) $(PYTHON) scripts/bench/macro.py
	$(BENCH_ENV) $(PYTHON) scripts/bench/report.py

bench-reload: bench-build
	$(BENCH_ENV) $(PYTHON) scripts/bench/reload.py
	$(BENCH_ENV) $(PYTHON) scripts/bench/report.py

## The PostgreSQL store (docs/fleet.md): propagation and load at 10k/100k entries, DHCPv4 under changes.
bench-fleet: bench-build cli
	$(BENCH_ENV) KEA_LWM2M_CLI=$(abspath $(CLI)) $(PYTHON) scripts/bench/fleet.py
	$(BENCH_ENV) $(PYTHON) scripts/bench/report.py

bench-report:
	$(BENCH_ENV) $(PYTHON) scripts/bench/report.py

## Every bench script in a tiny configuration: the harness must not rot.
bench-test: bench-build cli
	$(BENCH_ENV) KEA_LWM2M_CLI=$(abspath $(CLI)) $(PYTHON) -m pytest Tests/bench -v

# --- Documentation: every command and JSON snippet is exercised ------------
.PHONY: docs-test

docs-test: build cli
	KEA_LWM2M_HOOK=$(abspath $(HOOK)) KEA_LWM2M_CLI=$(abspath $(CLI)) $(PYTHON) -m pytest Tests/docs -v

# --- Fuzzing (docs/reliability.md, "Fuzzing") -------------------------------
# libFuzzer targets in Fuzz/, built with -sanitize=fuzzer,address into
# .build/fuzz (the normal build is untouched). Corpora, crashes and logs go to
# $(FUZZ_WORK), never into the repository.
.PHONY: fuzz fuzz-build fuzz-smoke fuzz-repro

FUZZ_WORK          ?= /tmp/lwm2m-fuzz
FUZZ_SECONDS       ?= 180
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_ENV := SWIFT=$(SWIFT) FUZZ_WORK=$(FUZZ_WORK) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SMOKE_SECONDS=$(FUZZ_SMOKE_SECONDS)

fuzz-build: $(DEPS_STAMP)
	$(FUZZ_ENV) bash scripts/fuzz.sh build

## Every target (or TARGETS="fuzz-store ...") for FUZZ_SECONDS each.
fuzz: fuzz-build
	$(FUZZ_ENV) bash scripts/fuzz.sh run $(TARGETS)

## Every target for FUZZ_SMOKE_SECONDS, and every committed regression input.
fuzz-smoke: fuzz-build
	$(FUZZ_ENV) bash scripts/fuzz.sh smoke

## One input once: make fuzz-repro TARGET=fuzz-store CRASH=/tmp/lwm2m-fuzz/crashes/fuzz-store/crash-...
fuzz-repro: fuzz-build
	$(FUZZ_ENV) bash scripts/fuzz.sh repro $(TARGET) $(CRASH)

# --- Soak (docs/reliability.md, "Soak") ---------------------------------------
# Multi-threaded Kea with the hook under perfdhcp load, v4 and v6, while the
# store is rewritten 10 times a second (half of the writes broken), Kea's
# config-reload every 10 s and lwm2m-reload in between. SOAK_SECONDS is the
# storm time per family (calm reference segments come on top); every other
# SOAK_* variable is described at the top of scripts/soak/soak.py. Captures
# and results go to $(SOAK_WORK). Fails when a criterion is violated.
.PHONY: soak soak-test

SOAK_SECONDS ?= 600
SOAK_WORK    ?= /tmp/lwm2m-soak

soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_WORK=$(SOAK_WORK) KEA_LWM2M_KEA=$(KEA) KEA_LWM2M_HOOK=$(abspath $(HOOK)) \
	    nice -n 10 $(PYTHON) scripts/soak/soak.py

## The short soak of `make test` (Tests/soak/test_soak.py: 20 s of storm per
## family) against each of $(KEA_VERSIONS), one after the other; once, on
## Kea $(firstword $(KEA_VERSIONS)): the reply checker's own test and the soak
## failing when Kea dies under it.
soak-test: hooks
	@status=0; KEA_LWM2M_KEA=$(firstword $(KEA_VERSIONS)) \
	    KEA_LWM2M_HOOK=$(abspath .build)/kea-$(firstword $(KEA_VERSIONS))/libdhcp_lwm2m.so \
	    $(PYTHON) -m pytest Tests/soak/test_reply_checks.py Tests/soak/test_soak_failure.py -v || status=1; \
	for v in $(KEA_VERSIONS); do \
	    echo "=== short soak, Kea $$v"; \
	    KEA_LWM2M_KEA=$$v \
	        KEA_LWM2M_HOOK=$(abspath .build)/kea-$$v/libdhcp_lwm2m.so \
	        $(PYTHON) -m pytest Tests/soak/test_soak.py -v || status=1; \
	done; exit $$status

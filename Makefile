# kea-lwm2m: build, test and demo. Run as root on Debian 12 (network
# namespaces and raw sockets need it); missing packages are installed first.

SWIFT      ?= swift
PYTHON     ?= python3
BUILD_DIR  := .build/release
HOOK       := $(BUILD_DIR)/libdhcp_lwm2m.so

.PHONY: all deps build demo test unit-test replay-test clean
.PHONY: bench bench-build bench-micro bench-callgrind bench-macro bench-reload bench-report bench-test

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
test: unit-test replay-test bench-test

unit-test: deps
	$(SWIFT) test

replay-test: build
	KEA_LWM2M_HOOK=$(abspath $(HOOK)) $(PYTHON) -m pytest Tests/replay -v

clean:
	rm -rf .build

## Benchmarks of issue 6 (docs/performance.md). Generated stores, profiles and
## results go to $(BENCH_WORK), never into the repository. Run lengths: see
## the BENCH_* variables at the top of each scripts/bench/*.py.
BENCH_WORK ?= /tmp/lwm2m-bench
BENCH_BIN  := $(BUILD_DIR)/lwm2m-bench
BENCH_ENV  := BENCH_WORK=$(BENCH_WORK) KEA_LWM2M_HOOK=$(abspath $(HOOK)) LWM2M_BENCH=$(abspath $(BENCH_BIN))

bench: bench-micro bench-callgrind bench-macro bench-reload

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

bench-report:
	$(BENCH_ENV) $(PYTHON) scripts/bench/report.py

## Every bench script in a tiny configuration: the harness must not rot.
bench-test: bench-build
	$(BENCH_ENV) $(PYTHON) -m pytest Tests/bench -v

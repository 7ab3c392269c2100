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

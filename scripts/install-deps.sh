#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12, as root.
# Idempotent: asks apt and pip only for what is missing. Swift itself is not
# a Debian package: the toolchain is expected on PATH (swift 6.x).
set -euo pipefail

packages=(kea-dev libboost-dev kea-dhcp4-server kea-dhcp6-server kea-admin
          isc-dhcp-client busybox dhcpcd-base tcpdump iproute2 openssl procps valgrind)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import scapy, pytest, cryptography' 2>/dev/null; then
    echo "installing: scapy pytest cryptography (pip)"
    python3 -m pip install -q 'scapy>=2.5' pytest cryptography
fi

command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain first" >&2; exit 1; }

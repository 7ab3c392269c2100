#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12, as root.
# Idempotent: asks apt and pip only for what is missing. Swift itself is not
# a Debian package: the toolchain is expected on PATH (swift 6.x).
set -euo pipefail

packages=(kea-dev libboost-dev kea-dhcp4-server kea-dhcp6-server kea-admin
          isc-dhcp-client busybox dhcpcd-base tcpdump iproute2 openssl procps valgrind
          dpkg-dev binutils file man-db systemd debootstrap python3 lintian
          libpq-dev postgresql libcoap3-bin libcoap3-dev libgnutls28-dev pkg-config gcc libc6-dev)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Python test tools, for whichever python3 is first on PATH: Debian's
# packages for the system Python (it refuses pip installs, PEP 668), pip for
# any other (pyenv, venv).
if ! python3 -c 'import scapy, pytest, cryptography' 2>/dev/null; then
    if [ "$(readlink -f "$(command -v python3)")" = "$(readlink -f /usr/bin/python3)" ]; then
        echo "installing: python3-scapy python3-pytest python3-cryptography (apt)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            python3-scapy python3-pytest python3-cryptography >/dev/null
    elif python3 -m pip --version >/dev/null 2>&1; then
        echo "installing: scapy pytest cryptography (pip)"
        python3 -m pip install -q 'scapy>=2.5' pytest cryptography
    else
        echo "$(command -v python3) has no pip: install scapy, pytest and cryptography for it" >&2
        exit 1
    fi
fi

command -v swift >/dev/null || { echo "swift is not on PATH: install the Swift 6 toolchain first" >&2; exit 1; }

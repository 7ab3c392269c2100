#!/usr/bin/env bash
# Prints the root directory of Kea VERSION (2.2, 2.6 or 3.0), making it first
# when it is missing. Run as root.
#
#   scripts/kea-root.sh 3.0     ->  /var/cache/kea-lwm2m/roots/kea-3.0
#
# The machine's own Kea (Debian 12 ships 2.2) is "/". Any other version is a
# Debian root made with debootstrap from the release that ships it (2.6:
# trixie, 3.0: sid), holding Kea, its headers and what the builds, tests and
# benchmarks run inside it. Roots live outside the source tree, in
# $KEA_LWM2M_ROOTS (default /var/cache/kea-lwm2m/roots), and are shared by
# every clone and worktree on the machine; a fresh machine makes them again
# (about a minute each). The Debian mirror is the one this machine's apt
# already uses: nothing here names a registry host.
set -euo pipefail

version=${1:?usage: kea-root.sh VERSION (2.2, 2.6 or 3.0)}
roots=${KEA_LWM2M_ROOTS:-/var/cache/kea-lwm2m/roots}

# What every root holds: Kea and its headers (the build), boost's headers
# (Kea's headers include them), valgrind (callgrind benchmarks run inside the
# root, on the root's own libraries).
packages=kea-dev,libboost-dev,kea-dhcp4-server,kea-dhcp6-server,kea-admin,kea-common,valgrind

host_version() {
    sed -n 's/^const int KEA_HOOKS_VERSION = \([0-9]*\)\([0-9][0-9]\)\([0-9][0-9]\);/\1.\2/p' \
        /usr/include/kea/hooks/hooks.h 2>/dev/null | sed 's/\.0/./'
}

case "$version" in
    2.2) suite=bookworm ;;
    2.6) suite=trixie ;;
    3.0) suite=sid ;;
    *) echo "kea-root.sh: unknown Kea version '$version' (known: 2.2, 2.6, 3.0)" >&2; exit 2 ;;
esac

if [ "$(host_version)" = "$version" ]; then
    echo /
    exit 0
fi

root=$roots/kea-$version
stamp=$root/.kea-lwm2m-root
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$suite $packages" ]; then
    echo "$root"
    exit 0
fi

# The Debian archive this machine's apt uses (the line of its own release).
release=$(. /etc/os-release && echo "$VERSION_CODENAME")
if ! apt-cache policy 2>/dev/null | grep -q " $release/main "; then
    apt-get update -qq >&2
fi
mirror=$(apt-cache policy | awk -v r=" $release/main " 'index($0, r) && $2 ~ /^https?:/ { print $2; exit }')
if [ -z "$mirror" ]; then
    echo "kea-root.sh: no Debian mirror for $release in this machine's apt sources" >&2
    exit 1
fi
command -v debootstrap >/dev/null || {
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
}

echo "kea-root.sh: making the Kea $version root ($suite) in $root" >&2
mkdir -p "$roots"
rm -rf "$root" "$root.tmp"
log=$roots/kea-$version.log
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root.tmp" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "kea-root.sh: debootstrap of $suite failed (whole log: $log)" >&2
    rm -rf "$root.tmp"
    exit 1
fi
# Nothing of Kea's runs at install time in a root: no daemons, no services.
rm -rf "$root.tmp/var/cache/apt/archives/"*.deb
echo "$suite $packages" > "$root.tmp/.kea-lwm2m-root"
mv "$root.tmp" "$root"
echo "$root"

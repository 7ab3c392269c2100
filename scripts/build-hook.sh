#!/usr/bin/env bash
# Links libdhcp_lwm2m.so for one Kea version:
#
#   CORE=.build/release/liblwm2m_core.a KEA=3.0 OUT=.build/kea-3.0/libdhcp_lwm2m.so scripts/build-hook.sh
#
# The Swift half (CORE: LwM2MCore + LwM2MHook and their packages, Kea-free)
# is built once by SwiftPM for every Kea version. What is Kea's is compiled
# here, per version: the C++ shim (CShim/*.cc, and the message tables that
# scripts/gen-messages.py makes from CShim/lwm2m_messages.mes) against that
# version's headers, then linked with CORE against that version's libraries.
# The root of each Kea comes from scripts/kea-root.sh: "/" for the machine's
# own Kea, a debootstrap root for the others. Compiling on this machine against a root's
# headers and libraries (not inside the root) keeps one toolchain: the Swift
# toolchain's clang++ and this machine's libstdc++, whose ABI every newer
# libstdc++ keeps. See docs/install.md.
set -euo pipefail
cd "$(dirname "$0")/.."

KEA=${KEA:?KEA=2.2, 2.6 or 3.0}
CORE=${CORE:?CORE=path of liblwm2m_core.a}
OUT=${OUT:?OUT=path of the hook to write}
SWIFTC=${SWIFTC:-$(command -v swiftc)}
CXX=${CXX_FOR_HOOK:-$(dirname "$SWIFTC")/clang++}
MULTIARCH=${MULTIARCH:-x86_64-linux-gnu}

root=$(scripts/kea-root.sh "$KEA")
prefix=${root%/}/usr
work=$(dirname "$OUT")/hook-$KEA
mkdir -p "$work/include" "$work/lib" "$work/obj" "$work/gen"

# messages.h and messages.cc: the message IDs and texts of
# CShim/lwm2m_messages.mes, generated at every build, never committed.
"${PYTHON:-python3}" scripts/gen-messages.py cxx "$work/gen"

# The root's headers and libraries, and nothing else of it: a root's libc,
# libstdc++ and system headers must not shadow this machine's.
hooks_version=$(sed -n 's/^const int KEA_HOOKS_VERSION = \([0-9]*\);/\1/p' "$prefix/include/kea/hooks/hooks.h")
[ -n "$hooks_version" ] || { echo "build-hook.sh: no KEA_HOOKS_VERSION in $prefix/include/kea/hooks/hooks.h" >&2; exit 1; }
ln -sfn "$prefix/include/kea" "$work/include/kea"
ln -sfn "$prefix/include/boost" "$work/include/boost"
libdir=$prefix/lib/$MULTIARCH
# Kea 3.0 renamed libkea-dhcp++ to libkea-dhcp.
libraries=()
for name in kea-dhcpsrv kea-dhcp kea-dhcp++ kea-hooks kea-cc kea-asiolink kea-exceptions kea-log kea-stats kea-util; do
    if [ -e "$libdir/lib$name.so" ]; then
        ln -sfn "$libdir/lib$name.so" "$work/lib/lib$name.so"
        libraries+=("-l$name")
    fi
done
# Kea 3.0's headers bring boost::asio::ssl, which calls OpenSSL itself: link
# the root's libcrypto (Kea links it anyway), only where something uses it.
if [ -e "$libdir/libcrypto.so.3" ]; then
    ln -sfn "$libdir/libcrypto.so.3" "$work/lib/libcrypto.so"
    libraries+=(-Xlinker --as-needed -lcrypto -Xlinker --no-as-needed)
fi

cxxflags=(-std=c++17 -O2 -fPIC -g -UDEBUG -DNDEBUG -Wall -Wno-deprecated-declarations
          -DLWM2M_KEA_HOOKS_VERSION="$hooks_version"
          -ICShim/include -ICShim -I"$work/gen" -I"$work/include/kea" -isystem "$work/include" -ICShim/kea-compat)
sources=(CShim/*.cc "$work/gen/messages.cc")
objects=()
for source in "${sources[@]}"; do
    objects+=("$work/obj/$(basename "${source%.cc}").o")
done
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} sh -c \
    'exec "$0" "$@" -c {} -o "'"$work"'/obj/$(basename {} .cc).o"' "$CXX" "${cxxflags[@]}"

# Only Kea's entry points are exported; the Swift core, its runtime and
# BoringSSL stay local. Kea dlopens the hook on machines without a Swift
# toolchain (static stdlib) and dlcloses it on every reconfiguration: Swift
# images must never be unmapped (nodelete). -z defs: a missing symbol is a
# link error here, not a dlopen failure inside kea-dhcp4.
"$SWIFTC" -emit-library -static-stdlib -o "$OUT" "${objects[@]}" "$CORE" \
    -L"$work/lib" "${libraries[@]}" -lstdc++ -l_FoundationCollections -l_FoundationCShims \
    -Xlinker -z -Xlinker nodelete -Xlinker -z -Xlinker defs \
    -Xlinker --version-script="$PWD/CShim/exports.map" \
    -Xlinker -rpath-link="$libdir"
echo "hook for Kea $KEA (hooks version $hooks_version): $OUT"

#!/usr/bin/env bash
# Links libdhcp_lwm2m.so for one Kea version:
#
#   CORE=.build/release/liblwm2m_core.a KEA=3.0 OUT=.build/kea-3.0/libdhcp_lwm2m.so scripts/build-hook.sh
#
# The Swift half (CORE: LwM2MCore + LwM2MHook and their packages, Kea-free)
# is built once by SwiftPM for every Kea version. What is Kea's is compiled
# here, per version: the C++ shim (CShim/*.cc, and the message tables that
# scripts/gen-messages.py makes from CShim/lwm2m_messages.mes) against that
# version's headers, then linked with CORE against that version's libraries. The root of each
# Kea comes from scripts/kea-root.sh: "/" for the machine's own Kea, a
# debootstrap root for the others; scripts/kea-cxx.sh sets up the root's
# headers, libraries and compiler flags (shared with the benchmarks' null
# hook). Compiling on this machine against a root's headers and libraries
# (not inside the root) keeps one toolchain: the Swift toolchain's clang++ and
# this machine's libstdc++, whose ABI every newer libstdc++ keeps. See
# docs/install.md.
set -euo pipefail
cd "$(dirname "$0")/.."

KEA=${KEA:?KEA=2.2, 2.6 or 3.0}
CORE=${CORE:?CORE=path of liblwm2m_core.a}
OUT=${OUT:?OUT=path of the hook to write}
SWIFTC=${SWIFTC:-$(command -v swiftc)}
CXX=${CXX_FOR_HOOK:-$(dirname "$SWIFTC")/clang++}

work=$(dirname "$OUT")/hook-$KEA
mkdir -p "$work/obj" "$work/gen"

# messages.h and messages.cc: the message IDs and texts of
# CShim/lwm2m_messages.mes, generated at every build, never committed.
"${PYTHON:-python3}" scripts/gen-messages.py cxx "$work/gen"

# The root's headers, libraries and hooks version (scripts/kea-cxx.sh).
. scripts/kea-cxx.sh
kea_cxx_setup "$KEA" "$work"
hooks_version=$kea_hooks_version
libdir=$kea_libdir
libraries=("${kea_libraries[@]}")
# libpq for store-database: the root's own libpq.so.5, which its kea-dhcp4
# and kea-dhcp6 link already (so the hook adds no dependency).
if [ ! -e "$libdir/libpq.so.5" ]; then
    echo "build-hook.sh: no libpq.so.5 in $libdir (Kea $KEA's root)" >&2
    exit 1
fi
ln -sfn "$libdir/libpq.so.5" "$work/lib/libpq.so"
libraries+=(-lpq)

cxxflags=(-ICShim/include -ICShim -I"$work/gen" "${kea_cxxflags[@]}" -g -Wall -Wno-deprecated-declarations -ICShim/kea-compat)
# SANITIZE=address,undefined (make build-asan): the shim is compiled with
# those sanitizers, every finding fatal, and the hook is linked against the
# toolchain's shared ASan runtime (which holds the UBSan handlers too).
# kea-dhcp4 is not instrumented: it must preload that runtime
# (docs/reliability.md, Sanitizers).
sanitizer_link=()
if [ -n "${SANITIZE:-}" ]; then
    cxxflags+=(-fsanitize="$SANITIZE" -fno-sanitize-recover=all -fno-omit-frame-pointer)
    asan_runtime=$("$CXX" -print-file-name=libclang_rt.asan-x86_64.so)
    if [ ! -e "$asan_runtime" ]; then
        echo "build-hook.sh: $CXX has no shared ASan runtime (libclang_rt.asan-x86_64.so)" >&2
        exit 1
    fi
    sanitizer_link=("$asan_runtime" -Xlinker -rpath -Xlinker "$(dirname "$asan_runtime")")
fi
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
"$SWIFTC" -emit-library -static-stdlib -o "$OUT" "${objects[@]}" "$CORE" ${sanitizer_link[@]+"${sanitizer_link[@]}"} \
    -L"$work/lib" "${libraries[@]}" -lstdc++ -l_FoundationCollections -l_FoundationCShims \
    -Xlinker -z -Xlinker nodelete -Xlinker -z -Xlinker defs \
    -Xlinker --version-script="$PWD/CShim/exports.map" \
    -Xlinker -rpath-link="$libdir"
echo "hook for Kea $KEA (hooks version $hooks_version): $OUT"

#!/usr/bin/env bash
# Compiling C++ against one Kea version's headers and libraries, shared by
# scripts/build-hook.sh (the hook's shim) and the benchmarks (the null hook,
# scripts/bench/benchlab.py).
#
# Sourced, it defines kea_cxx_setup KEA WORK, which sets
#   kea_root, kea_libdir     the Kea's root (scripts/kea-root.sh) and library folder
#   kea_hooks_version        KEA_HOOKS_VERSION of its headers (20200, 20603, 30004)
#   kea_cxxflags (array)     the flags every C++ file compiled against that Kea takes
#   kea_libraries (array)    -l options for Kea's libraries (under the version's names)
# and lays out WORK/include and WORK/lib: the root's headers and libraries,
# and nothing else of it (a root's libc, libstdc++ and system headers must not
# shadow this machine's). The compiler is this machine's: the Swift
# toolchain's clang++ and this machine's libstdc++, whose ABI every newer
# libstdc++ keeps.
#
# Run, it compiles a small hook library without Swift:
#   scripts/kea-cxx.sh KEA OUT SOURCE.cc [CXXFLAG...]
# e.g. scripts/kea-cxx.sh 3.0 /tmp/null/libdhcp_null_bench.so Benchmarks/null-hook/null_hook.cc

kea_cxx_setup() {
    local kea=$1 work=$2 prefix name
    local multiarch=${MULTIARCH:-x86_64-linux-gnu}
    kea_root=$("$(dirname "${BASH_SOURCE[0]}")/kea-root.sh" "$kea")
    prefix=${kea_root%/}/usr
    mkdir -p "$work/include" "$work/lib"
    kea_hooks_version=$(sed -n 's/^const int KEA_HOOKS_VERSION = \([0-9]*\);/\1/p' "$prefix/include/kea/hooks/hooks.h")
    if [ -z "$kea_hooks_version" ]; then
        echo "kea-cxx.sh: no KEA_HOOKS_VERSION in $prefix/include/kea/hooks/hooks.h" >&2
        return 1
    fi
    ln -sfn "$prefix/include/kea" "$work/include/kea"
    ln -sfn "$prefix/include/boost" "$work/include/boost"
    kea_libdir=$prefix/lib/$multiarch
    # Kea 3.0 renamed libkea-dhcp++ to libkea-dhcp.
    kea_libraries=()
    for name in kea-dhcpsrv kea-dhcp kea-dhcp++ kea-hooks kea-cc kea-asiolink kea-exceptions kea-log kea-stats kea-util; do
        if [ -e "$kea_libdir/lib$name.so" ]; then
            ln -sfn "$kea_libdir/lib$name.so" "$work/lib/lib$name.so"
            kea_libraries+=("-l$name")
        fi
    done
    # Kea 3.0's headers bring boost::asio::ssl, which calls OpenSSL itself: link
    # the root's libcrypto (Kea links it anyway), only where something uses it.
    if [ -e "$kea_libdir/libcrypto.so.3" ]; then
        ln -sfn "$kea_libdir/libcrypto.so.3" "$work/lib/libcrypto.so"
        kea_libraries+=(-Xlinker --as-needed -lcrypto -Xlinker --no-as-needed)
    fi
    # Kea's headers expect <config.h> first (3.0 refuses to compile without it).
    kea_cxxflags=(-std=c++17 -O2 -fPIC -UDEBUG -DNDEBUG -DLWM2M_KEA_HOOKS_VERSION="$kea_hooks_version"
                  -I"$work/include/kea" -isystem "$work/include")
}

kea_cxx_compiler() {
    local swiftc=${SWIFTC:-$(command -v swiftc || true)}
    if [ -n "${CXX_FOR_HOOK:-}" ]; then
        echo "$CXX_FOR_HOOK"
    elif [ -n "$swiftc" ] && [ -x "$(dirname "$swiftc")/clang++" ]; then
        echo "$(dirname "$swiftc")/clang++"
    else
        command -v clang++ || command -v c++
    fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    kea=${1:?usage: kea-cxx.sh KEA OUT SOURCE.cc [CXXFLAG...]}
    out=${2:?usage: kea-cxx.sh KEA OUT SOURCE.cc [CXXFLAG...]}
    source=${3:?usage: kea-cxx.sh KEA OUT SOURCE.cc [CXXFLAG...]}
    shift 3
    work=$(dirname "$out")/kea-$kea
    kea_cxx_setup "$kea" "$work"
    cxx=$(kea_cxx_compiler)
    mkdir -p "$(dirname "$out")"
    "$cxx" "${kea_cxxflags[@]}" "$@" -shared -o "$out" "$source" -L"$work/lib" \
        -Wl,--as-needed -lkea-hooks -Wl,--no-as-needed -Wl,-rpath-link="$kea_libdir"
    echo "$out (Kea $kea, hooks version $kea_hooks_version)"
fi

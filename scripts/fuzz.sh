#!/usr/bin/env bash
# The libFuzzer targets of Fuzz/ (docs/reliability.md, "Fuzzing").
#
#   scripts/fuzz.sh build               build every target (-sanitize=fuzzer,address) into .build/fuzz
#   scripts/fuzz.sh run [TARGET...]     each target for FUZZ_SECONDS from its seed corpus
#   scripts/fuzz.sh smoke               each target for FUZZ_SMOKE_SECONDS, then every committed
#                                       regression input once (part of `make test`)
#   scripts/fuzz.sh repro TARGET FILE   run one input once, with the target's output
#
# Nothing in the repository is written: corpora grow in FUZZ_WORK/corpus/TARGET
# (seeded from Fuzz/corpus/TARGET), crashes land in FUZZ_WORK/crashes/TARGET/,
# logs in FUZZ_WORK/logs/. Extra libFuzzer flags: FUZZ_FLAGS.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SWIFT=${SWIFT:-swift}
SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build/fuzz}
BIN=$SCRATCH/release
FUZZ_WORK=${FUZZ_WORK:-/tmp/lwm2m-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-180}
FUZZ_SMOKE_SECONDS=${FUZZ_SMOKE_SECONDS:-10}
FUZZ_FLAGS=${FUZZ_FLAGS:-}
TARGETS=(fuzz-store fuzz-parameters fuzz-certificate fuzz-answer fuzz-capture)
# A Swift trap goes straight to libFuzzer (which saves the input): the Swift
# runtime's own backtracer would read foreign memory, which AddressSanitizer
# reports instead of the trap.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

# Largest input per target: a store with a few certificates, a capture of a
# few replies; the others are small.
max_len() {
    case $1 in
        fuzz-capture) echo 16384 ;;
        fuzz-store) echo 8192 ;;
        fuzz-certificate) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

# libFuzzer's flags for TARGET: its dictionary, input size, limits.
flags() {
    local target=$1
    local dict=$ROOT/Fuzz/dict/$target.dict
    printf '%s\n' -max_len="$(max_len "$target")" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1
    [[ -f $dict ]] && printf '%s\n' -dict="$dict"
    return 0
}

build() {
    local target
    for target in "${TARGETS[@]}"; do
        echo "=== building $target"
        KEA_LWM2M_FUZZ=1 "$SWIFT" build -c release --scratch-path "$SCRATCH" --product "$target" \
            -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -use-ld=lld
    done
}

binary() {
    local path=$BIN/$1
    [[ -x $path ]] || { echo "fuzz: $path is not built (scripts/fuzz.sh build)" >&2; exit 2; }
    echo "$path"
}

# fuzz TARGET SECONDS CORPUS: one libFuzzer run; its status.
fuzz() {
    local target=$1 seconds=$2 corpus=$3 crashes=$FUZZ_WORK/crashes/$1 log=$FUZZ_WORK/logs/$1.log
    mkdir -p "$crashes" "$FUZZ_WORK/logs"
    local -a extra
    mapfile -t extra < <(flags "$target")
    echo "=== $target: ${seconds}s from $corpus (log $log, crashes in $crashes/)"
    local status=0
    # shellcheck disable=SC2086
    "$(binary "$target")" "${extra[@]}" -max_total_time="$seconds" -artifact_prefix="$crashes/" \
        $FUZZ_FLAGS "$corpus" >"$log" 2>&1 || status=$?
    grep -E '^(stat::|Done |INFO: Loaded|#[0-9]+ +DONE)' "$log" || true
    if [[ $status -ne 0 ]]; then
        echo "=== $target FAILED (status $status); the end of $log:" >&2
        tail -n 40 "$log" >&2
        ls -l "$crashes" >&2 || true
        echo "reproduce: make fuzz-repro TARGET=$target CRASH=<file in $crashes>" >&2
    fi
    return $status
}

# Fuzzing runs record no stack per allocation (AddressSanitizer still finds
# every error it would; its report names the allocation without its stack):
# the stacks were about a third of fuzz-store's time. `repro` records them.
FUZZ_ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-malloc_context_size=0}

run() {
    export ASAN_OPTIONS=${ASAN_OPTIONS:-$FUZZ_ASAN_OPTIONS}
    local -a targets=("$@")
    [[ ${#targets[@]} -gt 0 ]] || targets=("${TARGETS[@]}")
    local target status=0
    for target in "${targets[@]}"; do
        local corpus=$FUZZ_WORK/corpus/$target
        mkdir -p "$corpus"
        cp -n "$ROOT/Fuzz/corpus/$target/"* "$corpus/" 2>/dev/null || true
        fuzz "$target" "$FUZZ_SECONDS" "$corpus" || status=1
    done
    return $status
}

smoke() {
    export ASAN_OPTIONS=${ASAN_OPTIONS:-$FUZZ_ASAN_OPTIONS}
    local target status=0 scratch
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/lwm2m-fuzz-smoke.XXXXXX")
    trap 'rm -rf "$scratch"' RETURN
    for target in "${TARGETS[@]}"; do
        mkdir -p "$scratch/$target"
        cp "$ROOT/Fuzz/corpus/$target/"* "$scratch/$target/"
        FUZZ_WORK=$scratch/work fuzz "$target" "$FUZZ_SMOKE_SECONDS" "$scratch/$target" || status=1
        local regressions=$ROOT/Fuzz/regressions/$target
        if compgen -G "$regressions/*" >/dev/null; then
            echo "=== $target: regression inputs in $regressions"
            "$(binary "$target")" "$regressions"/* >"$scratch/$target.regressions.log" 2>&1 || {
                status=1
                echo "=== $target: a regression input fails again:" >&2
                tail -n 30 "$scratch/$target.regressions.log" >&2
            }
        fi
    done
    return $status
}

repro() {
    [[ $# -eq 2 ]] || { echo "usage: scripts/fuzz.sh repro TARGET FILE" >&2; exit 2; }
    "$(binary "$1")" "$2"
}

case ${1:-} in
    build) build ;;
    run) shift; run "$@" ;;
    smoke) smoke ;;
    repro) shift; repro "$@" ;;
    *) echo "usage: scripts/fuzz.sh build | run [TARGET...] | smoke | repro TARGET FILE" >&2; exit 2 ;;
esac

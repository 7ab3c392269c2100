#!/usr/bin/env bash
# The replay suite against every Kea version at once (make replay-test-all).
#
#   scripts/replay-all.sh CLI VERSION...
#
# The suite spends most of its time waiting for Kea, clients and timers (about
# a seventh of one core per run), and every run builds its own namespaces,
# Kea instances and PostgreSQL cluster, named after its own process: the runs
# share nothing, so they go side by side. Each run's output goes to
# .build/replay-logs/kea-VERSION.log and is printed whole when the run ends,
# in the order of VERSION. REPLAY_PARALLEL=0 runs them one after the other;
# REPLAY_ARGS adds pytest arguments (REPLAY_ARGS="-k broken_stores").
# Exit status: 1 if any run failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
CLI=$1
shift
LOGS=$ROOT/.build/replay-logs
mkdir -p "$LOGS"

run() {
    local version=$1
    KEA_LWM2M_KEA=$version KEA_LWM2M_HOOK=$ROOT/.build/kea-$version/libdhcp_lwm2m.so KEA_LWM2M_CLI=$CLI \
        "$PYTHON" -m pytest "$ROOT/Tests/replay" -v -p no:cacheprovider ${REPLAY_ARGS:-}
}

status=0
if [[ ${REPLAY_PARALLEL:-1} == 0 ]]; then
    for version in "$@"; do
        echo "=== replay suite, Kea $version"
        run "$version" || status=1
    done
    exit $status
fi

declare -A pids
for version in "$@"; do
    run "$version" >"$LOGS/kea-$version.log" 2>&1 &
    pids[$version]=$!
done
# Stop every run when this script is stopped.
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait; exit 130' INT TERM
for version in "$@"; do
    wait "${pids[$version]}"
    rc=$?
    echo "=== replay suite, Kea $version (exit $rc; $LOGS/kea-$version.log)"
    cat "$LOGS/kea-$version.log"
    [[ $rc == 0 ]] || status=1
done
exit $status

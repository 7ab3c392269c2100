#!/usr/bin/env python3
"""Micro-benchmarks of the Swift core (lwm2m-bench): part 1 of the four
benchmarks of docs/performance.md (`make bench-micro`).

  * select + encode per exchange, v4 and v6, stores of 1 / 10,000 / 100,000
    entries (half subnet-id, half subnet; lookups spread over the store),
    median of several runs, and allocations per exchange;
  * store load (parse + validate, then pre-encode) time, resident memory and
    allocations for 10,000 and 100,000 entries sharing 50 certificates, each
    in a fresh process;
  * callgrind profiles of one store load and of exchanges (where the
    instructions go).

Environment: BENCH_WORK (work dir), BENCH_MICRO_RUNS (7), BENCH_MICRO_ITERATIONS
(2,000,000), BENCH_MICRO_SIZES ("1,10000,100000"), BENCH_LOAD_SIZES
("10000,100000"), BENCH_LOAD_RUNS (5), BENCH_PROFILE (1: run callgrind),
BENCH_PROFILE_LOAD_ENTRIES (10000), BENCH_PROFILE_EXCHANGES (200000),
BENCH_PROFILE_EXCHANGE_ENTRIES (10000), LWM2M_BENCH (the lwm2m-bench binary).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402
import cgsummary  # noqa: E402
from certs import write_certificates  # noqa: E402

BENCH = Path(os.environ.get("LWM2M_BENCH", bl.REPO / ".build" / "release" / "lwm2m-bench"))


def sizes(name: str, default: str) -> list[int]:
    return [int(s) for s in os.environ.get(name, default).split(",") if s.strip()]


def run(*args: str) -> dict:
    res = subprocess.run([str(BENCH), *args], capture_output=True, text=True, timeout=3600)
    if res.returncode != 0:
        raise RuntimeError(f"lwm2m-bench {' '.join(args)} failed: {res.stderr.strip()}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def profile(work: Path, name: str, args: list[str], options: tuple[str, ...] = ()) -> Path:
    """callgrind of lwm2m-bench (a copy without DWARF: valgrind 3.19 cannot read clang's)."""
    prof = work / "profile"
    prof.mkdir(exist_ok=True)
    binary = prof / "lwm2m-bench.nodebug"
    shutil.copyfile(BENCH, binary)
    binary.chmod(0o755)
    subprocess.run(["objcopy", "--strip-debug", str(binary)], check=True)
    out = prof / f"{name}.callgrind"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *options, str(binary), *args],
                   check=True, capture_output=True, timeout=3600)
    return out


LOAD_PATTERNS = [r"^static Store\.", r"JSONValue\.parse", r"JSONDecoder\.decode<",
                 r"Store\.parseEntry", r"BootstrapURI\.(init|check)", r"SubnetPrefix\.init",
                 r"ServerCertificate\.init", r"FileContents", r"^Snapshot\.init",
                 r"OptionEncoding", r"Set\.union", r"Set\._Variant\.insert", r"String\.append",
                 r"DefaultStringInterpolation", r"__RawDictionaryStorage\.find", r"Hasher\._combine",
                 r"String\.hash", r"^malloc$", r"^free$", r"Selector\.description",
                 r"StoreProblems", r"Dictionary"]
EXCHANGE_PATTERNS = [r"CoreAPI\.answer|specialized loop|closure #1 in loop", r"Snapshot\.answer",
                     r"Snapshot\.select", r"PrefixKey", r"RequestedOptions", r"SizeBudget", r"MessagePolicy",
                     r"__RawDictionaryStorage\.find", r"Hasher", r"swift_retain", r"swift_release",
                     r"memmove|memcpy", r"Snapshot\.copy", r"^malloc$", r"^free$"]


def main() -> None:
    work = bl.work_dir() / "micro"
    work.mkdir(parents=True, exist_ok=True)
    write_certificates(work / "certs", 50)
    runs = str(bl.env_int("BENCH_MICRO_RUNS", 7))
    iterations = str(bl.env_int("BENCH_MICRO_ITERATIONS", 2_000_000))
    result: dict = {"selftest": run("malloc-selftest"), "exchange": [], "load": [], "profiles": {}}

    for family in (4, 6):
        for n in sizes("BENCH_MICRO_SIZES", "1,10000,100000"):
            row = run("exchange", "--family", str(family), "--entries", str(n), "--work", str(work),
                      "--runs", runs, "--iterations", iterations)
            print(f"exchange v{family} {n:>6} entries: {row['ns_per_exchange_median']:8.1f} ns, "
                  f"{row['allocations_per_exchange']} allocations", flush=True)
            result["exchange"].append(row)
    for n in sizes("BENCH_LOAD_SIZES", "10000,100000"):
        row = run("load", "--family", "4", "--entries", str(n), "--work", str(work),
                  "--runs", str(bl.env_int("BENCH_LOAD_RUNS", 5)))
        print(f"load {n:>6} entries: {row['total_ms_median']:8.1f} ms "
              f"(parse {row['parse_ms_median']:.1f}, encode {row['encode_ms_median']:.1f}), "
              f"+{row['rss_delta_kib'] / 1024:.1f} MiB resident", flush=True)
        result["load"].append(row)

    if os.environ.get("BENCH_PROFILE", "1") == "1":
        n = str(bl.env_int("BENCH_PROFILE_LOAD_ENTRIES", 10_000))
        out = profile(work, f"load-{n}", ["load", "--family", "4", "--entries", n, "--work", str(work),
                                          "--runs", "0"])
        rows = cgsummary.functions(out)
        result["profiles"]["load"] = {"entries": int(n), "total": cgsummary.total(out),
                                      "functions": cgsummary.pick(rows, LOAD_PATTERNS, 30)}
        # Exchanges at 10,000 entries (instruction counts hardly depend on the size); only what
        # runs inside the benchmark's timed loop is collected (not the store load).
        count = bl.env_int("BENCH_PROFILE_EXCHANGES", 200_000)
        entries = bl.env_int("BENCH_PROFILE_EXCHANGE_ENTRIES", 10_000)
        out = profile(work, f"exchange-{entries}", ["exchange", "--family", "4", "--entries", str(entries),
                                                    "--work", str(work), "--runs", "1",
                                                    "--iterations", str(count)],
                      options=("--toggle-collect=*8exchange*4loopL_*",))
        rows = cgsummary.functions(out)
        slots = 1
        while slots < min(entries, 65_536):
            slots <<= 1
        # warm-up + one timed run + the allocation-counting run
        exchanges = min(count, 200_000) + count + max(1, min(100_000, count))
        result["profiles"]["exchange"] = {"entries": entries, "exchanges": exchanges, "total": cgsummary.total(out), "functions": cgsummary.pick(rows, EXCHANGE_PATTERNS, 20)}
        print(f"profiles in {work / 'profile'}")
    path = bl.save_result("micro", result)
    print(f"results: {path}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Part 3 of issue 6: DORA / SARR exchanges per second and latency with
perfdhcp as a relay in the namespace lab, for modes a (plain), b (Kea
option-data) and c (hook), alternating a b c a b c ... in one run, Kea
single-threaded and multi-threaded, v4 and v6.

Each measurement starts a fresh Kea, checks with scapy that the mode serves
what it should, then runs perfdhcp twice:
  * flood: no rate limit for BENCH_MACRO_SECONDS; the completed exchanges
    per second are the server's throughput (drops are expected);
  * paced: BENCH_MACRO_RATE exchanges/s for BENCH_MACRO_PACED_SECONDS; the
    delays are the latency at a load the server keeps up with.
Reported: medians over BENCH_MACRO_ROUNDS rounds and the ratio c/b.

Environment: BENCH_WORK, BENCH_MACRO_ROUNDS (2), BENCH_MACRO_SECONDS (4),
BENCH_MACRO_RATE (500), BENCH_MACRO_PACED_SECONDS (3), BENCH_MACRO_FAMILIES
("4,6"), BENCH_MACRO_THREADS ("0,4": 0 = Kea single-threaded),
BENCH_PERFDHCP_THREADS ("single"), KEA_LWM2M_HOOK.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402
import lab  # noqa: E402


def main() -> None:
    work = bl.work_dir() / "macro"
    work.mkdir(parents=True, exist_ok=True)
    rounds = bl.env_int("BENCH_MACRO_ROUNDS", 2)
    seconds = bl.env_float("BENCH_MACRO_SECONDS", 4)
    rate = bl.env_int("BENCH_MACRO_RATE", 500)
    paced_seconds = bl.env_float("BENCH_MACRO_PACED_SECONDS", 3)
    families = [int(f) for f in os.environ.get("BENCH_MACRO_FAMILIES", "4,6").split(",")]
    thread_counts = [int(t) for t in os.environ.get("BENCH_MACRO_THREADS", "0,4").split(",")]
    perf_threads = os.environ.get("BENCH_PERFDHCP_THREADS", "single")
    _, der = bl.certificate(work)
    runs = []
    for family in families:
        with bl.open_lab() as net:
            for threads in thread_counts:
                for round_ in range(rounds):
                    for mode in bl.MODES:
                        body = bl.body(family, mode, work, threads=threads)
                        with lab.KeaServer(net, family, body):
                            bl.check_mode(net, family, mode, der)
                            flood = bl.run_perfdhcp(net, family, seconds=seconds, threads=perf_threads)
                            paced = (bl.run_perfdhcp(net, family, seconds=paced_seconds, rate=rate,
                                                     threads=perf_threads) if paced_seconds > 0 else None)
                        row = {"family": family, "threads": threads, "round": round_, "mode": mode,
                               "rate": flood["rate"], "flood": flood, "paced": paced}
                        runs.append(row)
                        print(f"v{family} threads={threads} round {round_} {mode}: {flood['rate']:8.0f}/s"
                              + (f", paced avg {paced['first']['avg_ms']:.3f} ms" if paced else ""), flush=True)
    summary = []
    for family in families:
        for threads in thread_counts:
            cell = {"family": family, "threads": threads}
            for mode in bl.MODES:
                rows = [r for r in runs if (r["family"], r["threads"], r["mode"]) == (family, threads, mode)]
                cell[mode] = {
                    "rate": bl.median([r["rate"] for r in rows]),
                    "flood_avg_ms": bl.median([r["flood"]["first"].get("avg_ms") for r in rows]),
                    "paced_avg_ms": bl.median([r["paced"]["first"].get("avg_ms") for r in rows if r["paced"]]),
                    "paced_max_ms": bl.median([r["paced"]["first"].get("max_ms") for r in rows if r["paced"]]),
                    "paced_drops": sum(r["paced"]["first"].get("drops", 0) + r["paced"].get("second", {}).get("drops", 0)
                                       for r in rows if r["paced"]),
                }
            cell["c_over_b"] = cell["c"]["rate"] / cell["b"]["rate"] if cell["b"]["rate"] else float("nan")
            summary.append(cell)
            print(f"v{family} threads={threads}: a {cell['a']['rate']:.0f}/s, b {cell['b']['rate']:.0f}/s, "
                  f"c {cell['c']['rate']:.0f}/s, c/b {cell['c_over_b']:.3f}")
    path = bl.save_result("macro", {"rounds": rounds, "seconds": seconds, "paced_rate": rate,
                                    "paced_seconds": paced_seconds, "perfdhcp_threads": perf_threads,
                                    "runs": runs, "summary": summary})
    print(f"results: {path}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Part 3 of issue 6: DORA / SARR exchanges per second and latency with
perfdhcp as a relay in the namespace lab, for modes a (plain), n (null hook,
reference), b (Kea option-data) and c (hook), alternating a n b c a n b c ...
in one run, Kea single-threaded and multi-threaded, v4 and v6.

Each measurement starts a fresh Kea, checks with scapy that the mode serves
what it should, then runs perfdhcp twice:
  * flood: no rate limit for BENCH_MACRO_SECONDS; the completed exchanges
    per second, and the replies Kea sent per second (its pktN-sent
    statistic: the server's capacity, which a flood's drops do not distort;
    perfdhcp's completed exchanges need both packets of an exchange to get
    through, so they fall faster than capacity once Kea is saturated);
  * paced: BENCH_MACRO_RATE exchanges/s for BENCH_MACRO_PACED_SECONDS; the
    delays are the latency at a load the server keeps up with.
Single-threaded Kea runs pinned to CPU 1 and perfdhcp to CPU 0 (when the
machine has two CPUs or more and BENCH_MACRO_PIN is not 0); multi-threaded
runs are not pinned.
Reported: medians over BENCH_MACRO_ROUNDS rounds and the ratios c/b.

Environment: BENCH_WORK, BENCH_MACRO_ROUNDS (2), BENCH_MACRO_SECONDS (4),
BENCH_MACRO_RATE (500), BENCH_MACRO_PACED_SECONDS (3), BENCH_MACRO_FAMILIES
("4,6"), BENCH_MACRO_THREADS ("0,4": 0 = Kea single-threaded),
BENCH_MACRO_MODES ("a,n,b,c"), BENCH_MACRO_PIN (1),
BENCH_PERFDHCP_THREADS ("single"), KEA_LWM2M_HOOK.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402
import lwm2mlab as lab  # noqa: E402


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
    modes = [m for m in os.environ.get("BENCH_MACRO_MODES", ",".join(bl.MODES)).split(",") if m]
    pin = os.environ.get("BENCH_MACRO_PIN", "1") != "0" and (os.cpu_count() or 1) >= 2
    _, der = bl.certificate(work)
    runs = []
    for family in families:
        with bl.open_lab() as net:
            for threads in thread_counts:
                for round_ in range(rounds):
                    for mode in modes:
                        body = bl.body(family, mode, work, threads=threads)
                        pinned = pin and threads == 0
                        cpu = 0 if pinned else None
                        with lab.KeaServer(net, family, body) as kea:
                            bl.check_mode(net, family, mode, der)
                            if pinned:
                                bl.pin_process(kea.pid, 1)
                            before = bl.server_sent(kea, family)
                            flood = bl.run_perfdhcp(net, family, seconds=seconds, threads=perf_threads, cpu=cpu)
                            served = (bl.server_sent(kea, family) - before) / seconds
                            paced = (bl.run_perfdhcp(net, family, seconds=paced_seconds, rate=rate,
                                                     threads=perf_threads, cpu=cpu) if paced_seconds > 0 else None)
                        row = {"family": family, "threads": threads, "round": round_, "mode": mode,
                               "pinned": pinned, "rate": flood["rate"], "server_rate": served,
                               "flood": flood, "paced": paced}
                        runs.append(row)
                        print(f"v{family} threads={threads} round {round_} {mode}: {flood['rate']:8.0f}/s, "
                              f"Kea sent {served:8.0f}/s"
                              + (f", paced avg {paced['first']['avg_ms']:.3f} ms" if paced else ""), flush=True)
    summary = []
    for family in families:
        for threads in thread_counts:
            cell = {"family": family, "threads": threads}
            for mode in modes:
                rows = [r for r in runs if (r["family"], r["threads"], r["mode"]) == (family, threads, mode)]
                cell[mode] = {
                    "rate": bl.median([r["rate"] for r in rows]),
                    "server_rate": bl.median([r["server_rate"] for r in rows]),
                    "flood_avg_ms": bl.median([r["flood"]["first"].get("avg_ms") for r in rows]),
                    "paced_avg_ms": bl.median([r["paced"]["first"].get("avg_ms") for r in rows if r["paced"]]),
                    "paced_max_ms": bl.median([r["paced"]["first"].get("max_ms") for r in rows if r["paced"]]),
                    "paced_drops": sum(r["paced"]["first"].get("drops", 0) + r["paced"].get("second", {}).get("drops", 0)
                                       for r in rows if r["paced"]),
                }
            def ratio(top: str, bottom: str, key: str) -> float:
                if top not in cell or bottom not in cell or not cell[bottom][key]:
                    return float("nan")
                return cell[top][key] / cell[bottom][key]
            cell["c_over_b"] = ratio("c", "b", "rate")
            cell["c_over_b_server"] = ratio("c", "b", "server_rate")
            cell["n_over_b_server"] = ratio("n", "b", "server_rate")
            cell["n_over_a_server"] = ratio("n", "a", "server_rate")
            summary.append(cell)
            print(f"v{family} threads={threads}: " + ", ".join(
                f"{m} {cell[m]['rate']:.0f}/s (Kea {cell[m]['server_rate']:.0f}/s)" for m in modes)
                + f"; c/b {cell['c_over_b']:.3f}, Kea c/b {cell['c_over_b_server']:.3f}, "
                f"n/b {cell['n_over_b_server']:.3f}")
    path = bl.save_result("macro", {"rounds": rounds, "seconds": seconds, "paced_rate": rate, "modes": modes,
                                    "pinned": pin,
                                    "paced_seconds": paced_seconds, "perfdhcp_threads": perf_threads,
                                    "runs": runs, "summary": summary})
    print(f"results: {path}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Instructions per reply, kea-dhcp4/6 under callgrind, on the Kea under test
(KEA_LWM2M_KEA: the machine's 2.2, or 2.6 / 3.0 from their roots): part 2
of the four benchmarks of docs/performance.md (`make bench-callgrind`).

For each family and mode (a plain, n null hook, b Kea option-data, c hook;
and s, the null hook with the subnet4_select/subnet6_select callouts, where
the hook registers none), Kea runs twice under valgrind --tool=callgrind in the
namespace lab: once answering nothing and once answering N relayed DISCOVERs
(PRL with the LwM2M codes, option 57 = 1500, a certificate of four RFC 3396
parts) or SOLICITs (ORO). Kea's binaries are stripped, so the cost of one
reply is

    (total with N exchanges - total with 0 exchanges) / N.

valgrind is the one of the Kea installation under test (from a root: the
root's valgrind on the root's libraries; lwm2mlab.KeaServer's `wrapper`).
The hook runs from a copy without debug info (the host's valgrind 3.19
cannot read clang's DWARF 5; the symbol table stays). Mode c also gets a
per-function breakdown of the packet path (hook callouts, Swift core,
WireOption, Kea's packing and RFC 3396 splitting).

Results: $BENCH_WORK/results/callgrind-kea-<version>.json (report.py puts
every version side by side).

Environment: BENCH_WORK, BENCH_CG_EXCHANGES (300), BENCH_CG_FAMILIES ("4,6"),
KEA_LWM2M_KEA, KEA_LWM2M_HOOK.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402
import cgsummary  # noqa: E402
import lwm2mlab as lab  # noqa: E402


class CallgrindKea(lab.KeaServer):
    """KeaServer run under callgrind; stopping waits for the profile to be written."""

    def __init__(self, net, family: int, body: dict, outfile: Path) -> None:
        self.outfile = outfile
        super().__init__(net, family, body, start_timeout=300.0,
                         wrapper=("valgrind", "--tool=callgrind", f"--callgrind-out-file={outfile}"),
                         binds=(outfile.parent,))

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(300)
        super().close()


def stripped_hook(work: Path, version: str) -> Path:
    out = work / "callgrind" / f"kea-{version}" / "libdhcp_lwm2m.nodebug.so"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bl.hook_path(), out)
    subprocess.run(["objcopy", "--strip-debug", str(out)], check=True)
    return out


def measure(net, family: int, mode: str, exchanges: int, work: Path, version: str) -> dict:
    # The hook's watch timer off, like Kea's lease reclamation timers: its
    # ticks (and the one re-read of a store written just before Kea started)
    # come with the run's wall time, not with its exchanges; in the smoke
    # test's 4-exchange runs they once outweighed the replies (a negative
    # cost per reply).
    body = bl.body(family, mode, work, log_path="stdout", watch_interval=0)
    totals = {}
    outs = {}
    for count in (0, exchanges):
        out = work / "callgrind" / f"kea-{version}" / f"kea{family}-{mode}-{count}.callgrind"
        out.unlink(missing_ok=True)
        with CallgrindKea(net, family, body, out):
            if count:
                answered = bl.exchange_all(net, bl.query_frames(family, count), batch=20, timeout=60.0)
                if answered != count:
                    raise RuntimeError(f"v{family} mode {mode}: {answered} of {count} answered")
        totals[count] = cgsummary.total(out)
        outs[count] = out
    per_reply = (totals[exchanges] - totals[0]) / exchanges
    print(f"Kea {version} v{family} mode {mode}: {per_reply:,.0f} instructions per reply", flush=True)
    return {"family": family, "mode": mode, "exchanges": exchanges, "total_0": totals[0],
            "total_n": totals[exchanges], "per_reply": per_reply, "profile": str(outs[exchanges]),
            "profile_0": str(outs[0])}


# Functions of the packet path worth showing.
PATH_PATTERNS = [r"libdhcp_lwm2m", r"WireOption", r"StatsMgr::", r"lwm2m_",
                 r"LibDHCP::(pack|split|fuse)Options", r"Pkt4::pack\(", r"Pkt6::pack\(",
                 r"Pkt6::packUDP", r"Option::pack\(", r"Option::packOptions", r"OptionCustom::pack",
                 r"OptionString::pack", r"appendRequestedOptions", r"CfgOption::get",
                 r"callCallouts", r"Dhcpv[46]Srv::processPacket\(", r"Dhcpv[46]Srv::process(Discover|Solicit)",
                 r"Dhcpv[46]Srv::processPacketAndSendResponse\(", r"IfaceMgr::send"]


def breakdown(result: dict) -> list:
    """Per-reply inclusive cost of the packet path's functions: the N-exchange
    run minus the 0-exchange run, divided by N (startup costs cancel)."""
    n = result["exchanges"]
    base = {(name, obj): ir for ir, name, obj in cgsummary.functions(Path(result["profile_0"]), readable=False)}
    rows = [(ir - base.get((name, obj), 0), name, obj)
            for ir, name, obj in cgsummary.functions(Path(result["profile"]), readable=False)]
    rows = cgsummary.readable_names(sorted((r for r in rows if r[0] > 0), reverse=True))
    picked = cgsummary.pick(rows, PATH_PATTERNS, 45)
    return [(round(ir / n), name, obj) for ir, name, obj in picked]


# Targets, per family: (what, check on the summary).
TARGETS = {"4": ("c ≤ 0.90 × b", lambda s: s["c"] <= 0.90 * s["b"]),
           "6": ("c − a ≤ 12,000", lambda s: s["c"] - s["a"] <= 12_000)}


def summarize(by_mode: dict) -> dict:
    out = {**by_mode, "c_over_b": by_mode["c"] / by_mode["b"], "c_minus_a": by_mode["c"] - by_mode["a"],
           "b_minus_a": by_mode["b"] - by_mode["a"], "n_minus_a": by_mode["n"] - by_mode["a"],
           "c_minus_n": by_mode["c"] - by_mode["n"]}
    if "s" in by_mode:
        out["select_cost"] = by_mode["s"] - by_mode["n"]
    return out


def main() -> None:
    work = bl.work_dir()
    install = lab.kea_under_test()
    (work / "callgrind" / f"kea-{install.version}").mkdir(parents=True, exist_ok=True)
    exchanges = bl.env_int("BENCH_CG_EXCHANGES", 300)
    families = [int(f) for f in os.environ.get("BENCH_CG_FAMILIES", "4,6").split(",")]
    os.environ["KEA_LWM2M_HOOK"] = str(stripped_hook(work, install.version))
    # Where the hook registers no select callouts (2.6, 3.0), mode s measures
    # what registering them would cost.
    modes = bl.MODES + (("s",) if install.at_least("2.6") else ())
    valgrind = install.run("valgrind", "--version").stdout.strip()
    kea_version = install.run("kea-dhcp4", "-V").stdout.strip().splitlines()[0]
    print(f"Kea {kea_version} ({install.describe()}), {valgrind}", flush=True)
    _, der = bl.certificate(work)
    results, breakdowns = [], {}
    for family in families:
        with bl.open_lab() as net:
            for mode in modes:
                with lab.KeaServer(net, family, bl.body(family, mode, work, log_path="stdout")):
                    bl.check_mode(net, family, mode, der)
                results.append(measure(net, family, mode, exchanges, work, install.version))
            by_mode = {r["mode"]: r for r in results if r["family"] == family}
            breakdowns[str(family)] = {m: breakdown(by_mode[m]) for m in bl.MODES}
    summary = {}
    for family in families:
        s = summarize({r["mode"]: r["per_reply"] for r in results if r["family"] == family})
        what, check = TARGETS[str(family)]
        s["target"], s["target_met"] = what, check(s)
        summary[str(family)] = s
        print(f"Kea {install.version} v{family}: c/b = {s['c_over_b']:.3f}, c - a = {s['c_minus_a']:,.0f}, "
              f"target {what}: {'met' if s['target_met'] else 'missed'}")
    callouts = {m: bl.hook_callouts(bl.null_hook(work, subnet_select=m == "s")) for m in modes if m in ("n", "s")}
    path = bl.save_result(f"callgrind-kea-{install.version}",
                          {"kea": install.version, "kea_version": kea_version, "valgrind": valgrind,
                           "root": str(install.root), "exchanges": exchanges, "modes": list(modes),
                           "null_hook_callouts": callouts,
                           "runs": results, "summary": summary, "breakdown": breakdowns})
    print(f"results: {path}")


if __name__ == "__main__":
    main()

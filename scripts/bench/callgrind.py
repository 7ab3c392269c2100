#!/usr/bin/env python3
"""Part 2 of issue 6: instructions per reply, kea-dhcp4/6 under callgrind.

For each family and mode (a plain, b Kea option-data, c hook), Kea runs
twice under valgrind --tool=callgrind in the namespace lab: once answering
nothing and once answering N relayed DISCOVERs (PRL with the LwM2M codes,
option 57 = 1500, a certificate of four RFC 3396 parts) or SOLICITs (ORO).
Kea's binaries are stripped, so the cost of one reply is

    (total with N exchanges - total with 0 exchanges) / N.

The hook runs from a copy without debug info (valgrind 3.19 cannot read
clang's DWARF 5; the symbol table stays). Mode c also gets a per-function
breakdown of the packet path (hook callouts, Swift core, WireOption, Kea's
packing and RFC 3396 splitting).

Environment: BENCH_WORK, BENCH_CG_EXCHANGES (300), BENCH_CG_FAMILIES ("4,6"),
KEA_LWM2M_HOOK.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402
import cgsummary  # noqa: E402
import lwm2mlab as lab  # noqa: E402


class CallgrindKea(lab.KeaServer):
    """KeaServer run under callgrind; stopping waits for the profile to be written."""

    def __init__(self, net, family: int, body: dict, outfile: Path) -> None:
        self.outfile = outfile
        super().__init__(net, family, body, start_timeout=300.0)

    def _start(self, timeout: float) -> None:
        env = dict(os.environ, KEA_PIDFILE_DIR=str(self.tmp), KEA_LOCKFILE_DIR=str(self.tmp))
        self.stdout = open(self.tmp / "stdout.txt", "wb")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.srv_ns, "valgrind", "--tool=callgrind",
             f"--callgrind-out-file={self.outfile}", self.name, "-c", str(self.config_path)],
            env=env, stdout=self.stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise lab.KeaError(f"{self.name} under callgrind exited:\n{self.output_tail()}")
            if self.socket_path.exists():
                with contextlib.suppress(OSError, ValueError):
                    if self.command("list-commands").get("result") == 0:
                        return
            if time.monotonic() > deadline:
                raise lab.KeaError(f"{self.name} under callgrind did not come up:\n{self.output_tail()}")
            time.sleep(0.2)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(300)
        super().close()


def stripped_hook(work: Path) -> Path:
    out = work / "callgrind" / "libdhcp_lwm2m.nodebug.so"
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(bl.hook_path(), out)
    subprocess.run(["objcopy", "--strip-debug", str(out)], check=True)
    return out


def measure(net, family: int, mode: str, exchanges: int, work: Path, der: bytes) -> dict:
    body = bl.body(family, mode, work, log_path=work / "callgrind" / f"kea{family}{mode}.log")
    totals = {}
    outs = {}
    for count in (0, exchanges):
        out = work / "callgrind" / f"kea{family}-{mode}-{count}.callgrind"
        out.unlink(missing_ok=True)
        with CallgrindKea(net, family, body, out):
            if count:
                answered = bl.exchange_all(net, bl.query_frames(family, count), batch=20, timeout=60.0)
                if answered != count:
                    raise RuntimeError(f"v{family} mode {mode}: {answered} of {count} answered")
        totals[count] = cgsummary.total(out)
        outs[count] = out
    per_reply = (totals[exchanges] - totals[0]) / exchanges
    print(f"v{family} mode {mode}: {per_reply:,.0f} instructions per reply", flush=True)
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


def main() -> None:
    work = bl.work_dir()
    (work / "callgrind").mkdir(parents=True, exist_ok=True)
    exchanges = bl.env_int("BENCH_CG_EXCHANGES", 300)
    families = [int(f) for f in os.environ.get("BENCH_CG_FAMILIES", "4,6").split(",")]
    os.environ["KEA_LWM2M_HOOK"] = str(stripped_hook(work))
    _, der = bl.certificate(work)
    results, breakdowns = [], {}
    for family in families:
        with bl.open_lab() as net:
            for mode in bl.MODES:
                with lab.KeaServer(net, family, bl.body(family, mode, work)):
                    bl.check_mode(net, family, mode, der)
                results.append(measure(net, family, mode, exchanges, work, der))
            by_mode = {r["mode"]: r for r in results if r["family"] == family}
            breakdowns[str(family)] = {m: breakdown(by_mode[m]) for m in bl.MODES}
    summary = {}
    for family in families:
        by_mode = {r["mode"]: r["per_reply"] for r in results if r["family"] == family}
        summary[str(family)] = {**by_mode, "c_over_b": by_mode["c"] / by_mode["b"],
                                "c_minus_a": by_mode["c"] - by_mode["a"],
                                "b_minus_a": by_mode["b"] - by_mode["a"]}
        print(f"v{family}: c/b = {summary[str(family)]['c_over_b']:.3f}")
    path = bl.save_result("callgrind", {"exchanges": exchanges, "runs": results, "summary": summary,
                                        "breakdown": breakdowns})
    print(f"results: {path}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the measured results (BENCH_WORK/results/*.json) into
docs/performance.md, between the `bench:results` markers; the text around
them (analysis, recommendations) is kept as written."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402

DOC = Path(os.environ.get("BENCH_DOC", bl.REPO / "docs" / "performance.md"))
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
# The fleet's figures (`make bench-fleet`) stand in the "Fleet" section.
FLEET_BEGIN, FLEET_END = "<!-- bench:fleet:begin -->", "<!-- bench:fleet:end -->"


def cmd(*argv: str) -> str:
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (res.stdout or res.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine() -> list[str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "0")
    swift = os.environ.get("SWIFT", "swift")
    return [
        f"- Machine: {cpu}, {os.cpu_count()} CPUs, {int(mem) // 1024} MiB RAM, Linux {platform.release()}",
        f"- Versions: kea-dhcp4 {cmd('kea-dhcp4', '-V')}, perfdhcp {cmd('perfdhcp', '-v').replace('VERSION: ', '')}, "
        f"{cmd('valgrind', '--version')}, {cmd(swift, '--version')}",
        f"- Code: `{cmd('git', '-C', str(bl.REPO), 'describe', '--always', '--dirty')}`"
        f" (branch {cmd('git', '-C', str(bl.REPO), 'rev-parse', '--abbrev-ref', 'HEAD')})",
        f"- Written: {time.strftime('%Y-%m-%d %H:%M %Z')}",
    ]


def fmt(value, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return f"{value:,.{digits}f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def micro(r: dict) -> list[str]:
    out = [f"### 1. Micro: the Swift core (`make bench-micro`, {r['date']})", "",
           f"Command: `{r['command']}`. Allocation counter self-test: "
           f"{r['selftest']['allocations_for_100_arrays']} allocations seen for 100 arrays.", "",
           "Select + encode per exchange (facts from raw packet values, lookup, copy of the option "
           "bytes into the caller's buffer; v4 with option 57 = 1500, both options requested; "
           "lookups spread over the whole store):", "",
           "| family | entries | ns per exchange (median) | runs | allocations per exchange | bytes written |",
           "|---|---:|---:|---|---:|---:|"]
    for row in r["exchange"]:
        runs = ", ".join(f"{v:.0f}" for v in row["ns_per_exchange_runs"])
        out.append(f"| v{row['family']} | {row['entries']:,} | {row['ns_per_exchange_median']:.0f} | {runs} | "
                   f"{row['allocations_per_exchange']:g} | {row['bytes_per_exchange']:.0f} |")
    out += ["", "Store load (each size in a fresh process; parse = `Store.load` (read, JSON, validation, "
            "certificates), encode = `Snapshot` init; resident = VmRSS growth with store and snapshot alive; "
            "peak = VmHWM growth; after trim = resident growth after malloc_trim(0), i.e. without the heap glibc keeps "
            "from the load's temporaries; live heap = bytes malloc reports in use, store and snapshot together; "
            "typed decode = an experiment, not the core: JSONDecoder reading the same file into concrete "
            "`Decodable` structs, no validation):", "",
            "| entries | certificates | parse ms | encode ms | total ms (median) | first load ms | typed decode ms | resident MiB | after trim MiB | live heap MiB | peak MiB | allocations per entry |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in r["load"]:
        out.append(f"| {row['entries']:,} | {row['certificates']} | {row['parse_ms_median']:.1f} | "
                   f"{row['encode_ms_median']:.1f} | {row['total_ms_median']:.1f} | {row['first_load_ms']:.1f} | "
                   f"{fmt(row.get('typed_decode_ms_median'), 1)} | "
                   f"{row['rss_delta_kib'] / 1024:.1f} | {row.get('rss_delta_after_trim_kib', 0) / 1024:.1f} | "
                   f"{row.get('heap_in_use_delta_kib', 0) / 1024:.1f} | "
                   f"{row['hwm_delta_kib'] / 1024:.1f} | "
                   f"{row['allocations_per_entry']:.1f} |")
    prof = r.get("profiles", {})
    if "load" in prof:
        p = prof["load"]
        out += ["", f"Where a store load's instructions go (callgrind, {p['entries']:,} entries, "
                f"{p['total']:,} instructions in the whole process = {p['total'] / p['entries']:,.0f} per entry; "
                "inclusive costs, functions overlap):", "",
                "| instructions | % | function |", "|---:|---:|---|"]
        for ir, name, _ in p["functions"]:
            out.append(f"| {ir:,} | {100 * ir / p['total']:.1f} | `{name[:110]}` |")
    if "exchange" in prof:
        p = prof["exchange"]
        total = f", {p['total'] / p['exchanges']:,.0f} in all" if "total" in p else ""
        out += ["", f"Instructions per exchange (callgrind collecting only inside the timed loop, "
                f"{p['entries']:,} entries, {p['exchanges']:,} exchanges{total}; inclusive, per exchange):", "",
                "| instructions | function |", "|---:|---|"]
        for ir, name, _ in p["functions"]:
            per = ir / p["exchanges"]
            if per >= 1:
                out.append(f"| {per:,.0f} | `{name[:110]}` |")
    return out


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def callgrind_results(results: Path) -> dict[str, dict]:
    """Callgrind results by Kea version: callgrind-kea-<version>.json, and an
    older callgrind.json (before per-version runs: the machine's Kea)."""
    out = {}
    legacy = results / "callgrind.json"
    if legacy.exists():
        r = json.loads(legacy.read_text())
        out[r.get("kea", "2.2")] = r
    for path in results.glob("callgrind-kea-*.json"):
        r = json.loads(path.read_text())
        out[r["kea"]] = r
    return dict(sorted(out.items(), key=lambda kv: _version_key(kv[0])))


CG_ROWS = [("a: plain", lambda s: s["a"]), ("n: null hook", lambda s: s.get("n")),
           ("b: option-data", lambda s: s["b"]), ("c: hook", lambda s: s["c"]),
           ("n − a (Kea's hook dispatch)", lambda s: s["n"] - s["a"] if "n" in s else None),
           ("c − a (the hook in all)", lambda s: s["c"] - s["a"]),
           ("c − n (the hook's own work)", lambda s: s["c"] - s["n"] if "n" in s else None),
           ("b − a", lambda s: s["b"] - s["a"])]


def watch_tick(r: dict, fam: str) -> float | None:
    """Mode c's per-reply share of the hook's watch timer (inclusive): it
    ticks every second of wall time, and under callgrind the N-exchange run
    lasts seconds longer than the 0-exchange run."""
    for ir, name, _ in r["breakdown"].get(fam, {}).get("c", []):
        if "(anonymous namespace)::tick(" in name:
            return ir
    return None


def callgrind(by_version: dict[str, dict]) -> list[str]:
    versions = list(by_version)
    first = next(iter(by_version.values()))
    out = [f"### 2. Instructions per reply: Kea under callgrind (`make bench-callgrind [KEA=…]`)", "",
           f"{first['exchanges']} relayed exchanges per run (v4 DISCOVER/OFFER, PRL with 224/225, "
           "option 57 = 1500, certificate option of 697 octets = 3 RFC 3396 parts; v6 SOLICIT/ADVERTISE "
           "with ORO 200/201); per reply = (total with N − total with 0) / N. Each Kea runs under its own "
           "installation's valgrind (2.6 and 3.0: inside their roots, on the roots' libraries).", ""]
    for version, r in by_version.items():
        kea = r.get("kea_version", "host kea-dhcp4")
        out.append(f"- Kea {version}: kea-dhcp4 {kea}, {r.get('valgrind', '?')}, {r['date']}: "
                   f"`{r['command']}`")
    out += ["", "Mode n is Kea with a hook whose packet callouts (those the LwM2M hook registers on that Kea "
            "when the null hook was built: see each run's `null_hook_callouts`) do nothing: n − a is what Kea's "
            "own hook dispatch costs any hook on these hook points. Mode s (2.6 and 3.0) is n plus the "
            "select callouts the hook does not register there: s − n is what the hook saves by taking the "
            "subnet from pkt4_send/pkt6_send.", ""]
    for version, r in by_version.items():
        if "null_hook_callouts" in r:
            out.append(f"- Kea {version}: n registers {', '.join(r['null_hook_callouts']['n'])}"
                       + (f"; s registers {', '.join(r['null_hook_callouts']['s'])}" if "s" in r["null_hook_callouts"] else ""))
    out.append("")
    for fam in ("4", "6"):
        present = [v for v in versions if fam in by_version[v]["summary"]]
        if not present:
            continue
        out += [f"DHCPv{fam}, instructions per reply:", "",
                "| | " + " | ".join(f"Kea {v}" for v in present) + " |",
                "|---|" + "---:|" * len(present)]
        sums = [by_version[v]["summary"][fam] for v in present]
        for label, value in CG_ROWS:
            out.append(f"| {label} | " + " | ".join(fmt(value(s)) for s in sums) + " |")
        out.append("| c / b | " + " | ".join(f"{s['c_over_b']:.3f}" for s in sums) + " |")
        ticks = [watch_tick(by_version[v], fam) for v in present]
        out.append("| of c: the hook's watch timer (1 s ticks, not per reply) | "
                   + " | ".join(fmt(t) for t in ticks) + " |")
        out.append("| c − a without the watch timer | "
                   + " | ".join(fmt(s["c"] - s["a"] - (t or 0)) for s, t in zip(sums, ticks)) + " |")
        out.append("| s − n (subnet select callouts) | "
                   + " | ".join(fmt(s.get("select_cost")) if "select_cost" in s else "registered (in n)"
                                for s in sums) + " |")
        out.append("")
    out += ["Targets (every version): v4 c ≤ 0.90 × b; v6 c − a ≤ 12,000 instructions per reply.", "",
            "| Kea | v4: c / b | v4 target | v6: c − a | v6 target |", "|---|---:|---|---:|---|"]
    for version, r in by_version.items():
        s4, s6 = r["summary"].get("4"), r["summary"].get("6")
        out.append(f"| {version} | {fmt(s4['c_over_b'], 3) if s4 else '–'} | "
                   f"{verdict(s4['c'] <= 0.90 * s4['b']) if s4 else '–'} | "
                   f"{fmt(s6['c'] - s6['a']) if s6 else '–'} | "
                   f"{verdict(s6['c'] - s6['a'] <= 12_000) if s6 else '–'} |")
    for version, r in by_version.items():
        for fam, modes in sorted(r["breakdown"].items()):
            tables = [("c", "the hook's own functions (callouts, shim, Swift core, WireOption)",
                       lambda o: "lwm2m" in o, 30),
                      ("c", "Kea's packing, RFC 3396 splitting, sending, statistics", lambda o: "lwm2m" not in o, 15),
                      ("b", "Kea's packing, RFC 3396 splitting, sending, statistics", lambda o: "lwm2m" not in o, 15),
                      ("a", "Kea's packing, RFC 3396 splitting, sending, statistics", lambda o: "lwm2m" not in o, 10)]
            for mode, what, keep, limit in tables:
                rows = [row for row in modes.get(mode, []) if keep(row[2])][:limit]
                if not rows:
                    continue
                out += ["", f"Kea {version}, v{fam} mode {mode} ({bl.MODE_NAMES[mode]}), {what}: inclusive "
                        "instructions per reply (N run − 0 run, per function):", "",
                        "| per reply | function | object |", "|---:|---|---|"]
                for ir, name, obj in rows:
                    out.append(f"| {ir:,.0f} | `{name[:100]}` | {obj} |")
    return out


def macro(r: dict) -> list[str]:
    modes = r.get("modes", list(bl.MODES))
    names = " / ".join(modes)
    pinned = "single-threaded Kea pinned to CPU 1, perfdhcp to CPU 0; " if r.get("pinned") else ""
    out = [f"### 3. Throughput and latency: perfdhcp (`make bench-macro`, {r['date']})", "",
           f"Command: `{r['command']}`; {r['rounds']} rounds of {' '.join(modes)}, flood {r['seconds']:g} s "
           f"(completed exchanges per second, and replies Kea sent per second: its capacity), "
           f"paced {r['paced_rate']}/s for {r['paced_seconds']:g} s (delays); {pinned}"
           f"perfdhcp -g {r['perfdhcp_threads']}. Medians.", "",
           f"| family | Kea threads | exchanges/s {names} | Kea replies/s {names} | c / b exchanges | c / b replies | n / b replies | paced avg ms {names} | paced max ms {names} | paced drops {names} |",
           "|---|---|---|---|---:|---:|---:|---|---|---|"]
    for s in r["summary"]:
        name = "DORA" if s["family"] == 4 else "SARR"
        present = [m for m in modes if m in s]
        out.append(f"| v{s['family']} {name} | {s['threads'] or 'single'} | "
                   + " / ".join(fmt(s[m]["rate"]) for m in present) + " | "
                   + " / ".join(fmt(s[m].get("server_rate")) for m in present) + " | "
                   f"{fmt(s['c_over_b'], 3)} | {fmt(s.get('c_over_b_server'), 3)} | {fmt(s.get('n_over_b_server'), 3)} | "
                   + " / ".join(fmt(s[m]["paced_avg_ms"], 3) for m in present) + " | "
                   + " / ".join(fmt(s[m]["paced_max_ms"], 1) for m in present) + " | "
                   + " / ".join(fmt(s[m]["paced_drops"]) for m in present) + " |")
    return out


def reload(r: dict) -> list[str]:
    out = [f"### 4. Changing URIs under load (`make bench-reload`, {r['date']})", "",
           f"Command: `{r['command']}`; {r['entries']:,} subnets, perfdhcp DORA at {r['rate']}/s "
           f"for {r['seconds']:g} s.", "",
           "| run | exchanges/s | DISCOVER sent / answered | REQUEST sent / answered | drops | avg ms | max ms | changes | s per change (median) | serves last URI |",
           "|---|---:|---|---|---:|---:|---:|---:|---:|---|"]
    for row in r["runs"]:
        out.append(f"| {row['run']} | {row['rate']:.1f} | {row['discover_sent']:.0f} / {row['offer_received']:.0f} | "
                   f"{row['request_sent']:.0f} / {row['ack_received']:.0f} | {row['drops']:.0f} | {fmt(row['avg_ms'], 3)} | "
                   f"{fmt(row['max_ms'], 1)} | {row['changes']} | {fmt(row['change_seconds_median'], 2)} | "
                   f"{'yes' if row['serves_last_generation'] else 'no'} |")
    return out


def fleet(r: dict) -> list[str]:
    """The `make bench-fleet` tables: large stores, and DHCPv4 under changes."""
    out = [f"Large stores (`make bench-fleet`, {r['date']}, Kea {r.get('kea', '?')}, one kea-dhcp4; "
           f"command: `{r['command']}`):", "",
           "| entries | `db import` | initial load by the hook: wall (CPU) | one entry changed, commit to reply: "
           "median / max | hook's fetch + check + encode per change: wall (CPU), median | changes | load average |",
           "|---:|---:|---:|---:|---:|---:|---:|"]
    for row in r.get("rows", []):
        out.append(f"| {row['entries']:,} | {row['import_s']:.2f} s | {row['initial_ms']} ({row['initial_cpu_ms']}) ms | "
                   f"{row['change_median_ms']} / {row['change_max_ms']} ms | {fmt(row['prepare_median_ms'])} "
                   f"({fmt(row['prepare_cpu_median_ms'])}) ms | {row['changes']} | {row['load']:.1f} |")
    d = r.get("dora")
    if d:
        runs = len([x for x in d["runs"] if x["run"] == "still"])
        out += ["", f"DHCPv4 while the store changes: perfdhcp DORA at {d['rate']}/s for {d['seconds']:g} s per run, "
                f"a store of {d['entries']:,} entries, {runs} runs of each kind alternating; \"changing\": "
                f"{d['changes_per_second']:g} UPDATEs a second of the served subnet's row, each a revision:", "",
                "| run | DORA completed per second of the run | DISCOVER sent / answered | REQUEST sent / answered | drops | "
                "avg ms | max ms | revisions written | revisions served | load average |",
                "|---|---:|---|---|---:|---:|---:|---:|---:|---:|"]
        for x in d["runs"]:
            completed = x["ack_received"] / d["seconds"]
            out.append(f"| {x['run']} | {completed:.1f} | {x['discover_sent']:.0f} / {x['offer_received']:.0f} | "
                       f"{x['request_sent']:.0f} / {x['ack_received']:.0f} | {x['drops']:.0f} | {fmt(x['avg_ms'], 3)} | "
                       f"{fmt(x['max_ms'], 1)} | {x['changes']} | {x['revisions_loaded']} | {x['load']:.1f} |")
        still, changing = d["summary"]["still"], d["summary"]["changing"]
        extra = changing["drops_median"] - still["drops_median"]
        out += ["", "(perfdhcp's own \"rate\" divides by the run plus its final wait for replies, `-W`, "
                "so it reads about 1,364/s for 1,500/s.)", "",
                f"Drops, median: {still['drops_median']:g} still, {changing['drops_median']:g} changing "
                f"(goal: 0 beyond the run without changes: {verdict(extra <= 0)}, {extra:+g})."]
    return out


HEADINGS = {"micro": "### 1. Micro", "callgrind": "### 2. Instructions per reply",
            "macro": "### 3. Throughput", "reload": "### 4. Changing URIs"}


def previous_sections(text: str) -> dict[str, str]:
    """The sections of the results block already in the document, by part:
    a part measured before but not in this work dir keeps what it had."""
    m = re.search(re.escape(BEGIN) + r"(.*?)" + re.escape(END), text, flags=re.S)
    if not m:
        return {}
    out = {}
    for chunk in re.split(r"(?m)^(?=### )", m.group(1)):
        for part, heading in HEADINGS.items():
            if chunk.startswith(heading):
                out[part] = chunk.rstrip("\n")
    return out


def main() -> None:
    results = bl.work_dir() / "results"
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    previous = previous_sections(text)
    loaded = {name: json.loads((results / f"{name}.json").read_text())
              for name in ("micro", "macro", "reload") if (results / f"{name}.json").exists()}
    cg = callgrind_results(results)
    if cg:
        loaded["callgrind"] = cg
    parts = {"micro": micro, "callgrind": callgrind, "macro": macro, "reload": reload}
    lines = [BEGIN, "", "## Measured", ""] + machine() + [""]
    for name, render in parts.items():
        if name in loaded:
            lines += render(loaded[name]) + [""]
        elif name in previous:
            lines += [previous[name], ""]
        else:
            lines += [f"### {name}: not measured yet (`make bench-{name}`)", ""]
    lines.append(END)
    block = "\n".join(lines)
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    fleet_results = results / "fleet.json"
    if fleet_results.exists() and FLEET_BEGIN in text:
        fleet_block = "\n".join([FLEET_BEGIN] + fleet(json.loads(fleet_results.read_text())) + [FLEET_END])
        text = re.sub(re.escape(FLEET_BEGIN) + r".*?" + re.escape(FLEET_END), lambda _: fleet_block, text,
                      flags=re.S)
    DOC.write_text(text)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()

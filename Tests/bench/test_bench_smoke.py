"""Smoke tests of the benchmark harness (scripts/bench): every part runs in a
tiny configuration and produces sane numbers. Timing targets are not checked
here (docs/performance.md reports them); what is checked is that each part
measures what it claims: replies received, every mode measured, profiles
that name the hook's functions, a report with every section.

Needs root (network namespaces), Kea, perfdhcp, valgrind, the hook
($KEA_LWM2M_HOOK) and lwm2m-bench ($LWM2M_BENCH); `make bench-test` sets both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
import lwm2mlab as lab  # noqa: E402

SCRIPTS = REPO / "scripts" / "bench"
BENCH = Path(os.environ.get("LWM2M_BENCH", REPO / ".build" / "release" / "lwm2m-bench"))
HOOK = Path(os.environ.get("KEA_LWM2M_HOOK", REPO / ".build" / "release" / "libdhcp_lwm2m.so"))

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: creates network namespaces")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    for path, what in ((BENCH, "lwm2m-bench"), (HOOK, "the hook")):
        if not path.is_file():
            pytest.fail(f"{what} not built: {path} (make bench-build)")
    return tmp_path_factory.mktemp("bench")


def run(script: str, work: Path, part: str | None = None, **env: str) -> dict:
    """Run a bench script; its result file (`part`, default: the script's name)."""
    full = dict(os.environ, BENCH_WORK=str(work), LWM2M_BENCH=str(BENCH), KEA_LWM2M_HOOK=str(HOOK))
    full.update(env)
    res = subprocess.run([sys.executable, str(SCRIPTS / script)], env=full, capture_output=True,
                         text=True, timeout=1800)
    assert res.returncode == 0, f"{script} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    if part is None:
        part = script.removesuffix(".py")
        if part == "callgrind":
            part = f"callgrind-kea-{full.get('KEA_LWM2M_KEA') or lab.host_version()}"
    return json.loads((work / "results" / f"{part}.json").read_text())


def test_micro(work):
    r = run("micro.py", work, BENCH_MICRO_SIZES="1,1000", BENCH_LOAD_SIZES="1000", BENCH_MICRO_RUNS="2",
            BENCH_MICRO_ITERATIONS="20000", BENCH_LOAD_RUNS="1", BENCH_PROFILE_LOAD_ENTRIES="100",
            BENCH_PROFILE_EXCHANGES="2000", BENCH_PROFILE_EXCHANGE_ENTRIES="100")
    assert r["selftest"]["allocations_for_100_arrays"] >= 100
    assert {(e["family"], e["entries"]) for e in r["exchange"]} == {(4, 1), (4, 1000), (6, 1), (6, 1000)}
    for e in r["exchange"]:
        assert 0 < e["ns_per_exchange_median"] < 1e6
        assert e["allocations_per_exchange"] >= 0
        assert e["bytes_per_exchange"] > 600     # URI + a certificate of ~700 octets
    (load,) = r["load"]
    assert load["entries"] == 1000 and load["total_ms_median"] > 0
    assert load["rss_delta_kib"] > 0 and load["allocations_per_entry"] > 0
    assert load["typed_decode_ms_median"] > 0
    names = " ".join(f[1] for f in r["profiles"]["load"]["functions"])
    assert "Store.load" in names and "Snapshot.init" in names
    names = " ".join(f[1] for f in r["profiles"]["exchange"]["functions"])
    assert "Snapshot.answer" in names


def check_callgrind(r: dict, version: str, families: tuple[str, ...]) -> None:
    assert r["kea"] == version
    for family in families:
        s = r["summary"][family]
        for mode in r["modes"]:
            assert s[mode] > 1000, f"Kea {version} v{family} mode {mode}: {s[mode]} instructions per reply"
        assert s["c_over_b"] > 0
        hook_rows = [row for row in r["breakdown"][family]["c"] if "libdhcp_lwm2m" in row[2]]
        callout = "pkt4_send" if family == "4" else "pkt6_send"
        select = "subnet4_select" if family == "4" else "subnet6_select"
        assert any(row[1] == callout for row in hook_rows), hook_rows[:10]
        # The hook registers the select callouts on 2.2 only.
        assert any(row[1] == select for row in hook_rows) == (version == "2.2"), hook_rows[:10]


def test_callgrind(work):
    version = os.environ.get("KEA_LWM2M_KEA") or lab.host_version()
    r = run("callgrind.py", work, BENCH_CG_EXCHANGES="4")
    check_callgrind(r, version, ("4", "6"))
    assert r["modes"] == ["a", "n", "b", "c"] + (["s"] if version != "2.2" else [])


def test_callgrind_kea_3_0(tmp_path):
    """The same on Kea 3.0 from its root (its valgrind, its libraries, the
    null hook built against its headers; v6 only, to stay short). Mode s, the
    null hook with the select callouts, runs here and must cost more than n."""
    hook = lab.built_hook("3.0")
    if hook is None:
        pytest.fail("no hook for Kea 3.0: make build KEA=3.0 (or set KEA_LWM2M_HOOK_BUILDS)")
    r = run("callgrind.py", tmp_path, BENCH_CG_EXCHANGES="4", BENCH_CG_FAMILIES="6",
            KEA_LWM2M_KEA="3.0", KEA_LWM2M_HOOK=str(hook), part="callgrind-kea-3.0")
    check_callgrind(r, "3.0", ("6",))
    assert r["modes"] == ["a", "n", "b", "c", "s"]
    assert r["valgrind"] != subprocess.run(["valgrind", "--version"], capture_output=True,
                                           text=True).stdout.strip(), "valgrind of the host, not of the root"
    assert r["summary"]["6"]["s"] > r["summary"]["6"]["n"]


def test_macro(work):
    r = run("macro.py", work, BENCH_MACRO_ROUNDS="1", BENCH_MACRO_SECONDS="1", BENCH_MACRO_RATE="50",
            BENCH_MACRO_PACED_SECONDS="1", BENCH_MACRO_THREADS="0,2")
    assert len(r["summary"]) == 4
    for cell in r["summary"]:
        for mode in ("a", "n", "b", "c"):
            assert cell[mode]["rate"] > 0, cell
            assert cell[mode]["server_rate"] > 0, cell
        assert cell["c_over_b"] > 0 and cell["c_over_b_server"] > 0
    for row in r["runs"]:
        assert row["flood"]["first"]["received"] > 0
        assert row["paced"]["first"]["received"] > 0


def test_reload(work):
    r = run("reload.py", work, BENCH_RELOAD_ENTRIES="100", BENCH_RELOAD_SECONDS="3", BENCH_RELOAD_RATE="50")
    runs = {row["run"]: row for row in r["runs"]}
    assert set(runs) == {"hook", "hook+rewrite", "native", "native+reload"}
    for row in runs.values():
        assert row["offer_received"] > 0 and row["ack_received"] > 0, row
    assert runs["hook+rewrite"]["changes"] >= 1
    assert runs["native+reload"]["changes"] >= 1
    # Both ways apply the new URIs: the check that the harness can tell.
    assert runs["native+reload"]["serves_last_generation"]
    assert runs["hook+rewrite"]["serves_last_generation"]


@pytest.mark.skipif(lab.postgres.server_bindir() is None, reason="needs PostgreSQL (apt-get install postgresql)")
def test_fleet(work):
    cli = Path(os.environ.get("KEA_LWM2M_CLI", REPO / ".build" / "release" / "kea-lwm2m"))
    if not cli.is_file():
        pytest.fail(f"kea-lwm2m not built: {cli} (make cli)")
    r = run("fleet.py", work, BENCH_FLEET_ENTRIES="100,1000", BENCH_FLEET_CHANGES="2", KEA_LWM2M_CLI=str(cli),
            BENCH_FLEET_DORA_RUNS="1", BENCH_FLEET_DORA_ENTRIES="100", BENCH_FLEET_DORA_SECONDS="2",
            BENCH_FLEET_DORA_RATE="200")
    assert [row["entries"] for row in r["rows"]] == [100, 1000]
    for row in r["rows"]:
        assert row["changes"] == 2 and row["change_max_ms"] >= row["change_median_ms"] > 0, row
        assert row["initial_ms"] >= row["initial_cpu_ms"] >= 0, row
    runs = r["dora"]["runs"]
    assert [x["run"] for x in runs] == ["still", "changing"], runs
    assert runs[0]["offer_received"] > 0 and runs[0]["revisions_loaded"] == 0, runs
    # About 10 UPDATEs a second for 2 s, each served (some may be read together).
    assert runs[1]["changes"] >= 10 and runs[1]["revisions_loaded"] >= 1, runs


def test_report(work, tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nhand-written text\n\n<!-- bench:results:begin -->\nold\n"
                   "<!-- bench:results:end -->\n\nmore text\n")
    res = subprocess.run([sys.executable, str(SCRIPTS / "report.py")], capture_output=True, text=True,
                         env=dict(os.environ, BENCH_WORK=str(work), BENCH_DOC=str(doc)), timeout=120)
    assert res.returncode == 0, res.stderr
    text = doc.read_text()
    assert "hand-written text" in text and "more text" in text and "\nold\n" not in text
    headings = {"micro": "### 1. Micro", "callgrind": "### 2. Instructions per reply",
                "macro": "### 3. Throughput", "reload": "### 4. Changing URIs"}
    measured = [part for part in headings if list((work / "results").glob(f"{part}*.json"))]
    assert measured, "no results: the report test runs after the others (whole file)"
    for part, heading in headings.items():
        if part in measured:
            assert heading in text, f"missing {heading}"
        else:
            assert f"### {part}: not measured yet" in text

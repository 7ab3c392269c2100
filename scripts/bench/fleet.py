#!/usr/bin/env python3
"""The fleet store (`store-database`, docs/fleet.md): `make bench-fleet`.

For each size in BENCH_FLEET_ENTRIES (default "10000,100000"), in a
throw-away PostgreSQL cluster (lwm2mlab.PostgresCluster) and one kea-dhcp4
of the Kea under test (KEA_LWM2M_KEA, KEA_LWM2M_HOOK) following it:

  import     `kea-lwm2m db import` of the whole store (N entries: the lab's
             subnet A and N-1 subnet-id entries, two certificates)
  initial    the store read from the database at load(): fetch, check and
             encode, as the hook reports it in LWM2M_DB_STORE_LOADED
  change     BENCH_FLEET_CHANGES times (default 5): one entry changed
             (subnet A's URI), `db import`, then the time from its commit to
             the first reply carrying the new URI, and the hook's own
             fetch/check/encode time for that revision; medians and max

Then DHCPv4 under changes (BENCH_FLEET_DORA_RUNS, default 3, of each kind,
alternating; 0 skips it): kea-dhcp4 following a store of
BENCH_FLEET_DORA_ENTRIES entries (default 10000; the bench subnet's entry
first), perfdhcp DORA at BENCH_FLEET_DORA_RATE/s (1500) for
BENCH_FLEET_DORA_SECONDS (10) per run,

  still      the store left alone
  changing   BENCH_FLEET_DORA_CHANGES times a second (10) one row rewritten
             by UPDATE through one psql session (each a revision and a
             notification), the bench subnet's URI, so the last one written
             must be the one served after the run

and the drops of each (perfdhcp's, DISCOVER-OFFER plus REQUEST-ACK).

Results: $BENCH_WORK/results/fleet.json, and tables on standard output;
scripts/bench/report.py writes them into docs/performance.md ("Fleet").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402
import lwm2mlab as lab  # noqa: E402

DATA = bl.REPO / "Tests" / "replay" / "data"
CLI = Path(os.environ.get("KEA_LWM2M_CLI", bl.REPO / ".build" / "release" / "kea-lwm2m"))
DATABASE = "lwm2m"


def write_store(folder: Path, entries: int, uri_a: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "certs").mkdir(exist_ok=True)
    for name in ("large.pem", "small.pem"):
        shutil.copy(DATA / name, folder / "certs" / name)
    rows = [{"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": uri_a, "server-certificate": "certs/large.pem"}]
    for i in range(1, entries):
        rows.append({"subnet-id": 1000 + i, "bootstrap-uri": f"coaps://bs-{i}.bench.example:5684",
                     "server-certificate": "certs/small.pem" if i % 2 else "certs/large.pem"})
    store = folder / "store.json"
    store.write_text(json.dumps({"entries": rows}))
    return store


def served_uri(net: lab.Lab) -> bytes | None:
    import make_fixtures as mf  # the replay suite's fixtures
    fx = mf.FIXTURES["v4_discover_mms1500"]
    query = lab.decode(fx.frame())
    got = net.exchange([fx.frame()], timeout=1.0, grace=0.0).get(query.xid, [])
    if len(got) != 1:
        return None
    return lab.decode(got[0]).value(lab.DEFAULT_CODES[4][0])


def prepared_ms(kea: lab.KeaServer, revision: int, timeout: float = 60.0) -> tuple[int, int]:
    """(wall, CPU) milliseconds the hook's follower took for `revision`."""
    m = kea.wait_log(rf"LWM2M_DB_STORE_LOADED LwM2M store revision {revision} .*encoded in (\d+) ms \((\d+) ms CPU\)",
                     timeout=timeout)
    return int(m.group(1)), int(m.group(2))


def dora_uri(generation: int) -> str:
    return f"coaps://dora-g{generation}.bench.example:5684"


def served_bench_uri(net: lab.Lab) -> str | None:
    frame = bl.query_frames(4, 1, start=0xFFFE00)[0]
    replies = net.exchange([frame], timeout=10.0).get(lab.decode(frame).xid, [])
    value = lab.decode(replies[0]).value(bl.CODES[4][0]) if replies else None
    return value.decode() if value else None


class Changer:
    """Rewrites the bench subnet's row `per_second` times a second through
    one psql session (autocommit: each UPDATE is a revision)."""

    def __init__(self, pg: lab.PostgresCluster, per_second: float) -> None:
        self.period = 1.0 / per_second
        self.generation = 0
        self.stop = threading.Event()
        self.psql = subprocess.Popen(["runuser", "-u", pg.os_user, "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                      "-h", str(pg.socket_dir), "-U", "postgres", "-d", DATABASE],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, cwd=pg.dir)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self.stop.is_set():
            self.generation += 1
            self.psql.stdin.write("UPDATE lwm2m_entry SET body = jsonb_set(body, '{bootstrap-uri}', "
                                  f"to_jsonb('{dora_uri(self.generation)}'::text)) WHERE position = 1;\n")
            self.psql.stdin.flush()
            next_at += self.period
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> "Changer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)
        self.psql.stdin.close()
        try:
            self.psql.wait(30)
        except subprocess.TimeoutExpired:
            self.psql.kill()
            self.psql.wait()
        if self.psql.returncode != 0:
            raise RuntimeError(f"psql failed: {self.psql.stderr.read()[-2000:]}")


def dora_store(folder: Path, entries: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pem, _ = bl.certificate(folder)
    rows = [{"subnet": bl.BENCH_SUBNET[4], "bootstrap-uri": dora_uri(0), "server-certificate": str(pem)}]
    rows += [{"subnet-id": 1000 + i, "bootstrap-uri": f"coaps://bs-{i}.bench.example:5684",
              "server-certificate": str(pem)} for i in range(1, entries)]
    store = folder / "store-dora.json"
    store.write_text(json.dumps({"entries": rows}))
    return store


def dora(pg: lab.PostgresCluster, conn: list[str], work: Path) -> dict | None:
    """perfdhcp at a fixed rate, store left alone or changing; alternating runs."""
    runs = bl.env_int("BENCH_FLEET_DORA_RUNS", 3)
    if runs <= 0:
        return None
    entries = bl.env_int("BENCH_FLEET_DORA_ENTRIES", 10_000)
    rate = bl.env_int("BENCH_FLEET_DORA_RATE", 1500)
    seconds = bl.env_float("BENCH_FLEET_DORA_SECONDS", 10)
    per_second = bl.env_float("BENCH_FLEET_DORA_CHANGES", 10)
    folder = work / "dora"
    res = subprocess.run([str(CLI), "db", "import", str(dora_store(folder, entries)), *conn],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    body = bl.body(4, "c", folder, log_path="stdout")
    body["hooks-libraries"][0]["parameters"] = {"store-database": pg.store_params(DATABASE, user="postgres")}
    # The hook's messages at INFO (one per revision served), Kea's at WARN.
    body["loggers"].append({"name": "kea-dhcp4.lwm2m-hooks", "severity": "INFO",
                            "output_options": [{"output": "stdout"}]})
    rows = []
    with bl.open_lab() as net, lab.KeaServer(net, 4, body, start_timeout=120) as kea:
        assert served_bench_uri(net) == dora_uri(0), kea.output_tail()
        last_written = 0
        for n in range(2 * runs):
            kind = "changing" if n % 2 else "still"
            before = len(kea.output())
            if kind == "changing":
                with Changer(pg, per_second) as changer:
                    result = bl.run_perfdhcp(net, 4, seconds=seconds, rate=rate)
                last_written = changer.generation
                # The last revision reaches the server (a second is ample).
                deadline = time.monotonic() + 10
                while (served := served_bench_uri(net)) != dora_uri(last_written):
                    assert time.monotonic() < deadline and kea.alive(), \
                        f"serves {served!r}, not {dora_uri(last_written)!r}\n{kea.output_tail()}"
                    time.sleep(0.05)
                time.sleep(1)   # its LWM2M_DB_STORE_LOADED, logged by Kea's main thread
            else:
                result = bl.run_perfdhcp(net, 4, seconds=seconds, rate=rate)
            loaded = kea.output()[before:].count("LWM2M_DB_STORE_LOADED")
            first, second = result.get("first", {}), result.get("second", {})
            row = {"run": kind, "rate": result["rate"], "drops": first.get("drops", 0) + second.get("drops", 0),
                   "discover_sent": first.get("sent", 0), "offer_received": first.get("received", 0),
                   "request_sent": second.get("sent", 0), "ack_received": second.get("received", 0),
                   "avg_ms": first.get("avg_ms"), "max_ms": max(first.get("max_ms", 0), second.get("max_ms", 0)),
                   "changes": last_written if kind == "changing" else 0, "revisions_loaded": loaded,
                   "load": os.getloadavg()[0]}
            if kind == "changing":
                last_written = 0
            print(row, flush=True)
            rows.append(row)
    summary = {}
    for kind in ("still", "changing"):
        mine = [r for r in rows if r["run"] == kind]
        summary[kind] = {"drops_median": statistics.median(r["drops"] for r in mine),
                         "drops_max": max(r["drops"] for r in mine),
                         "rate_median": statistics.median(r["rate"] for r in mine),
                         "changes_median": statistics.median(r["changes"] for r in mine),
                         "revisions_loaded_median": statistics.median(r["revisions_loaded"] for r in mine)}
    return {"entries": entries, "rate": rate, "seconds": seconds, "changes_per_second": per_second,
            "runs": rows, "summary": summary}


def main() -> None:
    sys.path.insert(0, str(bl.REPO / "Tests" / "replay"))
    sizes = [int(s) for s in os.environ.get("BENCH_FLEET_ENTRIES", "10000,100000").split(",") if s]
    changes = bl.env_int("BENCH_FLEET_CHANGES", 5)
    hook = bl.hook_path()
    if not CLI.is_file():
        raise SystemExit(f"kea-lwm2m not built: {CLI} (make cli)")
    work = bl.work_dir() / "fleet"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results = []
    with lab.PostgresCluster() as pg:
        conn = ["--name", DATABASE, "--host", str(pg.socket_dir), "--user", "postgres"]
        pg.create_database(DATABASE)
        subprocess.run([str(CLI), "db", "init", *conn], check=True, capture_output=True)
        for size in sizes:
            store = write_store(work / f"store-{size}", size, "coaps://initial.bench.example:5684")
            start = time.monotonic()
            res = subprocess.run([str(CLI), "db", "import", str(store), *conn], capture_output=True, text=True)
            import_s = time.monotonic() - start
            assert res.returncode == 0, res.stderr
            revision = int(re.search(r"revision (\d+)", res.stdout).group(1))
            cache = work / f"cache-{size}" / "lwm2m-cache.json"
            cache.parent.mkdir()
            params = {"store-database": pg.store_params(DATABASE, user="postgres", **{"cache-file": str(cache)})}
            with lab.Lab() as net, lab.KeaServer(net, 4, lab.base_config(4, hook, params), start_timeout=120) as kea:
                initial, initial_cpu = prepared_ms(kea, revision)
                delays, prepares, prepare_cpus = [], [], []
                for n in range(changes):
                    uri = f"coaps://change-{n}.bench.example:5684"
                    changed = write_store(work / f"store-{size}-{n}", size, uri)
                    proc = subprocess.Popen([str(CLI), "db", "import", str(changed), *conn],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    line = proc.stdout.readline()
                    committed = time.monotonic()
                    proc.communicate(timeout=300)
                    revision = int(re.search(r"revision (\d+)", line).group(1))
                    while served_uri(net) != uri.encode():
                        assert kea.alive() and time.monotonic() - committed < 60, kea.output_tail()
                    delays.append(time.monotonic() - committed)
                    wall, cpu = prepared_ms(kea, revision)
                    prepares.append(wall)
                    prepare_cpus.append(cpu)
            row = {"entries": size, "import_s": round(import_s, 3), "initial_ms": initial, "initial_cpu_ms": initial_cpu,
                   "prepare_cpu_median_ms": statistics.median(prepare_cpus), "load": os.getloadavg()[0],
                   "change_median_ms": round(statistics.median(delays) * 1000),
                   "change_max_ms": round(max(delays) * 1000),
                   "prepare_median_ms": statistics.median(prepares), "changes": changes}
            print(row, flush=True)
            results.append(row)
        under_changes = dora(pg, conn, work)
    bl.save_result("fleet", {"kea": lab.kea_under_test().version, "rows": results, "dora": under_changes})
    print("\n| entries | db import | initial load (hook): wall (CPU) | one entry changed: commit to reply, median / max | "
          "hook's fetch+check+encode per change: wall (CPU), median | load average |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['entries']:,} | {r['import_s']:.2f} s | {r['initial_ms']} ({r['initial_cpu_ms']}) ms | "
              f"{r['change_median_ms']} / {r['change_max_ms']} ms | {r['prepare_median_ms']} ({r['prepare_cpu_median_ms']}) ms | "
              f"{r['load']:.1f} |")


if __name__ == "__main__":
    main()

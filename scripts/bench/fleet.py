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

Results: $BENCH_WORK/results/fleet.json, and a table on standard output
(docs/performance.md, "Fleet", quotes it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
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
    bl.save_result("fleet", {"kea": lab.kea_under_test().version, "rows": results})
    print("\n| entries | db import | initial load (hook): wall (CPU) | one entry changed: commit to reply, median / max | "
          "hook's fetch+check+encode per change: wall (CPU), median | load average |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['entries']:,} | {r['import_s']:.2f} s | {r['initial_ms']} ({r['initial_cpu_ms']}) ms | "
              f"{r['change_median_ms']} / {r['change_max_ms']} ms | {r['prepare_median_ms']} ({r['prepare_cpu_median_ms']}) ms | "
              f"{r['load']:.1f} |")


if __name__ == "__main__":
    main()

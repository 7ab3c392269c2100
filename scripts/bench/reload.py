#!/usr/bin/env python3
"""Part 4 of issue 6: changing URIs under load (DHCPv4).

perfdhcp (relay, paced at BENCH_RELOAD_RATE DORA/s) runs against Kea
configured with the same 10,000 subnets in four runs:

  hook            hook serving a 10,000-entry store, store left alone
  hook+rewrite    the store file rewritten (new URIs) every BENCH_RELOAD_STORE_PERIOD s;
                  the hook polls its store and reloads a changed one (issue 4)
  native          Kea option-data inline in every subnet (URI + 04+DER hex)
  native+reload   the configuration file rewritten with new URIs and
                  `config-reload` sent every BENCH_RELOAD_CONFIG_PERIOD s

Reported per run: completed exchanges per second, DISCOVERs and REQUESTs
sent / received / dropped, mean and max delay, reloads done, and whether the
last URI written is the one served at the end.

Environment: BENCH_WORK, BENCH_RELOAD_ENTRIES (10000), BENCH_RELOAD_RATE (500),
BENCH_RELOAD_SECONDS (10), BENCH_RELOAD_STORE_PERIOD (1),
BENCH_RELOAD_CONFIG_PERIOD (2), BENCH_RELOAD_RUNS ("hook,hook+rewrite,native,native+reload"),
KEA_LWM2M_HOOK.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlab as bl  # noqa: E402
import lwm2mlab as lab  # noqa: E402
from certs import der_of, write_certificates  # noqa: E402

FAMILY = 4
CERTS = 50


def other_subnet(i: int) -> str:
    """Subnet i (1..) of the other 9,999: /28s in 10.0.0.0/8."""
    return f"{ipaddress.IPv4Address(0x0A000000 + 16 * i)}/28"


def uri(generation: int, i: int) -> str:
    return f"coaps://bs-{i}-g{generation}.bench.example:5684"


class Setup:
    def __init__(self, work: Path, entries: int) -> None:
        self.work, self.entries = work, entries
        self.pems = write_certificates(work / "certs", CERTS)
        self.hexes = [(b"\x04" + der_of(p)).hex() for p in self.pems]
        self.store = work / "store-reload.json"

    def store_entries(self, generation: int) -> list[dict]:
        out = [{"subnet": bl.BENCH_SUBNET[FAMILY], "bootstrap-uri": uri(generation, 0),
                "server-certificate": str(self.pems[0])}]
        out += [{"subnet": other_subnet(i), "bootstrap-uri": uri(generation, i),
                 "server-certificate": str(self.pems[i % CERTS])} for i in range(1, self.entries)]
        return out

    def store_text(self, generation: int) -> str:
        return json.dumps({"entries": self.store_entries(generation)})

    def write_store(self, generation: int, text: str | None = None) -> None:
        """Replace the store file in one step (write aside, rename)."""
        tmp = self.store.with_suffix(".tmp")
        tmp.write_text(text if text is not None else self.store_text(generation))
        tmp.replace(self.store)

    def body(self, native: bool, generation: int) -> dict:
        mode = "b" if native else "c"
        others = []
        for i in range(1, self.entries):
            sub: dict = {"id": 1 + i, "subnet": other_subnet(i)}
            if native:
                sub["option-data"] = [
                    {"name": "lwm2m-bootstrap-uri", "data": uri(generation, i)},
                    {"name": "lwm2m-server-certificate", "csv-format": False, "data": self.hexes[i % CERTS]}]
            others.append(sub)
        body = bl.body(FAMILY, mode, self.work, extra_subnets=others,
                       store=self.store if not native else None)
        if native:
            body[f"subnet{FAMILY}"][0]["option-data"][0]["data"] = uri(generation, 0)
        return body


def served_uri(net) -> str | None:
    frame = bl.query_frames(FAMILY, 1, start=0xFFFE00)[0]
    got = net.exchange([frame], timeout=10.0)
    replies = got[lab.decode(frame).xid]
    if not replies:
        return None
    value = lab.decode(replies[0]).value(bl.CODES[FAMILY][0])
    return value.decode() if value else None


def run(net, setup: Setup, name: str, rate: int, seconds: float) -> dict:
    native = name.startswith("native")
    generation = 0
    if not native:
        setup.write_store(generation)
    kea = lab.KeaServer(net, FAMILY, setup.body(native, generation), start_timeout=300.0)
    changes, durations = [], []
    try:
        first = served_uri(net)
        if first != uri(0, 0):
            raise RuntimeError(f"{name}: serves {first!r} before the run, want {uri(0, 0)!r}")
        stop = threading.Event()
        period = bl.env_float("BENCH_RELOAD_CONFIG_PERIOD" if native else "BENCH_RELOAD_STORE_PERIOD",
                              2 if native else 1)
        # Every file the run will write is rendered before it starts: making
        # a 14 MB configuration or a 10,000-entry store in Python takes a CPU
        # for a good part of a second, which would compete with Kea and
        # perfdhcp on a 2-CPU machine and be charged to the reloads.
        texts = {}
        if name.endswith(("+rewrite", "+reload")):
            for g in range(1, int(seconds / period) + 3):
                texts[g] = (json.dumps(kea.full_config(setup.body(True, g))) if native
                            else setup.store_text(g))

        def changer() -> None:
            nonlocal generation
            while not stop.wait(period):
                generation += 1
                start = time.monotonic()
                text = texts.get(generation)
                if native:
                    if text is None:
                        kea.write_config(setup.body(True, generation))
                    else:
                        kea.config_path.write_text(text)
                    answer = kea.config_reload()
                    if answer.get("result") != 0:
                        raise RuntimeError(f"config-reload failed: {answer}")
                else:
                    setup.write_store(generation, text)
                durations.append(time.monotonic() - start)
                changes.append(generation)

        thread = None
        if name.endswith(("+rewrite", "+reload")):
            thread = threading.Thread(target=changer, daemon=True)
            thread.start()
        result = bl.run_perfdhcp(net, FAMILY, seconds=seconds, rate=rate)
        stop.set()
        if thread:
            thread.join(120)
        time.sleep(bl.env_float("BENCH_RELOAD_STORE_PERIOD", 1) * 2 if not native else 0)
        last = served_uri(net)
    finally:
        kea.close()
    first_, second = result.get("first", {}), result.get("second", {})
    row = {"run": name, "rate": result["rate"], "target_rate": rate, "seconds": seconds,
           "discover_sent": first_.get("sent", 0), "offer_received": first_.get("received", 0),
           "request_sent": second.get("sent", 0), "ack_received": second.get("received", 0),
           "drops": first_.get("drops", 0) + second.get("drops", 0),
           "avg_ms": first_.get("avg_ms"), "max_ms": max(first_.get("max_ms", 0), second.get("max_ms", 0)),
           "request_avg_ms": second.get("avg_ms"), "changes": len(changes),
           "change_seconds_median": bl.median(durations) if durations else None,
           "last_generation": generation, "served_at_end": last,
           "serves_last_generation": last == uri(generation, 0)}
    print(f"{name:14s}: {row['rate']:7.1f}/s, DISCOVER {row['discover_sent']:.0f} sent "
          f"{row['offer_received']:.0f} answered, drops {row['drops']:.0f}, delay avg {row['avg_ms']} ms "
          f"max {row['max_ms']} ms, {row['changes']} changes, serves last: {row['serves_last_generation']}",
          flush=True)
    return row


def main() -> None:
    work = bl.work_dir() / "reload"
    work.mkdir(parents=True, exist_ok=True)
    setup = Setup(work, bl.env_int("BENCH_RELOAD_ENTRIES", 10_000))
    rate = bl.env_int("BENCH_RELOAD_RATE", 500)
    seconds = bl.env_float("BENCH_RELOAD_SECONDS", 10)
    names = os.environ.get("BENCH_RELOAD_RUNS", "hook,hook+rewrite,native,native+reload").split(",")
    rows = []
    with bl.open_lab() as net:
        for name in names:
            rows.append(run(net, setup, name, rate, seconds))
    path = bl.save_result("reload", {"entries": setup.entries, "rate": rate, "seconds": seconds,
                                     "runs": rows})
    print(f"results: {path}")


if __name__ == "__main__":
    main()

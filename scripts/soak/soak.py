#!/usr/bin/env python3
"""The soak (`make soak`; a short run in `make test`): multi-threaded Kea with
the hook, under perfdhcp load, v4 and v6, while the hook's store is
rewritten many times a second (half of the writes broken, see storm.py),
Kea is reconfigured (`config-reload`) every 10 s and `lwm2m-reload` is sent
in between.  One Kea process per family serves the whole run.

The run of a family:
  1. Kea with SOAK_THREADS packet threads in the namespace lab, the hook on
     the first good store version; the rate: a perfdhcp flood measures what
     Kea and perfdhcp complete together, the soak runs at SOAK_LOAD of that
     (SOAK_RATE sets it instead), lowered until a warm-up segment at that
     rate (SOAK_WARMUP seconds) loses at most SOAK_MAX_DROP_PERCENT.
  2. Segments, calm (SOAK_CALM_SEGMENT seconds) and storm (SOAK_SEGMENT) in
     turn, until the storm segments add up to SOAK_SECONDS.  Calm: perfdhcp
     at the same rate, nothing else (the reference for drops).  Storm:
     perfdhcp, the store writer, the commands, and tcpdump windows of
     SOAK_CAPTURE replies every SOAK_CAPTURE_EVERY seconds.
  3. The end: a last good version is written and must be served; a broken
     one on top of it, a `config-reload` and an `lwm2m-reload` must leave it
     served.

Kea's RSS, descriptors and threads are read from /proc every second.  The
run fails (exit 1) when: Kea dies or restarts; the hook or Kea logs a callout
failure; a captured reply lacks the options, carries a URI no good version
had, or a certificate other than its version's; the storm adds more than
SOAK_MAX_DROP_PERCENT drops (median of storm segments against median of
calm segments); RSS grows by more than SOAK_RSS_SLACK_KIB after warm-up;
descriptors or threads differ at the end; the last good version is not the
one served at the end; `config-reload` fails.

Environment: SOAK_SECONDS (storm seconds per family, 600), SOAK_SEGMENT (60),
SOAK_CALM_SEGMENT (half of SOAK_SEGMENT),
SOAK_FAMILIES ("4,6"), SOAK_THREADS (4), SOAK_QUEUE (packet-queue-size, 64),
SOAK_RATE (0 = find it), SOAK_LOAD (0.7), SOAK_CLIENTS (1000),
SOAK_WRITES_PER_SECOND (10; 0: none), SOAK_CONFIG_RELOAD_EVERY (10; 0: no commands),
SOAK_CAPTURE (500), SOAK_CAPTURE_EVERY (10), SOAK_MIN_REPLIES (2000),
SOAK_MAX_DROP_PERCENT (1), SOAK_RSS_SLACK_KIB (8192), SOAK_WARMUP (10),
SOAK_PROBE_SECONDS (the flood that finds the rate, 5),
SOAK_WORK (/tmp/lwm2m-soak), KEA_LWM2M_KEA, KEA_LWM2M_HOOK.
Results: $SOAK_WORK/results/soak-kea-VERSION.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))
sys.path.insert(0, str(HERE))

import benchlab as bl  # noqa: E402
import lwm2mlab as lab  # noqa: E402
from certs import der_of, write_certificates  # noqa: E402
from replies import Sampler, check  # noqa: E402
from storm import StoreStorm  # noqa: E402

CERTIFICATES = 16
# Log lines that mean a callout or a command went wrong inside Kea.
FAILURE_IDS = ("LWM2M_CALLOUT_FAILED", "LWM2M_OPERATION_FAILED", "LWM2M_LOAD_FAILED",
               "HOOKS_CALLOUT_EXCEPTION", "HOOKS_CALLOUT_ERROR", "FATAL")


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Settings:
    def __init__(self) -> None:
        self.seconds = env_float("SOAK_SECONDS", 600)
        self.segment = env_float("SOAK_SEGMENT", 60)
        self.calm_segment = env_float("SOAK_CALM_SEGMENT", self.segment / 2)
        self.families = [int(f) for f in os.environ.get("SOAK_FAMILIES", "4,6").split(",") if f]
        self.threads = env_int("SOAK_THREADS", 4)
        self.queue = env_int("SOAK_QUEUE", 64)
        self.rate = env_int("SOAK_RATE", 0)
        self.load = env_float("SOAK_LOAD", 0.7)
        self.clients = env_int("SOAK_CLIENTS", 1000)
        self.writes = env_float("SOAK_WRITES_PER_SECOND", 10)
        self.config_every = env_float("SOAK_CONFIG_RELOAD_EVERY", 10)
        self.capture = env_int("SOAK_CAPTURE", 500)
        self.capture_every = env_float("SOAK_CAPTURE_EVERY", 10)
        self.min_replies = env_int("SOAK_MIN_REPLIES", 2000)
        self.max_drop = env_float("SOAK_MAX_DROP_PERCENT", 1.0)
        self.rss_slack = env_int("SOAK_RSS_SLACK_KIB", 8192)
        self.warmup = env_float("SOAK_WARMUP", 10)
        self.probe = env_float("SOAK_PROBE_SECONDS", 5)
        self.work = Path(os.environ.get("SOAK_WORK", "/tmp/lwm2m-soak"))

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(self).items()}


# --------------------------------------------------------------------------
# Kea's process, read from /proc
# --------------------------------------------------------------------------

def proc_sample(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    return {"rss_kib": rss, "threads": threads, "fds": len(os.listdir(f"/proc/{pid}/fd"))}


class ProcessWatch:
    """Samples Kea's RSS, threads and descriptors every `interval` seconds;
    notes when the process is gone or its PID changed."""

    def __init__(self, kea: "lab.KeaServer", interval: float = 1.0) -> None:
        self.kea, self.pid, self.interval = kea, kea.pid, interval
        self.samples: list[dict] = []
        self.died: str | None = None
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self, phase: str = "") -> dict | None:
        if not self.kea.alive() or self.kea.pid != self.pid:
            self.died = self.died or f"Kea (PID {self.pid}) is gone: exit status {self.kea.proc.returncode}"
            return None
        with contextlib.suppress(OSError, AttributeError):
            row = dict(proc_sample(self.pid), t=round(time.monotonic() - self.start, 1), phase=phase)
            self.samples.append(row)
            return row
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


# --------------------------------------------------------------------------
# The commands: config-reload every 10 s, lwm2m-reload in between
# --------------------------------------------------------------------------

class Commander:
    def __init__(self, kea: "lab.KeaServer", every: float) -> None:
        self.kea, self.every = kea, every
        self.config_reloads: list[dict] = []
        self.lwm2m_reloads = {0: 0, 1: 0}
        self.failures: list[str] = []

    def run(self, stop: threading.Event) -> None:
        """From the start of a storm segment: lwm2m-reload at 2 s, 12 s, ...,
        config-reload at 7 s, 17 s, ... (every `every` seconds each; no
        commands at all when `every` is 0)."""
        if self.every <= 0:
            return
        start = time.monotonic()
        n = 0
        while True:
            at = start + 2 + n * self.every / 2
            if stop.wait(max(0.0, at - time.monotonic())):
                return
            try:
                if n % 2 == 0:
                    answer = self.kea.command("lwm2m-reload")
                    result = answer.get("result")
                    if result not in (0, 1):
                        self.failures.append(f"lwm2m-reload: {answer}")
                    else:
                        self.lwm2m_reloads[result] += 1
                else:
                    began = time.monotonic()
                    answer = self.kea.config_reload()
                    took = time.monotonic() - began
                    self.config_reloads.append({"result": answer.get("result"), "seconds": round(took, 3)})
                    if answer.get("result") != 0:
                        self.failures.append(f"config-reload: {answer}")
            except (OSError, ValueError) as err:
                self.failures.append(f"command failed: {err!r}")
            n += 1


# --------------------------------------------------------------------------
# One family
# --------------------------------------------------------------------------

def drop_percent(result: dict) -> float:
    first, second = result.get("first", {}), result.get("second", {})
    sent = first.get("sent", 0) + second.get("sent", 0)
    drops = first.get("drops", 0) + second.get("drops", 0)
    return 100.0 * drops / sent if sent else 100.0


def segment_row(kind: str, result: dict, seconds: float) -> dict:
    first, second = result.get("first", {}), result.get("second", {})
    return {"kind": kind, "seconds": seconds, "rate": result.get("rate", 0.0),
            "sent": first.get("sent", 0) + second.get("sent", 0),
            "received": first.get("received", 0) + second.get("received", 0),
            "drops": first.get("drops", 0) + second.get("drops", 0),
            "drop_percent": round(drop_percent(result), 4),
            "avg_ms": first.get("avg_ms"), "max_ms": max(first.get("max_ms", 0), second.get("max_ms", 0))}


def served(net, family: int, n: int) -> tuple[bytes | None, bytes | None]:
    """(URI, certificate) in the reply to one scapy query (a new client each time)."""
    frame = bl.query_frames(family, 1, start=0xFFF000 + n)[0]
    got = net.exchange([frame], timeout=3.0).get(lab.decode(frame).xid, [])
    if not got:
        return None, None
    reply = lab.decode(got[0])
    uri_code, cert_code = bl.CODES[family]
    return reply.value(uri_code), reply.value(cert_code)


def kea_body(family: int, settings: Settings, work: Path, store: Path) -> dict:
    body = bl.body(family, "c", work, threads=settings.threads, store=store)
    body["multi-threading"] = {"enable-multi-threading": True, "thread-pool-size": settings.threads,
                               "packet-queue-size": settings.queue}
    name = f"kea-dhcp{family}"
    # Kea's own messages at WARN (INFO logs every lease), the hook's at INFO
    # (LWM2M_RELOADED, ...): both to Kea's stdout, kept in its temp dir.
    out = [{"output": "stdout"}]
    body["loggers"] = [{"name": name, "severity": "WARN", "output_options": out},
                       {"name": f"{name}.lwm2m-hooks", "severity": "INFO", "output_options": out}]
    return body


def find_rate(net, kea, family: int, settings: Settings, failures: list) -> tuple[int, dict]:
    """The rate the soak runs at, and how it was found."""
    how: dict = {}
    if settings.rate > 0:
        rate = settings.rate
        how["given"] = rate
    else:
        flood = bl.run_perfdhcp(net, family, seconds=settings.probe, clients=settings.clients)
        how["flood_rate"] = round(flood["rate"], 1)
        rate = max(10, int(flood["rate"] * settings.load))
    how["tries"] = []
    for _ in range(5):
        warm = bl.run_perfdhcp(net, family, seconds=settings.warmup, rate=rate, clients=settings.clients)
        how["tries"].append({"rate": rate, "drop_percent": round(drop_percent(warm), 3),
                             "completed": round(warm["rate"], 1)})
        if drop_percent(warm) <= settings.max_drop:
            break
        rate = max(10, int(rate * 0.8))
    else:
        failures.append(f"no rate under {settings.max_drop}% drops without the storm: {how['tries']}")
    how["rate"] = rate
    return rate, how


def run_family(family: int, settings: Settings, work: Path) -> dict:
    failures: list[str] = []
    pems = write_certificates(work / "pems", CERTIFICATES)
    ders = [der_of(p) for p in pems]
    if len(set(ders)) != len(ders):
        raise RuntimeError("certificates are not distinct")
    storm = StoreStorm(work / f"store-v{family}", bl.BENCH_SUBNET[family], pems, ders, always_send=family == 6)
    first = storm.write_good()
    result: dict = {"family": family}
    with bl.open_lab() as net, lab.KeaServer(net, family, kea_body(family, settings, work, storm.store),
                                             start_timeout=60.0) as kea:
        watch = ProcessWatch(kea)
        sampler = Sampler(net, family, work / f"capture-v{family}", settings.capture, settings.capture_every)
        commander = Commander(kea, settings.config_every)
        try:
            uri, _ = served(net, family, 0)
            if uri != first.uri.encode():
                raise RuntimeError(f"v{family}: serves {uri!r} at the start, want {first.uri}\n{kea.output_tail()}")
            rate, how = find_rate(net, kea, family, settings, failures)
            result["rate"] = how
            print(f"v{family}: rate {rate}/s ({how})", flush=True)
            base = kea.resources()
            start_sample = watch.sample("start")
            segments = []
            storm_time, round_ = 0.0, 0
            while storm_time < settings.seconds - 0.5 and watch.died is None:
                length = min(settings.segment, settings.seconds - storm_time)
                for kind in ("calm", "storm"):
                    seconds = length if kind == "storm" else settings.calm_segment
                    stop = threading.Event()
                    threads = []
                    if kind == "storm":
                        threads = [threading.Thread(target=storm.run, args=(stop, settings.writes)),
                                   threading.Thread(target=commander.run, args=(stop,)),
                                   threading.Thread(target=sampler.run, args=(stop,))]
                    for t in threads:
                        t.start()
                    try:
                        perf = bl.run_perfdhcp(net, family, seconds=seconds, rate=rate, clients=settings.clients)
                    finally:
                        stop.set()
                        for t in threads:
                            t.join(60)
                    row = segment_row(kind, perf, seconds)
                    row["round"] = round_
                    segments.append(row)
                    sample = watch.sample(kind)
                    print(f"v{family} {kind:5s} {round_}: {row['rate']:7.1f}/s completed, sent {row['sent']:.0f} "
                          f"drops {row['drops']:.0f} ({row['drop_percent']:.3f}%)"
                          + (f", RSS {sample['rss_kib']} KiB fds {sample['fds']} threads {sample['threads']}"
                             if sample else ", Kea gone"), flush=True)
                    if watch.died:
                        break
                storm_time += length
                round_ += 1
            result["segments"] = segments
            result["storm"] = {"writes": dict(storm.kinds_written), "config_reloads": len(commander.config_reloads),
                               "config_reload_seconds_max": max((c["seconds"] for c in commander.config_reloads),
                                                                default=None),
                               "lwm2m_reloads": {"ok": commander.lwm2m_reloads[0],
                                                 "failed": commander.lwm2m_reloads[1]}}
            failures += commander.failures + sampler.errors
            if watch.died is None:
                result["end"] = end_checks(net, kea, family, storm, failures)
                end_resources = kea.resources()
                result["resources"] = {
                    "fds_start": base.fd_count, "fds_end": end_resources.fd_count,
                    "threads_start": base.threads, "threads_end": end_resources.threads}
                if end_resources.other_fds() != base.other_fds() or \
                        end_resources.lockfile_fds() > base.lockfile_fds() + 1:
                    failures.append(f"descriptors changed: {end_resources.diff(base)}")
                if end_resources.threads != base.threads:
                    failures.append(f"threads changed: {end_resources.diff(base)}")
                end_sample = watch.sample("end")
                result["rss"] = rss_summary(watch.samples, start_sample, end_sample, settings, failures)
        finally:
            watch.close()
            sampler.close()
        if watch.died:
            failures.append(watch.died)
        output = kea.output()
        result["log"] = {name: output.count(name) for name in
                         ("LWM2M_RELOADED", "LWM2M_RELOAD_FAILED", "LWM2M_STORE_KEPT_PREVIOUS", "LWM2M_LOADED")}
        for name in FAILURE_IDS:
            lines = [line for line in output.splitlines() if name in line]
            if lines:
                failures.append(f"{len(lines)} {name} lines, first: {lines[0][:300]}")
        result["crashes"] = 0 if watch.died is None else 1
        # Replies: decoded once Kea is down (the decoding competes for CPU).
    verdict = check(sampler.files, family, storm, bl.CODES[family])
    result["replies"] = {"captured": verdict.replies, "windows": len(sampler.files),
                         "versions_seen": len(verdict.by_version), "problems": dict(verdict.counts),
                         "evidence": verdict.problems}
    if verdict.bad:
        failures.append(f"{verdict.bad} bad replies of {verdict.replies}: {dict(verdict.counts)}; "
                        f"first: {verdict.problems[:3]}")
    if verdict.replies < settings.min_replies:
        failures.append(f"only {verdict.replies} replies captured (want {settings.min_replies})")
    if len(verdict.by_version) < 2:
        failures.append(f"the replies carried {len(verdict.by_version)} store version(s): the storm changed nothing")
    segments = result.get("segments", [])
    calm = [s["drop_percent"] for s in segments if s["kind"] == "calm"]
    stormy = [s["drop_percent"] for s in segments if s["kind"] == "storm"]
    if calm and stormy:
        result["drops"] = {"calm_median_percent": round(statistics.median(calm), 4),
                           "storm_median_percent": round(statistics.median(stormy), 4),
                           "calm_rate_median": round(statistics.median(s["rate"] for s in segments
                                                                       if s["kind"] == "calm"), 1),
                           "storm_rate_median": round(statistics.median(s["rate"] for s in segments
                                                                        if s["kind"] == "storm"), 1)}
        extra = result["drops"]["storm_median_percent"] - result["drops"]["calm_median_percent"]
        result["drops"]["extra_percent"] = round(extra, 4)
        if extra > settings.max_drop:
            failures.append(f"the storm adds {extra:.3f}% drops (limit {settings.max_drop}%)")
    else:
        failures.append("no calm/storm segments ran")
    result["failures"] = failures
    return result


def end_checks(net, kea, family: int, storm: StoreStorm, failures: list) -> dict:
    """The last good version written is served; a broken version on top of
    it, a config-reload and an lwm2m-reload keep it served."""
    out: dict = {}
    final = storm.write_good()
    out["last_good"] = final.uri
    start = time.monotonic()
    n = 1
    while True:
        uri, cert = served(net, family, n)
        n += 1
        if uri == final.uri.encode():
            out["served_after_seconds"] = round(time.monotonic() - start, 2)
            break
        if time.monotonic() - start > 10:
            failures.append(f"last good version {final.uri} not served 10 s after it was written (serves {uri!r})")
            return out
        time.sleep(0.2)
    if cert != b"\x04" + storm.ders[final.certificate]:
        failures.append("last good version served with the wrong certificate")
    broken = storm.write_broken("insecure-mode")
    time.sleep(3.5)                       # past the 2 s a fresh file is given, and a tick
    answer = kea.command("lwm2m-reload")
    if answer.get("result") != 1:
        failures.append(f"lwm2m-reload of a broken store answered {answer}")
    reload_answer = kea.config_reload()
    if reload_answer.get("result") != 0:
        failures.append(f"config-reload at the end: {reload_answer}")
    uri, cert = served(net, family, n)
    out["served_at_end"] = uri.decode() if uri else None
    out["broken_on_top"] = broken.uri
    if uri != final.uri.encode() or cert != b"\x04" + storm.ders[final.certificate]:
        failures.append(f"at the end serves {uri!r}, not the last good version {final.uri}")
    return out


def rss_summary(samples: list[dict], start: dict | None, end: dict | None, settings: Settings,
                failures: list) -> dict:
    if not start or not end:
        return {}
    after = [s for s in samples if s["t"] >= start["t"]]
    out = {"start_kib": start["rss_kib"], "end_kib": end["rss_kib"],
           "max_kib": max(s["rss_kib"] for s in after), "samples": len(after),
           "growth_kib": end["rss_kib"] - start["rss_kib"]}
    # Growth over the second half alone: a leak keeps growing, a warm-up does not.
    half = after[len(after) // 2:]
    if len(half) >= 2:
        out["second_half_growth_kib"] = half[-1]["rss_kib"] - half[0]["rss_kib"]
    if out["growth_kib"] > settings.rss_slack:
        failures.append(f"RSS grew by {out['growth_kib']} KiB after warm-up (limit {settings.rss_slack} KiB)")
    return out


def report(version: str, result: dict) -> str:
    lines = [f"Kea {version} v{result['family']}:"]
    r = result.get("rate", {})
    if r:
        lines.append(f"  rate {r.get('rate')}/s (flood {r.get('flood_rate', '-')}/s)")
    d = result.get("drops")
    if d:
        lines.append(f"  drops: calm median {d['calm_median_percent']:.3f}%, storm median "
                     f"{d['storm_median_percent']:.3f}% (extra {d['extra_percent']:.3f}%); completed/s calm "
                     f"{d['calm_rate_median']}, storm {d['storm_rate_median']}")
    s = result.get("storm")
    if s:
        lines.append(f"  storm: writes {s['writes']}, config-reload x{s['config_reloads']} (slowest "
                     f"{s['config_reload_seconds_max']} s), lwm2m-reload {s['lwm2m_reloads']}")
    rss = result.get("rss")
    if rss:
        lines.append(f"  RSS {rss['start_kib']} -> {rss['end_kib']} KiB (max {rss['max_kib']}, second half "
                     f"{rss.get('second_half_growth_kib', 0):+d} KiB)")
    res = result.get("resources")
    if res:
        lines.append(f"  fds {res['fds_start']} -> {res['fds_end']}, threads {res['threads_start']} -> "
                     f"{res['threads_end']}")
    rep = result.get("replies")
    if rep:
        lines.append(f"  replies checked {rep['captured']} in {rep['windows']} windows, {rep['versions_seen']} "
                     f"store versions seen, problems {rep['problems'] or 'none'}")
    e = result.get("end")
    if e:
        lines.append(f"  end: last good {e.get('last_good')} served after {e.get('served_after_seconds')} s; "
                     f"after a broken store and config-reload serves {e.get('served_at_end')}")
    lines.append(f"  crashes {result.get('crashes')}; log {result.get('log')}")
    lines.append("  PASS" if not result["failures"] else "  FAIL:\n" + "\n".join(f"    - {f}" for f in result["failures"]))
    return "\n".join(lines)


def main() -> int:
    settings = Settings()
    install = lab.kea_under_test()
    hook = lab.hook_path(install)
    if not hook.is_file():
        print(f"hook not built: {hook} (make build KEA={install.version})", file=sys.stderr)
        return 2
    settings.work.mkdir(parents=True, exist_ok=True)
    lab.remove_stale_namespaces()
    results = []
    status = 0
    for family in settings.families:
        work = Path(tempfile.mkdtemp(prefix=f"run-v{family}-", dir=settings.work))
        try:
            result = run_family(family, settings, work)
        except Exception as err:             # noqa: BLE001 - reported as a failed run
            result = {"family": family, "failures": [f"{type(err).__name__}: {err}"], "crashes": None}
        finally:
            if not os.environ.get("SOAK_KEEP"):
                shutil.rmtree(work, ignore_errors=True)
        results.append(result)
        print(report(install.version, result), flush=True)
        status |= bool(result["failures"])
    out = settings.work / "results" / f"soak-kea-{install.version}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"kea": install.version, "hook": str(hook), "settings": settings.as_dict(),
                               "date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "results": results}, indent=2))
    print(f"results: {out}")
    return 1 if status else 0


if __name__ == "__main__":
    sys.exit(main())

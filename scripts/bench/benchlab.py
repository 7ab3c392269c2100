"""Shared pieces of the benchmark scripts (docs/performance.md): the
namespace lab of the replay suite with one large relayed subnet per family,
Kea bodies for the three modes compared, perfdhcp runs and result files.

Modes:
  a  plain   Kea, no LwM2M options at all
  n  null    a, plus a hook library whose packet callouts (the ones
             kea-lwm2m registers on this Kea: pkt4_send, pkt6_send, and on
             2.2 subnet4_select and subnet6_select) do nothing: Kea's own
             hook dispatch, the floor under any hook on these hook points
             (reference, not a target)
  s          (callgrind only, where kea-lwm2m registers no select callout)
             n plus empty subnet4_select/subnet6_select callouts: what the
             hook point it does not use would cost
  b  native  Kea's own option-def + option-data: the URI as a string, the
             certificate option as hex (04 + DER)
  c  hook    Kea with the LwM2M hook serving the same bytes from its store

Everything generated goes under the work dir ($BENCH_WORK, default
/tmp/lwm2m-bench), never into the repository.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lwm2mlab as lab  # noqa: E402
from certs import der_of, write_certificates  # noqa: E402

MODES = ("a", "n", "b", "c")
MODE_NAMES = {"a": "plain Kea", "n": "null hook", "b": "Kea option-data", "c": "LwM2M hook",
              "s": "null hook + subnet6_select"}
URI = "coaps://bs.bench.example:5684"
CODES = {4: (224, 225), 6: (200, 201)}

# The benchmarked clients sit behind a relay in the client namespace.
BENCH_SUBNET = {4: "100.64.0.0/10", 6: "2001:db8:100::/64"}
BENCH_SUBNET_ID = {4: 1, 6: 1}
# v6: the addresses 2.2 made of "2001:db8:100::1:0/96"; Kea 2.6/3.0 refuse a
# prefix pool with bits set past its length.
BENCH_POOL = {4: "100.64.1.0 - 100.127.255.254", 6: "2001:db8:100::1:0 - 2001:db8:100::ffff:ffff"}
RELAY4 = "100.64.0.1"
RELAY6 = "2001:db8:100::1"


def work_dir() -> Path:
    path = Path(os.environ.get("BENCH_WORK", "/tmp/lwm2m-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def hook_path() -> Path:
    path = lab.hook_path()
    if not path.is_file():
        raise SystemExit(f"hook not built: {path} (make build, or set KEA_LWM2M_HOOK)")
    return path


def null_hook(work: Path, subnet_select: bool = False) -> Path:
    """Mode n's library (Benchmarks/null-hook) for the Kea under test,
    compiled into the work dir by scripts/kea-cxx.sh against that Kea's
    headers. It registers the packet callouts the LwM2M hook registers on
    that Kea; with `subnet_select` also the select callouts (mode s: what
    that hook point costs where the hook skips it)."""
    install = lab.kea_under_test()
    source = REPO / "Benchmarks" / "null-hook" / "null_hook.cc"
    inputs = [source, REPO / "CShim" / "kea_compat.h", REPO / "scripts" / "kea-cxx.sh"]
    name = "libdhcp_null_bench_select.so" if subnet_select else "libdhcp_null_bench.so"
    # One folder per library: Kea 2.6/3.0 load hooks only from KEA_HOOKS_PATH.
    out = work / "null-hook" / f"kea-{install.version}" / name.removesuffix(".so") / name
    if out.is_file() and all(out.stat().st_mtime >= path.stat().st_mtime for path in inputs):
        return out
    flags = [f"-I{REPO / 'CShim'}", f"-I{REPO / 'CShim' / 'kea-compat'}"]
    if subnet_select:
        flags.append("-DNULL_HOOK_SUBNET_SELECT=1")
    env = dict(os.environ)
    swift = shutil.which("swift")
    if swift and "SWIFTC" not in env:
        env["SWIFTC"] = str(Path(swift).resolve().parent / "swiftc")
    res = subprocess.run(["bash", str(REPO / "scripts" / "kea-cxx.sh"), install.version, str(out), str(source),
                          *flags], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"null hook (mode n) for Kea {install.version} did not build:\n{res.stderr[-3000:]}")
    return out


def hook_callouts(library: Path) -> list[str]:
    """The packet callouts a hook library defines (Kea registers every
    exported function named after a hook point)."""
    res = subprocess.run(["nm", "-D", "--defined-only", str(library)], capture_output=True, text=True, check=True)
    names = {line.split()[-1] for line in res.stdout.splitlines() if line.split()}
    return sorted(n for n in names if re.fullmatch(r"(subnet[46]_select|pkt[46]_send)", n))


def certificate(work: Path) -> tuple[Path, bytes]:
    """The certificate served in every mode (RSA-2048: 4 RFC 3396 parts in v4)."""
    pem = write_certificates(work / "certs", 1)[0]
    return pem, der_of(pem)


def open_lab() -> "lab.Lab":
    """The replay suite's lab plus the relay addresses of the bench subnets."""
    net = lab.Lab()
    try:
        net._ip(net.cli_ns, "addr", "add", f"{RELAY4}/10", "dev", lab.CLIENT_IF)
        net._ip(net.srv_ns, "route", "add", BENCH_SUBNET[4], "via", lab.CLIENT4)
        net._ip(net.cli_ns, "-6", "addr", "add", f"{RELAY6}/64", "dev", lab.CLIENT_IF, "nodad")
        net._ip(net.srv_ns, "-6", "route", "add", BENCH_SUBNET[6], "via", lab.CLIENT6)
    except BaseException:
        net.close()
        raise
    return net


def write_store(work: Path, pem: Path, family: int, extra: list[dict] | None = None,
                name: str | None = None) -> Path:
    """The hook's store: the bench subnet (and `extra` entries)."""
    entries = [{"subnet": BENCH_SUBNET[family], "bootstrap-uri": URI,
                "server-certificate": str(pem)}] + (extra or [])
    path = work / (name or f"store-bench-v{family}.json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"entries": entries}))
    tmp.replace(path)
    return path


def native_options(family: int, der: bytes) -> list[dict]:
    uri_code, cert_code = CODES[family]
    return [{"name": "lwm2m-bootstrap-uri", "code": uri_code, "data": URI},
            {"name": "lwm2m-server-certificate", "code": cert_code, "csv-format": False,
             "data": (b"\x04" + der).hex()}]


def native_defs(family: int) -> list[dict]:
    uri_code, cert_code = CODES[family]
    space = f"dhcp{family}"
    return [{"name": "lwm2m-bootstrap-uri", "code": uri_code, "type": "string", "space": space},
            {"name": "lwm2m-server-certificate", "code": cert_code, "type": "binary", "space": space}]


def body(family: int, mode: str, work: Path, *, threads: int = 0, log_path: Path | str | None = None,
         extra_subnets: list[dict] | None = None, store: Path | None = None,
         watch_interval: int | None = None) -> dict:
    """Kea body (under "Dhcp4"/"Dhcp6") for `mode` (see MODES, and s).

    `threads` > 0 enables Kea's multi-threading with that many threads.
    `watch_interval` sets the hook's `watch-interval` (mode c; None: its
    default).
    Logging goes to a file at WARN: debug logging would dominate the costs.
    `log_path` may also be "stdout" (Kea 2.6.3 and 3.0 write log files only
    in KEA_LOG_FILE_DIR, which the lab points at Kea's private temp dir).
    """
    pem, der = certificate(work)
    subnet: dict = {"id": BENCH_SUBNET_ID[family], "subnet": BENCH_SUBNET[family],
                    "pools": [{"pool": BENCH_POOL[family]}]}
    out: dict = {"valid-lifetime": 3600, "renew-timer": 900, "rebind-timer": 1800,
                 f"subnet{family}": [subnet] + (extra_subnets or [])}
    if family == 6:
        out["preferred-lifetime"] = 3000
    # No lease reclamation timers: they would fire at random points of a run.
    out["expired-leases-processing"] = {"reclaim-timer-wait-time": 0,
                                        "flush-reclaimed-timer-wait-time": 0}
    if mode == "b":
        out["option-def"] = native_defs(family)
        subnet["option-data"] = native_options(family, der)
    elif mode in ("n", "s"):
        out["hooks-libraries"] = [{"library": str(null_hook(work, subnet_select=mode == "s"))}]
    elif mode == "c":
        store = store or write_store(work, pem, family)
        parameters: dict = {"store-file": str(store)}
        if watch_interval is not None:
            parameters["watch-interval"] = watch_interval
        out["hooks-libraries"] = [{"library": str(hook_path()), "parameters": parameters}]
    elif mode != "a":
        raise ValueError(f"mode {mode}")
    if threads > 0:
        out["multi-threading"] = {"enable-multi-threading": True, "thread-pool-size": threads,
                                  "packet-queue-size": 256}
    else:
        out["multi-threading"] = {"enable-multi-threading": False}
    name = f"kea-dhcp{family}"
    out["loggers"] = [{"name": name, "severity": "WARN",
                       "output_options": [{"output": str(log_path or (work / f"{name}-{mode}.log"))}]}]
    return out


# --------------------------------------------------------------------------
# perfdhcp
# --------------------------------------------------------------------------

def perfdhcp_argv(net: "lab.Lab", family: int, *, seconds: float, rate: int = 0,
                  clients: int = 1_000_000, threads: str = "single", cpu: int | None = None) -> list[str]:
    """perfdhcp as a relay in the client namespace, asking for the LwM2M codes.

    v4: DORA from the relay address (perfdhcp sets giaddr to it), PRL with
    the LwM2M codes, option 57 = 1500. v6: SARR encapsulated once (-A1),
    ORO with the LwM2M codes. rate 0 = as fast as perfdhcp can.
    """
    uri_code, cert_code = CODES[family]
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    argv = ["ip", "netns", "exec", net.cli_ns, *pin, "perfdhcp", f"-{family}", "-R", str(clients),
            "-p", f"{seconds:g}", "-W", "1000000", "-g", threads]
    if rate > 0:
        argv += ["-r", str(rate)]
    if family == 4:
        argv += ["-l", RELAY4, "-o", f"55,01030f{uri_code:02x}{cert_code:02x}", "-o", "57,05dc",
                 lab.SERVER4]
    else:
        argv += ["-A", "1", "-l", lab.CLIENT_IF,
                 "-o", f"6,0017{uri_code:04x}{cert_code:04x}", lab.SERVER6]
    return argv


_NUM = r"([0-9.eE+-]+)"


def parse_perfdhcp(text: str) -> dict:
    """perfdhcp's report as numbers: first (DO/SA) and second (RA/RR) exchange."""
    out: dict = {}
    blocks = re.split(r"\*{3} ?Statistics for: ", text)
    for block in blocks[1:]:
        head = block.splitlines()[0]
        key = "first" if head.startswith(("DISCOVER-OFFER", "SOLICIT-ADVERTISE")) else "second"
        stats = {}
        for name, field in (("sent", r"sent packets: (\d+)"), ("received", r"received packets: (\d+)"),
                            ("drops", r"drops: (\d+)"), ("orphans", r"orphans: (\d+)"),
                            ("min_ms", rf"min delay: {_NUM} ms"), ("avg_ms", rf"avg delay: {_NUM} ms"),
                            ("max_ms", rf"max delay: {_NUM} ms")):
            m = re.search(field, block)
            if m:
                stats[name] = float(m.group(1))
        out[key] = stats
    m = re.search(rf"Rate: {_NUM} ", text)
    out["rate"] = float(m.group(1)) if m else 0.0
    return out


def run_perfdhcp(net, family: int, **kwargs) -> dict:
    argv = perfdhcp_argv(net, family, **kwargs)
    res = subprocess.run(argv, capture_output=True, text=True, timeout=kwargs.get("seconds", 10) + 60)
    parsed = parse_perfdhcp(res.stdout)
    parsed["returncode"] = res.returncode
    if not parsed.get("first"):
        raise RuntimeError(f"perfdhcp gave no statistics ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return parsed


def pin_process(pid: int, cpu: int) -> None:
    """Every thread of `pid` onto CPU `cpu` (single-threaded runs: Kea on one
    CPU, perfdhcp on the other, so neither is moved around by the scheduler)."""
    subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(pid)], check=True, capture_output=True)


def server_sent(kea: "lab.KeaServer", family: int) -> int:
    """Replies Kea sent so far (its own pkt4-sent / pkt6-sent statistic)."""
    stats = kea.command("statistic-get-all").get("arguments", {})
    sample = stats.get(f"pkt{family}-sent") or [[0]]
    return int(sample[0][0])


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

def save_result(part: str, data: dict) -> Path:
    settings = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())
                        if (k.startswith("BENCH_") and k not in ("BENCH_WORK", "BENCH_DOC"))
                        or (k == "KEA_LWM2M_KEA" and v))
    command = " ".join(["python3", f"scripts/bench/{Path(sys.argv[0]).name}"] + sys.argv[1:])
    data = dict(data, part=part, date=time.strftime("%Y-%m-%d %H:%M:%S %z"),
                command=f"{settings} {command}".strip())
    path = work_dir() / "results" / f"{part}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


# --------------------------------------------------------------------------
# Packets from scapy (callgrind runs and the checks that every mode serves
# what it should)
# --------------------------------------------------------------------------

def query_frames(family: int, count: int, start: int = 1) -> list:
    """`count` relayed DISCOVERs (PRL with the LwM2M codes, option 57 = 1500)
    or RELAY-FORW(SOLICIT with ORO), one client each."""
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dhcp6 import (DHCP6_RelayForward, DHCP6_Solicit, DHCP6OptClientId,
                                    DHCP6OptElapsedTime, DHCP6OptIA_NA, DHCP6OptOptReq,
                                    DHCP6OptRelayMsg, DUID_LL)
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    uri_code, cert_code = CODES[family]
    frames = []
    for n in range(start, start + count):
        mac = bytes.fromhex("0a0000") + n.to_bytes(3, "big")
        if family == 4:
            frames.append(
                Ether(src=lab.CLIENT_MAC, dst=lab.SERVER_MAC) / IP(src=RELAY4, dst=lab.SERVER4)
                / UDP(sport=67, dport=67)
                / BOOTP(op=1, xid=0x10000000 + n, chaddr=mac + bytes(10), giaddr=RELAY4, hops=1)
                / DHCP(options=[("message-type", "discover"),
                                ("param_req_list", [1, 3, 6, 15, uri_code, cert_code]),
                                ("max_dhcp_size", 1500), "end"]))
        else:
            inner = (DHCP6_Solicit(trid=n & 0xFFFFFF) / DHCP6OptClientId(duid=DUID_LL(lladdr=mac))
                     / DHCP6OptIA_NA(iaid=1) / DHCP6OptElapsedTime()
                     / DHCP6OptOptReq(reqopts=[23, uri_code, cert_code]))
            frames.append(
                Ether(src=lab.CLIENT_MAC, dst=lab.SERVER_MAC) / IPv6(src=RELAY6, dst=lab.SERVER6)
                / UDP(sport=547, dport=547)
                / DHCP6_RelayForward(hopcount=0, linkaddr=RELAY6, peeraddr=str(ipaddress.IPv6Address("fe80::") + n))
                / DHCP6OptRelayMsg(message=inner))
    return frames


def exchange_all(net, frames: list, batch: int = 25, timeout: float = 30.0) -> int:
    """Send `frames` in batches; returns how many got a reply."""
    answered = 0
    for i in range(0, len(frames), batch):
        got = net.exchange(frames[i:i + batch], timeout=timeout, grace=0.05)
        answered += sum(1 for replies in got.values() if replies)
    return answered


def check_mode(net, family: int, mode: str, der: bytes) -> None:
    """One exchange: modes a, n and s must send no LwM2M option, b and c the same right bytes."""
    frame = query_frames(family, 1, start=0xFFFF00)[0]
    got = net.exchange([frame], timeout=10.0)
    query = lab.decode(frame)
    replies = got[query.xid]
    if len(replies) != 1:
        raise RuntimeError(f"mode {mode} v{family}: {len(replies)} replies to the check query")
    reply = lab.decode(replies[0])
    entry = None if mode in ("a", "n", "s") else lab.Entry(URI.encode(), der)
    problems = lab.lwm2m_problems(query, reply, entry, codes=CODES[family])
    if mode == "b":
        # Kea's own RFC 3396 splitter cuts 253-octet parts: valid, only not
        # the 255-octet parts the replay suite's checker expects of the hook.
        problems = [p for p in problems if " split as " not in p]
    if problems:
        raise RuntimeError(f"mode {mode} v{family}: {problems}\n{lab.describe(reply)}")

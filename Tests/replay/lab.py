"""Network-namespace lab for replaying DHCP packets against Kea.

The lab is a tiny, throw-away network made of two network namespaces joined by
a veth pair::

    lwm2m-srv-<pid>-<n>                       lwm2m-cli-<pid>-<n>
    +----------------------------+  veth  +-------------------------------+
    | srv0 192.0.2.1/24          |--------| cli0 192.0.2.2/24             |
    |      fe80::1               |        |      198.51.100.1/24 (relay B)|
    |      2001:db8:1::1/64      |        |      203.0.113.1/24  (relay C)|
    | kea-dhcp4, kea-dhcp6       |        |      fe80::c1, 2001:db8:1::2  |
    +----------------------------+        +-------------------------------+

Kea runs in the server namespace with its configuration, lease file, log,
pid/lock files and control socket in a private temporary directory.  The
client side sends packets from the client namespace, either as raw Ethernet
frames (direct clients) or through an ordinary UDP socket bound to one of the
client namespace's own addresses (relayed DHCPv4 / DHCPv6 RELAY-FORW), and
captures the replies on ``cli0`` with an AF_PACKET socket that is opened
before anything is sent.  No packet ever leaves the two namespaces.

Typical use::

    import lab
    with lab.Lab() as net, lab.KeaServer(net, 4, lab.base_config(4)) as kea:
        replies = net.exchange([frame])          # {xid: [reply frames]}
        print(lab.decode(replies[xid][0]).options)   # lab.Message

Everything is torn down (Kea killed by PID, namespaces deleted) when the
context managers exit, and as a last resort at interpreter exit.

Only the standard library and scapy are needed; run as root.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import ipaddress
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable, Iterator

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

# --------------------------------------------------------------------------
# Lab constants (fixtures are built against these, see make_fixtures.py)
# --------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
DEFAULT_HOOK = REPO / ".build" / "release" / "libdhcp_lwm2m.so"

SERVER_IF = "srv0"
CLIENT_IF = "cli0"
SERVER_MAC = "02:00:5e:10:00:01"
CLIENT_MAC = "02:00:5e:10:00:02"

SERVER4 = "192.0.2.1"
CLIENT4 = "192.0.2.2"
RELAY4 = {"B": "198.51.100.1", "C": "203.0.113.1"}   # owned by the client ns

SERVER6_LL = "fe80::1"
CLIENT6_LL = "fe80::c1"      # direct DHCPv6 fixtures are sent from this address
SERVER6 = "2001:db8:1::1"
CLIENT6 = "2001:db8:1::2"    # relayed DHCPv6 fixtures are sent from this address

# Lab subnets.  Keys are the names used throughout the suite.
SUBNETS = {
    4: {"A": ("192.0.2.0/24", 1), "B": ("198.51.100.0/24", 2), "C": ("203.0.113.0/24", 3)},
    6: {"A": ("2001:db8:1::/64", 11), "B": ("2001:db8:2::/64", 12), "C": ("2001:db8:3::/64", 13)},
}

# Deterministic DHCPv6 server DUID (type LLT), so REQUEST fixtures can carry it.
SERVER_DUID_TIME = 0x2A2A2A2A
SERVER_DUID_LLADDR = SERVER_MAC
SERVER_DUID = (bytes.fromhex("0001" "0001") + SERVER_DUID_TIME.to_bytes(4, "big")
               + bytes.fromhex(SERVER_DUID_LLADDR.replace(":", "")))

DHCP4_PORTS = (68, 67)   # client, server
DHCP6_PORTS = (546, 547)

_CLONE_NEWNET = 0x40000000
_ETH_P_ALL = 0x0003
_PACKET_OUTGOING = 4


def hook_path() -> Path:
    """Path of the LwM2M hook: $KEA_LWM2M_HOOK or <repo>/.build/release/libdhcp_lwm2m.so."""
    return Path(os.environ.get("KEA_LWM2M_HOOK", str(DEFAULT_HOOK)))


def stop_process(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """Stop `proc` by its PID: SIGTERM, then SIGKILL after `grace` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command (no shell), raising with its stderr when it fails."""
    res = subprocess.run(argv, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr.strip()}")
    return res


# --------------------------------------------------------------------------
# Entering a network namespace from Python
# --------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the body with the *calling thread* inside network namespace `name`.

    Sockets created in the body stay in that namespace after the block ends,
    which is how the lab gets client-side sockets without a subprocess.
    """
    with open("/proc/thread-self/ns/net") as home, open(f"/run/netns/{name}") as target:
        _setns(target.fileno())
        try:
            yield
        finally:
            _setns(home.fileno())


# --------------------------------------------------------------------------
# Cleanup registry: everything still alive at interpreter exit is destroyed
# --------------------------------------------------------------------------

_live: set = set()


@atexit.register
def _cleanup_all() -> None:
    for obj in list(_live):
        with contextlib.suppress(Exception):
            obj.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_namespaces() -> list[str]:
    """Delete lab namespaces left by runs whose Python process no longer exists.

    Kea processes still inside such a namespace were started by that dead run;
    they are ended by PID (as listed by ``ip netns pids``) before the namespace
    is deleted.  Returns the names removed.
    """
    removed = []
    for name in sh("ip", "netns", "list").stdout.split():
        m = re.fullmatch(r"lwm2m-(?:srv|cli)-(\d+)-\d+", name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        for pid in sh("ip", "netns", "pids", name, check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        sh("ip", "netns", "del", name, check=False)
        removed.append(name)
    return removed


# --------------------------------------------------------------------------
# The lab network
# --------------------------------------------------------------------------

_lab_counter = itertools.count(1)


class Lab:
    """Two namespaces joined by a veth pair, addressed as in the module doc.

    Use as a context manager; ``close()`` is idempotent.
    """

    def __init__(self) -> None:
        n = next(_lab_counter)
        self.srv_ns = f"lwm2m-srv-{os.getpid()}-{n}"
        self.cli_ns = f"lwm2m-cli-{os.getpid()}-{n}"
        self._closed = False
        _live.add(self)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    # -- construction -----------------------------------------------------

    def _ip(self, ns: str, *args: str) -> None:
        sh("ip", "-n", ns, *args)

    def _build(self) -> None:
        for ns in (self.srv_ns, self.cli_ns):
            sh("ip", "netns", "add", ns)
            # No duplicate address detection: addresses are usable at once.
            sh("ip", "netns", "exec", ns, "sysctl", "-qw",
               "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
            self._ip(ns, "link", "set", "lo", "up")
        # Create the pair directly inside the namespaces: fixed names, no clash.
        sh("ip", "link", "add", SERVER_IF, "netns", self.srv_ns, "address", SERVER_MAC,
           "type", "veth", "peer", "name", CLIENT_IF, "netns", self.cli_ns, "address", CLIENT_MAC)
        s, c = self.srv_ns, self.cli_ns
        # Only the link-local addresses added below: a second, kernel-made one
        # would make Kea open two sockets and answer every multicast twice.
        self._ip(s, "link", "set", SERVER_IF, "addrgenmode", "none")
        self._ip(c, "link", "set", CLIENT_IF, "addrgenmode", "none")
        self._ip(s, "addr", "add", f"{SERVER4}/24", "dev", SERVER_IF)
        self._ip(s, "-6", "addr", "add", f"{SERVER6_LL}/64", "dev", SERVER_IF, "nodad")
        self._ip(s, "-6", "addr", "add", f"{SERVER6}/64", "dev", SERVER_IF, "nodad")
        self._ip(c, "addr", "add", f"{CLIENT4}/24", "dev", CLIENT_IF)
        for relay in RELAY4.values():
            self._ip(c, "addr", "add", f"{relay}/24", "dev", CLIENT_IF)
        self._ip(c, "-6", "addr", "add", f"{CLIENT6_LL}/64", "dev", CLIENT_IF, "nodad")
        self._ip(c, "-6", "addr", "add", f"{CLIENT6}/64", "dev", CLIENT_IF, "nodad")
        self._ip(s, "link", "set", SERVER_IF, "up")
        # Promiscuous: the capture also sees unicast replies to fixture MACs.
        self._ip(c, "link", "set", CLIENT_IF, "up", "promisc", "on")
        self._wait_link_up()
        # The relayed subnets are reachable through the client namespace.
        for fam in (4, 6):
            for key in ("B", "C"):
                via = CLIENT4 if fam == 4 else CLIENT6
                self._ip(s, f"-{fam}", "route", "add", SUBNETS[fam][key][0], "via", via)

    def _wait_link_up(self, timeout: float = 5.0) -> None:
        """Wait until both veth ends report operational state UP."""
        deadline = time.monotonic() + timeout
        for ns, dev in ((self.srv_ns, SERVER_IF), (self.cli_ns, CLIENT_IF)):
            while "state UP" not in sh("ip", "-n", ns, "-o", "link", "show", "dev", dev).stdout:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{dev} in {ns} did not come up")
                time.sleep(0.02)

    def close(self) -> None:
        """Delete both namespaces (and with them the veth pair)."""
        if self._closed:
            return
        self._closed = True
        for ns in (self.srv_ns, self.cli_ns):
            sh("ip", "netns", "del", ns, check=False)
        _live.discard(self)

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- client-side I/O ----------------------------------------------------

    def client_socket(self, *args) -> socket.socket:
        """A socket created inside the client namespace (socket.socket(*args))."""
        with in_netns(self.cli_ns):
            return socket.socket(*args)

    def capture_socket(self) -> socket.socket:
        """An AF_PACKET socket on cli0 that sees every frame crossing it."""
        sock = self.client_socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
        sock.bind((CLIENT_IF, 0))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        return sock

    def send(self, frame, raw_sock: socket.socket, relay_socks: dict) -> None:
        """Send one fixture frame from the client namespace.

        Relayed packets (DHCPv4 with giaddr set, DHCPv6 RELAY-FORW) go through a
        UDP socket bound to the frame's source address and port, which the
        client namespace owns, so the kernel does ARP/ND and Kea can answer the
        relay normally.  Everything else is written as-is on cli0 (`raw_sock`).
        `relay_socks` caches the UDP sockets by source; the caller closes them
        after the replies are in, so replies never meet a closed port.
        """
        frame = Ether(bytes(frame))
        if not is_relayed(frame):
            raw_sock.send(bytes(frame))
            return
        ip_layer = frame[IP] if IP in frame else frame[IPv6]
        fam = socket.AF_INET if IP in frame else socket.AF_INET6
        udp = frame[UDP]
        key = (fam, ip_layer.src, udp.sport)
        if key not in relay_socks:
            sock = self.client_socket(fam, socket.SOCK_DGRAM)
            sock.bind((ip_layer.src, udp.sport))
            relay_socks[key] = sock
        relay_socks[key].sendto(bytes(udp.payload), (ip_layer.dst, udp.dport))

    def exchange(self, frames: Iterable, timeout: float = 3.0, grace: float = 0.2) -> dict:
        """Send `frames` and collect the server's replies.

        Returns ``{xid: [reply Ether frames]}`` keyed by the DHCPv4 xid or the
        DHCPv6 transaction-id of each sent client message (for RELAY-FORW the
        inner message's).  The capture is open before the first frame goes out.
        Waits until every query has a reply, then `grace` seconds more to
        catch duplicates, or until `timeout`.
        """
        frames = [Ether(bytes(f)) for f in frames]   # also fills in lengths/checksums
        got: dict = {query_xid(f): [] for f in frames}
        cap = self.capture_socket()
        relay_socks: dict = {}
        try:
            for f in frames:
                self.send(f, cap, relay_socks)
            deadline = time.monotonic() + timeout
            settled = False
            while (left := deadline - time.monotonic()) > 0:
                if not settled and all(got.values()):
                    settled, deadline = True, min(deadline, time.monotonic() + grace)
                    continue
                if not select.select([cap], [], [], left)[0]:
                    continue
                data, addr = cap.recvfrom(65535)
                if addr[2] == _PACKET_OUTGOING:
                    continue
                frame = Ether(data)
                xid = reply_xid(frame)
                if xid in got:
                    got[xid].append(frame)
        finally:
            cap.close()
            for sock in relay_socks.values():
                sock.close()
        return got


# --------------------------------------------------------------------------
# Kea
# --------------------------------------------------------------------------


def base_config(family: int, hook: Path | None = None, hook_params: dict | None = None) -> dict:
    """The lab's Kea body for `family` (the dict under "Dhcp4"/"Dhcp6").

    Subnets A (directly connected on srv0), B and C (reached by relay) with a
    pool each and a marker domain name (see selected_subnet).  Runtime keys
    (sockets, logging, lease db, ...) are added by KeaServer.  `hook` and
    `hook_params` add one entry to "hooks-libraries".
    """
    subnets = []
    for key, (prefix, sid) in SUBNETS[family].items():
        net = ipaddress.ip_network(prefix)
        pool = f"{net[100]} - {net[199]}" if family == 4 else f"{net[0x100]} - {net[0x1ff]}"
        sub = {"id": sid, "subnet": prefix, "pools": [{"pool": pool}]}
        if key == "A":
            sub["interface"] = SERVER_IF
        # A per-subnet marker, so every reply tells which subnet Kea selected.
        marker = {"name": "domain-name" if family == 4 else "domain-search",
                  "data": subnet_marker(key)}
        sub["option-data"] = [marker]
        subnets.append(sub)
    body: dict = {
        "valid-lifetime": 3600,
        "renew-timer": 900,
        "rebind-timer": 1800,
        f"subnet{family}": subnets,
    }
    if family == 6:
        body["preferred-lifetime"] = 3000
        body["option-data"] = [{"name": "dns-servers", "data": "2001:db8::53"}]
    if hook is not None:
        lib: dict = {"library": str(hook)}
        if hook_params is not None:
            lib["parameters"] = hook_params
        body["hooks-libraries"] = [lib]
    return body


def subnet_marker(key: str) -> str:
    """Domain name Kea sends in subnet `key` (v4 option 15, v6 option 24)."""
    return f"{key.lower()}.lab"


def selected_subnet(reply: "Message") -> str | None:
    """Which lab subnet ("A"/"B"/"C") a reply came from, by its marker option."""
    if reply.family == 4:
        value = reply.value(15)
        name = value.decode(errors="replace") if value else ""
    else:
        value = reply.value(24) or b""
        labels, i = [], 0          # RFC 1035 wire format, one name expected
        while i < len(value) and value[i]:
            labels.append(value[i + 1:i + 1 + value[i]].decode(errors="replace"))
            i += 1 + value[i]
        name = ".".join(labels)
    return next((k for k in "ABC" if name == subnet_marker(k)), None)


class KeaError(RuntimeError):
    """Kea failed to start, to answer, or died.

    `returncode` is Kea's exit status when it exited (else None) and `log`
    the Kea log at the time of the failure.
    """

    def __init__(self, message: str, returncode: int | None = None, log: str = "") -> None:
        super().__init__(message)
        self.returncode, self.log = returncode, log


def _fd_kind(entry: str) -> str:
    """'12 -> socket:[123]' -> 'socket'; file targets keep their path."""
    target = entry.split(" -> ", 1)[1]
    return re.sub(r":\[\d+\]$", "", target)


@dataclasses.dataclass(frozen=True)
class Resources:
    """What a Kea process holds: descriptor kinds/targets and threads."""
    fds: tuple
    threads: int

    KEA_LOGGER_LOCK = "logger_lockfile"

    @property
    def fd_count(self) -> int:
        return len(self.fds)

    def lockfile_fds(self) -> int:
        """Descriptors on Kea's logger lock file (opened lazily, one per logger)."""
        return sum(f.endswith(self.KEA_LOGGER_LOCK) for f in self.fds)

    def other_fds(self) -> list[str]:
        return sorted(f for f in self.fds if not f.endswith(self.KEA_LOGGER_LOCK))

    def diff(self, base: "Resources") -> str:
        """Human-readable descriptor/thread difference from `base`."""
        from collections import Counter
        more = Counter(self.fds) - Counter(base.fds)
        less = Counter(base.fds) - Counter(self.fds)
        return (f"fds {base.fd_count} -> {self.fd_count} (+{dict(more)} -{dict(less)}), "
                f"threads {base.threads} -> {self.threads}")


class KeaServer:
    """kea-dhcp4 or kea-dhcp6 running in a lab's server namespace.

    `body` is the dict under "Dhcp4"/"Dhcp6"; runtime settings that tie Kea to
    the lab and to a private temp dir (interfaces, control socket, logging at
    DEBUG/99, in-memory lease db, fixed DHCPv6 server-id) are filled in unless
    the caller set them.  Start happens in __init__; use as a context manager.
    """

    def __init__(self, lab: Lab, family: int, body: dict, start_timeout: float = 15.0) -> None:
        assert family in (4, 6)
        self.lab, self.family = lab, family
        self.name = f"kea-dhcp{family}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"lwm2m-kea{family}-"))
        self.config_path = self.tmp / f"{self.name}.json"
        self.socket_path = self.tmp / "control.sock"
        self.log_path = self.tmp / f"{self.name}.log"
        self.proc: subprocess.Popen | None = None
        self._closed = False
        _live.add(self)
        try:
            self.write_config(body)
            self._start(start_timeout)
        except BaseException:
            self.close()
            raise

    # -- configuration ------------------------------------------------------

    @property
    def top(self) -> str:
        return f"Dhcp{self.family}"

    def full_config(self, body: dict) -> dict:
        """`body` completed with the lab's runtime settings, wrapped as {"DhcpN": ...}."""
        body = json.loads(json.dumps(body))  # deep copy
        if self.family == 4:
            body.setdefault("interfaces-config",
                            {"interfaces": [SERVER_IF], "dhcp-socket-type": "raw"})
        else:
            # "<if>/<addr>" adds a unicast socket for relayed traffic.
            body.setdefault("interfaces-config", {"interfaces": [f"{SERVER_IF}/{SERVER6}"]})
            body.setdefault("server-id", {
                "type": "LLT", "persist": False, "htype": 1,
                "identifier": SERVER_DUID_LLADDR.replace(":", ""), "time": SERVER_DUID_TIME})
        body.setdefault("control-socket", {"socket-type": "unix",
                                           "socket-name": str(self.socket_path)})
        body.setdefault("lease-database", {"type": "memfile", "persist": False,
                                           "name": str(self.tmp / f"leases{self.family}.csv")})
        body.setdefault("loggers", [{
            "name": self.name, "severity": "DEBUG", "debuglevel": 99,
            "output_options": [{"output": str(self.log_path), "flush": True}]}])
        return {self.top: body}

    def write_config(self, body: dict) -> dict:
        """Write the completed configuration to the file Kea reads on start/reload."""
        cfg = self.full_config(body)
        self.config_path.write_text(json.dumps(cfg, indent=2))
        return cfg

    # -- process ----------------------------------------------------------------

    def _start(self, timeout: float) -> None:
        env = dict(os.environ, KEA_PIDFILE_DIR=str(self.tmp), KEA_LOCKFILE_DIR=str(self.tmp))
        self.stdout = open(self.tmp / "stdout.txt", "wb")
        # `ip netns exec` execs Kea in place, so proc.pid is Kea's PID.
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.srv_ns, self.name, "-c", str(self.config_path)],
            env=env, stdout=self.stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise KeaError(f"{self.name} exited with {self.proc.returncode}:\n{self.output_tail()}",
                               self.proc.returncode, self.log())
            if self.socket_path.exists():
                with contextlib.suppress(OSError, ValueError):
                    if self.command("list-commands").get("result") == 0:
                        break
            if time.monotonic() > deadline:
                raise KeaError(f"{self.name} did not come up in {timeout}s:\n{self.output_tail()}")
            time.sleep(0.05)
        if "_OPEN_SOCKET_FAIL" in self.log():
            raise KeaError(f"{self.name} could not open its sockets:\n{self.output_tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        """True while the Kea process is running."""
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Stop Kea (SIGTERM, then SIGKILL) and remove the temp dir."""
        if self._closed:
            return
        self._closed = True
        stop_process(self.proc)
        if getattr(self, "stdout", None):
            self.stdout.close()
        if os.environ.get("KEA_LWM2M_KEEP_TMP"):
            print(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        _live.discard(self)

    def __enter__(self) -> "KeaServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- observation ------------------------------------------------------------

    def log(self) -> str:
        """The whole Kea log so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def output_tail(self, lines: int = 40) -> str:
        """Last lines of Kea's log and stdout/stderr, for error messages."""
        out = (self.tmp / "stdout.txt").read_text(errors="replace") if (self.tmp / "stdout.txt").exists() else ""
        return "\n".join((self.log() + out).splitlines()[-lines:])

    def fd_count(self) -> int:
        """Number of open file descriptors of the Kea process."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def thread_count(self) -> int:
        """Number of threads of the Kea process."""
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def fds(self) -> list[str]:
        """Targets of the open descriptors (for diagnosing leaks)."""
        out = []
        for fd in sorted(os.listdir(f"/proc/{self.pid}/fd"), key=int):
            with contextlib.suppress(OSError):
                out.append(f"{fd} -> {os.readlink(f'/proc/{self.pid}/fd/{fd}')}")
        return out

    def resources(self, stable_reads: int = 6, interval: float = 0.05,
                  timeout: float = 10.0) -> "Resources":
        """Descriptor targets and thread count once they stop changing.

        Right after a command Kea may still hold the accepted control
        connection, so a reading counts only when it repeats `stable_reads`
        times in a row.
        """
        last, same = None, 0
        deadline = time.monotonic() + timeout
        while True:
            cur = Resources(tuple(_fd_kind(f) for f in self.fds()), self.thread_count())
            same = same + 1 if cur == last else 0
            last = cur
            if same >= stable_reads or time.monotonic() > deadline:
                return cur
            time.sleep(interval)

    def wait_log(self, pattern: str, after: int = 0, timeout: float = 10.0) -> re.Match:
        """Wait for regex `pattern` to appear in the log past character `after`."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), after)
            if m:
                return m
            if not self.alive():
                raise KeaError(f"{self.name} died:\n{self.output_tail()}")
            if time.monotonic() > deadline:
                raise KeaError(f"no /{pattern}/ in log after {timeout}s:\n{self.output_tail()}")
            time.sleep(0.05)

    # -- control ----------------------------------------------------------------

    def command(self, command: str, arguments: dict | None = None, timeout: float = 20.0) -> dict:
        """Send one command over the control socket and return Kea's JSON answer."""
        req: dict = {"command": command}
        if arguments is not None:
            req["arguments"] = arguments
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.socket_path))
            s.sendall(json.dumps(req).encode())
            buf = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                buf += chunk
                with contextlib.suppress(ValueError):
                    return json.loads(buf)  # Kea may keep the socket open briefly
        answer = json.loads(buf)
        return answer[0] if isinstance(answer, list) else answer

    def config_reload(self) -> dict:
        """`config-reload`: Kea re-reads its file (hooks are unloaded and reloaded)."""
        return self.command("config-reload")

    def config_set(self, body: dict) -> dict:
        """`config-set` with `body` completed by the lab runtime settings."""
        return self.command("config-set", self.full_config(body))

    def config_test(self, body: dict) -> dict:
        """`config-test` with `body` completed by the lab runtime settings."""
        return self.command("config-test", self.full_config(body))

    def sighup(self, timeout: float = 20.0) -> bool:
        """Send SIGHUP and wait until Kea has finished reloading its file.

        Returns True when the reconfiguration succeeded, False when Kea logged
        that it failed.
        """
        mark = len(self.log())
        os.kill(self.pid, signal.SIGHUP)
        m = self.wait_log(r"DHCP[46]_DYNAMIC_RECONFIGURATION_(SUCCESS|FAIL)\b",
                          after=mark, timeout=timeout)
        # The control socket is re-created during reconfiguration: wait for it.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if self.command("list-commands").get("result") == 0:
                    break
            time.sleep(0.05)
        return m.group(1) == "SUCCESS"

    def log_lines(self, severity: str) -> list[str]:
        """Log lines of one severity (e.g. "ERROR")."""
        return [line for line in self.log().splitlines() if f" {severity} " in line[:60]]


# --------------------------------------------------------------------------
# Packet helpers (decoding is done with scapy + plain TLV walks)
# --------------------------------------------------------------------------


def is_relayed(frame: Ether) -> bool:
    """DHCPv4 with giaddr set, or a DHCPv6 RELAY-FORW."""
    payload = bytes(frame[UDP].payload)
    if IP in frame:
        return payload[24:28] != b"\0\0\0\0"
    return payload[0] == 12


def dhcp4_message(frame: Ether) -> bytes:
    """The BOOTP/DHCP message (UDP payload) of a DHCPv4 frame."""
    return bytes(frame[UDP].payload)


def tlv4(data: bytes) -> list[tuple[int, bytes]]:
    """Walk DHCPv4 options (pad/end aware); every occurrence is kept, in order."""
    out, i = [], 0
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            raise ValueError(f"truncated DHCPv4 option {code} at {i}")
        out.append((code, data[i + 2:i + 2 + data[i + 1]]))
        i += 2 + data[i + 1]
    return out


def tlv6(data: bytes) -> list[tuple[int, bytes]]:
    """Walk DHCPv6 options (2-byte code, 2-byte length), in order."""
    out, i = [], 0
    while i < len(data):
        if i + 4 > len(data):
            raise ValueError(f"truncated DHCPv6 option header at {i}")
        code = int.from_bytes(data[i:i + 2], "big")
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if i + 4 + length > len(data):
            raise ValueError(f"truncated DHCPv6 option {code} at {i}")
        out.append((code, data[i + 4:i + 4 + length]))
        i += 4 + length
    return out


_MAGIC = bytes.fromhex("63825363")


@dataclasses.dataclass
class Message:
    """A decoded DHCP message (query or reply), family-neutral.

    `options` are the client message's options in wire order (for DHCPv6
    relayed replies: the message inside the relay-message option);
    `relay_options` are the options of the relay layer(s) (DHCPv6 only).
    `ip_total_length` is the IPv4 total length / IPv6 payload length + 40.
    """
    family: int
    msg_type: int
    xid: int
    options: list
    relay_options: list
    ip_total_length: int
    raw: bytes
    frame: Ether

    def values(self, code: int) -> list[bytes]:
        """All values of option `code`, in order."""
        return [v for c, v in self.options if c == code]

    def value(self, code: int) -> bytes | None:
        """The option's value; several DHCPv4 occurrences are concatenated (RFC 3396)."""
        vals = self.values(code)
        return b"".join(vals) if vals else None

    def codes(self) -> list[int]:
        return [c for c, _ in self.options]


def decode4(frame: Ether) -> Message:
    """Decode a DHCPv4 frame."""
    msg = dhcp4_message(frame)
    if len(msg) < 240 or msg[236:240] != _MAGIC:
        raise ValueError("not a DHCP message (no magic cookie)")
    opts = tlv4(msg[240:])
    mtype = next((v[0] for c, v in opts if c == 53), 0)
    return Message(4, mtype, int.from_bytes(msg[4:8], "big"), opts, [],
                   frame[IP].len, msg, frame)


def decode6(frame: Ether) -> Message:
    """Decode a DHCPv6 frame, descending through relay layers to the client message."""
    data = bytes(frame[UDP].payload)
    relay_opts: list = []
    while data and data[0] in (12, 13):        # RELAY-FORW / RELAY-REPL
        opts = tlv6(data[34:])
        relay_opts += opts
        inner = [v for c, v in opts if c == 9]
        if len(inner) != 1:
            raise ValueError(f"relay message with {len(inner)} relay-message options")
        data = inner[0]
    return Message(6, data[0], int.from_bytes(data[1:4], "big"), tlv6(data[4:]), relay_opts,
                   frame[IPv6].plen + 40, bytes(frame[UDP].payload), frame)


def decode(frame) -> Message:
    """Decode a DHCPv4 or DHCPv6 frame (bytes or scapy Ether)."""
    frame = Ether(bytes(frame))   # re-dissect: lengths of built packets are filled in
    return decode4(frame) if IP in frame else decode6(frame)


decode_reply = decode


def query_xid(frame: Ether) -> int:
    """Transaction id of a client frame (inner message for RELAY-FORW)."""
    return decode(frame).xid


_REPLY_TYPES = {4: {2, 5, 6}, 6: {2, 7}}   # OFFER/ACK/NAK; ADVERTISE/REPLY


def reply_xid(frame: Ether) -> int | None:
    """Transaction id of a server reply frame, or None for anything else."""
    try:
        if UDP not in frame:
            return None
        udp = frame[UDP]
        if IP in frame and udp.sport == 67 and bytes(udp.payload)[:1] == b"\x02":
            m = decode4(frame)
        elif IPv6 in frame and udp.sport == 547 and bytes(udp.payload)[:1] in (b"\x02", b"\x07", b"\x0d"):
            m = decode6(frame)
        else:
            return None
    except (ValueError, IndexError):
        return None
    return m.xid if m.msg_type in _REPLY_TYPES[m.family] else None


def read_pcap(path) -> list[Ether]:
    """Frames of a pcap file."""
    from scapy.utils import rdpcap
    return [Ether(bytes(p)) for p in rdpcap(str(path))]


# --------------------------------------------------------------------------
# The hook's store and what a reply must carry
# --------------------------------------------------------------------------

V4_MIN_SIZE, V4_MAX_SIZE = 576, 1500
DEFAULT_CODES = {4: (224, 225), 6: (200, 201)}   # (bootstrap-uri, server-certificate)


def write_store(path: Path, entries: list[dict], files: dict | None = None) -> Path:
    """Write a store file {"entries": entries} at `path`.

    `files` maps paths relative to the store's folder (as used in the entries'
    "server-certificate") to source files, which are copied there.
    """
    path = Path(path)
    for rel, src in (files or {}).items():
        dst = path.parent / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"entries": entries}, indent=2))
    return path


@dataclasses.dataclass(frozen=True)
class Entry:
    """What the store holds for one subnet, as bytes on the wire."""
    uri: bytes
    cert_der: bytes | None = None

    @property
    def cert_value(self) -> bytes | None:
        """Certificate option value: 0x04 then the DER."""
        return None if self.cert_der is None else b"\x04" + self.cert_der


def requested_codes(query: Message) -> set[int]:
    """Codes in the client's PRL (v4 option 55) or ORO (v6 option 6)."""
    if query.family == 4:
        return set(query.value(55) or b"")
    oro = query.value(6) or b""
    return {int.from_bytes(oro[i:i + 2], "big") for i in range(0, len(oro), 2)}


def size_limit(query: Message, default: int = V4_MIN_SIZE) -> int | None:
    """DHCPv4 reply size limit: option 57 clamped to 576..1500, else `default`."""
    if query.family != 4:
        return None
    mms = query.value(57)
    if mms is None:
        return default
    return min(max(int.from_bytes(mms, "big"), V4_MIN_SIZE), V4_MAX_SIZE)


def v4_encoded_len(value_len: int) -> int:
    """Bytes an option value of this length takes in DHCPv4 (RFC 3396 split)."""
    parts = max(1, -(-value_len // 255))
    return value_len + 2 * parts


def describe(msg: Message) -> str:
    """Evidence for failure messages: header line and every option in hex."""
    head = (f"DHCPv{msg.family} type {msg.msg_type} xid {msg.xid:#x}, "
            f"IP length {msg.ip_total_length}, {msg.frame.summary()}")
    rows = [f"  {'relay ' if i < len(msg.relay_options) else ''}opt {c:3d} len {len(v):3d}: "
            f"{v[:48].hex()}{'...' if len(v) > 48 else ''}"
            for i, (c, v) in enumerate(msg.relay_options + msg.options)]
    return "\n".join([head] + rows)


def lwm2m_problems(query: Message, reply: Message, entry: Entry | None,
                   codes: tuple[int, int] | None = None, default_max: int = V4_MIN_SIZE,
                   foreign: Iterable[bytes] = ()) -> list[str]:
    """Everything wrong with the LwM2M options of `reply` to `query`.

    `entry` is the store entry of the subnet Kea selected (None: no entry).
    Rules checked: an option only when its code was requested and the entry
    has a value; exact URI bytes; certificate value 0x04+DER; DHCPv4 values
    over 255 bytes split into consecutive same-code options of 255 bytes
    except the last; DHCPv6 one option each, in the client message, never in
    the relay layer; DHCPv4 IP total length <= limit, and the certificate
    left out exactly when it would not fit; no byte string from `foreign`
    (other subnets' values) anywhere in the reply.  Returns [] when all hold.
    """
    codes = codes or DEFAULT_CODES[reply.family]
    wanted = requested_codes(query)
    limit = size_limit(query, default_max)
    expect = {codes[0]: entry.uri if entry else None,
              codes[1]: entry.cert_value if entry else None}
    problems = []
    positions = {c: [i for i, (oc, _) in enumerate(reply.options) if oc == c] for c in codes}
    for code, pos in positions.items():
        parts = [reply.options[i][1] for i in pos]
        if reply.family == 6 and len(parts) > 1:
            problems.append(f"option {code} appears {len(parts)} times")
        if reply.family == 4 and parts:
            if pos != list(range(pos[0], pos[0] + len(pos))):
                problems.append(f"option {code} parts are not consecutive (positions {pos})")
            if any(len(p) != 255 for p in parts[:-1]) or not parts[-1]:
                problems.append(f"option {code} split as {[len(p) for p in parts]}, "
                                "want 255-byte parts and a non-empty last one")
    if reply.family == 4 and 52 in reply.codes():
        problems.append("option overload (52) used: options hidden in sname/file")
    if limit is not None and reply.ip_total_length > limit:
        problems.append(f"IP total length {reply.ip_total_length} > limit {limit}")
    relay_codes = {c for c, _ in reply.relay_options} & set(codes)
    if relay_codes:
        problems.append(f"LwM2M option(s) {sorted(relay_codes)} in the relay layer")

    uri_code, cert_code = codes
    got_uri, got_cert = reply.value(uri_code), reply.value(cert_code)
    want_uri = expect[uri_code] if uri_code in wanted else None
    want_cert = expect[cert_code] if cert_code in wanted else None
    if got_uri != want_uri:
        problems.append(f"bootstrap URI (code {uri_code}) is {got_uri!r}, want {want_uri!r}")
    if want_cert is None:
        if got_cert is not None:
            problems.append(f"certificate (code {cert_code}) present ({len(got_cert)} bytes), "
                            "want none")
    elif got_cert is not None:
        if got_cert != want_cert:
            problems.append(f"certificate (code {cert_code}) differs: got {len(got_cert)} bytes "
                            f"{got_cert[:16].hex()}..., want {len(want_cert)} bytes "
                            f"{want_cert[:16].hex()}...")
    elif limit is None:
        problems.append(f"certificate (code {cert_code}) missing")
    elif reply.ip_total_length + v4_encoded_len(len(want_cert)) <= limit:
        problems.append(f"certificate (code {cert_code}) left out although it fits: "
                        f"{reply.ip_total_length} + {v4_encoded_len(len(want_cert))} <= {limit}")
    for blob in foreign:
        if blob and blob in reply.raw:
            problems.append(f"another subnet's value appears in the reply: {blob[:24]!r}...")
    return problems

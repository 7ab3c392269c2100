"""The lab network: two namespaces joined by a veth pair, and DHCP exchanges
across it.

::

    lwm2m-srv-<pid>-<n>                       lwm2m-cli-<pid>-<n>
    +----------------------------+  veth  +-------------------------------+
    | srv0 192.0.2.1/24          |--------| cli0 192.0.2.2/24             |
    |      fe80::1               |        |      198.51.100.1/24 (relay B)|
    |      2001:db8:1::1/64      |        |      203.0.113.1/24  (relay C)|
    | kea-dhcp4, kea-dhcp6       |        |      fe80::c1, 2001:db8:1::2  |
    +----------------------------+        +-------------------------------+

The client side sends packets from the client namespace, either as raw
Ethernet frames (direct clients) or through an ordinary UDP socket bound to
one of the client namespace's own addresses (relayed DHCPv4 / DHCPv6
RELAY-FORW), and captures the replies on ``cli0`` with an AF_PACKET socket
that is opened before anything is sent.  No packet ever leaves the two
namespaces.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import itertools
import os
import re
import select
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterable, Iterator

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from .dhcp import is_relayed, query_xid, reply_xid

# --------------------------------------------------------------------------
# Lab constants (fixtures are built against these, see make_fixtures.py)
# --------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[1]

SERVER_IF = "srv0"
CLIENT_IF = "cli0"
SERVER_MAC = "02:00:5e:10:00:01"
CLIENT_MAC = "02:00:5e:10:00:02"

SERVER4 = "192.0.2.1"
PEER4 = "192.0.2.3"          # a second server on the lab's link (PeerServer)
BRIDGE_IF = "br0"            # the server namespace's bridge once a peer joins
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


def subnet_marker(key: str) -> str:
    """Domain name Kea sends in subnet `key` (v4 option 15, v6 option 24)."""
    return f"{key.lower()}.lab"


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


def track(obj) -> None:
    """Have `obj.close()` called at interpreter exit unless `untrack`ed first."""
    _live.add(obj)


def untrack(obj) -> None:
    _live.discard(obj)


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

def wait_links_up(links, timeout: float = 5.0) -> None:
    """Wait until every (namespace, device) of `links` reports operational state UP."""
    deadline = time.monotonic() + timeout
    for ns, dev in links:
        while "state UP" not in sh("ip", "-n", ns, "-o", "link", "show", "dev", dev).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{dev} in {ns} did not come up")
            time.sleep(0.02)


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
        track(self)
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
        wait_links_up(((self.srv_ns, SERVER_IF), (self.cli_ns, CLIENT_IF)), timeout)

    def close(self) -> None:
        """Delete both namespaces (and with them the veth pair)."""
        if self._closed:
            return
        self._closed = True
        for ns in (self.srv_ns, self.cli_ns):
            sh("ip", "netns", "del", ns, check=False)
        untrack(self)

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


class PeerServer:
    """A second server namespace on the lab's link (an HA partner, say).

    The lab's server namespace gets a bridge, ``br0``: ``srv0`` becomes one of
    its ports and the bridge takes over SERVER4 (so the server there listens
    on ``br0`` from now on, and the relayed subnets' routes are gone); a veth
    pair joins the bridge to this namespace's own ``srv0``, PEER4/24. A
    client's broadcast reaches both servers, either one's reply reaches the
    client, and the two reach each other over IPv4. ``srv_ns`` is this
    namespace's name (a KeaServer takes it like a Lab). ``close()`` deletes
    the namespace; the bridge goes with the lab's.

    ::

        lwm2m-srv-<pid>-<n>           lwm2m-cli-<pid>-<n>
        br0 192.0.2.1: srv0 ----------- cli0
                       ha0 ---.
                               `------- srv0 192.0.2.3   lwm2m-srv-<pid>-<m>
    """

    def __init__(self, lab: "Lab") -> None:
        self.lab = lab
        self.srv_ns = f"lwm2m-srv-{os.getpid()}-{next(_lab_counter)}"
        self._closed = False
        track(self)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        s, p = self.lab.srv_ns, self.srv_ns
        sh("ip", "netns", "add", p)
        sh("ip", "-n", p, "link", "set", "lo", "up")
        sh("ip", "-n", s, "link", "add", BRIDGE_IF, "type", "bridge", "stp_state", "0", "forward_delay", "0")
        sh("ip", "-n", s, "addr", "del", f"{SERVER4}/24", "dev", SERVER_IF)
        sh("ip", "-n", s, "link", "set", SERVER_IF, "master", BRIDGE_IF)
        sh("ip", "-n", s, "addr", "add", f"{SERVER4}/24", "dev", BRIDGE_IF)
        sh("ip", "-n", s, "link", "add", "ha0", "type", "veth", "peer", "name", SERVER_IF, "netns", p)
        sh("ip", "-n", s, "link", "set", "ha0", "master", BRIDGE_IF)
        sh("ip", "-n", p, "link", "set", SERVER_IF, "addrgenmode", "none")
        sh("ip", "-n", p, "addr", "add", f"{PEER4}/24", "dev", SERVER_IF)
        for ns, dev in ((s, "ha0"), (s, BRIDGE_IF), (p, SERVER_IF)):
            sh("ip", "-n", ns, "link", "set", dev, "up")
        wait_links_up(((s, BRIDGE_IF), (p, SERVER_IF)))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        sh("ip", "netns", "del", self.srv_ns, check=False)
        untrack(self)

    def __enter__(self) -> "PeerServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

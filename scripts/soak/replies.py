"""Replies of the soak (scripts/soak/soak.py): captured with tcpdump in the
client namespace, in windows of a few hundred replies spread over the storm,
then decoded with the lab's plain option walks (never the project's code)
and checked against the versions the storm wrote.  The Ethernet, IP and UDP
headers are skipped by hand: dissecting tens of thousands of frames with
scapy would take minutes; a frame with a problem is dissected with
`lab.decode` for the evidence.
"""

from __future__ import annotations

import collections
import dataclasses
import struct
import subprocess
import threading
from pathlib import Path

import lwm2mlab as lab

# Replies only: from Kea's address and port, to the relay perfdhcp plays.
FILTERS = {4: f"src host {lab.SERVER4} and udp src port 67",
           6: f"ip6 src host {lab.SERVER6} and udp src port 547"}
# DHCPOFFER, DHCPACK; ADVERTISE, REPLY.
REPLY_TYPES = {4: (2, 5), 6: (2, 7)}


class Sampler:
    """Captures windows of `per_window` replies while `active` is set, one
    window every `every` seconds, into `folder`/window-N.pcap."""

    def __init__(self, net: "lab.Lab", family: int, folder: Path, per_window: int, every: float) -> None:
        self.net, self.family, self.folder = net, family, folder
        self.per_window, self.every = per_window, every
        self.files: list[Path] = []
        self.errors: list[str] = []
        self._proc: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def window(self, stop: threading.Event, timeout: float = 10.0) -> None:
        """One window: tcpdump until `per_window` replies or `timeout`."""
        path = self.folder / f"window-{len(self.files)}.pcap"
        argv = ["ip", "netns", "exec", self.net.cli_ns, "tcpdump", "-i", lab.CLIENT_IF, "-p", "-n", "-q",
                "-Z", "root", "-s", "0", "-B", "8192", "-U", "-c", str(self.per_window), "-w", str(path),
                FILTERS[self.family]]
        self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            lab.stop_process(self._proc)      # few replies (a reconfiguration): keep what came
        finally:
            err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
            if self._proc.stderr:
                self._proc.stderr.close()
            if self._proc.returncode not in (0, -15) and "packets captured" not in err:
                self.errors.append(f"tcpdump exited {self._proc.returncode}: {err.strip()[-300:]}")
            self._proc = None
        if path.exists() and path.stat().st_size > 24:
            self.files.append(path)

    def run(self, stop: threading.Event) -> None:
        """Windows until `stop` is set."""
        while not stop.is_set():
            self.window(stop)
            stop.wait(self.every)

    def close(self) -> None:
        if self._proc is not None:
            lab.stop_process(self._proc)


@dataclasses.dataclass
class Verdict:
    """What the captured replies showed."""
    replies: int = 0
    by_version: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    problems: list = dataclasses.field(default_factory=list)   # (kind, evidence), first few of each kind
    counts: collections.Counter = dataclasses.field(default_factory=collections.Counter)

    def add_problem(self, kind: str, evidence: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= 3:
            self.problems.append((kind, evidence))

    @property
    def bad(self) -> int:
        return sum(self.counts.values())


_MAGIC = bytes.fromhex("63825363")


def read_frames(path: Path):
    """The frames of a classic pcap file (what tcpdump -w writes), as bytes."""
    data = path.read_bytes()
    if len(data) < 24:
        return
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
             b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(data[:4])
    if order is None:
        raise ValueError(f"{path.name}: not a classic pcap file")
    at = 24
    while at + 16 <= len(data):
        _, _, caplen, _ = struct.unpack_from(order + "IIII", data, at)
        at += 16
        yield data[at:at + caplen]
        at += caplen


def decode_fast(frame: bytes, family: int) -> tuple[int, list] | None:
    """(message type, client message options) of a reply frame; None when
    it is not a DHCP reply of `family`.  Raises ValueError when it is
    malformed."""
    if family == 4:
        if frame[12:14] != b"\x08\x00":
            return None
        ihl = (frame[14] & 0x0F) * 4
        total = int.from_bytes(frame[16:18], "big")
        msg = frame[14 + ihl + 8:14 + total]
        if len(msg) < 240 or msg[236:240] != _MAGIC:
            raise ValueError("not a DHCP message (no magic cookie)")
        opts = lab.tlv4(msg[240:])
        return next((v[0] for c, v in opts if c == 53 and v), 0), opts
    if frame[12:14] != b"\x86\xdd" or frame[20] != 17:
        return None
    data = frame[62:54 + int.from_bytes(frame[18:20], "big")]
    while data and data[0] in (12, 13):        # RELAY-FORW / RELAY-REPL
        inner = [v for c, v in lab.tlv6(data[34:]) if c == 9]
        if len(inner) != 1:
            raise ValueError(f"relay message with {len(inner)} relay-message options")
        data = inner[0]
    if len(data) < 4:
        raise ValueError("DHCPv6 message shorter than its header")
    return data[0], lab.tlv6(data[4:])


def evidence(frame: bytes) -> str:
    try:
        return lab.describe(lab.decode(frame))
    except (ValueError, IndexError) as err:
        return f"{frame[:64].hex()}...: {err}"


def check(files: list[Path], family: int, storm, codes: tuple[int, int]) -> Verdict:
    """Every reply in `files` must carry exactly one URI option value that a
    good version of `storm` had, and that version's certificate (0x04 + DER)
    in exactly one certificate option (DHCPv4: RFC 3396 parts, concatenated)."""
    uri_code, cert_code = codes
    verdict = Verdict()
    for path in files:
        for frame in read_frames(path):
            try:
                decoded = decode_fast(frame, family)
            except (ValueError, IndexError) as err:
                verdict.add_problem("undecodable", f"{path.name}: {err}")
                continue
            if decoded is None or decoded[0] not in REPLY_TYPES[family]:
                continue
            verdict.replies += 1
            options = decoded[1]
            uris = [v for c, v in options if c == uri_code]
            certs = [v for c, v in options if c == cert_code]
            uri = b"".join(uris) if uris else None       # DHCPv4: RFC 3396 parts joined
            cert = b"".join(certs) if certs else None
            if uri is None or cert is None:
                verdict.add_problem("option missing", evidence(frame))
                continue
            if family == 6 and (len(uris) != 1 or len(certs) != 1):
                verdict.add_problem("option count", evidence(frame))
                continue
            if uri in storm.broken_uris:
                verdict.add_problem("broken version served", uri.decode(errors="replace"))
                continue
            index = storm.good_uris.get(uri)
            if index is None:
                verdict.add_problem("unknown URI", uri[:80].decode(errors="replace"))
                continue
            if cert != b"\x04" + storm.ders[index]:
                owner = next((i for i, der in enumerate(storm.ders) if cert == b"\x04" + der), None)
                verdict.add_problem("mix of two versions" if owner is not None else "certificate bytes wrong",
                                    f"URI {uri.decode()} with certificate {owner} instead of {index}")
                continue
            verdict.by_version[uri] += 1
    return verdict

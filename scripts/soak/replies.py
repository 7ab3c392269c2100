"""Replies of the soak (scripts/soak/soak.py): captured with tcpdump in the
client namespace, in windows of a few hundred replies spread over the storm,
then decoded with the lab's plain option walks (never the project's code)
and checked against the versions the storm wrote.
"""

from __future__ import annotations

import collections
import dataclasses
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


def check(files: list[Path], family: int, storm, codes: tuple[int, int]) -> Verdict:
    """Every reply in `files` must carry exactly one URI option value that a
    good version of `storm` had, and that version's certificate (0x04 + DER)
    in exactly one certificate option (DHCPv4: RFC 3396 parts, concatenated)."""
    uri_code, cert_code = codes
    verdict = Verdict()
    for path in files:
        for frame in lab.read_pcap(path):
            try:
                msg = lab.decode4(frame) if family == 4 else lab.decode6(frame)
            except (ValueError, IndexError) as err:
                verdict.add_problem("undecodable", f"{path.name}: {err}")
                continue
            if msg.msg_type not in REPLY_TYPES[family]:
                continue
            verdict.replies += 1
            uri, cert = msg.value(uri_code), msg.value(cert_code)
            if uri is None or cert is None:
                verdict.add_problem("option missing", lab.describe(msg))
                continue
            if family == 6 and (len(msg.values(uri_code)) != 1 or len(msg.values(cert_code)) != 1):
                verdict.add_problem("option count", lab.describe(msg))
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

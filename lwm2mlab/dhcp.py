"""DHCP frames as the lab sees them: relayed or not, DHCPv4/DHCPv6 option
walks, `Message` (a decoded query or reply), transaction ids, pcap files.

Decoding is done with scapy for the IP/UDP layers and plain TLV walks for the
DHCP options, never with the project's own code.
"""

from __future__ import annotations

import dataclasses

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether


def is_relayed(frame: Ether) -> bool:
    """DHCPv4 with giaddr set, or a DHCPv6 RELAY-FORW."""
    payload = bytes(frame[UDP].payload)
    if IP in frame:
        return payload[24:28] != b"\0\0\0\0"
    return payload[0] == 12


def dhcp4_message(frame: Ether) -> bytes:
    """The BOOTP/DHCP message (UDP payload) of a DHCPv4 frame."""
    return bytes(frame[UDP].payload)


def tlv4(data: bytes, strict: bool = True) -> list[tuple[int, bytes]]:
    """Walk DHCPv4 options (pad/end aware); every occurrence is kept, in order.
    An option running past the end raises, or with `strict=False` ends the
    walk there, as Kea reads a query (it ignores such a tail)."""
    out, i = [], 0
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            if not strict:
                break
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


def describe(msg: Message) -> str:
    """Evidence for failure messages: header line and every option in hex."""
    head = (f"DHCPv{msg.family} type {msg.msg_type} xid {msg.xid:#x}, "
            f"IP length {msg.ip_total_length}, {msg.frame.summary()}")
    rows = [f"  {'relay ' if i < len(msg.relay_options) else ''}opt {c:3d} len {len(v):3d}: "
            f"{v[:48].hex()}{'...' if len(v) > 48 else ''}"
            for i, (c, v) in enumerate(msg.relay_options + msg.options)]
    return "\n".join([head] + rows)


def read_pcap(path) -> list[Ether]:
    """Frames of a pcap file."""
    from scapy.utils import rdpcap
    return [Ether(bytes(p)) for p in rdpcap(str(path))]

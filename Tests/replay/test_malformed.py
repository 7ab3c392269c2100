"""Malformed and hostile queries into real Kea with the hook.

Thousands of mutated DHCPv4 DISCOVER / REQUEST / INFORM and DHCPv6 SOLICIT /
REQUEST / INFORMATION-REQUEST messages that carry the LwM2M codes go through
the lab into kea-dhcp4 and kea-dhcp6 of the version under test, with the hook
on the suite store plus host entries (so the hook also reads the hardware
address, client-id and DUID of every query).  The mutations (`MUTATIONS4`,
`MUTATIONS6`) are drawn from a seeded RNG: PRL/ORO absent, empty, 255 codes,
duplicated codes, odd length; option 57 of 0, 1 and 3 octets, values 0, 1,
575, 576, 65535, present twice; chaddr with hlen > 16 and odd htypes;
client-id / DUID of 1 and 255 octets; RFC 3396 split PRL, option 57 and
client-id; DHCPv4 relays (giaddr, hops up to 255, relay-agent-info) and DHCPv6
RELAY-FORW chains up to 32 deep (and beyond); truncated packets and random
bytes flipped in the options.

Asserted: Kea keeps its PID and answers a well-formed control query in every
batch; every reply decodes (scapy and a strict TLV walk) and carries the LwM2M
options the reference model (lwm2mlab/model.py) expects for the query as
sent -- exact bytes, RFC 3396 parts in DHCPv4, within the client's size limit
-- or none where the model says so (NAK, no entry, not requested); no reply
to an xid that was never sent, none twice; after the storm every fixture is
served as before; the log has no callout failure (HOOKS_CALLOUT_*,
LWM2M_CALLOUT_FAILED) nor any other hook ERROR/WARN.

    KEA_LWM2M_MALFORMED_SEED=N    reproduce a run (the seed is printed, and
                                  named in every failure)
    KEA_LWM2M_MALFORMED_COUNT=N   mutated queries per family (default 1500)

A long run of one seed, with the table of queries sent and answered per kind:

    KEA_LWM2M_MALFORMED_SEED=1 KEA_LWM2M_MALFORMED_COUNT=20000 python3 -m pytest Tests/replay/test_malformed.py -s
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import secrets
import select
import socket
import struct
import time
from collections import Counter

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import DHCP6_Advertise, DHCP6_RelayReply, DHCP6_Reply
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, defragment6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import lwm2mlab as lab
import make_fixtures as mf
from conftest import URIS, snapshot_of

SEED = int(os.environ.get("KEA_LWM2M_MALFORMED_SEED") or secrets.randbits(32))
COUNT = int(os.environ.get("KEA_LWM2M_MALFORMED_COUNT", "1500"))
BATCH = 48                      # queries sent back to back, then the replies are read
QUIET = 0.25                    # a batch is done when nothing came for this long
CONTROL_WAIT = 5.0              # ... and its control query is answered, or after this

MAGIC = bytes.fromhex("63825363")
V4_CODES, V6_CODES = lab.DEFAULT_CODES[4], lab.DEFAULT_CODES[6]

# Host entries added to the suite store: the hook reads chaddr, client-id and DUID.
HOST_MAC = bytes.fromhex("024c574d0f00")          # client 0 of the mutated DHCPv4 clients
HOST_CLIENT_ID = bytes.fromhex("ff00000f01") + bytes(range(16))  # RFC 4361 style, 21 octets
HOST_DUID = bytes.fromhex("00030001024c574d0f00")  # DUID-LL of client 0
HOST_URIS = {"hw": "coaps://host-hw.example:5684", "cid": "coaps://host-cid.example:5684",
             "duid": "coaps://host-duid.example:5684"}
FLIP_VALUES = [v for v in range(256) if v != 82]
CLIENTS = 32                    # distinct clients (leases stay far below the pools)


def _hex(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


# --------------------------------------------------------------------------
# The store and the servers
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def storm_servers(hook, suite, tmp_path_factory):
    """kea-dhcp4 and kea-dhcp6 with the hook on the suite store plus host
    entries; Kea logs at INFO (packets are not logged one by one)."""
    directory = tmp_path_factory.mktemp("malformed")
    store = suite.write_store(directory)
    doc = json.loads(store.read_text())
    doc["entries"] += [
        {"host": {"hw-address": _hex(HOST_MAC)}, "bootstrap-uri": HOST_URIS["hw"],
         "server-certificate": "certs/small.pem"},
        {"host": {"client-id": _hex(HOST_CLIENT_ID)}, "bootstrap-uri": HOST_URIS["cid"],
         "server-certificate": "certs/small.pem"},
        {"host": {"duid": _hex(HOST_DUID)}, "bootstrap-uri": HOST_URIS["duid"],
         "server-certificate": "certs/small.pem"},
    ]
    store.write_text(json.dumps(doc, indent=2))
    print(f"\nmalformed-packet storm: seed {SEED} (KEA_LWM2M_MALFORMED_SEED), "
          f"{COUNT} queries per family, {lab.kea_under_test().describe()}")
    with lab.Lab() as net, \
            QuietKea(net, 4, suite.body(4, hook, store)) as k4, \
            QuietKea(net, 6, suite.body(6, hook, store)) as k6:
        yield net, {4: k4, 6: k6}


class QuietKea(lab.KeaServer):
    """A KeaServer whose log has INFO and above only: thousands of packets
    logged at DEBUG/99 would measure the logger, not the hook."""

    def full_config(self, body: dict) -> dict:
        cfg = super().full_config(body)
        for logger in cfg[self.top]["loggers"]:
            logger["severity"], logger["debuglevel"] = "INFO", 0
        return cfg


# --------------------------------------------------------------------------
# One mutated query and what the model expects of the reply
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    """One query: its kind, the mutations applied, the frame, how it is sent."""
    family: int
    kind: str
    xid: int | None             # None: too short to carry one
    mutations: list
    frame: Ether
    subnet: str                 # lab subnet Kea selects for it
    relay: tuple | None = None  # (address, port) of the UDP socket that sends it
    control: bool = False

    def label(self) -> str:
        xid = "-" if self.xid is None else f"{self.xid:#x}"
        return f"{self.kind} xid {xid} [{', '.join(self.mutations) or 'well-formed'}] seed {SEED}"


def model_view4(payload: bytes) -> lab.Message:
    """The query as the model reads it (RFC 3396: all instances concatenated)."""
    opts = lab.tlv4(payload[240:], strict=False)
    mtype = next((v[0] for c, v in opts if c == 53 and v), 0)
    return lab.Message(4, mtype, int.from_bytes(payload[4:8], "big"), opts, [], 0, payload,
                       Ether())


def tlv6_lenient(data: bytes) -> list:
    """DHCPv6 options as Kea reads them: stop at an option running past the end."""
    out, i = [], 0
    while i + 4 <= len(data):
        code, length = struct.unpack("!HH", data[i:i + 4])
        if i + 4 + length > len(data):
            break
        out.append((code, data[i + 4:i + 4 + length]))
        i += 4 + length
    return out


def inner6(payload: bytes) -> bytes:
    """The client message inside any number of RELAY-FORW layers."""
    while payload and payload[0] == 12:
        payload = next((v for c, v in tlv6_lenient(payload[34:]) if c == 9), b"")
    return payload


def model_view6(payload: bytes) -> lab.Message:
    msg = inner6(payload)
    return lab.Message(6, msg[0] if msg else 0, int.from_bytes(msg[1:4], "big"),
                       tlv6_lenient(msg[4:]), [], 0, payload, Ether())


def expected_entry(suite, case: Case, query: lab.Message) -> lab.Entry | None:
    """Host entries first (hw-address, then client-id; DUID), then the subnet's.
    hw-address matches chaddr of that length whatever the hardware type."""
    cert = suite.certs["small"].der
    if case.family == 4:
        raw = query.raw
        hlen = raw[2]
        if hlen == 6 and raw[28:34] == HOST_MAC:      # whatever the hardware type
            return lab.Entry(HOST_URIS["hw"].encode(), cert)
        if query.value(61) == HOST_CLIENT_ID:
            return lab.Entry(HOST_URIS["cid"].encode(), cert)
    elif query.values(1) == [HOST_DUID]:
        return lab.Entry(HOST_URIS["duid"].encode(), cert)
    return suite.entry(case.subnet)


# --------------------------------------------------------------------------
# DHCPv4: building and mutating
# --------------------------------------------------------------------------

def opt4(code: int, value: bytes) -> list:
    return [(code, value)]


def split4(code: int, value: bytes, rng: random.Random) -> list:
    """`value` as 2 or 3 consecutive options of `code` (RFC 3396 in a query)."""
    if len(value) < 2:
        return [(code, value), (code, b"")]
    cuts = sorted(rng.sample(range(1, len(value)), min(2, len(value) - 1)))
    bounds = [0, *cuts, len(value)]
    return [(code, value[a:b]) for a, b in zip(bounds, bounds[1:])]


def encode4(options: list) -> bytes:
    return b"".join(bytes([c, len(v)]) + v for c, v in options) + b"\xff"


def bootp4(xid: int, chaddr: bytes, hlen: int = 6, htype: int = 1, hops: int = 0,
           flags: int = 0x8000, ciaddr: str = "0.0.0.0", giaddr: str = "0.0.0.0") -> bytes:
    return (struct.pack("!BBBBIHH", 1, htype, hlen, hops, xid, 0, flags)
            + socket.inet_aton(ciaddr) + bytes(4) + bytes(4) + socket.inet_aton(giaddr)
            + chaddr.ljust(16, b"\0")[:16] + bytes(64) + bytes(128) + MAGIC)


def prl_variant(rng: random.Random, mut: list) -> list | None:
    """Option 55 as a list of (code, value) options, or None for none."""
    both = bytes(mf.PRL_BASE + list(V4_CODES))
    roll = rng.random()
    if roll < 0.10:
        mut.append("prl-absent")
        return None
    if roll < 0.20:
        mut.append("prl-empty")
        return opt4(55, b"")
    if roll < 0.30:
        mut.append("prl-255-codes")
        codes = list(range(1, 256))
        rng.shuffle(codes)
        return opt4(55, bytes(codes))
    if roll < 0.40:
        mut.append("prl-duplicated")
        return opt4(55, both + bytes(V4_CODES) * rng.randint(1, 30))
    if roll < 0.50:
        mut.append("prl-split")
        return split4(55, both, rng)
    if roll < 0.60:
        mut.append("prl-one-code")
        return opt4(55, bytes([rng.choice(V4_CODES)]))
    if roll < 0.70:
        mut.append("prl-random")
        return opt4(55, bytes(rng.randrange(256) for _ in range(rng.randint(1, 60))))
    return opt4(55, both)


def mms_variant(rng: random.Random, mut: list) -> list:
    """Option 57: absent, malformed or one of the edge values."""
    roll = rng.random()
    if roll < 0.15:
        return []
    if roll < 0.35:
        n = rng.choice([0, 1, 3])
        mut.append(f"mms-len{n}")
        return opt4(57, bytes(rng.randrange(256) for _ in range(n)))
    if roll < 0.45:
        mut.append("mms-twice")
        return opt4(57, struct.pack("!H", rng.choice([576, 1500, 65535]))) + \
            opt4(57, struct.pack("!H", rng.choice([0, 576, 1500])))
    if roll < 0.50:
        mut.append("mms-split")
        return [(57, struct.pack("!H", 1500)[:1]), (57, struct.pack("!H", 1500)[1:])]
    value = rng.choice([0, 1, 575, 576, 577, 1024, 1400, 1500, 1501, 65535])
    mut.append(f"mms-{value}")
    return opt4(57, struct.pack("!H", value))


def client_id_variant(rng: random.Random, mut: list, n: int) -> list:
    roll = rng.random()
    if roll < 0.55:
        return []
    if roll < 0.65:
        mut.append("client-id-1")
        return opt4(61, bytes([rng.randrange(256)]))
    if roll < 0.75:
        mut.append("client-id-255")
        return opt4(61, bytes(rng.randrange(256) for _ in range(255)))
    if roll < 0.80:
        mut.append("client-id-0")
        return opt4(61, b"")
    if roll < 0.87:
        mut.append("client-id-split")
        return split4(61, HOST_CLIENT_ID, rng)
    if roll < 0.95:
        mut.append("client-id-host")
        return opt4(61, HOST_CLIENT_ID)
    return opt4(61, b"\x01" + bytes.fromhex(f"024c574d0f{n:02x}"))


def relay_agent_info(rng: random.Random) -> bytes:
    """Option 82 value: circuit-id, remote-id and subscriber-id of random
    octets and lengths.  (Kea 2.2 echoes some other sub-option codes into a
    reply whose option 82 runs past the end of the message, with or without
    the hook: see docs/reliability.md.)"""
    subs = [(1, b"port-" + bytes([rng.randrange(48, 58)]))]
    subs += [(rng.choice([1, 2, 6]), bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))))
             for _ in range(rng.randint(0, 4))]
    value = b"".join(bytes([c, len(v)]) + v for c, v in subs)
    return value[:255]


def make_case4(rng: random.Random, xid: int) -> Case:
    kind = rng.choice(["discover", "request", "inform"])
    mut: list = []
    n = rng.randrange(CLIENTS)
    chaddr, hlen, htype = bytes.fromhex(f"024c574d0f{n:02x}"), 6, 1
    if rng.random() < 0.15:
        hlen = rng.randint(17, 255)
        chaddr = bytes(rng.randrange(256) for _ in range(16))
        mut.append(f"hlen-{hlen}")
    elif rng.random() < 0.05:
        htype, hlen = rng.choice([(0, 0), (6, 6), (32, 16), (255, rng.randint(0, 16))])
        mut.append(f"htype-{htype}-hlen-{hlen}")
    relay = None
    subnet = "A"
    if rng.random() < 0.25:
        subnet = rng.choice("BC")
        relay = lab.RELAY4[subnet]
    prefix = lab.SUBNETS[4][subnet][0].rsplit(".", 1)[0]
    ciaddr = f"{prefix}.{120 + n}" if kind == "inform" else "0.0.0.0"
    options = opt4(53, bytes([{"discover": 1, "request": 3, "inform": 8}[kind]]))
    if kind == "request":
        options += opt4(50, socket.inet_aton(f"{prefix}.{120 + n}"))
        if rng.random() < 0.7:
            options += opt4(54, socket.inet_aton(lab.SERVER4))
    options += client_id_variant(rng, mut, n)
    options += mms_variant(rng, mut)
    prl = prl_variant(rng, mut)
    hops = 0
    if relay:
        hops = rng.choice([1, 1, 2, 16, 17, 32, 255])
        mut.append(f"relay-hops-{hops}")
        if rng.random() < 0.5:
            mut.append("relay-agent-info")
            prl = (prl or []) + opt4(82, relay_agent_info(rng))
    if prl:
        if rng.random() < 0.3:
            mut.append("shuffled")
            prl = prl + options[1:]
            rng.shuffle(prl)
            options = options[:1]
        options += prl
    payload = bootp4(xid, chaddr, hlen, htype, hops, flags=0 if relay else 0x8000,
                     ciaddr=ciaddr, giaddr=relay or "0.0.0.0") + encode4(options)
    # No octet flipped where option 82 is, or could appear: Kea 2.2 echoes
    # some relay-agent-info sub-options into a malformed reply by itself.
    payload = havoc(rng, payload, 240, mut, flips="relay-agent-info" not in mut)
    if relay:
        frame = (Ether(src=lab.CLIENT_MAC, dst=lab.SERVER_MAC) / IP(src=relay, dst=lab.SERVER4)
                 / UDP(sport=67, dport=67) / Raw(payload))
        via = (relay, 67)
    else:
        src_ip = ciaddr if kind == "inform" else "0.0.0.0"
        frame = (Ether(src=bytes.fromhex(f"024c574d0f{n:02x}"), dst="ff:ff:ff:ff:ff:ff")
                 / IP(src=src_ip, dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(payload))
        via = None
    return Case(4, kind, xid if len(payload) >= 8 else None, mut, frame, subnet, via)


def havoc(rng: random.Random, payload: bytes, start: int, mut: list, flips: bool = True) -> bytes:
    """Sometimes truncate the message, or overwrite a few bytes after `start`
    (`flips`; never with 82, the relay-agent-info code)."""
    roll = rng.random()
    if roll < 0.10:
        cut = rng.choice([rng.randrange(0, start), rng.randrange(start, len(payload))])
        mut.append(f"truncated-{cut}")
        return payload[:cut]
    if roll < 0.18 and flips and len(payload) > start:
        data = bytearray(payload)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(start, len(data))] = rng.choice(FLIP_VALUES)
        mut.append("bytes-flipped")
        return bytes(data)
    return payload


def control4(xid: int) -> Case:
    """A well-formed DISCOVER asking for both options with option 57 = 1500."""
    options = opt4(53, b"\x01") + opt4(57, struct.pack("!H", 1500)) + \
        opt4(55, bytes(mf.PRL_BASE + list(V4_CODES)))
    payload = bootp4(xid, bytes.fromhex("024c574d0e01")) + encode4(options)
    frame = (Ether(src="02:4c:57:4d:0e:01", dst="ff:ff:ff:ff:ff:ff")
             / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(payload))
    return Case(4, "discover", xid, [], frame, "A", control=True)


# --------------------------------------------------------------------------
# DHCPv6: building and mutating
# --------------------------------------------------------------------------

def opt6(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def oro_variant(rng: random.Random, mut: list) -> bytes:
    both = struct.pack(f"!{len(mf.ORO_BASE) + 2}H", *mf.ORO_BASE, *V6_CODES)
    roll = rng.random()
    if roll < 0.10:
        mut.append("oro-absent")
        return b""
    if roll < 0.20:
        mut.append("oro-empty")
        return opt6(6, b"")
    if roll < 0.30:
        mut.append("oro-255-codes")
        codes = rng.sample(range(1, 300), 253) + list(V6_CODES)
        rng.shuffle(codes)
        return opt6(6, struct.pack(f"!{len(codes)}H", *codes))
    if roll < 0.40:
        mut.append("oro-duplicated")
        return opt6(6, both + struct.pack("!2H", *V6_CODES) * rng.randint(1, 30))
    if roll < 0.50:
        mut.append("oro-odd-length")
        return opt6(6, both + bytes([rng.randrange(256)]))
    if roll < 0.58:
        mut.append("oro-one-code")
        return opt6(6, struct.pack("!H", rng.choice(V6_CODES)))
    if roll < 0.65:
        mut.append("oro-random")
        return opt6(6, bytes(rng.randrange(256) for _ in range(2 * rng.randint(1, 40))))
    return opt6(6, both)


def duid_variant(rng: random.Random, mut: list, n: int) -> bytes:
    roll = rng.random()
    if roll < 0.10:
        mut.append("duid-1")
        return opt6(1, bytes([rng.randrange(256)]))
    if roll < 0.20:
        mut.append("duid-255")
        return opt6(1, bytes(rng.randrange(256) for _ in range(255)))
    if roll < 0.25:
        mut.append("duid-absent")
        return b""
    if roll < 0.35:
        mut.append("duid-host")
        return opt6(1, HOST_DUID)
    return opt6(1, bytes.fromhex(f"00030001024c574d0f{n:02x}"))


def relay_chain6(rng: random.Random, message: bytes, depth: int, link: str) -> bytes:
    """`message` inside `depth` RELAY-FORW layers (the outermost sent by the lab's relay)."""
    for hop in range(depth):
        options = opt6(9, message)
        if rng.random() < 0.3:
            options = opt6(18, b"if-" + str(hop).encode()) + options     # interface-id
        message = (bytes([12, depth - 1 - hop]) + socket.inet_pton(socket.AF_INET6, link)
                   + socket.inet_pton(socket.AF_INET6, f"fe80::4c57:{hop + 1:x}") + options)
    return message


def make_case6(rng: random.Random, xid: int) -> Case:
    kind = rng.choice(["solicit", "request", "information-request"])
    mut: list = []
    n = rng.randrange(CLIENTS)
    mtype = {"solicit": 1, "request": 3, "information-request": 11}[kind]
    body = duid_variant(rng, mut, n)
    if kind == "request":
        body += opt6(2, lab.SERVER_DUID)
    subnet = "A"
    depth = 0
    if rng.random() < 0.35:
        subnet = rng.choice("ABC")
        depth = rng.choice([1, 2, 3, 8, 16, 31, 32, 32, 33, 40])
        mut.append(f"relay-depth-{depth}")
    prefix = lab.SUBNETS[6][subnet][0].split("::")[0]
    if kind != "information-request":
        ia = struct.pack("!III", n, 0, 0)
        if kind == "request":
            ia += opt6(5, socket.inet_pton(socket.AF_INET6, f"{prefix}::{0x120 + n:x}") + bytes(8))
        body += opt6(3, ia)
    body += opt6(8, b"\0\0")
    oro = oro_variant(rng, mut)
    parts = [body, oro]
    if rng.random() < 0.2:
        mut.append("oro-first")
        parts.reverse()
    message = bytes([mtype]) + xid.to_bytes(3, "big") + b"".join(parts)
    message = havoc(rng, message, 4, mut)
    if depth:
        link = f"{prefix}::1"
        payload = relay_chain6(rng, message, depth, link)
        frame = (Ether(src=lab.CLIENT_MAC, dst=lab.SERVER_MAC)
                 / IPv6(src=lab.CLIENT6, dst=lab.SERVER6, hlim=64) / UDP(sport=547, dport=547)
                 / Raw(payload))
        via = (lab.CLIENT6, 547)
    else:
        frame = (Ether(src=bytes.fromhex(f"024c574d0f{n:02x}"), dst="33:33:00:01:00:02")
                 / IPv6(src=lab.CLIENT6_LL, dst="ff02::1:2", hlim=1) / UDP(sport=546, dport=547)
                 / Raw(message))
        via = None
    return Case(6, kind, xid if len(message) >= 4 else None, mut, frame, subnet, via)


def control6(xid: int) -> Case:
    oro = struct.pack(f"!{len(mf.ORO_BASE) + 2}H", *mf.ORO_BASE, *V6_CODES)
    message = (bytes([1]) + xid.to_bytes(3, "big") + opt6(1, bytes.fromhex("00030001024c574d0e01"))
               + opt6(3, struct.pack("!III", 1, 0, 0)) + opt6(8, b"\0\0") + opt6(6, oro))
    frame = (Ether(src="02:4c:57:4d:0e:01", dst="33:33:00:01:00:02")
             / IPv6(src=lab.CLIENT6_LL, dst="ff02::1:2", hlim=1) / UDP(sport=546, dport=547)
             / Raw(message))
    return Case(6, "solicit", xid, [], frame, "A", control=True)


# --------------------------------------------------------------------------
# Sending and checking
# --------------------------------------------------------------------------

def reply_of(frame: Ether, family: int) -> lab.Message | None:
    """A server reply on the lab link, decoded; None for anything else."""
    if UDP not in frame:
        return None
    if family == 4 and IP in frame and frame[UDP].sport == 67 and frame[UDP].dport in (67, 68):
        payload = bytes(frame[UDP].payload)
        return lab.decode(frame) if payload[:1] == b"\x02" else None
    if family == 6 and IPv6 in frame and frame[UDP].sport == 547 and frame[UDP].dport in (546, 547):
        payload = bytes(frame[UDP].payload)
        return lab.decode(frame) if payload[:1] in (b"\x02", b"\x07", b"\x0d") else None
    return None


def scapy_decodes(frame: Ether, family: int) -> bool:
    """scapy's own dissector reads the reply as a DHCP message."""
    frame = Ether(bytes(frame))
    if family == 4:
        return BOOTP in frame and DHCP in frame and frame[BOOTP].op == 2
    return any(layer in frame for layer in (DHCP6_Advertise, DHCP6_Reply, DHCP6_RelayReply))


def reassembled(fragments: dict, frame: Ether) -> Ether | None:
    """Collect an IPv6 fragment (a DHCPv6 reply to a long relay chain can
    exceed the link MTU); the whole frame once every fragment is in."""
    key = frame[IPv6ExtHdrFragment].id
    parts = fragments.setdefault(key, [])
    parts.append(frame)
    parts.sort(key=lambda f: f[IPv6ExtHdrFragment].offset)
    end = 0
    for part in parts:
        header = part[IPv6ExtHdrFragment]
        if header.offset * 8 != end:
            return None
        end += len(bytes(header.payload))
    if parts[-1][IPv6ExtHdrFragment].m:
        return None
    del fragments[key]
    whole = defragment6([f[IPv6] for f in parts])
    return Ether(src=frame.src, dst=frame.dst) / whole


def storm(net: lab.Lab, cases: list, family: int, undecodable: list) -> dict:
    """Send the cases in batches; return {xid: [(frame, Message)]} for every
    reply seen (also to xids never sent).  Server replies that do not decode
    go to `undecodable`."""
    replies: dict = {}
    fragments: dict = {}
    cap = net.capture_socket()
    socks: dict = {}
    try:
        for start in range(0, len(cases), BATCH):
            for case in cases[start:start + BATCH]:
                if case.relay is None:
                    cap.send(bytes(case.frame))
                    continue
                if case.relay not in socks:
                    fam = socket.AF_INET if family == 4 else socket.AF_INET6
                    sock = net.client_socket(fam, socket.SOCK_DGRAM)
                    sock.bind(case.relay)
                    socks[case.relay] = sock
                dst = (lab.SERVER4, 67) if family == 4 else (lab.SERVER6, 547)
                socks[case.relay].sendto(bytes(case.frame[UDP].payload), dst)
            # The batch is done when its control query has its reply and
            # nothing came for QUIET seconds (CONTROL_WAIT at most: a busy
            # machine may delay Kea).
            controls = [c.xid for c in cases[start:start + BATCH] if c.control]
            last = begun = time.monotonic()
            while time.monotonic() - begun < CONTROL_WAIT:
                answered = all(x in replies for x in controls)
                if answered and time.monotonic() - last >= QUIET:
                    break
                if not select.select([cap], [], [], QUIET)[0]:
                    continue
                data, addr = cap.recvfrom(65535)
                if addr[2] == 4:          # PACKET_OUTGOING: our own queries
                    continue
                frame = Ether(data)
                if IPv6ExtHdrFragment in frame:
                    frame = reassembled(fragments, frame)
                    if frame is None:
                        continue
                try:
                    msg = reply_of(frame, family)
                except (ValueError, IndexError, StopIteration) as err:
                    undecodable.append(f"{err}: {data.hex()}")
                    continue
                if msg is not None:
                    replies.setdefault(msg.xid, []).append((frame, msg))
                    last = time.monotonic()
    finally:
        cap.close()
        for sock in socks.values():
            sock.close()
    return replies


REPLY_TYPES = {4: {"discover": {2}, "request": {5, 6}, "inform": {5}},
               6: {"solicit": {2, 7}, "request": {7}, "information-request": {7}}}


def check_reply(suite, case: Case, frame: Ether, reply: lab.Message) -> list[str]:
    """Everything wrong with one reply to one case ([] when it is right)."""
    problems = []
    if not scapy_decodes(frame, case.family):
        problems.append("scapy does not decode the reply as DHCP")
    payload = bytes(case.frame[UDP].payload)
    query = model_view4(payload) if case.family == 4 else model_view6(payload)
    # The reply type Kea chose for the message type it read.
    kind = {1: "discover", 3: "request", 8: "inform"} if case.family == 4 else \
        {1: "solicit", 3: "request", 11: "information-request"}
    read_kind = kind.get(query.msg_type)
    if read_kind is None or reply.msg_type not in REPLY_TYPES[case.family][read_kind]:
        problems.append(f"reply type {reply.msg_type} to query type {query.msg_type}")
    codes = V4_CODES if case.family == 4 else V6_CODES
    if reply.msg_type == 6:       # NAK: never an LwM2M option
        if set(codes) & set(reply.codes()):
            problems.append("LwM2M option in a DHCPNAK")
        return problems
    marker = lab.selected_subnet(reply)
    if marker not in (None, case.subnet):
        problems.append(f"subnet {marker} selected, want {case.subnet}")
    entry = expected_entry(suite, case, query)
    uris = [u.encode() for u in [*URIS.values(), *HOST_URIS.values()]]
    foreign = [u for u in uris if entry is None or u != entry.uri]
    problems += lab.lwm2m_problems(query, reply, entry, foreign=foreign)
    return problems


def run_storm(net, kea, suite, family: int) -> tuple[Counter, Counter]:
    rng = random.Random(SEED * 10 + family)
    make = make_case4 if family == 4 else make_case6
    control = control4 if family == 4 else control6
    xid_base = 0x5A000000 if family == 4 else 0x5A0000
    cases: list = []
    for i in range(COUNT):
        if i % (BATCH - 1) == 0:
            cases.append(control(xid_base + len(cases)))
        cases.append(make(rng, xid_base + len(cases)))
    pid = kea.pid
    failures: list = []
    replies = storm(net, cases, family, failures)
    assert kea.alive() and kea.pid == pid, f"Kea died (seed {SEED}):\n{kea.output_tail()}"

    sent, answered = Counter(), Counter()
    by_xid = {c.xid: c for c in cases if c.xid is not None}
    for xid, got in replies.items():
        if xid not in by_xid:
            failures.append(f"reply to xid {xid:#x}, which was never sent")
    for case in cases:
        got = replies.get(case.xid, []) if case.xid is not None else []
        tags = ["control"] if case.control else [case.kind] + sorted({tag_of(m) for m in case.mutations})
        for tag in tags:
            sent[tag] += 1
            answered[tag] += bool(got)
        if case.control and not got:
            failures.append(f"control query unanswered: {case.label()}")
        if len(got) > 1:
            failures.append(f"{len(got)} replies to {case.label()}")
        for frame, reply in got[:1]:
            problems = check_reply(suite, case, frame, reply)
            if problems:
                failures.append(f"{case.label()}:\n  " + "\n  ".join(problems) + "\n"
                                + lab.describe(reply))
    report(family, sent, answered)
    assert not failures, f"{len(failures)} bad replies (seed {SEED}):\n" + "\n".join(failures[:10])
    return sent, answered


def tag_of(mutation: str) -> str:
    """The mutation's name in the report: sizes and counts that vary are dropped."""
    if mutation.startswith(("relay-hops", "hlen", "truncated", "htype")):
        return re.sub(r"(-\d+)+$", "", mutation)
    return mutation


def report(family: int, sent: Counter, answered: Counter) -> None:
    kinds = ["discover", "request", "inform"] if family == 4 else \
        ["solicit", "request", "information-request"]
    rows = [f"DHCPv{family} storm, {lab.kea_under_test().describe()}, seed {SEED}:"]
    for tag in kinds + ["control"] + sorted(set(sent) - set(kinds) - {"control"}):
        rows.append(f"  {tag:24s} sent {sent[tag]:5d}  answered {answered[tag]:5d}")
    print("\n".join(rows))


def hook_complaints(kea: lab.KeaServer) -> list[str]:
    """Log lines of a failed callout, or a hook ERROR/WARN."""
    bad = []
    for line in kea.log().splitlines():
        if "HOOKS_CALLOUT_" in line or "LWM2M_CALLOUT_FAILED" in line:
            bad.append(line)
        elif " LWM2M_" in line and (" ERROR " in line[:60] or " WARN " in line[:60]):
            bad.append(line)
    return bad


@pytest.mark.parametrize("family", [4, 6])
def test_malformed_queries(family, storm_servers, suite):
    """Thousands of mutated queries: Kea alive, every reply right, no callout failure."""
    net, servers = storm_servers
    kea = servers[family]
    run_storm(net, kea, suite, family)
    assert not hook_complaints(kea), f"seed {SEED}:\n" + "\n".join(hook_complaints(kea)[:10])


@pytest.mark.parametrize("family", [4, 6])
def test_served_after_storm(family, storm_servers, suite):
    """After the storm, every fixture is served exactly as the model says."""
    net, servers = storm_servers
    snapshot_of(net, suite, family)()
    assert servers[family].alive()


# --------------------------------------------------------------------------
# Found by the storm: DHCPv4 options the client split or sized oddly
# --------------------------------------------------------------------------

def discover4(xid: int, options: list) -> Ether:
    """A direct DISCOVER (client 0x0e02) with exactly these options, in order."""
    payload = bootp4(xid, bytes.fromhex("024c574d0e02")) + encode4(opt4(53, b"\x01") + options)
    return (Ether(src="02:4c:57:4d:0e:02", dst="ff:ff:ff:ff:ff:ff")
            / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / Raw(payload))


BOTH_PRL = bytes(mf.PRL_BASE + list(V4_CODES))
MMS_1500 = struct.pack("!H", 1500)

ODD_QUERIES = {
    # id: (options, the certificate fits: limit 1500, not 576)
    # RFC 3396: the PRL in three instances asks for both codes (Kea 2.2 and
    # 2.6 fuse them into an empty option: nothing was served).
    "prl-split-in-three": ([(55, BOTH_PRL[:5]), (55, BOTH_PRL[5:6]), (55, BOTH_PRL[6:]),
                            (57, MMS_1500)], True),
    # Option 57 of three octets is no two-octet value: the default limit
    # (every Kea read 1500 from its first two octets).
    "mms-three-octets": ([(57, MMS_1500 + b"\0"), (55, BOTH_PRL)], False),
    # Option 57 twice: four octets once joined, no limit either (Kea 3.0 read
    # the first instance).
    "mms-twice": ([(57, MMS_1500), (57, MMS_1500), (55, BOTH_PRL)], False),
    # The PRL and option 57 split, between other options.
    "both-split": ([(55, BOTH_PRL[:3]), (57, MMS_1500[:1]), (55, BOTH_PRL[3:]),
                    (57, MMS_1500[1:])], True),
}


@pytest.mark.parametrize("case", list(ODD_QUERIES))
def test_dhcpv4_options_read_as_sent(case, storm_servers, suite):
    """The PRL and option 57 are read as the client sent them: every instance
    joined (RFC 3396), option 57 only as two octets; the reply is checked
    against the model, and the certificate goes out only under 1500."""
    net, servers = storm_servers
    options, fits = ODD_QUERIES[case]
    frame = discover4(0x4D0E0000 + list(ODD_QUERIES).index(case), options)
    got = net.exchange([frame])[lab.decode(frame).xid]
    if case == "both-split" and not got and not lab.kea_under_test().at_least("3.0"):
        # Kea 2.2 and 2.6 parse each instance of option 57 alone and drop a
        # query with a one-octet one; 3.0 joins them first.
        return
    assert len(got) == 1, f"{len(got)} replies"
    reply = lab.decode(got[0])
    query = model_view4(bytes(frame[UDP].payload))
    problems = lab.lwm2m_problems(query, reply, suite.entry("A"))
    assert not problems, "\n".join(problems) + "\n" + lab.describe(reply)
    assert reply.value(224) == suite.entry("A").uri, lab.describe(reply)
    assert (reply.value(225) == suite.entry("A").cert_value) if fits else reply.value(225) is None, \
        lab.describe(reply)
    assert servers[4].alive()

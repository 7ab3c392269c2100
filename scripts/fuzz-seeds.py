#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpus, Fuzz/corpus/<target>/, from the
repository's own fixtures: stores, certificates, captures, and DHCP replies
built with scapy as Kea sends them. The output is committed; run this again
only to change the seeds (docs/reliability.md, "Fuzzing")."""

from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fuzz" / "corpus"
DATA = ROOT / "Tests" / "replay" / "data"
URI = "coaps://bs.example.com:5684"


def put(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def der(pem: Path) -> bytes:
    text = pem.read_text()
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    import base64
    return base64.b64decode(body)


def store_seeds() -> None:
    pems = {p.name: p.read_bytes() for p in sorted(DATA.glob("*.pem"))}
    files = b"".join(b"\n#file certs/" + name.encode() + b"\n" + body for name, body in pems.items())
    files += b"\n#file certs/large.der\n" + (DATA / "large.der").read_bytes()
    example = (ROOT / "kea-config" / "lwm2m-store.json").read_bytes()
    put("fuzz-store", "example", example + b"\n#file certs/bs.pem\n" + (ROOT / "kea-config/certs/bs.pem").read_bytes())
    put("fuzz-store", "broken", (ROOT / "Tests/cli/data/broken-store.json").read_bytes())
    every = {
        "comment": "one entry of every kind",
        "default": {"bootstrap-uri": URI, "server-certificate": "certs/small.pem"},
        "entries": [
            {"host": {"hw-address": "02:4c:57:4d:00:01"}, "bootstrap-uri": "coap://lab.example"},
            {"host": {"client-id": "01:02:03"}, "bootstrap-uri": "coap://cid.example", "server-certificate": "certs/large.der"},
            {"host": {"duid": "00:01:00:01"}, "bootstrap-uri": "coap://duid.example"},
            {"client-class": "cameras", "bootstrap-uri": "coaps://cams.example", "always-send": True},
            {"client-class": "meters", "server-certificate": "certs/small-compressed.pem"},
            {"subnet": "192.0.2.0/24", "bootstrap-uri": URI, "server-certificate": "certs/large.pem"},
            {"subnet": "2001:db8:1::/64", "bootstrap-uri": "coap://[2001:db8::5]:5683"},
            {"subnet-id": 7, "server-certificate": "certs/xlarge.pem"},
            {"shared-network": "site", "bootstrap-uri": "coaps+tcp://site.example"},
        ],
    }
    put("fuzz-store", "every-kind", json.dumps(every, indent=1).encode() + files)
    minimal = {"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a"}]}
    put("fuzz-store", "minimal", json.dumps(minimal).encode())
    duplicate = {"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a"}, {"subnet-id": 1, "bootstrap-uri": "coap://b"}]}
    put("fuzz-store", "duplicate", json.dumps(duplicate).encode())
    rpk = {
        "comment": "raw public keys (server-public-key), and one file named both ways",
        "default": {"bootstrap-uri": URI, "server-public-key": "certs/rpk-ed25519.pem"},
        "entries": [
            {"subnet-id": 1, "bootstrap-uri": "coaps://p256.example", "server-public-key": "certs/rpk-p256.der"},
            {"subnet-id": 2, "server-public-key": "certs/rpk-p384.pem"},
            {"subnet-id": 3, "bootstrap-uri": "coaps://c.example", "server-certificate": "certs/small.pem"},
            {"subnet-id": 4, "bootstrap-uri": "coaps://d.example", "server-public-key": "certs/small.pem"},
            {"subnet-id": 5, "bootstrap-uri": "coaps://e.example", "server-public-key": "certs/rpk-rsa2048.pem"},
        ],
    }
    keys = files + b"\n#file certs/rpk-p256.der\n" + (DATA / "rpk-p256.der").read_bytes()
    put("fuzz-store", "raw-public-keys", json.dumps(rpk, indent=1).encode() + keys)
    rpk["entries"] = rpk["entries"][:3]     # the accepted ones: the fast reader's way
    put("fuzz-store", "raw-public-keys-valid", json.dumps(rpk, indent=1).encode() + keys)
    both = {"entries": [{"subnet-id": 1, "bootstrap-uri": "coap://a", "server-certificate": "certs/small.pem",
                         "server-public-key": "certs/rpk-p256.pem"}]}
    put("fuzz-store", "certificate-and-key", json.dumps(both).encode() + files)
    absolute = {"entries": [{"subnet": "10.0.0.0/8", "bootstrap-uri": "coap://a", "server-certificate": "/etc/c.pem"}]}
    put("fuzz-store", "absolute-path", json.dumps(absolute).encode() + b"\n#file /etc/c.pem\n" + pems["small.pem"])


def parameter_seeds() -> None:
    seeds = {
        "minimal": {"store-file": "/etc/kea/lwm2m-store.json"},
        "v4-all": {"store-file": "store.json", "bootstrap-uri-code": 230, "server-certificate-code": 231,
                   "default-max-message-size": 1500, "remember-requests": {"lifetime": 60, "max-clients": 10000},
                   "watch-interval": 0},
        "v6-all": {"store-file": "s\u00e9.json", "bootstrap-uri-code": 200, "server-certificate-code": 201,
                   "dhcpv6-max-reply-size": 1232, "watch-interval": 3600},
        "clash": {"store-file": "x", "bootstrap-uri-code": 240, "server-certificate-code": 240},
        "unknown": {"store-file": "x", "storefile": "y"},
    }
    for name, value in seeds.items():
        put("fuzz-parameters", name, json.dumps(value).encode())
    put("fuzz-parameters", "empty", b"")
    put("fuzz-parameters", "null", b"null")


def certificate_seeds() -> None:
    for pem in sorted(DATA.glob("*.pem")):
        put("fuzz-certificate", pem.name, pem.read_bytes())
        put("fuzz-certificate", pem.stem + ".der", der(pem))
    put("fuzz-certificate", "demo-bs.pem", (ROOT / "kea-config/certs/bs.pem").read_bytes())
    # Raw public keys (the same target reads every input as a key too): the
    # *.pem above include rpk-*.pem; here the compressed point.
    put("fuzz-certificate", "rpk-p256-compressed.der", (DATA / "rpk-p256-compressed.der").read_bytes())


def capture_seeds() -> None:
    for pcap in sorted((ROOT / "Tests" / "replay" / "fixtures").glob("*.pcap"))[:6]:
        put("fuzz-capture", pcap.name, pcap.read_bytes())
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dhcp6 import DHCP6_RelayReply, DHCP6_Reply, DHCP6OptRelayMsg, DHCP6OptUnknown
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import CookedLinux, Dot1Q, Ether
    from scapy.utils import wrpcap
    import tempfile

    cert = b"\x04" + der(DATA / "large.pem")
    parts = [(225, cert[i:i + 255]) for i in range(0, len(cert), 255)]
    offer = (IP(src="192.0.2.1", dst="192.0.2.50") / UDP(sport=67, dport=68)
             / BOOTP(op=2, xid=0x1234) / DHCP(options=[("message-type", 2), (224, URI.encode())] + parts + ["end"]))
    inner = DHCP6_Reply(trid=0xabcdef) / DHCP6OptUnknown(optcode=200, data=URI.encode()) \
        / DHCP6OptUnknown(optcode=201, data=cert)
    relayed = (IPv6(src="2001:db8:1::1", dst="2001:db8:1::2") / UDP(sport=547, dport=547)
               / DHCP6_RelayReply(linkaddr="2001:db8:2::1", peeraddr="fe80::5") / DHCP6OptRelayMsg(message=inner))
    frames = {
        "replies-ethernet.pcap": [Ether() / offer, Ether() / relayed, Ether() / Dot1Q(vlan=7) / offer],
        "reply-cooked.pcap": [CookedLinux(proto=0x0800) / offer],
    }
    with tempfile.TemporaryDirectory() as folder:
        for name, packets in frames.items():
            path = Path(folder) / name
            wrpcap(str(path), packets)
            put("fuzz-capture", name, path.read_bytes())
        raw = Path(folder) / "raw.pcap"
        wrpcap(str(raw), [offer, relayed], linktype=101)
        put("fuzz-capture", "replies-raw.pcap", raw.read_bytes())
    # Options areas: family octet, codes, area (see Fuzz/Capture/main.swift).
    v4area = bytes([53, 1, 2, 224, len(URI)]) + URI.encode() + b"".join(bytes([c, len(v)]) + v for c, v in parts) + b"\xff"
    put("fuzz-capture", "area-v4", bytes([0, 224, 225]) + v4area)
    v6area = struct.pack("!HH", 200, len(URI)) + URI.encode() + struct.pack("!HH", 201, len(cert)) + cert
    put("fuzz-capture", "area-v6", bytes([1]) + struct.pack("!HH", 200, 201) + v6area)
    # Raw public keys: encoding 15, then the SubjectPublicKeyInfo.
    for name in ("rpk-p384.pem", "rpk-ed25519.pem"):
        key = b"\x0f" + der(DATA / name)
        v4key = bytes([53, 1, 2, 224, len(URI)]) + URI.encode() + bytes([225, len(key)]) + key + b"\xff"
        put("fuzz-capture", f"area-v4-{Path(name).stem}", bytes([0, 224, 225]) + v4key)
        v6key = struct.pack("!HH", 200, len(URI)) + URI.encode() + struct.pack("!HH", 201, len(key)) + key
        put("fuzz-capture", f"area-v6-{Path(name).stem}", bytes([1]) + struct.pack("!HH", 200, 201) + v6key)


def answer_seeds() -> None:
    """Exchanges in the layout Fuzz/Answer/main.swift reads: a variant
    octet, then per exchange: kinds, flags (16 bits), and the fields the
    flags announce, in order."""
    def exchange(kinds, flags, fields: bytes) -> bytes:
        return bytes([kinds]) + struct.pack("!H", flags) + fields
    # Flags: 1 subnet, 2 leased, 4 shared list, 0x78 provided facts (all: 0x78),
    # 0x80 reply codes, 0x100 PRL, 0x200 option 57, 0x400 hw, 0x800 client-id,
    # 0x1000 classes, 0x2000 shared-network name, 0x4000 same client, 0x8000 capacity.
    facts = 0x78
    subnet = bytes([1, 0, 0])                      # id 1 (no wide id), known prefix 0
    prl_both = bytes([0, 3])                       # empty raw list, mode: uri + certificate
    size_near = bytes([64 + 8])                    # near the first limit
    seeds = {
        "v4-discover-both": (0, exchange(0x00, 0x1 | facts | 0x100 | 0x400, subnet + prl_both + bytes([1, 0]) + size_near + b"\x00")),
        "v4-request-class": (0, exchange(0x11, 0x1 | facts | 0x100 | 0x1000, subnet + prl_both + bytes([3]) + size_near + b"\x00")),
        "v4-mms": (0, exchange(0x00, 0x1 | facts | 0x100 | 0x200 | 0x800, subnet + prl_both + bytes([7, 0]) + size_near + b"\x00")),
        "v4-remember": (1, exchange(0x00, facts | 0x100 | 0x400, prl_both + bytes([1, 0]) + size_near + b"\x00")
                        + exchange(0x11, facts | 0x4000, size_near + b"\x00")),
        "v6-solicit": (2, exchange(0x00, 0x1 | facts | 0x100 | 0x800, bytes([2, 0, 4]) + prl_both + bytes([50]) + size_near + b"\x00")),
        "v6-shared": (2, exchange(0x10, 0x7 | facts | 0x100 | 0x2000, bytes([5, 0, 4]) + bytes([4]) + bytes([1, 1, 0, 4, 0, 5])
                                  + prl_both + bytes([0]) + size_near + b"\x00")),
        "v6-large": (3, exchange(0x00, 0x1 | facts | 0x100 | 0x80 | 0x8000, bytes([3, 0, 4]) + bytes([2, 1, 0]) + prl_both
                                 + size_near + b"\x00" + struct.pack("!H", 100))),
        "v4-default": (4, exchange(0x00, 0x100, prl_both + size_near + b"\x00")),
        "v6-default": (5, exchange(0x00, 0x100, prl_both + size_near + b"\x00")),
        "v4-empty": (6, exchange(0x00, 0x100, prl_both + size_near + b"\x00")),
        "v6-subnets": (7, exchange(0x00, 0x1 | 0x100, bytes([1, 0, 4]) + prl_both + size_near + b"\x00")),
    }
    for name, (variant, body) in seeds.items():
        put("fuzz-answer", name, bytes([variant]) + body)


def main() -> int:
    store_seeds()
    parameter_seeds()
    certificate_seeds()
    capture_seeds()
    answer_seeds()
    for folder in sorted(CORPUS.iterdir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} octets")
    return 0


if __name__ == "__main__":
    sys.exit(main())

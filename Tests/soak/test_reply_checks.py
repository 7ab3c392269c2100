"""The soak's reply check (scripts/soak/replies.py) flags every kind of wrong
reply: hand-made DHCPv4 and DHCPv6 replies written to a pcap and checked
against a storm's versions. No root, no Kea."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from scapy.layers.dhcp import BOOTP
from scapy.layers.dhcp6 import DHCP6_RelayReply, DHCP6OptRelayMsg
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

import lwm2mlab as lab

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts" / "soak"))
sys.path.insert(0, str(REPO / "scripts" / "bench"))
from certs import der_of, write_certificates  # noqa: E402
from replies import check, decode_fast  # noqa: E402
from storm import BROKEN_KINDS, StoreStorm  # noqa: E402

CODES = {4: (224, 225), 6: (200, 201)}


@pytest.fixture(scope="module")
def storm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("storm")
    pems = write_certificates(folder / "pems", 3)
    s = StoreStorm(folder / "store", "100.64.0.0/10", pems, [der_of(p) for p in pems])
    s.write_good()
    s.write_good()
    for kind in BROKEN_KINDS:
        s.write_broken(kind)
    return s


def reply4(uri: bytes | None, cert: bytes | None, *, uri_twice: bool = False) -> Ether:
    opts = bytes([53, 1, 2])
    if uri is not None:
        opts += bytes([224, len(uri)]) + uri
        if uri_twice:
            opts += bytes([224, len(uri)]) + uri
    for i in range(0, len(cert or b""), 255):        # RFC 3396 parts
        part = cert[i:i + 255]
        opts += bytes([225, len(part)]) + part
    bootp = bytes(BOOTP(op=2, xid=7))[:236] + bytes.fromhex("63825363") + opts + b"\xff"
    return (Ether() / IP(src=lab.SERVER4, dst="100.64.0.1") / UDP(sport=67, dport=67) / Raw(bootp))


def reply6(uri: bytes | None, cert: bytes | None, extra: bytes = b"") -> Ether:
    inner = bytes([2, 0, 0, 7]) + extra
    if uri is not None:
        inner += (200).to_bytes(2, "big") + len(uri).to_bytes(2, "big") + uri
    if cert is not None:
        inner += (201).to_bytes(2, "big") + len(cert).to_bytes(2, "big") + cert
    return (Ether() / IPv6(src=lab.SERVER6, dst="2001:db8:100::1") / UDP(sport=547, dport=547)
            / DHCP6_RelayReply(linkaddr="2001:db8:100::1", peeraddr="fe80::1")
            / DHCP6OptRelayMsg(message=Raw(inner)))


def verdict(tmp_path, storm, family, frames):
    path = tmp_path / "replies.pcap"
    wrpcap(str(path), frames)
    return check([path], family, storm, CODES[family])


@pytest.mark.parametrize("family", [4, 6])
def test_good_replies_pass_and_every_wrong_one_is_flagged(tmp_path, storm, family):
    v1, v2 = [v for v in storm.written if v.kind == "good"][:2]
    make = reply4 if family == 4 else reply6
    cert = lambda v: b"\x04" + storm.ders[v.certificate]   # noqa: E731
    assert v1.certificate != v2.certificate
    good = verdict(tmp_path, storm, family, [make(v1.uri.encode(), cert(v1)), make(v2.uri.encode(), cert(v2))])
    assert good.replies == 2 and good.bad == 0 and len(good.by_version) == 2, good
    broken = next(v for v in storm.written if v.kind == "insecure-mode")
    cases = [
        ("mix of two versions", make(v1.uri.encode(), cert(v2))),
        ("option missing", make(v1.uri.encode(), None)),
        ("broken version served", make(broken.uri.encode(), cert(broken))),
        ("unknown URI", make(b"coaps://elsewhere.example", cert(v1))),
        ("certificate bytes wrong", make(v1.uri.encode(), cert(v1)[:-1])),
    ]
    if family == 4:     # two URI options concatenate (RFC 3396): not one version's URI
        cases.append(("unknown URI", reply4(v1.uri.encode(), cert(v1), uri_twice=True)))
    else:
        cases.append(("option count", reply6(v1.uri.encode(), cert(v1), extra=b"\0\xc8\0\x01x")))
    for kind, frame in cases:
        v = verdict(tmp_path, storm, family, [frame])
        assert v.replies == 1 and dict(v.counts) == {kind: 1}, (kind, v)


@pytest.mark.parametrize("family", [4, 6])
def test_fast_decoding_agrees_with_the_lab(tmp_path, storm, family):
    """The check skips the Ethernet/IP/UDP headers by hand; it must find the
    options lab.decode (scapy) finds, and call a cut option undecodable."""
    v1 = next(v for v in storm.written if v.kind == "good")
    cert = b"\x04" + storm.ders[v1.certificate]
    frame = (reply4 if family == 4 else reply6)(v1.uri.encode(), cert)
    msg = lab.decode(frame)
    assert decode_fast(bytes(frame), family) == (msg.msg_type, msg.options)
    if family == 4:
        cut = reply4(v1.uri.encode(), None)
        raw = bytearray(bytes(cut))
        at = bytes(raw).index(v1.uri.encode()) - 1
        raw[at] = 250                                   # the URI option's length runs past the end
        v = verdict(tmp_path, storm, family, [Ether(bytes(raw))])
        assert dict(v.counts) == {"undecodable": 1}, v

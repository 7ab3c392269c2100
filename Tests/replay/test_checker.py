"""Offline tests of the reply checker (lab.lwm2m_problems) on hand-made
replies: it accepts a correct reply and flags each way a reply can be wrong.
They guard the hooked tests against passing vacuously."""

from __future__ import annotations

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import (DHCP6_Advertise, DHCP6_RelayReply, DHCP6OptRelayMsg,
                                DHCP6OptUnknown)
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import lwm2mlab as lab
import make_fixtures as mf

URI = b"coaps://bs-a.example.com:5684"
CERT = bytes(range(256)) * 3 + b"\x30" * 100           # 868 bytes of "DER"
ENTRY = lab.Entry(URI, CERT)
VALUE = b"\x04" + CERT


def split(code: int, value: bytes, sizes=None) -> list:
    """DHCPv4 option tuples carrying `value`, 255-byte parts unless `sizes`."""
    sizes = sizes or [255] * (len(value) // 255) + ([len(value) % 255] if len(value) % 255 else [])
    out, i = [], 0
    for n in sizes:
        out.append((code, value[i:i + n]))
        i += n
    return out


def reply4(query_name: str, options: list) -> lab.Message:
    """An OFFER to a fixture carrying `options`."""
    q = lab.decode(mf.FIXTURES[query_name].frame())
    frame = (Ether(src=lab.SERVER_MAC, dst="ff:ff:ff:ff:ff:ff")
             / IP(src=lab.SERVER4, dst="255.255.255.255") / UDP(sport=67, dport=68)
             / BOOTP(op=2, xid=q.xid) / DHCP(options=[("message-type", 2)] + options + ["end"]))
    return lab.decode(Ether(bytes(frame)))


def problems4(query_name: str, options: list, entry=ENTRY, **kw) -> list[str]:
    q = lab.decode(mf.FIXTURES[query_name].frame())
    return lab.lwm2m_problems(q, reply4(query_name, options), entry, **kw)


def test_v4_correct_reply_passes():
    assert problems4("v4_discover_mms1500", [(224, URI)] + split(225, VALUE)) == []


def test_v4_cert_left_out_when_it_cannot_fit_passes():
    assert problems4("v4_discover_mms576", [(224, URI)]) == []


@pytest.mark.parametrize("name,options,kw,expect", [
    ("v4_discover_mms1500", [(224, URI)], {}, "left out although it fits"),
    ("v4_discover_mms1500", [(224, URI + b"\0")] + split(225, VALUE), {}, "bootstrap URI"),
    ("v4_discover_mms1500", [(224, URI)] + split(225, CERT), {}, "differs"),
    ("v4_discover_mms1500", [(224, URI)] + split(225, VALUE, [200, 255, 255, 159]), {}, "split as"),
    ("v4_discover_mms1500", split(225, VALUE)[:2] + [(224, URI)] + split(225, VALUE)[2:], {},
     "not consecutive"),
    ("v4_discover_mms576", [(224, URI)] + split(225, VALUE), {}, "> limit"),
    ("v4_discover_mms576", [], {}, "bootstrap URI"),
    ("v4_discover_plain", [(224, URI)], {}, "want None"),
    ("v4_discover_uri_only", [(224, URI)] + split(225, VALUE), {}, "want none"),
    ("v4_discover_relay_c", [(224, URI)], {"entry": None}, "want None"),
    ("v4_discover_mms1500", [(224, URI)] + split(225, VALUE), {"foreign": [URI[:10]]},
     "another subnet"),
    ("v4_discover_mms1500", [(224, URI), (52, b"\x01")] + split(225, VALUE), {}, "overload"),
])
def test_v4_wrong_replies_are_flagged(name, options, kw, expect):
    found = problems4(name, options, **kw)
    assert any(expect in p for p in found), found


def reply6(query_name: str, options: list, relay_options: list | None = None) -> lab.Message:
    q = lab.decode(mf.FIXTURES[query_name].frame())
    msg = DHCP6_Advertise(trid=q.xid)
    for code, value in options:
        msg /= DHCP6OptUnknown(optcode=code, data=value)
    if relay_options is not None:
        relay = DHCP6_RelayReply(linkaddr="2001:db8:2::1", peeraddr="fe80::1")
        for code, value in relay_options:
            relay /= DHCP6OptUnknown(optcode=code, data=value)
        msg = relay / DHCP6OptRelayMsg(message=msg)
    frame = (Ether(src=lab.SERVER_MAC, dst=lab.CLIENT_MAC)
             / IPv6(src=lab.SERVER6, dst=lab.CLIENT6) / UDP(sport=547, dport=547) / msg)
    return lab.decode(Ether(bytes(frame)))


def test_v6_checks():
    q = lab.decode(mf.FIXTURES["v6_solicit_relay_b"].frame())
    ok = reply6("v6_solicit_relay_b", [(200, URI), (201, VALUE)], [])
    assert lab.lwm2m_problems(q, ok, ENTRY) == []
    in_relay = reply6("v6_solicit_relay_b", [(200, URI)], [(201, VALUE)])
    assert any("relay layer" in p for p in lab.lwm2m_problems(q, in_relay, ENTRY))
    twice = reply6("v6_solicit_relay_b", [(200, URI), (200, URI), (201, VALUE)], [])
    assert any("appears 2 times" in p for p in lab.lwm2m_problems(q, twice, ENTRY))
    missing = reply6("v6_solicit_relay_b", [(200, URI)], [])
    assert any("missing" in p for p in lab.lwm2m_problems(q, missing, ENTRY))


class FakeKea:
    """Stands in for KeaServer in reload_cycle: grows what it is told to."""

    def __init__(self, grow_fd: str | None = None, grow_threads: bool = False):
        self.grow_fd, self.grow_threads, self.reloads = grow_fd, grow_threads, 0

    def config_reload(self):
        self.reloads += 1
        return {"result": 0}

    def sighup(self):
        self.reloads += 1
        return True

    def alive(self):
        return True

    def log(self):
        return "HOOKS_LIBRARY_LOADED\n" * (1 + self.reloads)

    def output_tail(self):
        return ""

    def resources(self):
        fds = ("socket", "/tmp/x/kea.log") + (self.grow_fd,) * self.reloads if self.grow_fd \
            else ("socket", "/tmp/x/kea.log")
        return lab.Resources(fds, 5 + (self.reloads if self.grow_threads else 0))


@pytest.mark.parametrize("kea,fails", [
    (FakeKea(), False),
    (FakeKea(grow_fd="socket"), True),
    (FakeKea(grow_fd="/tmp/x/store.json"), True),
    (FakeKea(grow_fd="/tmp/x/logger_lockfile"), True),     # more than the one Kea opens lazily
    (FakeKea(grow_threads=True), True),
])
def test_reload_cycle_detects_growth(kea, fails):
    from conftest import reload_cycle
    if fails:
        with pytest.raises(AssertionError):
            reload_cycle(kea, lambda: "same", hook="hook")
    else:
        reload_cycle(kea, lambda: "same", hook="hook")

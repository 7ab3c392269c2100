"""Selection beyond the subnet, against real Kea: one store with overlapping
host / client-class / subnet-id / subnet / shared-network / default entries,
a query per step of the precedence, the certificate override rules and
always-send.  Replies are captured on the lab link and decoded with scapy.

Kea layout (both families; v4 ids 1-4, v6 ids 11-14):

    A  192.0.2.0/24      2001:db8:1::/64   direct
    B  198.51.100.0/24   2001:db8:2::/64   relayed
    C  203.0.113.0/24    2001:db8:3::/64   relayed, in shared network "plant"
    D  10.77.0.0/24      2001:db8:7::/64   relayed (this test adds relay D)

Client classes: "meters" is defined in the Kea configuration by a `test`
expression on the vendor class (v4 option 60 / v6 option 16 starting with
"meter"); "VENDOR_CLASS_camera" is the class Kea itself gives a query whose
vendor class is "camera".
"""

from __future__ import annotations

import pytest
from scapy.layers.dhcp import DHCP
from scapy.layers.dhcp6 import (DHCP6_RelayForward, DHCP6OptRelayMsg, DHCP6OptVendorClass,
                                VENDOR_CLASS_DATA)
from scapy.layers.inet import UDP

import lwm2mlab as lab
import make_fixtures as mf
from conftest import DATA

RELAY_D4 = "10.77.0.1"
SUBNET_D = {4: ("10.77.0.0/24", 4), 6: ("2001:db8:7::/64", 14)}
LINKS6 = {"B": "2001:db8:2::1", "C": "2001:db8:3::1", "D": "2001:db8:7::1"}

# Fixture numbers (chaddr / DUID / xid) of the precedence queries.
HOST_HW, HOST_CID, HOST_DUID = 0xA1, 0xA2, 0xA3
CLIENT_ID = "01" + mf.mac(HOST_CID).replace(":", "")        # option 61: type 1 + MAC
DUID = "00030001" + mf.mac(HOST_DUID).replace(":", "")       # DUID-LL


def store_entries() -> tuple[dict, list[dict]]:
    """(default, entries) of the overlapping store; certificates under certs/."""
    default = {"bootstrap-uri": "coap://default", "server-certificate": "certs/small.pem"}
    entries = [
        {"host": {"hw-address": mf.mac(HOST_HW)}, "bootstrap-uri": "coap://host-hw"},
        {"host": {"client-id": CLIENT_ID}, "bootstrap-uri": "coap://host-cid"},
        {"host": {"duid": DUID}, "bootstrap-uri": "coap://host-duid"},
        {"client-class": "meters", "bootstrap-uri": "coap://meters"},
        {"client-class": "VENDOR_CLASS_camera", "bootstrap-uri": "coap://cameras",
         "server-certificate": "certs/small.pem", "always-send": True},
        {"subnet-id": 1, "bootstrap-uri": "coap://id-a"},
        {"subnet-id": 11, "bootstrap-uri": "coap://id-a"},
        {"subnet": "192.0.2.0/24", "bootstrap-uri": "coap://prefix-a"},       # shadowed by subnet-id 1
        {"subnet": "2001:db8:1::/64", "bootstrap-uri": "coap://prefix-a"},    # shadowed by subnet-id 11
        {"subnet": "198.51.100.0/24", "bootstrap-uri": "coap://prefix-b"},
        {"subnet": "2001:db8:2::/64", "bootstrap-uri": "coap://prefix-b"},
        {"subnet-id": 2, "server-certificate": "certs/large.pem"},            # certificate only
        {"subnet-id": 12, "server-certificate": "certs/large.pem"},
        {"shared-network": "plant", "bootstrap-uri": "coap://plant"},
    ]
    return default, entries


def write_store(directory) -> "lab.Path":
    import json
    default, entries = store_entries()
    path = lab.write_store(directory / "store.json", entries,
                           {"certs/small.pem": DATA / "small.pem", "certs/large.pem": DATA / "large.pem"})
    doc = json.loads(path.read_text())
    doc["default"] = default
    path.write_text(json.dumps(doc, indent=2))
    return path


def kea_body(family: int, hook, store, **params) -> dict:
    """The lab body with C moved into shared network "plant", subnet D and the "meters" class."""
    body = lab.base_config(family, hook, {"store-file": str(store), **params})
    subnets = body[f"subnet{family}"]
    c = next(s for s in subnets if s["id"] == lab.SUBNETS[family]["C"][1])
    subnets.remove(c)
    body["shared-networks"] = [{"name": "plant", f"subnet{family}": [c]}]
    prefix, sid = SUBNET_D[family]
    pool = "10.77.0.100 - 10.77.0.199" if family == 4 else "2001:db8:7::100 - 2001:db8:7::1ff"
    subnets.append({"id": sid, "subnet": prefix, "pools": [{"pool": pool}],
                    "option-data": [{"name": "domain-name" if family == 4 else "domain-search",
                                     "data": "d.lab"}]})
    test = ("substring(option[60].hex,0,5) == 'meter'" if family == 4
            else "substring(option[16].hex,6,5) == 'meter'")   # enterprise (4), length (2), data
    body["client-classes"] = [{"name": "meters", "test": test}]
    return body


def add_relay_d(net: lab.Lab) -> None:
    """Relay address D in the client namespace, routed from the server."""
    lab.sh("ip", "-n", net.cli_ns, "addr", "add", f"{RELAY_D4}/24", "dev", lab.CLIENT_IF)
    lab.sh("ip", "-n", net.srv_ns, "route", "add", SUBNET_D[4][0], "via", lab.CLIENT4)


def v4(n: int, prl=mf.PRL_BASE + list(mf.LWM2M4), relay: str | None = None, vendor: bytes | None = None,
       client_id: str | None = None, kind: str = "discover", **kwargs):
    frame = mf.dhcp4_query(kind, n, prl, max_size=1500, relay=relay, **kwargs)
    extra = []
    if vendor is not None:
        extra.append(("vendor_class_id", vendor))
    if client_id is not None:
        extra.append(("client_id", bytes.fromhex(client_id)))
    opts = frame[DHCP].options
    frame[DHCP].options = opts[:-1] + extra + opts[-1:]
    return frame


def v6(n: int, oro=mf.ORO_BASE + list(mf.LWM2M6), link: str | None = None, vendor: bytes | None = None,
       kind: str = "solicit", relays: int = 1, **kwargs):
    frame = mf.dhcp6_query(kind, n, oro, **kwargs)
    if vendor is not None:
        frame = frame / DHCP6OptVendorClass(enterprisenum=4491, vcdata=[VENDOR_CLASS_DATA(data=vendor)])
    if link is None:
        return frame
    return relay6(frame, link, relays)


def relay6(direct, link: str, relays: int):
    """Wrap a direct client frame's message in `relays` RELAY-FORW layers (sent by the lab's relay)."""
    message = direct[UDP].payload.copy()
    inner = DHCP6_RelayForward(hopcount=0, linkaddr=link, peeraddr="fe80::4c57:1") / DHCP6OptRelayMsg(message=message)
    for hop in range(1, relays):
        inner = DHCP6_RelayForward(hopcount=hop, linkaddr=link, peeraddr="fe80::4c57:2") / DHCP6OptRelayMsg(message=inner)
    return (mf.Ether(src=lab.CLIENT_MAC, dst=lab.SERVER_MAC)
            / mf.IPv6(src=lab.CLIENT6, dst=lab.SERVER6, hlim=64) / UDP(sport=547, dport=547) / inner)


@pytest.fixture(scope="module")
def selection_servers(hook, tmp_path_factory):
    """kea-dhcp4 and kea-dhcp6 (multi-threaded) on the overlapping store."""
    store = write_store(tmp_path_factory.mktemp("selection"))
    with lab.Lab() as net:
        add_relay_d(net)
        bodies = {f: kea_body(f, hook, store) for f in (4, 6)}
        for body in bodies.values():
            body["multi-threading"] = {"enable-multi-threading": True, "thread-pool-size": 4,
                                       "packet-queue-size": 64}
        with lab.KeaServer(net, 4, bodies[4]) as k4, lab.KeaServer(net, 6, bodies[6]) as k6:
            yield net, {4: k4, 6: k6}


def the_reply(net: lab.Lab, frame) -> lab.Message:
    query = lab.decode(frame)
    got = net.exchange([frame])[query.xid]
    assert len(got) == 1, f"{len(got)} replies"
    return lab.decode(got[0])


def certificate_of(name: str) -> bytes:
    from conftest import load_cert
    return b"\x04" + load_cert(DATA / f"{name}.pem").der


# (id, family, frame builder, subnet marker, URI, certificate file or None)
CASES = [
    ("v4-host-hw", 4, lambda: v4(HOST_HW, vendor=b"meter-1"), "A", "coap://host-hw", None),
    ("v4-host-client-id", 4, lambda: v4(0xA4, vendor=b"meter-1", client_id=CLIENT_ID), "A", "coap://host-cid", None),
    ("v4-class-meters", 4, lambda: v4(0xA5, vendor=b"meter-x"), "A", "coap://meters", None),
    ("v4-class-camera", 4, lambda: v4(0xA6, vendor=b"camera"), "A", "coap://cameras", "small"),
    ("v4-subnet-id", 4, lambda: v4(0xA7), "A", "coap://id-a", None),
    ("v4-subnet-certificate-override", 4, lambda: v4(0xA8, relay=lab.RELAY4["B"]), "B", "coap://prefix-b", "large"),
    ("v4-shared-network", 4, lambda: v4(0xA9, relay=lab.RELAY4["C"]), "C", "coap://plant", None),
    ("v4-default", 4, lambda: v4(0xAA, relay=RELAY_D4), None, "coap://default", "small"),
    ("v6-host-duid", 6, lambda: v6(HOST_DUID, vendor=b"meter"), "A", "coap://host-duid", None),
    ("v6-class-meters", 6, lambda: v6(0xB5, vendor=b"meter"), "A", "coap://meters", None),
    ("v6-class-camera", 6, lambda: v6(0xB6, vendor=b"camera"), "A", "coap://cameras", "small"),
    ("v6-subnet-id", 6, lambda: v6(0xB7), "A", "coap://id-a", None),
    ("v6-subnet-certificate-override", 6, lambda: v6(0xB8, link=LINKS6["B"]), "B", "coap://prefix-b", "large"),
    ("v6-shared-network", 6, lambda: v6(0xB9, link=LINKS6["C"]), "C", "coap://plant", None),
    ("v6-default", 6, lambda: v6(0xBA, link=LINKS6["D"]), None, "coap://default", "small"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_precedence_step(case, selection_servers):
    """Each query matches several entries; the most specific one gives the
    URI, and the certificate comes from it or a more specific
    certificate-only entry, never from a less specific one."""
    _, family, build, subnet, uri, cert = case
    net, _ = selection_servers
    reply = the_reply(net, build())
    evidence = lab.describe(reply)
    uri_code, cert_code = lab.DEFAULT_CODES[family]
    assert lab.selected_subnet(reply) == subnet, evidence
    assert reply.value(uri_code) == uri.encode(), evidence
    assert reply.value(cert_code) == (certificate_of(cert) if cert else None), evidence
    assert not {c for c, _ in reply.relay_options} & {uri_code, cert_code}, evidence
    if family == 4:
        assert reply.ip_total_length <= 1500, evidence
        parts = reply.values(cert_code)
        assert all(len(p) == 255 for p in parts[:-1]), evidence


@pytest.mark.parametrize("family", [4, 6])
def test_always_send_without_being_asked(family, selection_servers):
    """The camera class entry has always-send: a camera whose PRL/ORO leaves
    our codes out still gets the URI and the certificate; a meter (no
    always-send) gets nothing."""
    net, _ = selection_servers
    uri_code, cert_code = lab.DEFAULT_CODES[family]
    if family == 4:
        camera, meter = v4(0xC1, prl=mf.PRL_BASE, vendor=b"camera"), v4(0xC2, prl=mf.PRL_BASE, vendor=b"meter")
    else:
        camera, meter = v6(0xC1, oro=mf.ORO_BASE, vendor=b"camera"), v6(0xC2, oro=mf.ORO_BASE, vendor=b"meter")
    reply = the_reply(net, camera)
    assert reply.value(uri_code) == b"coap://cameras", lab.describe(reply)
    assert reply.value(cert_code) == certificate_of("small"), lab.describe(reply)
    reply = the_reply(net, meter)
    assert not {uri_code, cert_code} & set(reply.codes()), lab.describe(reply)


def test_always_send_still_honours_option57(selection_servers):
    """always-send does not lift the size rule: at 576 the camera gets the URI only."""
    net, _ = selection_servers
    frame = v4(0xC3, prl=mf.PRL_BASE, vendor=b"camera")
    frame[DHCP].options = [o for o in frame[DHCP].options if not (isinstance(o, tuple) and o[0] == "max_dhcp_size")]
    frame[DHCP].options = frame[DHCP].options[:1] + [("max_dhcp_size", 576)] + frame[DHCP].options[1:]
    reply = the_reply(net, frame)
    assert reply.value(224) == b"coap://cameras" and reply.value(225) is None, lab.describe(reply)
    assert reply.ip_total_length <= 576


def test_burst_of_every_step_under_multithreading(selection_servers):
    """All precedence queries at once, three times, on multi-threaded Kea:
    every reply as when sent alone."""
    net, servers = selection_servers
    assert "DHCP4_MULTI_THREADING_INFO enabled: yes" in servers[4].log()
    frames = [c[2]() for c in CASES]
    for _ in range(3):
        replies = net.exchange(frames)
        for case, frame in zip(CASES, frames):
            got = replies[lab.decode(frame).xid]
            assert len(got) == 1, case[0]
            reply = lab.decode(got[0])
            assert reply.value(lab.DEFAULT_CODES[case[1]][0]) == case[4].encode(), case[0]


def test_store_without_selector_facts_asks_for_none(hook, suite, kea_factory, tmp_path):
    """The hook loads and serves a subnet-only store (the shim then reads no
    client classes or ids) and a class store after a reconfiguration (the shim
    starts reading them)."""
    store = suite.write_store(tmp_path / "one")
    net, kea = kea_factory(4, kea_body(4, hook, store))
    reply = the_reply(net, v4(0xD2, vendor=b"meter"))
    assert reply.value(224) == b"coaps://bs-a.example.com:5684", lab.describe(reply)
    other = write_store(tmp_path / "two")
    answer = kea.config_set(kea_body(4, hook, other))
    assert answer.get("result") == 0, answer
    reply = the_reply(net, v4(0xD3, vendor=b"meter"))
    assert reply.value(224) == b"coap://meters", lab.describe(reply)


def test_hot_reload_to_a_class_store(hook, suite, kea_factory, tmp_path):
    """A hot reload (no load(), no reconfiguration) from a subnet store to one
    with class and host entries: the shim learns from the core's answer that
    it must now read classes and ids, and the next query is selected by them."""
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(4, kea_body(4, hook, store))
    reply = the_reply(net, v4(0xE1, vendor=b"meter"))
    assert reply.value(224) == b"coaps://bs-a.example.com:5684", lab.describe(reply)
    mark = len(kea.log())
    staged = write_store(tmp_path / "next")
    (tmp_path / "certs").mkdir(exist_ok=True)
    for name in ("small.pem", "large.pem"):
        (tmp_path / "certs" / name).write_bytes((tmp_path / "next" / "certs" / name).read_bytes())
    staged.replace(store)                         # atomic rename over the served file
    kea.wait_log(r"LWM2M_RELOADED", after=mark, timeout=15)
    reply = the_reply(net, v4(0xE2, vendor=b"meter"))
    assert reply.value(224) == b"coap://meters", lab.describe(reply)
    reply = the_reply(net, v4(HOST_HW))
    assert reply.value(224) == b"coap://host-hw", lab.describe(reply)

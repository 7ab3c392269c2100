"""Edge cases of the contract: RFC 3396 split boundaries with long URIs, an
entry without certificate, message types that get nothing, nested relays,
new values after a reconfiguration, and Kea's multi-threaded mode."""

from __future__ import annotations

import json

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import DHCP6_RelayForward, DHCP6OptRelayMsg
from scapy.layers.inet import UDP

import lwm2mlab as lab
import make_fixtures as mf
from conftest import reload_cycle, snapshot_of

PRL = mf.PRL_BASE + list(mf.LWM2M4)
ORO = mf.ORO_BASE + list(mf.LWM2M6)


def uri_of_length(n: int) -> str:
    """A valid coaps URI of exactly n bytes (host labels of at most 63 bytes)."""
    host = "".join("." if i % 64 == 63 else "h" for i in range(n - len("coaps://:5684")))
    uri = f"coaps://{host}:5684"
    assert len(uri) == n and ".:" not in uri
    return uri


# URI lengths at the 255-byte option limit, one per subnet, no certificate.
# (The hook refuses longer URIs, as LwM2M limits the Server URI to 255 bytes,
# so the DHCPv4 split is exercised by the certificates instead.)
LONG = {"A": 255, "B": 254}


@pytest.mark.parametrize("family", [4, 6])
def test_longest_uris(family, hook, suite, kea_factory, tmp_path):
    """254 and 255-byte URIs go out whole, in a single option."""
    entries = [{"subnet": lab.SUBNETS[family][key][0], "bootstrap-uri": uri_of_length(n)}
               for key, n in LONG.items()]
    store = lab.write_store(tmp_path / "store.json", entries)
    net, _ = kea_factory(family, suite.body(family, hook, store))
    if family == 4:
        frames = {"A": mf.dhcp4_query("discover", 0x60, PRL, max_size=1500),
                  "B": mf.dhcp4_query("discover", 0x61, PRL, max_size=1500, relay=lab.RELAY4["B"])}
    else:
        frames = {"A": mf.dhcp6_query("solicit", 0x60, ORO),
                  "B": mf.dhcp6_query("solicit", 0x61, ORO, relay_link="2001:db8:2::1")}
    replies = net.exchange(frames.values())
    uri_code = lab.DEFAULT_CODES[family][0]
    for key, frame in frames.items():
        entry = lab.Entry(uri_of_length(LONG[key]).encode())
        _, reply = suite.check(None, replies, frame=frame, subnet=key, entry=entry)
        assert [len(v) for v in reply.values(uri_code)] == [LONG[key]], lab.describe(reply)


def test_entry_without_certificate(hook, suite, kea_factory, tmp_path):
    """An entry without server-certificate sends the URI only, even when asked for both."""
    store = lab.write_store(tmp_path / "store.json", [
        {"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": "coap://uri-only.example:5683"}])
    net, _ = kea_factory(4, suite.body(4, hook, store))
    fx = mf.FIXTURES["v4_discover_mms1500"]
    _, reply = suite.check(fx, net.exchange([fx.frame()]),
                           entry=lab.Entry(b"coap://uri-only.example:5683"))
    assert reply.codes().count(224) == 1 and 225 not in reply.codes(), lab.describe(reply)


def test_nak_carries_nothing(hooked_servers):
    """DHCPNAK gets no LwM2M option: a client with a lease asks (INIT-REBOOT)
    for an address off its subnet."""
    net, _ = hooked_servers
    first = mf.dhcp4_query("request", 0x63, PRL, max_size=1500, requested="192.0.2.163")
    assert lab.decode(net.exchange([first])[lab.decode(first).xid][0]).msg_type == 5
    frame = mf.dhcp4_query("request", 0x63, PRL, max_size=1500)
    frame[DHCP].options = [("message-type", 3), ("requested_addr", "10.9.9.9"),
                              ("max_dhcp_size", 1500), ("param_req_list", PRL), "end"]
    frame[BOOTP].xid += 0x100
    query = lab.decode(frame)
    (got,) = net.exchange([frame])[query.xid]
    reply = lab.decode(got)
    assert reply.msg_type == 6, lab.describe(reply)
    assert not {224, 225} & set(reply.codes()), lab.describe(reply)


def test_release_reply_carries_nothing(hooked_servers):
    """A REPLY to RELEASE (not a message the contract lists) gets no LwM2M option."""
    net, _ = hooked_servers
    request = mf.dhcp6_query("request", 0x64, ORO, address="2001:db8:1::1a4")
    release = mf.dhcp6_query("request", 0x64, ORO, address="2001:db8:1::1a4")
    release[UDP].payload.msgtype = 8                      # RELEASE, same client
    release[UDP].payload.trid = 0x570164
    assert lab.decode(net.exchange([request])[lab.decode(request).xid][0]).msg_type == 7
    query = lab.decode(release)
    (got,) = net.exchange([release])[query.xid]
    reply = lab.decode(got)
    assert reply.msg_type == 7, lab.describe(reply)
    assert not {200, 201} & set(reply.codes()), lab.describe(reply)


def test_two_relay_layers(hooked_servers, suite):
    """SOLICIT behind two relays: options only in the client's message."""
    net, _ = hooked_servers
    single = mf.dhcp6_query("solicit", 0x65, ORO, relay_link="2001:db8:2::1")
    inner = single[UDP].payload                       # RELAY-FORW, hop 0
    outer = DHCP6_RelayForward(hopcount=1, linkaddr="2001:db8:2::1",
                                  peeraddr="fe80::4c57:65") / DHCP6OptRelayMsg(message=inner)
    frame = single.copy()
    frame[UDP].remove_payload()
    frame[UDP].add_payload(outer)
    _, reply = suite.check(None, net.exchange([frame]), frame=frame, subnet="B")
    assert [c for c, _ in reply.relay_options].count(9) == 2, lab.describe(reply)


@pytest.mark.parametrize("how", ["store-edited-then-reload", "config-set-new-store"])
def test_new_values_after_reconfiguration(how, hook, suite, kea_factory, tmp_path):
    """Reconfiguring serves the new store's values, not cached ones."""
    store = suite.write_store(tmp_path / "one")
    net, kea = kea_factory(4, suite.body(4, hook, store))
    fx = mf.FIXTURES["v4_discover_mms1500"]
    suite.check(fx, net.exchange([fx.frame()]))
    new_uri = "coaps://changed.example.com:5684"
    if how == "store-edited-then-reload":
        doc = json.loads(store.read_text())
        doc["entries"][0]["bootstrap-uri"] = new_uri
        store.write_text(json.dumps(doc))
        answer = kea.config_reload()
    else:
        other = suite.write_store(tmp_path / "two", uri_a=new_uri)
        answer = kea.config_set(suite.body(4, hook, other))
    assert answer.get("result") == 0, answer
    entry = lab.Entry(new_uri.encode(), suite.certs["large"].der)
    suite.check(fx, net.exchange([fx.frame()]), entry=entry)


MT = {"enable-multi-threading": True, "thread-pool-size": 4, "packet-queue-size": 64}


@pytest.mark.parametrize("family", [4, 6])
def test_multi_threaded_kea(family, hook, suite, kea_factory, tmp_path):
    """With Kea's packet thread pool: bursts are answered right, reloads do not leak."""
    store = suite.write_store(tmp_path)
    body = suite.body(family, hook, store)
    body["multi-threading"] = MT
    net, kea = kea_factory(family, body)
    assert f"DHCP{family}_MULTI_THREADING_INFO enabled: yes" in kea.log()
    snapshot = snapshot_of(net, suite, family)
    first = snapshot()
    for _ in range(2):
        assert snapshot() == first
    reload_cycle(kea, snapshot, hook=hook)

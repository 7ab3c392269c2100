"""Sending policies and sizes against real Kea: remember-requests (a
DISCOVER with our codes, then a REQUEST without them), DHCPv4 RFC 3396
splitting at every boundary under multi-threaded Kea with certificates of
exact sizes, the exact size budget around split certificates, and the
DHCPv6 reply limit through zero, one and two relays."""

from __future__ import annotations

import pytest
from scapy.layers.dhcp import BOOTP, DHCP

import certgen
import lwm2mlab as lab
import make_fixtures as mf
from test_selection import relay6

PRL = mf.PRL_BASE + list(mf.LWM2M4)
PLAIN_PRL = mf.PRL_BASE
MT = {"enable-multi-threading": True, "thread-pool-size": 4, "packet-queue-size": 64}


def one_reply(net: lab.Lab, frame) -> lab.Message:
    query = lab.decode(frame)
    got = net.exchange([frame])[query.xid]
    assert len(got) == 1, f"{len(got)} replies to {query.xid:#x}"
    return lab.decode(got[0])


# --------------------------------------------------------------------------
# remember-requests
# --------------------------------------------------------------------------

def request_after(offer: lab.Message, n: int, prl: list[int], client_id: bytes | None = None):
    """The REQUEST (SELECTING) a client sends for `offer`, with this PRL."""
    yiaddr = ".".join(str(b) for b in offer.raw[16:20])
    frame = mf.dhcp4_query("request", n, prl, max_size=1500, requested=yiaddr)
    if client_id is not None:
        frame[DHCP].options = frame[DHCP].options[:-1] + [("client_id", client_id), "end"]
    return frame


def discover(n: int, prl: list[int], client_id: bytes | None = None):
    frame = mf.dhcp4_query("discover", n, prl, max_size=1500)
    if client_id is not None:
        frame[DHCP].options = frame[DHCP].options[:-1] + [("client_id", client_id), "end"]
    return frame


@pytest.mark.parametrize("remember", [True, False], ids=["remember-requests", "off"])
def test_discover_asks_request_does_not(remember, hook, suite, kea_factory, tmp_path):
    """Zephyr-style client: PRL with our codes in DISCOVER only.  With the
    policy, the ACK carries what the DISCOVER asked for; without, nothing."""
    store = suite.write_store(tmp_path)
    params = {"remember-requests": {"lifetime": 60, "max-clients": 100}} if remember else {}
    body = suite.body(4, hook, store, **params)
    body["multi-threading"] = MT
    net, kea = kea_factory(4, body)
    want_uri, want_cert = suite.entry("A").uri, suite.entry("A").cert_value

    offer = one_reply(net, discover(0x31, PRL))
    assert offer.msg_type == 2 and offer.value(224) == want_uri, lab.describe(offer)
    ack = one_reply(net, request_after(offer, 0x31, PLAIN_PRL))
    assert ack.msg_type == 5, lab.describe(ack)
    if remember:
        assert ack.value(224) == want_uri, lab.describe(ack)
        assert ack.value(225) == want_cert, lab.describe(ack)
        assert ack.ip_total_length <= 1500
    else:
        assert not {224, 225} & set(ack.codes()), lab.describe(ack)

    # Another client that never asked gets nothing; one whose DISCOVER asked
    # only for the URI gets only the URI.
    stranger = one_reply(net, discover(0x32, PLAIN_PRL))
    ack = one_reply(net, request_after(stranger, 0x32, PLAIN_PRL))
    assert not {224, 225} & set(ack.codes()), lab.describe(ack)
    offer = one_reply(net, discover(0x33, PLAIN_PRL + [224]))
    ack = one_reply(net, request_after(offer, 0x33, PLAIN_PRL))
    assert (ack.value(224) == want_uri) == remember and ack.value(225) is None, lab.describe(ack)


def test_remembered_by_client_id(hook, suite, kea_factory, tmp_path):
    """A client with option 61 is known by it, not by its chaddr: the same
    client-id from another MAC is the same client; the same MAC with
    another client-id is not."""
    store = suite.write_store(tmp_path)
    net, _ = kea_factory(4, suite.body(4, hook, store, **{"remember-requests": {}}))
    cid = bytes.fromhex("ff00000001000102030405")
    offer = one_reply(net, discover(0x34, PRL, client_id=cid))
    ack = one_reply(net, request_after(offer, 0x34, PLAIN_PRL, client_id=cid))
    assert ack.value(224) is not None, lab.describe(ack)
    offer = one_reply(net, discover(0x35, PRL, client_id=cid + b"\x01"))
    ack = one_reply(net, request_after(offer, 0x35, PLAIN_PRL, client_id=cid + b"\x02"))
    assert ack.value(224) is None, lab.describe(ack)


# --------------------------------------------------------------------------
# RFC 3396 splitting at every boundary, multi-threaded Kea
# --------------------------------------------------------------------------

SIZES = [253, 254, 255, 256, 509, 510, 511, 1000]   # certificate option value: 0x04 + DER


@pytest.fixture(scope="module")
def sized(hook, tmp_path_factory):
    """Multi-threaded kea-dhcp4 whose store gives client mac(0x40 + i) a
    certificate whose option value is SIZES[i] octets (one host entry each)."""
    folder = tmp_path_factory.mktemp("sized")
    ders, entries = {}, []
    for i, size in enumerate(SIZES):
        der = certgen.der_of_size(size - 1)
        (folder / f"c{size}.der").write_bytes(der)
        ders[size] = der
        entries.append({"host": {"hw-address": mf.mac(0x40 + i)}, "bootstrap-uri": f"coap://s{size}.example",
                        "server-certificate": f"c{size}.der"})
    store = lab.write_store(folder / "store.json", entries)
    body = lab.base_config(4, hook, {"store-file": str(store)})
    body["multi-threading"] = MT
    with lab.Lab() as net, lab.KeaServer(net, 4, body) as kea:
        assert "DHCP4_MULTI_THREADING_INFO enabled: yes" in kea.log()
        yield net, kea, ders


def expected_parts(size: int) -> list[int]:
    return [255] * (size // 255) + ([size % 255] if size % 255 else [])


def check_split(reply: lab.Message, der: bytes, limit: int = 1500) -> None:
    evidence = lab.describe(reply)
    value = b"\x04" + der
    positions = [i for i, (c, _) in enumerate(reply.options) if c == 225]
    parts = [reply.options[i][1] for i in positions]
    assert [len(p) for p in parts] == expected_parts(len(value)), evidence
    assert positions == list(range(positions[0], positions[0] + len(positions))), evidence
    assert b"".join(parts) == value, evidence
    assert reply.ip_total_length <= limit, evidence
    assert 52 not in reply.codes(), evidence
    # The message on the wire: every option walks cleanly to END.
    assert reply.raw[240:].rstrip(b"\0").endswith(b"\xff"), evidence


@pytest.mark.parametrize("size", SIZES)
def test_split_boundaries(size, sized):
    """Each value size is split into 255-octet parts and a non-empty last
    part (none for exact multiples), consecutive, and reassembles exactly."""
    net, _, ders = sized
    assert len(ders[size]) == size - 1
    n = 0x40 + SIZES.index(size)
    for kind, extra in (("discover", {}), ("request", {"requested": f"192.0.2.{150 + SIZES.index(size)}"})):
        reply = one_reply(net, mf.dhcp4_query(kind, n, PRL, max_size=1500, **extra))
        assert reply.msg_type == (2 if kind == "discover" else 5), lab.describe(reply)
        check_split(reply, ders[size])


def test_split_bursts_under_multithreading(sized):
    """Every size at once, five bursts, on Kea's thread pool: every reply's
    parts are right."""
    net, _, ders = sized
    frames = [mf.dhcp4_query("discover", 0x40 + i, PRL, max_size=1500) for i in range(len(SIZES))]
    for _ in range(5):
        replies = net.exchange(frames)
        for size, frame in zip(SIZES, frames):
            (got,) = replies[lab.decode(frame).xid]
            check_split(lab.decode(got), ders[size])


@pytest.mark.parametrize("size", [255, 256, 510, 511])
def test_exact_budget_around_split_sizes(size, sized):
    """Option 57 exactly the size of the full reply: the certificate is sent
    (the extra split headers are counted); one octet less: left out, URI kept."""
    net, _, ders = sized
    n = 0x40 + SIZES.index(size)
    full = one_reply(net, mf.dhcp4_query("discover", n, PRL, max_size=1500))
    check_split(full, ders[size])
    exact = full.ip_total_length
    at = mf.dhcp4_query("discover", n, PRL, max_size=exact)
    at[BOOTP].xid += 0x1000
    reply = one_reply(net, at)
    check_split(reply, ders[size], limit=exact)
    assert reply.ip_total_length == exact, lab.describe(reply)
    below = mf.dhcp4_query("discover", n, PRL, max_size=exact - 1)
    below[BOOTP].xid += 0x2000
    reply = one_reply(net, below)
    assert reply.value(225) is None, lab.describe(reply)
    assert reply.value(224) == f"coap://s{size}.example".encode(), lab.describe(reply)
    assert reply.ip_total_length <= exact - 1


# --------------------------------------------------------------------------
# DHCPv6 reply limit, relay layers included
# --------------------------------------------------------------------------

ORO = mf.ORO_BASE + list(mf.LWM2M6)


def v6_frame(n: int, relays: int):
    direct = mf.dhcp6_query("solicit", n, ORO)
    return direct if relays == 0 else relay6(direct, "2001:db8:2::1", relays)


def udp_payload_length(reply: lab.Message) -> int:
    return len(reply.raw)


@pytest.mark.parametrize("relays", [0, 1, 2])
def test_dhcpv6_limit_counts_relay_layers(relays, hook, suite, kea_factory, tmp_path):
    """dhcpv6-max-reply-size = the size of the full reply as sent (relay
    layers included): the certificate goes out; one octet less: the
    certificate is left out and the URI stays."""
    # A certificate that puts the reply above the smallest allowed limit (1232).
    der = certgen.der_of_size(1150)
    (tmp_path / "c.der").write_bytes(der)
    subnet = "A" if relays == 0 else "B"
    entry = lab.Entry(f"coap://{subnet.lower()}.example".encode(), der)
    store = lab.write_store(tmp_path / "store.json", [
        {"subnet": lab.SUBNETS[6][subnet][0], "bootstrap-uri": entry.uri.decode(), "server-certificate": "c.der"}])
    net, kea = kea_factory(6, suite.body(6, hook, store, **{"dhcpv6-max-reply-size": 65527}))
    full = one_reply(net, v6_frame(0x70 + relays, relays))
    assert full.value(201) == entry.cert_value, lab.describe(full)
    assert [c for c, _ in full.relay_options].count(9) == relays, lab.describe(full)
    size = udp_payload_length(full)
    assert 1232 < size < 1452, lab.describe(full)
    for limit, cert in ((size, True), (size - 1, False)):
        answer = kea.config_set(suite.body(6, hook, store, **{"dhcpv6-max-reply-size": limit}))
        assert answer.get("result") == 0, answer
        reply = one_reply(net, v6_frame(0x70 + relays, relays))
        evidence = f"limit {limit}:\n" + lab.describe(reply)
        assert reply.value(200) == entry.uri, evidence
        assert (reply.value(201) == entry.cert_value) if cert else (reply.value(201) is None), evidence
        assert udp_payload_length(reply) <= limit, evidence
        assert not {200, 201} & {c for c, _ in reply.relay_options}, evidence


def test_dhcpv6_default_limit_1452(hook, suite, kea_factory, tmp_path):
    """By default a DHCPv6 reply stays within 1452 octets (1500-byte link):
    the ~1.4 KB certificate is left out, the URI sent; 1232 documents the
    1280-byte minimum link; a larger limit lets it through."""
    xlarge = suite.certs["xlarge"]
    store = lab.write_store(tmp_path / "store.json", [
        {"subnet": lab.SUBNETS[6]["A"][0], "bootstrap-uri": "coaps://bs-x.example.com",
         "server-certificate": "x.pem"}], {"x.pem": xlarge.pem})
    net, kea = kea_factory(6, suite.body(6, hook, store))
    reply = one_reply(net, v6_frame(0x75, 0))
    assert reply.value(200) == b"coaps://bs-x.example.com", lab.describe(reply)
    assert reply.value(201) is None and udp_payload_length(reply) <= 1452, lab.describe(reply)
    assert "LWM2M_CERTIFICATE_TOO_BIG" in kea.log() and "limit of 1452 octets" in kea.log()
    assert kea.config_set(suite.body(6, hook, store, **{"dhcpv6-max-reply-size": 1232})).get("result") == 0
    reply = one_reply(net, v6_frame(0x76, 0))
    assert reply.value(201) is None and reply.value(200) is not None, lab.describe(reply)
    assert udp_payload_length(reply) <= 1232
    # 3000: the certificate goes out; the reply (~1.5 KB) leaves the server
    # as IPv6 fragments, which the lab does not reassemble: read the log.
    assert kea.config_set(suite.body(6, hook, store, **{"dhcpv6-max-reply-size": 3000})).get("result") == 0
    mark = len(kea.log())
    net.exchange([v6_frame(0x77, 0)], timeout=1.0)
    sent = kea.wait_log(r"LWM2M_OPTIONS_SENT .*tid=0x570077: LwM2M options sent \((\d+) octets", after=mark)
    assert int(sent.group(1)) > len(xlarge.der), sent.group(0)
    assert "LWM2M_CERTIFICATE_TOO_BIG" not in kea.log()[mark:]


# --------------------------------------------------------------------------
# The option 57 a client needs for a typical certificate (docs/clients.md)
# --------------------------------------------------------------------------

def certificate_wire_length(der: bytes) -> int:
    """Octets of the DHCPv4 certificate option: value 0x04 + DER, 2 per 255-octet part."""
    value = len(der) + 1
    return value + 2 * -(-value // 255)


@pytest.mark.parametrize("kind", ["ed25519", "p256", "rsa2048"])
def test_option57_needed_for_typical_certificates(kind, hook, kea_factory, tmp_path):
    """docs/clients.md's arithmetic against Kea: option 57 must be at least
    (reply without LwM2M options) + (URI + 2) + (DER + 1 + 2 per part);
    exactly that gets the certificate, one less does not."""
    uri = "coaps://bs.example.com:5684"
    der = certgen.typical(kind)
    (tmp_path / "c.der").write_bytes(der)
    store = lab.write_store(tmp_path / "store.json", [
        {"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": uri, "server-certificate": "c.der"}])
    net, _ = kea_factory(4, lab.base_config(4, hook, {"store-file": str(store)}))
    uri_only = one_reply(net, mf.dhcp4_query("discover", 0x61, PLAIN_PRL + [224], max_size=1500))
    base = uri_only.ip_total_length - (len(uri) + 2)
    needed = base + len(uri) + 2 + certificate_wire_length(der)
    print(f"{kind}: DER {len(der)}, option {certificate_wire_length(der)}, reply without LwM2M {base}, option 57 >= {needed}")
    at = one_reply(net, mf.dhcp4_query("discover", 0x62, PRL, max_size=needed))
    assert at.value(225) == b"\x04" + der and at.ip_total_length == needed, lab.describe(at)
    below = one_reply(net, mf.dhcp4_query("discover", 0x63, PRL, max_size=needed - 1))
    assert below.value(225) is None and below.value(224) == uri.encode(), lab.describe(below)

"""Replay every fixture against Kea with the hook (default parameters, suite
store) and check the LwM2M options of each reply precisely."""

from __future__ import annotations

import pytest

import lwm2mlab as lab
import make_fixtures as mf

FIXTURES = list(mf.FIXTURES.values())

# Which options each reply must carry: (bootstrap URI, certificate).
# Subnet A has the large RSA certificate, subnet B the small EC one (both
# need more than 576 bytes next to the other options), subnet C nothing.  The generic rules
# in lab.lwm2m_problems() are checked as well; this table pins the outcome.
EXPECT = {
    "v4_discover_lwm2m": (True, False),      # no option 57: default 576
    "v4_discover_plain": (False, False),
    "v4_request_lwm2m": (True, True),        # option 57 = 1500
    "v4_request_plain": (False, False),
    "v4_discover_mms576": (True, False),
    "v4_discover_mms1500": (True, True),
    "v4_discover_mms300": (True, False),     # below 576 counts as 576
    "v4_discover_uri_only": (True, False),   # certificate not requested
    "v4_discover_relay_b": (True, True),     # option 57 = 1500
    "v4_discover_relay_c": (False, False),   # no store entry
    "v4_inform_lwm2m": (True, True),         # option 57 = 1500
    "v4_renew_lwm2m": (True, True),          # option 57 = 1500, unicast from ciaddr
    "v6_solicit_lwm2m": (True, True),
    "v6_solicit_plain": (False, False),
    "v6_request_lwm2m": (True, True),
    "v6_request_plain": (False, False),
    "v6_inforeq_lwm2m": (True, True),
    "v6_inforeq_plain": (False, False),
    "v6_renew_lwm2m": (True, True),
    "v6_rebind_lwm2m": (True, True),
    "v6_solicit_uri_only": (True, False),
    "v6_solicit_relay_b": (True, True),
    "v6_solicit_relay_c": (False, False),
}


def test_expectations_cover_all_fixtures():
    assert set(EXPECT) == set(mf.FIXTURES)


@pytest.mark.parametrize("fx", FIXTURES, ids=lambda f: f.name)
def test_fixture_reply(fx, hooked_servers, suite):
    net, _ = hooked_servers
    query, reply = suite.check(fx, net.exchange([fx.frame()]))
    uri_code, cert_code = lab.DEFAULT_CODES[fx.family]
    got = (reply.value(uri_code) is not None, reply.value(cert_code) is not None)
    assert got == EXPECT[fx.name], lab.describe(reply)


def test_large_certificate_split_rfc3396(hooked_servers, suite):
    """With a 1500-byte limit the ~870-byte certificate arrives in 255-byte parts."""
    net, _ = hooked_servers
    fx = mf.FIXTURES["v4_discover_mms1500"]
    _, reply = suite.check(fx, net.exchange([fx.frame()]))
    want = b"\x04" + suite.certs["large"].der
    sizes = [len(v) for v in reply.values(225)]
    assert sizes == [255] * (len(want) // 255) + [len(want) % 255], lab.describe(reply)
    assert reply.ip_total_length <= 1500


def discover_a(n: int, max_size: int | None) -> "mf.Ether":
    """A DISCOVER on subnet A asking for both options, with this option 57."""
    return mf.dhcp4_query("discover", n, mf.PRL_BASE + list(mf.LWM2M4), max_size=max_size)


def test_size_budget_boundary(hooked_servers, suite):
    """The certificate is sent when the reply is exactly at the client's limit
    and left out one byte below it (the URI stays)."""
    net, _ = hooked_servers
    probe = discover_a(0x50, 1500)
    _, full = suite.check(None, net.exchange([probe]), frame=probe, subnet="A")
    size = full.ip_total_length
    assert full.value(225) is not None and lab.V4_MIN_SIZE < size < lab.V4_MAX_SIZE
    at, below = discover_a(0x51, size), discover_a(0x52, size - 1)
    replies = net.exchange([at, below])
    _, reply = suite.check(None, replies, frame=at, subnet="A")
    assert reply.value(225) is not None and reply.ip_total_length == size, lab.describe(reply)
    _, reply = suite.check(None, replies, frame=below, subnet="A")
    assert reply.value(225) is None and reply.value(224) is not None, lab.describe(reply)


def test_option57_above_1500_counts_as_1500(hooked_servers, suite, hook, kea_factory, tmp_path):
    """Option 57 = 9000: the large certificate (reply ~1.2 KB) is sent; a
    certificate that would make the reply ~1.7 KB is not, since 1500 caps it."""
    net, _ = hooked_servers
    query = discover_a(0x53, 9000)
    _, reply = suite.check(None, net.exchange([query]), frame=query, subnet="A")
    assert reply.value(225) is not None, lab.describe(reply)

    xlarge = suite.certs["xlarge"]
    store = lab.write_store(tmp_path / "store.json", [
        {"subnet": lab.SUBNETS[4]["A"][0], "bootstrap-uri": "coaps://bs-x.example.com",
         "server-certificate": "x.pem"}], {"x.pem": xlarge.pem})
    net, _ = kea_factory(4, suite.body(4, hook, store))
    entry = lab.Entry(b"coaps://bs-x.example.com", xlarge.der)
    _, reply = suite.check(None, net.exchange([query]), frame=query, subnet="A", entry=entry)
    assert reply.value(225) is None and reply.value(224) == entry.uri, lab.describe(reply)
    assert reply.ip_total_length <= lab.V4_MAX_SIZE


def test_relayed_v6_options_inside_relay_message(hooked_servers, suite):
    net, _ = hooked_servers
    fx = mf.FIXTURES["v6_solicit_relay_b"]
    _, reply = suite.check(fx, net.exchange([fx.frame()]))
    assert [c for c, _ in reply.relay_options] == [9], lab.describe(reply)
    assert reply.value(200) == suite.entry("B").uri


def test_all_fixtures_at_once(hooked_servers, suite):
    """A burst of all fixtures gets the same answers as one at a time."""
    net, _ = hooked_servers
    replies = net.exchange([fx.frame() for fx in FIXTURES])
    for fx in FIXTURES:
        suite.check(fx, replies)


def test_healthy_servers_log_no_errors(hooked_servers, hook):
    for kea in hooked_servers[1].values():
        log = kea.log()
        assert f"HOOKS_LIBRARY_LOADED hooks library {hook}" in log
        assert kea.log_lines("ERROR") == [], "\n".join(kea.log_lines("ERROR"))
